"""EC2 and VPC: security groups (and their separate Ingress/Egress rules), network ACLs (and entries),
VPCs (with flow logs and endpoints), instances, volumes and key pairs.

Attachments, SSM registration, patch state and the AMI's own facts exist only in the account;
they stay unknown. A security group declared with no egress rules gets AWS's default egress
(all traffic to 0.0.0.0/0); a new network ACL denies everything until entries are added.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.ec2 import (
    WORLD_V4,
    FlowLogFacts,
    Instance,
    KeyPair,
    LaunchTemplate,
    NaclEntry,
    NetworkAcl,
    SecurityGroup,
    SgRule,
    TemplateVolume,
    Volume,
    Vpc,
    VpcEndpointFacts,
    normalize_protocol,
)
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, finisher, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.cloudformation.mappers.s3 import key_reference
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.companions import has_items, never
from controlmap.sources.iac.facts import as_list, dig, put, reference_text, text, to_bool, to_int, unknown
from controlmap.sources.iac.volumes import attached_volume

ACCOUNT_ONLY = "only known in the account once the instance runs"


def _port(value: Any) -> int | None:
    number = to_int(value)
    return number if isinstance(number, int) else None


def group_id_of(value: Any, build: CfnBuild) -> str | None:
    """A security group (or VPC) reference as the id its model carries, whatever the template order."""
    if isinstance(value, ResourceRef):
        return build.resource_id(value.address)
    return text(value)


_RULE_PARTS = {
    "IpProtocol": "ports",
    "FromPort": "ports",
    "ToPort": "ports",
    "CidrIp": "sources",
    "CidrIpv6": "sources",
}


def sg_rule(entry: dict[str, Any], build: CfnBuild, *, egress: bool, where: str) -> SgRule:
    """One rule of SecurityGroupIngress/Egress (or a separate Ingress/Egress resource).

    A part only known at deploy time is recorded on the rule (``where`` names it in the reason),
    so the rule's known siblings are still judged.
    """
    unresolved: dict[str, str] = {}
    for key, part in _RULE_PARTS.items():
        missing = first_unresolved(entry.get(key))
        if missing is not None and part not in unresolved:
            unresolved[part] = f"{where}.{key} depends on {missing.depends_on}"
    entry = {k: v for k, v in entry.items() if first_unresolved(v) is None}
    group_key = "DestinationSecurityGroupId" if egress else "SourceSecurityGroupId"
    prefix_key = "DestinationPrefixListId" if egress else "SourcePrefixListId"
    groups = [
        g for g in (group_id_of(entry.get(group_key), build), text(entry.get("SourceSecurityGroupName"))) if g
    ]
    prefix = reference_text(entry.get(prefix_key))
    return SgRule(
        protocol=normalize_protocol(entry.get("IpProtocol")),
        from_port=_port(entry.get("FromPort")),
        to_port=_port(entry.get("ToPort")),
        ipv4_ranges=[str(entry["CidrIp"])] if entry.get("CidrIp") is not None else [],
        ipv6_ranges=[str(entry["CidrIpv6"])] if entry.get("CidrIpv6") is not None else [],
        source_groups=groups,
        prefix_lists=[prefix] if prefix else [],
        unresolved=unresolved,
    )


def _rules(
    model: SecurityGroup, fact: str, prop: str, entries: Any, build: CfnBuild, *, egress: bool
) -> None:
    if isinstance(entries, Unresolved):
        unknown(model, fact, prop, entries)
        return
    rules: list[SgRule] = []
    for index, entry in enumerate(as_list(entries)):
        if isinstance(entry, Unresolved):
            unknown(model, fact, f"{prop}[{index}]", entry)
            return
        if not isinstance(entry, dict):
            continue
        rules.append(sg_rule(entry, build, egress=egress, where=f"{prop}[{index}]"))
    setattr(model, fact, rules)


@primary("AWS::EC2::SecurityGroup")
def security_group(item: CfnItem, build: CfnBuild) -> list[Resource]:
    name = item.props.get("GroupName")
    model = SecurityGroup(
        id=build.resource_id(item.logical_id),
        name=name if isinstance(name, str) else item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        group_id=build.resource_id(item.logical_id),
        vpc_id=group_id_of(item.props.get("VpcId"), build),
    )
    _rules(
        model, "ingress", "SecurityGroupIngress", item.props.get("SecurityGroupIngress"), build, egress=False
    )
    egress = item.props.get("SecurityGroupEgress")
    if egress is None:
        model.egress = [SgRule(protocol="-1", ipv4_ranges=[WORLD_V4])]
    else:
        _rules(model, "egress", "SecurityGroupEgress", egress, build, egress=True)
    model.unknown["attachments"] = "the interfaces a group is attached to exist only in the account"
    return [model]


@companion("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
def separate_rule(item: CfnItem, build: CfnBuild) -> None:
    egress = item.type.endswith("Egress")
    fact = "egress" if egress else "ingress"
    target_value = item.props.get("GroupId")
    group = build.target(target_value, SecurityGroup, "group_id")
    if group is None and not egress and "GroupName" in item.props:
        target_value = item.props.get("GroupName")
        group = build.target(target_value, SecurityGroup, "name")
    if group is None:
        if not isinstance(target_value, ResourceRef):
            for candidate, why in build.maybe_targets(target_value, SecurityGroup, item, "group_id"):
                append_rule(candidate, fact, maybe_rule(why))
        return
    current = getattr(group, fact)
    if current is None:
        return  # already unknown
    rule = sg_rule(item.props, build, egress=egress, where=item.logical_id)
    if egress and _is_default_only(current):
        # A separate egress rule replaces the implicit allow-all, as in EC2 (CloudFormation removes it).
        current = []
    current.append(rule)
    setattr(group, fact, current)


def maybe_rule(why: str) -> SgRule:
    """A rule that may belong to a group: its ports and sources are unknown."""
    return SgRule(unresolved={"group": why, "ports": why, "sources": why})


def append_rule(group: SecurityGroup, fact: str, rule: SgRule) -> None:
    current = getattr(group, fact)
    if current is not None:
        current.append(rule)


def _is_default_only(rules: list[SgRule]) -> bool:
    return (
        len(rules) == 1
        and rules[0].protocol == "-1"
        and rules[0].ipv4_ranges == [WORLD_V4]
        and not rules[0].source_groups
    )


@primary("AWS::EC2::NetworkAcl")
def network_acl(item: CfnItem, build: CfnBuild) -> list[Resource]:
    model = NetworkAcl(
        id=build.resource_id(item.logical_id),
        name=item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        acl_id=build.resource_id(item.logical_id),
        vpc_id=group_id_of(item.props.get("VpcId"), build),
        entries=[],
        subnet_ids=[],
    )
    return [model]


@companion("AWS::EC2::NetworkAclEntry")
def network_acl_entry(item: CfnItem, build: CfnBuild) -> None:
    # An entry of an ACL the scan cannot name may be any ACL's, and entries are evaluated in
    # order: whatever is known, the verdict of those ACLs is unknown.
    acl = build.link(item, item.props.get("NetworkAclId"), NetworkAcl, ("entries",), "acl_id", never)
    if acl is None or acl.entries is None:
        return
    props = item.props
    missing = first_unresolved(props)
    if missing is not None:
        unknown(acl, "entries", f"entry {item.logical_id}", missing)
        return
    raw_range = props.get("PortRange")
    port_range: dict[str, Any] = raw_range if isinstance(raw_range, dict) else {}
    acl.entries.append(
        NaclEntry(
            protocol=normalize_protocol(props.get("Protocol")),
            from_port=_port(port_range.get("From")),
            to_port=_port(port_range.get("To")),
            rule_number=_port(props.get("RuleNumber")) or 0,
            egress=bool(to_bool(props.get("Egress", False))),
            allow=str(props.get("RuleAction", "allow")).lower() == "allow",
            cidr=text(props.get("CidrBlock")) or text(props.get("Ipv6CidrBlock")),
        )
    )


@companion("AWS::EC2::SubnetNetworkAclAssociation")
def acl_association(item: CfnItem, build: CfnBuild) -> None:
    acl = build.target(item.props.get("NetworkAclId"), NetworkAcl, "acl_id")
    subnet = reference_text(item.props.get("SubnetId"))
    if acl is not None and acl.subnet_ids is not None and subnet:
        acl.subnet_ids.append(subnet)


@primary("AWS::EC2::VPC")
def vpc(item: CfnItem, build: CfnBuild) -> list[Resource]:
    cidr = text(item.props.get("CidrBlock"))
    model = Vpc(
        id=build.resource_id(item.logical_id),
        name=item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        vpc_id=build.resource_id(item.logical_id),
        cidr_blocks=[cidr] if cidr else [],
        flow_logs=[],
        endpoints=[],
    )
    return [model]


@finisher
def _vpc_usage(build: CfnBuild) -> None:
    """A VPC is in use when the template puts something with a network interface in it."""
    for model in build.all(Vpc):
        users = 0
        for item in build.items.values():
            if item.type in _INTERFACE_TYPES and _mentions(item.props, item.logical_id, model, build):
                users += 1
        if users:
            model.interface_count = users
        else:
            model.unknown["interface_count"] = (
                "no resource of this template places a network interface in the VPC; "
                "other stacks may (the interface count is only known in the account)"
            )


_INTERFACE_TYPES = frozenset(
    {
        "AWS::EC2::Subnet",
        "AWS::EC2::Instance",
        "AWS::EC2::NetworkInterface",
        "AWS::EC2::NatGateway",
        "AWS::RDS::DBSubnetGroup",
        "AWS::Lambda::Function",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::VPCEndpoint",
    }
)


def _mentions(value: Any, owner: str, vpc: Vpc, build: CfnBuild) -> bool:
    if isinstance(value, ResourceRef):
        if build.resource_id(value.address) == vpc.vpc_id:
            return True
        # A subnet of the VPC counts: resources usually name subnets, not the VPC.
        subnet = build.items.get(value.address)
        return (
            subnet is not None
            and subnet.type == "AWS::EC2::Subnet"
            and subnet.logical_id != owner
            and _mentions(subnet.props, subnet.logical_id, vpc, build)
        )
    if isinstance(value, dict):
        return any(_mentions(v, owner, vpc, build) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, owner, vpc, build) for v in value)
    return False


@companion("AWS::EC2::FlowLog")
def flow_log(item: CfnItem, build: CfnBuild) -> None:
    resource_type = item.props.get("ResourceType")
    if isinstance(resource_type, Unresolved):
        target = None  # a flow log of something the scan cannot tell: maybe of a VPC
        for candidate, why in build.maybe_targets(resource_type, Vpc, item, None):
            build.links.pending.append((candidate, "flow_logs", why, has_items("flow_logs")))
        return
    if resource_type not in ("VPC", None):
        return
    target = build.link(
        item, item.props.get("ResourceId"), Vpc, ("flow_logs",), "vpc_id", has_items("flow_logs")
    )
    if target is None or target.flow_logs is None:
        return
    target.flow_logs.append(
        FlowLogFacts(
            flow_log_id=build.resource_id(item.logical_id),
            traffic_type=None
            if isinstance(item.props.get("TrafficType"), Unresolved)
            else text(item.props.get("TrafficType")) or "ALL",
            status="ACTIVE",
            deliver_logs_status=None,
            destination_type=text(item.props.get("LogDestinationType")) or "cloud-watch-logs",
        )
    )


@companion("AWS::EC2::VPCEndpoint")
def vpc_endpoint(item: CfnItem, build: CfnBuild) -> None:
    target = build.link(item, item.props.get("VpcId"), Vpc, ("endpoints",), "vpc_id", never)
    if target is None or target.endpoints is None:
        return
    service = item.props.get("ServiceName")
    if not isinstance(service, str):
        service = _service_name_from_raw(item.raw.properties.get("ServiceName"))
    if service is None:
        unknown(target, "endpoints", f"{item.logical_id}.ServiceName", service or "a computed value")
        return
    target.endpoints.append(
        VpcEndpointFacts(
            endpoint_id=build.resource_id(item.logical_id),
            service_name=service,
            endpoint_type=None
            if isinstance(item.props.get("VpcEndpointType"), Unresolved)
            else text(item.props.get("VpcEndpointType")) or "Gateway",
            state="available",
        )
    )


def _service_name_from_raw(raw: Any) -> str | None:
    """``!Sub com.amazonaws.${AWS::Region}.s3``: the service is known even when the region is not."""
    if isinstance(raw, dict) and "Fn::Sub" in raw and isinstance(raw["Fn::Sub"], str):
        return raw["Fn::Sub"].replace("${AWS::Region}", "region")
    if (
        isinstance(raw, dict)
        and "Fn::Join" in raw
        and isinstance(raw["Fn::Join"], list)
        and len(raw["Fn::Join"]) == 2
    ):
        delimiter, parts = raw["Fn::Join"]
        if isinstance(parts, list):
            texts = ["region" if isinstance(p, dict) else str(p) for p in parts]
            return str(delimiter).join(texts)
    return None


@primary("AWS::EC2::Instance")
def instance(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    groups = [*as_list(props.get("SecurityGroupIds")), *as_list(props.get("SecurityGroups"))]
    for interface in as_list(props.get("NetworkInterfaces")):
        if isinstance(interface, dict):
            groups.extend(as_list(interface.get("GroupSet")))
    model = Instance(
        id=build.resource_id(item.logical_id),
        name=item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        instance_id=build.resource_id(item.logical_id),
        image_id=text(props.get("ImageId")),
        key_name=reference_text(props.get("KeyName")),
        subnet_id=reference_text(props.get("SubnetId")),
        security_group_ids=[g for g in (group_id_of(v, build) for v in groups) if g],
        iam_instance_profile=reference_text(props.get("IamInstanceProfile")),
    )
    if isinstance(props.get("ImageId"), Unresolved):
        model.unknown["image_id"] = f"ImageId depends on {props['ImageId'].depends_on}"
    model.unknown["image"] = "the AMI's owner and age are only known in the account"
    if "LaunchTemplate" in props:
        model.unknown["metadata_http_tokens"] = (
            "the instance's metadata options come from its launch template"
        )
    else:
        model.unknown["metadata_http_tokens"] = (
            "AWS::EC2::Instance has no metadata option; IMDSv2 depends on the AMI default "
            "(use a launch template with MetadataOptions HttpTokens: required)"
        )
    for fact in ("ssm_managed", "ssm_ping_status", "patch_state", "patch_state_present"):
        model.unknown[fact] = f"Systems Manager registration and patch state are {ACCOUNT_ONLY}"
    return [model, *_instance_volumes(model, props, build)]


_ENCRYPT_FIX = "set Ebs Encrypted: true in the instance's BlockDeviceMappings"


def _unknown_volume(model: Instance, device: str, value: Any) -> Resource:
    return attached_volume(model, device, value, None, root=False, from_snapshot=False, fix=_ENCRYPT_FIX)


def _instance_volumes(model: Instance, props: dict[str, Any], build: CfnBuild) -> list[Resource]:
    """The EBS volumes the instance creates: its block device mappings, else its root volume
    (unless a launch template gives them: that template is judged on its own)."""
    mappings = props.get("BlockDeviceMappings")
    volumes: list[Resource] = []
    if isinstance(mappings, Unresolved):
        # Which volumes the instance gets is not known: one volume stands for them, unknown.
        return [_unknown_volume(model, "BlockDeviceMappings", mappings)]
    for index, entry in enumerate(as_list(mappings)):
        ebs = entry.get("Ebs") if isinstance(entry, dict) else None
        if isinstance(entry, Unresolved) or isinstance(ebs, Unresolved):
            # An unknown part elsewhere in a mapping (a size, a key, a snapshot given at deploy time)
            # leaves its volume's encryption as declared; only an unknown mapping hides it.
            hidden = entry if isinstance(entry, Unresolved) else ebs
            volumes.append(_unknown_volume(model, f"BlockDeviceMappings[{index}]", hidden))
            continue
        if not isinstance(ebs, dict):
            continue  # an instance store or NoDevice mapping
        device = text(entry.get("DeviceName")) or f"BlockDeviceMappings[{index}]"
        key = key_reference(ebs.get("KmsKeyId"), build)
        volumes.append(
            attached_volume(
                model,
                device,
                ebs.get("Encrypted"),
                key if isinstance(key, str) else None,
                root=False,
                from_snapshot=ebs.get("SnapshotId") is not None,
                fix=_ENCRYPT_FIX,
            )
        )
    if not volumes and "LaunchTemplate" not in props:
        volumes.append(
            attached_volume(model, "root volume", None, None, root=True, from_snapshot=True, fix=_ENCRYPT_FIX)
        )
    return volumes


@primary("AWS::EC2::Volume")
def volume(item: CfnItem, build: CfnBuild) -> list[Resource]:
    model = Volume(
        id=build.resource_id(item.logical_id),
        name=item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        volume_id=build.resource_id(item.logical_id),
    )
    encrypted = to_bool(item.props.get("Encrypted"))
    if encrypted is None:
        model.unknown["encrypted"] = (
            "Encrypted is not set, so the volume is encrypted only if the region has EBS encryption "
            "by default on, which the template does not declare; set Encrypted: true"
        )
    else:
        put(model, "encrypted", encrypted, "Encrypted")
    key = key_reference(item.props.get("KmsKeyId"), build)
    model.kms_key_id = key if isinstance(key, str) else None
    return [model]


@primary("AWS::EC2::KeyPair")
def key_pair(item: CfnItem, build: CfnBuild) -> list[Resource]:
    name = item.props.get("KeyName")
    return [
        KeyPair(
            id=build.resource_id(item.logical_id),
            name=name if isinstance(name, str) else item.logical_id,
            region=region_of(item, build),
            tags=tags(item),
            source=item.source,
            key_name=name if isinstance(name, str) else item.logical_id,
            key_type=text(item.props.get("KeyType")) or "rsa",
        )
    ]


@primary("AWS::EC2::LaunchTemplate")
def launch_template(item: CfnItem, build: CfnBuild) -> list[Resource]:
    data = item.props.get("LaunchTemplateData") or {}
    name = item.props.get("LaunchTemplateName")
    model = LaunchTemplate(
        id=build.resource_id(item.logical_id),
        name=name if isinstance(name, str) else item.logical_id,
        region=region_of(item, build),
        source=item.source,
        template_id=build.resource_id(item.logical_id),
        version=1,
        image_id=text(dig(data, "ImageId")),
    )
    tokens = dig(data, "MetadataOptions", "HttpTokens")
    if isinstance(tokens, Unresolved):
        unknown(model, "metadata_http_tokens", "MetadataOptions.HttpTokens", tokens)
    else:
        model.metadata_http_tokens = text(tokens)  # None: not set, the AMI's default applies
    model.metadata_http_endpoint = text(dig(data, "MetadataOptions", "HttpEndpoint"))
    mappings = dig(data, "BlockDeviceMappings")
    missing = first_unresolved(mappings)
    if missing is not None:
        unknown(model, "ebs_volumes", "BlockDeviceMappings", missing)
    else:
        volumes = []
        for entry in as_list(mappings):
            ebs = entry.get("Ebs") if isinstance(entry, dict) else None
            if not isinstance(ebs, dict):
                continue
            encrypted = to_bool(ebs.get("Encrypted"))
            key = key_reference(ebs.get("KmsKeyId"), build)
            volumes.append(
                TemplateVolume(
                    device_name=text(entry.get("DeviceName")),
                    encrypted=encrypted if isinstance(encrypted, bool) else None,
                    snapshot_id=text(ebs.get("SnapshotId")),
                    kms_key_id=key if isinstance(key, str) else None,
                )
            )
        model.ebs_volumes = volumes
    return [model]
