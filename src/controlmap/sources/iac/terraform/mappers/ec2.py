"""EC2 and VPC in Terraform: security groups and every way of writing their rules, network ACLs,
VPCs with flow logs and endpoints, instances, volumes, key pairs and the region's EBS defaults.

Unlike CloudFormation, Terraform removes the default allow-all egress rule of a group it
creates, so a group without egress blocks has no egress until rules are added.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.account import AccessAnalyzerFacts, AwsRegion
from controlmap.resources.base import Resource
from controlmap.resources.ec2 import (
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
from controlmap.sources.iac.cloudformation.mappers.ec2 import maybe_rule
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.companions import has_items, never
from controlmap.sources.iac.facts import as_list, put, text, to_bool, to_int, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, finisher, primary
from controlmap.sources.iac.terraform.mappers._common import base, block_list, first, ref_text
from controlmap.sources.iac.volumes import attached_volume

ACCOUNT_ONLY = "only known in the account once the instance runs"


def _port(value: Any) -> int | None:
    number = to_int(value)
    return number if isinstance(number, int) else None


def group_id(value: Any, build: TfBuild, item: TfItem) -> str | None:
    """A security group (or VPC) reference as the id its model carries, whatever the order."""
    group = build.target(value, SecurityGroup, "group_id", item)
    if group is not None:
        return group.group_id
    if isinstance(value, ResourceRef):
        return build.resource_id(value.address)
    return ref_text(value)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value) if isinstance(v, str)]


_RULE_PARTS = {
    "protocol": "ports",
    "from_port": "ports",
    "to_port": "ports",
    "cidr_blocks": "sources",
    "ipv6_cidr_blocks": "sources",
    "ip_protocol": "ports",  # aws_vpc_security_group_*_rule
    "cidr_ipv4": "sources",
    "cidr_ipv6": "sources",
}


def unresolved_parts(attrs: dict[str, Any], where: str) -> dict[str, str]:
    """Which parts of a rule (ports, sources) depend on values a static scan cannot know, and why."""
    unresolved: dict[str, str] = {}
    for key, part in _RULE_PARTS.items():
        missing = first_unresolved(attrs.get(key))
        if missing is not None and part not in unresolved:
            unresolved[part] = f"{where}.{key} depends on {missing.depends_on}"
    return unresolved


def block_rule(
    block: dict[str, Any], build: TfBuild, item: TfItem, owner: SecurityGroup | None, where: str
) -> SgRule:
    """An ``ingress``/``egress`` block or an ``aws_security_group_rule``.

    A part only known after apply is recorded on the rule (``where`` names it in the reason), so
    the rule's known siblings are still judged.
    """
    unresolved: dict[str, str] = {}
    unresolved = unresolved_parts(block, where)
    block = {k: v for k, v in block.items() if first_unresolved(v) is None}
    groups = [
        g
        for g in (
            group_id(v, build, item)
            for v in [*as_list(block.get("security_groups")), block.get("source_security_group_id")]
        )
        if g
    ]
    if to_bool(block.get("self")) is True and owner is not None:
        groups.append(owner.group_id)
    return SgRule(
        protocol=normalize_protocol(block.get("protocol")),
        from_port=_port(block.get("from_port")),
        to_port=_port(block.get("to_port")),
        ipv4_ranges=_strings(block.get("cidr_blocks")),
        ipv6_ranges=_strings(block.get("ipv6_cidr_blocks")),
        source_groups=groups,
        prefix_lists=[p for p in (ref_text(v) for v in as_list(block.get("prefix_list_ids"))) if p],
        unresolved=unresolved,
    )


def _set_rules(model: SecurityGroup, fact: str, item: TfItem, build: TfBuild) -> None:
    blocks = block_list(item, fact)
    if isinstance(blocks, Unresolved):
        unknown(model, fact, fact, blocks)
        return
    rules = []
    for index, block in enumerate(blocks):
        rules.append(block_rule(block, build, item, model, f"{item.address} {fact}[{index}]"))
    setattr(model, fact, rules)


@primary("aws_security_group", "aws_default_security_group")
def security_group(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("name")
    default = item.type == "aws_default_security_group"
    model = SecurityGroup(
        **base(item, build, "default" if default else name),
        group_id=build.resource_id(item.address),
        vpc_id=group_id(item.get("vpc_id"), build, item),
        is_default=default,
    )
    _set_rules(model, "ingress", item, build)
    _set_rules(model, "egress", item, build)
    model.unknown["attachments"] = "the interfaces a group is attached to exist only in the account"
    return [model]


def _append_rule(group: SecurityGroup, fact: str, rule: SgRule) -> None:
    if getattr(group, fact) is None:
        return  # the whole list is already unknown
    getattr(group, fact).append(rule)


def _rule_group(item: TfItem, build: TfBuild, fact: str) -> SecurityGroup | None:
    """The group a separate rule belongs to; a rule of a group the scan cannot name may be any
    group's, which then has a rule it cannot judge."""
    value = item.get("security_group_id")
    group = build.target(value, SecurityGroup, "group_id", item)
    if group is None:
        for candidate, why in build.maybe_targets(value, SecurityGroup, item, "group_id"):
            _append_rule(candidate, fact, maybe_rule(why))
    return group


@companion("aws_security_group_rule")
def group_rule(item: TfItem, build: TfBuild) -> None:
    kind = item.get("type")
    if isinstance(kind, Unresolved):  # ingress or egress: a rule that may be either
        value = item.get("security_group_id")
        group = build.target(value, SecurityGroup, "group_id", item)
        targets = (
            [(group, f"{item.address}.type depends on {kind.depends_on}")]
            if group is not None
            else build.maybe_targets(value, SecurityGroup, item, "group_id")
        )
        for candidate, why in targets:
            for fact in ("ingress", "egress"):
                _append_rule(candidate, fact, maybe_rule(why))
        return
    fact = "egress" if kind == "egress" else "ingress"
    group = _rule_group(item, build, fact)
    if group is None:
        return
    _append_rule(group, fact, block_rule(item.attrs, build, item, group, item.address))


@companion("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
def vpc_rule(item: TfItem, build: TfBuild) -> None:
    fact = "egress" if item.type.endswith("egress_rule") else "ingress"
    group = _rule_group(item, build, fact)
    if group is None:
        return
    attrs = {k: item.get(k) for k in _RULE_PARTS}
    unresolved = unresolved_parts(attrs, item.address)
    known = {k: v for k, v in attrs.items() if first_unresolved(v) is None}
    referenced = item.get("referenced_security_group_id")
    prefix = ref_text(item.get("prefix_list_id"))
    rule = SgRule(
        protocol=normalize_protocol(known.get("ip_protocol")),
        from_port=_port(known.get("from_port")),
        to_port=_port(known.get("to_port")),
        ipv4_ranges=_strings(known.get("cidr_ipv4")),
        ipv6_ranges=_strings(known.get("cidr_ipv6")),
        source_groups=[g for g in [group_id(referenced, build, item)] if g and referenced is not None],
        prefix_lists=[prefix] if prefix else [],
        unresolved=unresolved,
    )
    _append_rule(group, fact, rule)


def _nacl_entries(item: TfItem, egress: bool) -> list[NaclEntry] | Unresolved:
    blocks = block_list(item, "egress" if egress else "ingress")
    if isinstance(blocks, Unresolved):
        return blocks
    out = []
    for block in blocks:
        missing = first_unresolved(block)
        if missing is not None:
            return missing
        out.append(
            NaclEntry(
                protocol=normalize_protocol(block.get("protocol")),
                from_port=_port(block.get("from_port")),
                to_port=_port(block.get("to_port")),
                rule_number=_port(block.get("rule_no")) or 0,
                egress=egress,
                allow=str(block.get("action", "allow")).lower() == "allow",
                cidr=text(block.get("cidr_block")) or text(block.get("ipv6_cidr_block")),
            )
        )
    return out


@primary("aws_network_acl", "aws_default_network_acl")
def network_acl(item: TfItem, build: TfBuild) -> list[Resource]:
    model = NetworkAcl(
        **base(item, build),
        acl_id=build.resource_id(item.address),
        vpc_id=group_id(item.get("vpc_id"), build, item),
        is_default=item.type == "aws_default_network_acl",
        subnet_ids=[s for s in (ref_text(v) for v in as_list(item.get("subnet_ids"))) if s],
    )
    entries: list[NaclEntry] = []
    for egress in (False, True):
        found = _nacl_entries(item, egress)
        if isinstance(found, Unresolved):
            unknown(model, "entries", "egress" if egress else "ingress", found)
            return [model]
        entries.extend(found)
    model.entries = entries
    return [model]


@companion("aws_network_acl_rule")
def nacl_rule(item: TfItem, build: TfBuild) -> None:
    acl = build.link(item, item.get("network_acl_id"), NetworkAcl, ("entries",), "acl_id", never)
    if acl is None or acl.entries is None:
        return
    missing = first_unresolved(item.attrs)
    if missing is not None:
        unknown(acl, "entries", item.address, missing)
        return
    acl.entries.append(
        NaclEntry(
            protocol=normalize_protocol(item.get("protocol")),
            from_port=_port(item.get("from_port")),
            to_port=_port(item.get("to_port")),
            rule_number=_port(item.get("rule_number")) or 0,
            egress=bool(to_bool(item.get("egress", False))),
            allow=str(item.get("rule_action", "allow")).lower() == "allow",
            cidr=text(item.get("cidr_block")) or text(item.get("ipv6_cidr_block")),
        )
    )


@primary("aws_vpc", "aws_default_vpc")
def vpc(item: TfItem, build: TfBuild) -> list[Resource]:
    cidr = text(item.get("cidr_block"))
    return [
        Vpc(
            **base(item, build),
            vpc_id=build.resource_id(item.address),
            is_default=item.type == "aws_default_vpc",
            cidr_blocks=[cidr] if cidr else [],
            flow_logs=[],
            endpoints=[],
        )
    ]


_INTERFACE_TYPES = frozenset(
    {
        "aws_subnet",
        "aws_instance",
        "aws_network_interface",
        "aws_nat_gateway",
        "aws_db_subnet_group",
        "aws_lb",
        "aws_lambda_function",
        "aws_vpc_endpoint",
    }
)


@finisher
def _vpc_usage(build: TfBuild) -> None:
    subnets_of: dict[str, str] = {}
    for item in build.items:
        if item.type == "aws_subnet":
            owner = build.target(item.get("vpc_id"), Vpc, "vpc_id", item)
            if owner is not None:
                subnets_of[item.address] = owner.id
    for model in build.all(Vpc):
        users = 0
        for item in build.items:
            if item.type not in _INTERFACE_TYPES:
                continue
            if _mentions(item.attrs, model, subnets_of, build, item):
                users += 1
        if users:
            model.interface_count = users
        else:
            model.unknown["interface_count"] = (
                "no resource of this configuration places a network interface in the VPC; "
                "other configurations may (the interface count is only known in the account)"
            )


def _mentions(value: Any, vpc_model: Vpc, subnets_of: dict[str, str], build: TfBuild, item: TfItem) -> bool:
    if isinstance(value, ResourceRef):
        target = build.target(ResourceRef(value.address), Vpc, None, item)
        if target is vpc_model:
            return True
        return subnets_of.get(value.address) == vpc_model.id
    if isinstance(value, dict):
        return any(_mentions(v, vpc_model, subnets_of, build, item) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, vpc_model, subnets_of, build, item) for v in value)
    return False


@companion("aws_flow_log")
def flow_log(item: TfItem, build: TfBuild) -> None:
    target = build.link(item, item.get("vpc_id"), Vpc, ("flow_logs",), "vpc_id", has_items("flow_logs"))
    if target is None or target.flow_logs is None:
        return
    target.flow_logs.append(
        FlowLogFacts(
            flow_log_id=build.resource_id(item.address),
            traffic_type=None
            if isinstance(item.get("traffic_type"), Unresolved)
            else text(item.get("traffic_type")) or "ALL",
            status="ACTIVE",
            destination_type=text(item.get("log_destination_type")) or "cloud-watch-logs",
        )
    )


@companion("aws_vpc_endpoint")
def vpc_endpoint(item: TfItem, build: TfBuild) -> None:
    target = build.link(item, item.get("vpc_id"), Vpc, ("endpoints",), "vpc_id", never)
    if target is None or target.endpoints is None:
        return
    service = item.get("service_name")
    if isinstance(service, Unresolved) and service.placeholder:
        service = service.placeholder
    if not isinstance(service, str):
        unknown(
            target,
            "endpoints",
            f"{item.address}.service_name",
            service if isinstance(service, Unresolved) else "a computed value",
        )
        return
    target.endpoints.append(
        VpcEndpointFacts(
            endpoint_id=build.resource_id(item.address),
            service_name=service,
            endpoint_type=None
            if isinstance(item.get("vpc_endpoint_type"), Unresolved)
            else text(item.get("vpc_endpoint_type")) or "Gateway",
            state="available",
        )
    )


@primary("aws_instance")
def instance(item: TfItem, build: TfBuild) -> list[Resource]:
    groups = [*as_list(item.get("vpc_security_group_ids")), *as_list(item.get("security_groups"))]
    model = Instance(
        **base(item, build),
        instance_id=build.resource_id(item.address),
        image_id=text(item.get("ami")),
        key_name=ref_text(item.get("key_name")),
        subnet_id=ref_text(item.get("subnet_id")),
        security_group_ids=[g for g in (group_id(v, build, item) for v in groups) if g],
        iam_instance_profile=ref_text(item.get("iam_instance_profile")),
    )
    model.unknown["image"] = "the AMI's owner and age are only known in the account"
    options = first(item.get("metadata_options"))
    tokens = options.get("http_tokens") if isinstance(options, dict) else None
    if tokens is None:
        model.unknown["metadata_http_tokens"] = (
            "metadata_options.http_tokens is not set, so IMDSv2 depends on the AMI default; "
            'set metadata_options { http_tokens = "required" }'
        )
    else:
        put(model, "metadata_http_tokens", tokens, "metadata_options.http_tokens")
        endpoint = options.get("http_endpoint") if isinstance(options, dict) else None
        model.metadata_http_endpoint = endpoint if isinstance(endpoint, str) else "enabled"
    for fact in ("ssm_managed", "ssm_ping_status", "patch_state", "patch_state_present"):
        model.unknown[fact] = f"Systems Manager registration and patch state are {ACCOUNT_ONLY}"
    return [model, *_instance_volumes(model, item)]


def _instance_volumes(model: Instance, item: TfItem) -> list[Resource]:
    """The root volume (declared or not, unless a launch template gives it) and every
    ebs_block_device of the instance."""
    volumes: list[Resource] = []
    root = block_list(item, "root_block_device")
    if isinstance(root, list) and (root or item.get("launch_template") is None):
        spec = root[0] if root else {}
        volumes.append(
            attached_volume(
                model,
                "root_block_device",
                spec.get("encrypted"),
                ref_text(spec.get("kms_key_id")),
                root=True,
                from_snapshot=True,
                fix="set root_block_device { encrypted = true }",
            )
        )
    devices = block_list(item, "ebs_block_device")
    for index, spec in enumerate(devices if isinstance(devices, list) else []):
        device = text(spec.get("device_name")) or f"ebs_block_device[{index}]"
        volumes.append(
            attached_volume(
                model,
                device,
                spec.get("encrypted"),
                ref_text(spec.get("kms_key_id")),
                root=False,
                from_snapshot=spec.get("snapshot_id") is not None,
                fix="set encrypted = true in the ebs_block_device block",
            )
        )
    return volumes


@primary("aws_ebs_volume")
def volume(item: TfItem, build: TfBuild) -> list[Resource]:
    model = Volume(**base(item, build), volume_id=build.resource_id(item.address))
    encrypted = to_bool(item.get("encrypted"))
    if encrypted is None:
        model.unknown["encrypted"] = (
            "encrypted is not set, so the volume is encrypted only if the region has EBS encryption by "
            "default on; set encrypted = true"
        )
    else:
        put(model, "encrypted", encrypted, "encrypted")
    model.kms_key_id = ref_text(item.get("kms_key_id"))
    return [model]


@finisher
def _region_default_encryption(build: TfBuild) -> None:
    """A volume that sets nothing is encrypted when the same configuration turns the region default on."""
    regions = [r for r in build.all(AwsRegion) if r.ebs_encryption_by_default is True]
    if not regions:
        return
    for model in build.all(Volume):
        if model.encrypted is None and "encrypted" in model.unknown:
            del model.unknown["encrypted"]
            model.encrypted = True


@primary("aws_key_pair")
def key_pair(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("key_name")
    return [
        KeyPair(
            **base(item, build, name),
            key_name=name if isinstance(name, str) else item.address,
            key_type="rsa",
        )
    ]


def region_model(item: TfItem, build: TfBuild) -> tuple[AwsRegion, list[Resource]]:
    """The one AwsRegion of this configuration; created on first use."""
    for existing in build.all(AwsRegion):
        return existing, []
    model = AwsRegion(**base(item, build, build.region or "the provider's region"))
    return model, [model]


@primary("aws_ebs_encryption_by_default")
def ebs_default(item: TfItem, build: TfBuild) -> list[Resource]:
    model, created = region_model(item, build)
    put(model, "ebs_encryption_by_default", to_bool(item.get("enabled", True)), "enabled")
    return created


@primary("aws_ebs_default_kms_key")
def ebs_default_key(item: TfItem, build: TfBuild) -> list[Resource]:
    model, created = region_model(item, build)
    model.ebs_default_kms_key_id = ref_text(item.get("key_arn"))
    return created


@primary("aws_accessanalyzer_analyzer")
def analyzer(item: TfItem, build: TfBuild) -> list[Resource]:
    model, created = region_model(item, build)
    name = item.get("analyzer_name")
    kind = str(item.get("type", "ACCOUNT"))
    if kind in ("ACCOUNT", "ORGANIZATION"):
        names = [
            *(model.access_analyzer.analyzer_names if model.access_analyzer else []),
            str(ref_text(name) or item.address),
        ]
        model.access_analyzer = AccessAnalyzerFacts(analyzer_names=names)
    return created


@primary("aws_launch_template")
def launch_template(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("name")
    model = LaunchTemplate(
        **base(item, build, name),
        template_id=build.resource_id(item.address),
        version=1,
        image_id=text(item.get("image_id")),
    )
    options = first(item.get("metadata_options"))
    tokens = options.get("http_tokens") if isinstance(options, dict) else None
    if isinstance(tokens, Unresolved):
        unknown(model, "metadata_http_tokens", "metadata_options.http_tokens", tokens)
    else:
        model.metadata_http_tokens = text(tokens)  # None: not set, the AMI's default applies
    model.metadata_http_endpoint = text(options.get("http_endpoint")) if isinstance(options, dict) else None
    mappings = block_list(item, "block_device_mappings")
    if isinstance(mappings, Unresolved):
        unknown(model, "ebs_volumes", "block_device_mappings", mappings)
        return [model]
    volumes = []
    for entry in mappings:
        ebs = first(entry.get("ebs"))
        if not isinstance(ebs, dict):
            continue
        encrypted = to_bool(ebs.get("encrypted"))
        volumes.append(
            TemplateVolume(
                device_name=text(entry.get("device_name")),
                encrypted=encrypted if isinstance(encrypted, bool) else None,
                snapshot_id=text(ebs.get("snapshot_id")),
                kms_key_id=ref_text(ebs.get("kms_key_id")),
            )
        )
    model.ebs_volumes = volumes
    return [model]
