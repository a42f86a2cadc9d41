"""EC2 and VPC resources from their configuration items, parsed by the live collectors' code.

Security groups, network ACLs, VPCs, instances and volumes map one to one. A VPC's flow logs,
endpoints and network interfaces, and a security group's attachments, are items of their own
(``AWS::EC2::FlowLog``, ``AWS::EC2::VPCEndpoint``, ``AWS::EC2::NetworkInterface``): they are
joined once everything is read, and stay unknown where the data cannot show their absence.

Launch templates are recorded in the CloudFormation shape.

Not recorded by AWS Config: AMIs (an instance's image age and owner), key pairs, EBS snapshots
and their permissions, EBS encryption by default, and Patch Manager state per instance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from controlmap.checks.registry import Inventory
from controlmap.resources.base import Resource
from controlmap.resources.ec2 import (
    FlowLogFacts,
    Instance,
    LaunchTemplate,
    NetworkAcl,
    SecurityGroup,
    SgAttachment,
    TemplateVolume,
    Volume,
    Vpc,
    VpcEndpointFacts,
)
from controlmap.sources.aws.services.ec2 import instance_from_api, nacl_entry, partition, sg_rule
from controlmap.sources.config.casefold import CaseFolded, fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, base, finisher, identify, mapper

FLOW_LOG = "AWS::EC2::FlowLog"
ENDPOINT = "AWS::EC2::VPCEndpoint"
INTERFACE = "AWS::EC2::NetworkInterface"
SSM_INVENTORY = "AWS::SSM::ManagedInstanceInventory"


def _arn(item: ConfigItem, kind: str, ident: str) -> str:
    if item.arn:
        return item.arn
    region = item.region or ""
    return f"arn:{partition(region)}:ec2:{region}:{item.account_id or ''}:{kind}/{ident}"


def _state(value: Any) -> str | None:
    """EC2 states as Config writes them: ``"available"`` or ``{"value": "available"}`` / ``{"name": ...}``."""
    if isinstance(value, dict):
        value = value.get("value") or value.get("name")
    return None if value is None else str(value)


def _permission(raw: Any) -> CaseFolded:
    """Config lists a rule's IPv4 sources twice: ``ipRanges`` as plain CIDR text and ``ipv4Ranges``
    as objects; the API's ``IpRanges`` is the object form."""
    permission = fold(raw if isinstance(raw, dict) else {})
    if "ipv4Ranges" in permission:
        permission["ipranges"] = permission.get("ipv4Ranges") or []
    else:
        permission["ipranges"] = [
            r if isinstance(r, dict) else {"cidrip": str(r)} for r in permission.get("ipRanges") or []
        ]
    return CaseFolded(permission)  # fold the objects just added


@mapper("AWS::EC2::SecurityGroup")
def security_group(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    group_id = str(config.get("groupId") or item.resource_id)
    return [
        SecurityGroup(
            **base(item, name=config.get("groupName") or group_id, id=_arn(item, "security-group", group_id)),
            group_id=group_id,
            vpc_id=config.get("vpcId"),
            is_default=config.get("groupName") == "default",
            ingress=[sg_rule(_permission(p)) for p in config.get("ipPermissions") or []],
            egress=[sg_rule(_permission(p)) for p in config.get("ipPermissionsEgress") or []],
        )
    ]


@mapper("AWS::EC2::NetworkAcl")
def network_acl(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    acl_id = str(config.get("networkAclId") or item.resource_id)
    return [
        NetworkAcl(
            **base(item, name=(item.tags or {}).get("Name") or acl_id, id=_arn(item, "network-acl", acl_id)),
            acl_id=acl_id,
            vpc_id=config.get("vpcId"),
            is_default=bool(config.get("isDefault")),
            entries=[nacl_entry(e) for e in config.get("entries") or [] if isinstance(e, dict)],
            subnet_ids=[a["subnetId"] for a in config.get("associations") or [] if a.get("subnetId")],
        )
    ]


@mapper("AWS::EC2::VPC")
def vpc(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    vpc_id = str(config.get("vpcId") or item.resource_id)
    blocks = [c["cidrBlock"] for c in config.get("cidrBlockAssociationSet") or [] if c.get("cidrBlock")]
    return [
        Vpc(
            **base(item, name=(item.tags or {}).get("Name") or vpc_id, id=_arn(item, "vpc", vpc_id)),
            vpc_id=vpc_id,
            is_default=bool(config.get("isDefault")),
            cidr_blocks=blocks or ([config["cidrBlock"]] if config.get("cidrBlock") else []),
        )
    ]


@mapper("AWS::EC2::Instance")
def instance(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    if not config.get("InstanceId"):
        config["instanceid"] = item.resource_id
    model = identify(instance_from_api(config, item.account_id or "", item.region or ""), item)
    if item.arn:
        model.id = item.arn
    if item.tags:
        model.name = item.tags.get("Name") or model.name
    ctx.not_recorded(model, ["image"], "AMIs (an instance's image age and owner)")
    ctx.not_recorded(model, ["patch_state", "patch_state_present"], "Patch Manager state per instance")
    return [model]


@mapper("AWS::EC2::Volume")
def volume(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    volume_id = str(config.get("volumeId") or item.resource_id)
    return [
        Volume(
            **base(item, name=(item.tags or {}).get("Name") or volume_id, id=_arn(item, "volume", volume_id)),
            volume_id=volume_id,
            state=_state(config.get("state")),
            encrypted=bool(config.get("encrypted")),
            kms_key_id=config.get("kmsKeyId"),
            attached_instance_ids=[
                a["instanceId"] for a in config.get("attachments") or [] if a.get("instanceId")
            ],
        )
    ]


# Types read only to complete others: registered so their items are kept, they make no resource.
@mapper(FLOW_LOG, ENDPOINT, INTERFACE, SSM_INVENTORY)
def joined_only(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    return []


# ---- joins ----------------------------------------------------------------------------------


Joined = dict[tuple[str | None, str | None], list[tuple[str, Any]]]


def _joined(ctx: MapContext, config_type: str, parse: Callable[[CaseFolded, str], tuple[str, Any]]) -> Joined:
    """(account, region) -> (key, facts) of each item of a joined type. An item that cannot be read
    is reported and leaves its type unproven in its scope (see ``MapContext.item_failed``)."""
    out: Joined = defaultdict(list)
    for item in ctx.of_type(config_type):
        try:
            out[(item.account_id, item.region)].append(parse(fold(item.configuration), item.resource_id))
        except Exception as exc:
            ctx.item_failed(item, f"cannot read {config_type}: {type(exc).__name__}: {exc}")
    return out


def _flow_log(log: CaseFolded, resource_id: str) -> tuple[str, FlowLogFacts]:
    return str(log.get("resourceId") or ""), FlowLogFacts(
        flow_log_id=str(log.get("flowLogId") or resource_id),
        traffic_type=log.get("trafficType"),
        status=log.get("flowLogStatus"),
        deliver_logs_status=log.get("deliverLogsStatus"),
        destination_type=log.get("logDestinationType"),
    )


def _endpoint(endpoint: CaseFolded, resource_id: str) -> tuple[str, VpcEndpointFacts]:
    return str(endpoint.get("vpcId") or ""), VpcEndpointFacts(
        endpoint_id=str(endpoint.get("vpcEndpointId") or resource_id),
        service_name=str(endpoint.get("serviceName") or ""),
        endpoint_type=str(endpoint.get("vpcEndpointType") or ""),
        state=_state(endpoint.get("state")),
    )


def _interface(eni: CaseFolded, resource_id: str) -> tuple[str, tuple[list[str], SgAttachment]]:
    groups = [str(g["groupId"]) for g in eni.get("groups") or [] if g.get("groupId")]
    return str(eni.get("vpcId") or ""), (
        groups,
        SgAttachment(
            interface_id=str(eni.get("networkInterfaceId") or resource_id),
            interface_type=eni.get("interfaceType"),
            instance_id=(eni.get("attachment") or {}).get("instanceId"),
            description=eni.get("description") or None,
            requester=eni.get("requesterId"),
            public_ip=(eni.get("association") or {}).get("publicIp"),
        ),
    )


def _managed(inventory_item: CaseFolded, resource_id: str) -> tuple[str, None]:
    return resource_id, None


@finisher
def join_network(inventory: Inventory, ctx: MapContext) -> None:
    flow_logs = _joined(ctx, FLOW_LOG, _flow_log)
    endpoints = _joined(ctx, ENDPOINT, _endpoint)
    interfaces = _joined(ctx, INTERFACE, _interface)
    managed = _joined(ctx, SSM_INVENTORY, _managed)
    for vpc_model in inventory.of_type(Vpc):
        scope = (vpc_model.account_id, vpc_model.region)
        if ctx.coverage.knows_absence(FLOW_LOG, *scope):
            vpc_model.flow_logs = [f for key, f in flow_logs.get(scope, []) if key == vpc_model.vpc_id]
        else:
            vpc_model.mark_unknown("flow_logs", ctx.coverage.why_unknown(FLOW_LOG, *scope))
        if ctx.coverage.knows_absence(ENDPOINT, *scope):
            vpc_model.endpoints = [e for key, e in endpoints.get(scope, []) if key == vpc_model.vpc_id]
        else:
            vpc_model.mark_unknown("endpoints", ctx.coverage.why_unknown(ENDPOINT, *scope))
        if ctx.coverage.knows_absence(INTERFACE, *scope):
            in_vpc = [key for key, _ in interfaces.get(scope, []) if key == vpc_model.vpc_id]
            vpc_model.interface_count = len(in_vpc)
        else:
            vpc_model.mark_unknown("interface_count", ctx.coverage.why_unknown(INTERFACE, *scope))

    for group in inventory.of_type(SecurityGroup):
        scope = (group.account_id, group.region)
        if not ctx.coverage.knows_absence(INTERFACE, *scope):
            group.mark_unknown("attachments", ctx.coverage.why_unknown(INTERFACE, *scope))
            continue
        group.attachments = [
            attachment for _vpc, (groups, attachment) in interfaces.get(scope, []) if group.group_id in groups
        ]

    for model in inventory.of_type(Instance):
        scope = (model.account_id, model.region)
        if ctx.coverage.knows_absence(SSM_INVENTORY, *scope):
            model.ssm_managed = model.instance_id in {key for key, _ in managed.get(scope, [])}
        else:
            model.mark_unknown("ssm_managed", ctx.coverage.why_unknown(SSM_INVENTORY, *scope))


@mapper("AWS::EC2::LaunchTemplate")
def launch_template(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    """AWS Config records a launch template in the CloudFormation shape (``LaunchTemplateData``
    beside ``DefaultVersionNumber``): the data is read as the default version's, which is what
    Auto Scaling and RunInstances use when no version is named."""
    config = fold(item.configuration)
    template_id = str(config.get("Id") or item.resource_id)
    data = config.get("LaunchTemplateData") or {}
    metadata = data.get("MetadataOptions") or {}
    version = config.get("DefaultVersionNumber")
    return [
        LaunchTemplate(
            **base(
                item,
                name=config.get("LaunchTemplateName") or template_id,
                id=_arn(item, "launch-template", template_id),
            ),
            template_id=template_id,
            version=int(version) if str(version or "").isdigit() else None,
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
                if isinstance(m.get("Ebs"), dict)
            ],
        )
    ]
