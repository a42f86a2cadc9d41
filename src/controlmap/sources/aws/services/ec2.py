"""EC2 and VPC collectors: the network inventory, the compute inventory and EBS, once per region.

Three collectors so that a scan of one control family reads only what it needs (RDS-04 needs
security groups, not AMIs), and so that they run side by side:

* ``ec2-network``: security groups (with the interfaces each is attached to), network ACLs,
  VPCs with their flow logs and endpoints. Security groups are the shared fact: EC2-01, EC2-09
  and RDS-04 all read the same ``SecurityGroup`` resources.
* ``ec2-compute``: instances (with their AMI's age and owner, IMDS options and Systems Manager
  state, see ``ssm.py``), the account's own AMIs, key pairs.
* ``ebs``: volumes, snapshots (with their CreateVolumePermission) and the region's
  encryption-by-default setting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from controlmap.resources.account import AwsRegion
from controlmap.resources.ec2 import (
    FlowLogFacts,
    Image,
    ImageFacts,
    Instance,
    KeyPair,
    LaunchTemplate,
    NaclEntry,
    NetworkAcl,
    SecurityGroup,
    SgAttachment,
    SgRule,
    Snapshot,
    TemplateVolume,
    Volume,
    Vpc,
    VpcEndpointFacts,
    normalize_protocol,
)
from controlmap.sources.aws.collector import CollectContext, Scope, collector
from controlmap.sources.aws.services.ssm import attach_ssm_state


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn(ctx: CollectContext, kind: str, ident: str, *, with_account: bool = True) -> str:
    account = ctx.account_id if with_account else ""
    return f"arn:{partition(ctx.region)}:ec2:{ctx.region}:{account}:{kind}/{ident}"


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in item.get("Tags") or [] if "Key" in t}


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


# ---- network ------------------------------------------------------------------------------


def sg_rule(permission: dict[str, Any]) -> SgRule:
    protocol = normalize_protocol(permission.get("IpProtocol"))
    return SgRule(
        protocol=protocol,
        from_port=permission.get("FromPort") if protocol != "-1" else None,
        to_port=permission.get("ToPort") if protocol != "-1" else None,
        ipv4_ranges=[r["CidrIp"] for r in permission.get("IpRanges") or [] if "CidrIp" in r],
        ipv6_ranges=[r["CidrIpv6"] for r in permission.get("Ipv6Ranges") or [] if "CidrIpv6" in r],
        source_groups=[
            f"{p['UserId']}/{p['GroupId']}" if p.get("UserId") and p.get("PeeringStatus") else p["GroupId"]
            for p in permission.get("UserIdGroupPairs") or []
            if "GroupId" in p
        ],
        prefix_lists=[
            p["PrefixListId"] for p in permission.get("PrefixListIds") or [] if "PrefixListId" in p
        ],
    )


def nacl_entry(entry: dict[str, Any]) -> NaclEntry:
    protocol = normalize_protocol(entry.get("Protocol"))
    ports = entry.get("PortRange") or {}
    return NaclEntry(
        rule_number=int(entry.get("RuleNumber", 32767)),
        egress=bool(entry.get("Egress")),
        allow=str(entry.get("RuleAction", "")).lower() == "allow",
        cidr=entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"),
        protocol=protocol,
        from_port=ports.get("From") if protocol in ("tcp", "udp") else None,
        to_port=ports.get("To") if protocol in ("tcp", "udp") else None,
    )


@collector(
    "ec2-network",
    service="ec2",
    produces=[SecurityGroup, NetworkAcl, Vpc],
    scope=Scope.REGIONAL,
)
def collect_network(ctx: CollectContext) -> None:
    groups = ctx.paginate("ec2", "describe_security_groups", "SecurityGroups", produces=[SecurityGroup])
    interfaces: list[dict[str, Any]] | None = None
    interface_error = None
    if ctx.wants("attachments", "interface_count"):
        interfaces = ctx.paginate("ec2", "describe_network_interfaces", "NetworkInterfaces")
        if interfaces is None:
            interface_error = _last_error(ctx, "DescribeNetworkInterfaces")

    by_group: dict[str, list[SgAttachment]] = defaultdict(list)
    by_vpc: dict[str, int] = defaultdict(int)
    for eni in interfaces or []:
        by_vpc[str(eni.get("VpcId"))] += 1
        attachment = eni.get("Attachment") or {}
        facts = SgAttachment(
            interface_id=eni["NetworkInterfaceId"],
            interface_type=eni.get("InterfaceType"),
            instance_id=attachment.get("InstanceId"),
            description=(eni.get("Description") or None),
            requester=eni.get("RequesterId"),
            public_ip=(eni.get("Association") or {}).get("PublicIp"),
        )
        for group in eni.get("Groups") or []:
            by_group[group["GroupId"]].append(facts)

    for item in groups or []:
        group_id = item["GroupId"]
        group = SecurityGroup(
            id=arn(ctx, "security-group", group_id),
            name=item.get("GroupName") or group_id,
            account_id=item.get("OwnerId") or ctx.account_id,
            region=ctx.region,
            tags=tags_of(item),
            group_id=group_id,
            vpc_id=item.get("VpcId"),
            is_default=item.get("GroupName") == "default",
            ingress=[sg_rule(p) for p in item.get("IpPermissions") or []],
            egress=[sg_rule(p) for p in item.get("IpPermissionsEgress") or []],
        )
        if interfaces is not None:
            group.attachments = by_group.get(group_id, [])
        elif interface_error is not None:
            group.mark_error("attachments", interface_error)
        ctx.add(group)

    if ctx.wants("entries"):
        _collect_nacls(ctx)
    if ctx.wants("flow_logs", "endpoints", "interface_count"):
        _collect_vpcs(ctx, by_vpc if interfaces is not None else None, interface_error)


def _last_error(ctx: CollectContext, operation: str) -> Any:
    for error in reversed(ctx.inventory.errors):
        if error.operation == operation and error.region == ctx.region:
            return error
    return None


def _collect_nacls(ctx: CollectContext) -> None:
    acls = ctx.paginate("ec2", "describe_network_acls", "NetworkAcls", produces=[NetworkAcl])
    for item in acls or []:
        acl_id = item["NetworkAclId"]
        ctx.add(
            NetworkAcl(
                id=arn(ctx, "network-acl", acl_id),
                name=tags_of(item).get("Name") or acl_id,
                account_id=item.get("OwnerId") or ctx.account_id,
                region=ctx.region,
                tags=tags_of(item),
                acl_id=acl_id,
                vpc_id=item.get("VpcId"),
                is_default=bool(item.get("IsDefault")),
                entries=[nacl_entry(e) for e in item.get("Entries") or []],
                subnet_ids=[a["SubnetId"] for a in item.get("Associations") or [] if "SubnetId" in a],
            )
        )


def _collect_vpcs(ctx: CollectContext, interface_counts: dict[str, int] | None, interface_error: Any) -> None:
    vpcs = ctx.paginate("ec2", "describe_vpcs", "Vpcs", produces=[Vpc])
    if vpcs is None:
        return
    flow_logs: dict[str, list[FlowLogFacts]] | None = None
    flow_error = None
    if ctx.wants("flow_logs"):
        logs = ctx.paginate("ec2", "describe_flow_logs", "FlowLogs")
        if logs is None:
            flow_error = _last_error(ctx, "DescribeFlowLogs")
        else:
            flow_logs = defaultdict(list)
            for log in logs:
                flow_logs[str(log.get("ResourceId"))].append(
                    FlowLogFacts(
                        flow_log_id=log.get("FlowLogId", "?"),
                        traffic_type=log.get("TrafficType"),
                        status=log.get("FlowLogStatus"),
                        deliver_logs_status=log.get("DeliverLogsStatus"),
                        destination_type=log.get("LogDestinationType"),
                    )
                )
    endpoints: dict[str, list[VpcEndpointFacts]] | None = None
    endpoint_error = None
    if ctx.wants("endpoints"):
        items = ctx.paginate("ec2", "describe_vpc_endpoints", "VpcEndpoints")
        if items is None:
            endpoint_error = _last_error(ctx, "DescribeVpcEndpoints")
        else:
            endpoints = defaultdict(list)
            for endpoint in items:
                endpoints[str(endpoint.get("VpcId"))].append(
                    VpcEndpointFacts(
                        endpoint_id=endpoint.get("VpcEndpointId", "?"),
                        service_name=endpoint.get("ServiceName", ""),
                        endpoint_type=endpoint.get("VpcEndpointType", ""),
                        state=endpoint.get("State"),
                    )
                )
    for item in vpcs:
        vpc_id = item["VpcId"]
        vpc = Vpc(
            id=arn(ctx, "vpc", vpc_id),
            name=tags_of(item).get("Name") or vpc_id,
            account_id=item.get("OwnerId") or ctx.account_id,
            region=ctx.region,
            tags=tags_of(item),
            vpc_id=vpc_id,
            is_default=bool(item.get("IsDefault")),
            cidr_blocks=[
                c["CidrBlock"] for c in item.get("CidrBlockAssociationSet") or [] if "CidrBlock" in c
            ]
            or ([item["CidrBlock"]] if item.get("CidrBlock") else []),
        )
        _fill(vpc, "interface_count", interface_counts, vpc_id, interface_error, default=0)
        _fill(vpc, "flow_logs", flow_logs, vpc_id, flow_error, default=[])
        _fill(vpc, "endpoints", endpoints, vpc_id, endpoint_error, default=[])
        ctx.add(vpc)


def _fill(resource: Any, fact: str, table: dict[str, Any] | None, key: str, error: Any, default: Any) -> None:
    if table is not None:
        value = table.get(key, default)
        setattr(resource, fact, list(value) if isinstance(value, list) else value)
    elif error is not None:
        resource.mark_error(fact, error)


# ---- compute ------------------------------------------------------------------------------


@collector(
    "ec2-compute",
    service="ec2",
    produces=[Instance, Image, KeyPair, LaunchTemplate],
    scope=Scope.REGIONAL,
    facts=["imds_http_tokens_default"],
)
def collect_compute(ctx: CollectContext) -> None:
    reservations = ctx.paginate("ec2", "describe_instances", "Reservations", produces=[Instance])
    instances = [_instance(ctx, i) for r in reservations or [] for i in r.get("Instances") or []]
    if instances and ctx.wants("image"):
        _attach_images(ctx, instances)
    if instances and ctx.wants("ssm_managed", "patch_state"):
        attach_ssm_state(ctx, instances)
    for instance in instances:
        ctx.add(instance)

    if ctx.wants("public"):
        owned = ctx.paginate("ec2", "describe_images", "Images", produces=[Image], Owners=["self"])
        for item in owned or []:
            image_id = item["ImageId"]
            ctx.add(
                Image(
                    id=arn(ctx, "image", image_id, with_account=False),
                    name=item.get("Name") or image_id,
                    account_id=ctx.account_id,
                    region=ctx.region,
                    tags=tags_of(item),
                    image_id=image_id,
                    public=bool(item.get("Public")),
                    creation_date=parse_time(item.get("CreationDate")),
                    state=item.get("State"),
                )
            )

    if ctx.wants("template_metadata_http_tokens", "ebs_volumes"):
        _collect_launch_templates(ctx)
    if ctx.wants("imds_http_tokens_default"):
        _imds_defaults(ctx)

    if ctx.wants("fingerprint", "key_name"):
        keys = ctx.paginate("ec2", "describe_key_pairs", "KeyPairs", produces=[KeyPair])
        for item in keys or []:
            name = item.get("KeyName", "?")
            ctx.add(
                KeyPair(
                    id=arn(ctx, "key-pair", name),
                    name=name,
                    account_id=ctx.account_id,
                    region=ctx.region,
                    tags=tags_of(item),
                    key_name=name,
                    key_pair_id=item.get("KeyPairId"),
                    fingerprint=item.get("KeyFingerprint"),
                    key_type=item.get("KeyType"),
                    create_time=parse_time(item.get("CreateTime")),
                )
            )


def _imds_defaults(ctx: CollectContext) -> None:
    """The region's account-level IMDS defaults: what a launch that sets no HttpTokens gets."""
    region: AwsRegion = ctx.regional
    result = ctx.call("ec2", "get_instance_metadata_defaults")
    if result.error is not None:
        region.mark_error("imds_http_tokens_default", result.error)
        return
    defaults = (result.data or {}).get("AccountLevel") or {}
    region.imds_http_tokens_default = defaults.get("HttpTokens") or "no-preference"
    region.imds_http_tokens_enforced = defaults.get("HttpTokensEnforced") or "disabled"


def _collect_launch_templates(ctx: CollectContext) -> None:
    """The default version of every launch template, in one paginated listing."""
    versions = ctx.paginate(
        "ec2",
        "describe_launch_template_versions",
        "LaunchTemplateVersions",
        produces=[LaunchTemplate],
        Versions=["$Default"],
    )
    for item in versions or []:
        template_id = item.get("LaunchTemplateId", "?")
        data = item.get("LaunchTemplateData") or {}
        metadata = data.get("MetadataOptions") or {}
        ctx.add(
            LaunchTemplate(
                id=arn(ctx, "launch-template", template_id),
                name=item.get("LaunchTemplateName") or template_id,
                account_id=ctx.account_id,
                region=ctx.region,
                template_id=template_id,
                version=item.get("VersionNumber"),
                image_id=data.get("ImageId"),
                metadata_http_tokens=metadata.get("HttpTokens"),
                metadata_http_endpoint=metadata.get("HttpEndpoint"),
                ebs_volumes=[
                    TemplateVolume(
                        device_name=m.get("DeviceName"),
                        encrypted=m["Ebs"].get("Encrypted"),
                        snapshot_id=m["Ebs"].get("SnapshotId"),
                        kms_key_id=m["Ebs"].get("KmsKeyId"),
                    )
                    for m in data.get("BlockDeviceMappings") or []
                    if "Ebs" in m
                ],
            )
        )


def _instance(ctx: CollectContext, item: dict[str, Any]) -> Instance:
    return instance_from_api(item, ctx.account_id, ctx.region)


def instance_from_api(item: dict[str, Any], account_id: str, region: str) -> Instance:
    """A DescribeInstances item as a model (pure: AWS Config items of the same shape reuse it)."""
    instance_id = item["InstanceId"]
    metadata = item.get("MetadataOptions") or {}
    profile = (item.get("IamInstanceProfile") or {}).get("Arn")
    return Instance(
        id=f"arn:{partition(region)}:ec2:{region}:{account_id}:instance/{instance_id}",
        name=tags_of(item).get("Name") or instance_id,
        account_id=account_id,
        region=region,
        tags=tags_of(item),
        instance_id=instance_id,
        state=(item.get("State") or {}).get("Name"),
        vpc_id=item.get("VpcId"),
        subnet_id=item.get("SubnetId"),
        image_id=item.get("ImageId"),
        key_name=item.get("KeyName") or None,
        platform=item.get("Platform"),
        public_ip=item.get("PublicIpAddress"),
        # Every group of every interface: a secondary interface can carry a group (and an open
        # port) that the instance-level list does not show.
        security_group_ids=list(
            dict.fromkeys(
                g["GroupId"]
                for g in [
                    *(item.get("SecurityGroups") or []),
                    *(g for n in item.get("NetworkInterfaces") or [] for g in n.get("Groups") or []),
                ]
                if "GroupId" in g
            )
        ),
        interface_ids=[n["NetworkInterfaceId"] for n in item.get("NetworkInterfaces") or []],
        launch_time=parse_time(item.get("LaunchTime")),
        metadata_http_tokens=metadata.get("HttpTokens"),
        metadata_http_endpoint=metadata.get("HttpEndpoint"),
        iam_instance_profile=profile,
    )


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _attach_images(ctx: CollectContext, instances: list[Instance]) -> None:
    """One DescribeImages per 100 distinct AMIs; AMIs no longer visible stay unknown."""
    image_ids = sorted({i.image_id for i in instances if i.image_id})
    found: dict[str, ImageFacts] = {}
    failed = None
    for chunk in _chunks(image_ids, 100):
        result = ctx.call("ec2", "describe_images", ImageIds=chunk, IncludeDeprecated=True)
        if result.error is not None and result.error.code.startswith("InvalidAMIID"):
            # One deregistered AMI fails the whole batch: ask for each separately.
            for image_id in chunk:
                single = ctx.call("ec2", "describe_images", ImageIds=[image_id], IncludeDeprecated=True)
                for item in (single.data or {}).get("Images", []):
                    found[item["ImageId"]] = _image_facts(item)
            continue
        if result.error is not None:
            failed = result.error
            continue
        for item in (result.data or {}).get("Images", []):
            found[item["ImageId"]] = _image_facts(item)
    for instance in instances:
        if not instance.image_id:
            continue
        if instance.image_id in found:
            instance.image = found[instance.image_id]
        elif failed is not None:
            instance.mark_error("image", failed)
        else:
            instance.mark_unknown(
                "image",
                f"AMI {instance.image_id} is no longer visible to this account (deregistered or unshared); "
                "its age and owner cannot be read",
            )


def _image_facts(item: dict[str, Any]) -> ImageFacts:
    return ImageFacts(
        image_id=item["ImageId"],
        owner_id=item.get("OwnerId"),
        owner_alias=item.get("ImageOwnerAlias"),
        creation_date=parse_time(item.get("CreationDate")),
        name=item.get("Name"),
        deprecation_time=parse_time(item.get("DeprecationTime")),
    )


# ---- EBS ----------------------------------------------------------------------------------


@collector(
    "ebs",
    service="ec2",
    produces=[Volume, Snapshot],
    scope=Scope.REGIONAL,
    facts=["ebs_encryption_by_default"],
)
def collect_ebs(ctx: CollectContext) -> None:
    region: AwsRegion = ctx.regional
    if ctx.wants("ebs_encryption_by_default"):
        result = ctx.call("ec2", "get_ebs_encryption_by_default")
        if result.error is not None:
            region.mark_error("ebs_encryption_by_default", result.error)
        else:
            region.ebs_encryption_by_default = bool((result.data or {}).get("EbsEncryptionByDefault"))

    if ctx.wants("encrypted", "kms_key_id"):
        volumes = ctx.paginate("ec2", "describe_volumes", "Volumes", produces=[Volume])
        for item in volumes or []:
            volume_id = item["VolumeId"]
            ctx.add(
                Volume(
                    id=arn(ctx, "volume", volume_id),
                    name=tags_of(item).get("Name") or volume_id,
                    account_id=ctx.account_id,
                    region=ctx.region,
                    tags=tags_of(item),
                    volume_id=volume_id,
                    state=item.get("State"),
                    encrypted=bool(item.get("Encrypted")),
                    kms_key_id=item.get("KmsKeyId"),
                    attached_instance_ids=[
                        a["InstanceId"] for a in item.get("Attachments") or [] if "InstanceId" in a
                    ],
                )
            )

    if ctx.wants("encrypted", "public"):
        snapshots = ctx.paginate(
            "ec2", "describe_snapshots", "Snapshots", produces=[Snapshot], OwnerIds=["self"]
        )
        want_permissions = ctx.wants("public")
        # OwnerIds=self already asks for the account's own; the filter guards against endpoints
        # (and emulators) that ignore it, so public AMI snapshots of others are never judged here.
        own = [s for s in snapshots or [] if s.get("OwnerId") in (None, ctx.account_id)]
        built = ctx.map(lambda s: _snapshot(ctx, s, want_permissions), own)
        for snapshot in built:
            ctx.add(snapshot)


def _snapshot(ctx: CollectContext, item: dict[str, Any], with_permissions: bool) -> Snapshot:
    snapshot_id = item["SnapshotId"]
    snapshot = Snapshot(
        id=arn(ctx, "snapshot", snapshot_id, with_account=False),
        name=tags_of(item).get("Name") or snapshot_id,
        account_id=item.get("OwnerId") or ctx.account_id,
        region=ctx.region,
        tags=tags_of(item),
        snapshot_id=snapshot_id,
        volume_id=item.get("VolumeId"),
        encrypted=bool(item.get("Encrypted")),
        kms_key_id=item.get("KmsKeyId"),
        start_time=parse_time(item.get("StartTime")),
    )
    if with_permissions:
        result = ctx.call(
            "ec2",
            "describe_snapshot_attribute",
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            resource_id=snapshot_id,
        )
        if result.error is not None:
            snapshot.mark_error("public", result.error)
            snapshot.mark_error("shared_with", result.error)
        else:
            permissions = (result.data or {}).get("CreateVolumePermissions", [])
            snapshot.public = any(p.get("Group") == "all" for p in permissions)
            snapshot.shared_with = sorted(p["UserId"] for p in permissions if "UserId" in p)
    return snapshot
