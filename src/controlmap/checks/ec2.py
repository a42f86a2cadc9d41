"""EC2 and VPC checks (EC2-01 … EC2-09).

Network exposure is judged on the normalized rules: a security group rule admits "the world"
when one of its sources is 0.0.0.0/0 or ::/0, and it exposes a port when its protocol is -1
(every protocol) or TCP/UDP with a range that contains the port. Which ports matter is policy
(``ec2.restricted_ports`` in controlmap.yaml): administrative and database ports by default, so
a web tier that opens only 80/443 to the world passes unless the organisation lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    check,
    failed,
    need,
    not_applicable,
    passed,
    stop_if_unknown,
    unavailable,
    unknown,
)
from controlmap.resources.account import AwsRegion
from controlmap.resources.ec2 import (
    Image,
    Instance,
    KeyPair,
    LaunchTemplate,
    NaclEntry,
    NetworkAcl,
    SecurityGroup,
    SgAttachment,
    SgRule,
    Snapshot,
    Volume,
    Vpc,
    is_world,
)
from controlmap.settings import register_section

# Remote administration, databases, caches, search, container and file-sharing daemons.
DEFAULT_RESTRICTED_PORTS = [
    20, 21, 22, 23, 135, 137, 138, 139, 445, 1433, 1434, 1521, 2049, 2375, 2376, 2379, 3306,
    3389, 5432, 5601, 5900, 5984, 6379, 7000, 7001, 8020, 9042, 9200, 9300, 11211, 27017, 27018,
]  # fmt: skip


class Ec2Settings(BaseModel):
    """``ec2:`` section of controlmap.yaml."""

    model_config = ConfigDict(extra="forbid")

    # Ports that must never be open to 0.0.0.0/0 or ::/0 (TCP and UDP). Add 80/443 to flag web tiers.
    restricted_ports: list[int] = Field(default_factory=lambda: list(DEFAULT_RESTRICTED_PORTS))
    # Ports whose world exposure defeats Session Manager (EC2-09).
    remote_access_ports: list[int] = Field(default_factory=lambda: [22, 3389])
    # VPC endpoints every VPC in use must have (service part of com.amazonaws.<region>.<service>).
    required_gateway_endpoints: list[str] = Field(default_factory=lambda: ["s3", "dynamodb"])
    required_interface_endpoints: list[str] = Field(default_factory=list)
    # AMIs: maximum age and owners allowed ("self", "amazon", "aws-marketplace" or account IDs).
    ami_max_age_days: int = Field(default=180, ge=1)
    approved_ami_owners: list[str] = Field(default_factory=lambda: ["self", "amazon"])
    # Patch Manager: the last scan or install must be this recent.
    patch_max_age_days: int = Field(default=30, ge=1)
    # Key pairs: one key on more instances (per region) or in more regions fails.
    key_pair_max_instances: int = Field(default=5, ge=1)
    key_pair_max_regions: int = Field(default=1, ge=1)
    # Flow logs: require TrafficType ALL (a REJECT-only log misses accepted traffic).
    flow_logs_require_all_traffic: bool = False

    @field_validator("restricted_ports", "remote_access_ports")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        bad = [p for p in value if not 0 <= p <= 65535]
        if bad:
            raise ValueError(f"ports must be between 0 and 65535, not {bad}")
        return value


register_section("ec2", Ec2Settings)


def settings(ctx: CheckContext) -> Ec2Settings:
    return ctx.config(Ec2Settings, "ec2")


# ---- EC2-01 security groups ---------------------------------------------------------------


def world_exposures(rules: Iterable[SgRule], ports: Iterable[int]) -> list[dict[str, Any]]:
    """The world-open rules that reach every port or one of ``ports``, with what they open."""
    watched = sorted(set(ports))
    found = []
    for index, rule in enumerate(rules):
        if "ports" in rule.unresolved:
            continue  # what it opens is unknown: see possible_world_exposures
        sources = rule.world_sources()
        if not sources:
            continue
        if rule.all_traffic:
            found.append({"rule": index, "ports": rule.ports_text(), "sources": sources, "exposes": "all"})
            continue
        hit = [p for p in watched if rule.covers_port(p)]
        if hit:
            found.append({"rule": index, "ports": rule.ports_text(), "sources": sources, "exposes": hit})
    return found


def possible_world_exposures(rules: Iterable[SgRule], ports: Iterable[int]) -> list[str]:
    """Rules with unknown parts that could admit the world to every port or one of ``ports``.

    A rule whose sources are known and not world-wide cannot, whatever its ports; a rule whose
    ports are known and miss every watched port cannot, whatever its sources. The texts say what
    each rule depends on.
    """
    watched = sorted(set(ports))
    out = []
    for rule in rules:
        if not rule.unresolved:
            continue
        sources_open = "sources" in rule.unresolved or bool(rule.world_sources())
        ports_open = (
            "ports" in rule.unresolved or rule.all_traffic or any(rule.covers_port(p) for p in watched)
        )
        if sources_open and ports_open:
            out.append(rule.unresolved_text())
    return out


def describe_exposures(found: list[dict[str, Any]]) -> str:
    parts = []
    for item in found:
        what = "every port" if item["exposes"] == "all" else "port(s) " + ", ".join(map(str, item["exposes"]))
        parts.append(f"{item['ports']} from {' and '.join(item['sources'])} ({what})")
    return "; ".join(parts)


def _some(items: list[str], limit: int = 5) -> str:
    """A short list for a reason; the evidence keeps the full one."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def exposed_targets(group: SecurityGroup) -> dict[str, Any]:
    if group.attachments is None:
        return {}
    return {
        "instances": sorted({a.instance_id for a in group.attachments if a.instance_id}),
        "interfaces": [
            {
                "id": a.interface_id,
                "type": a.interface_type,
                "instance": a.instance_id,
                "requester": a.requester,
                "public_ip": a.public_ip,
                "description": a.description,
            }
            for a in group.attachments
        ],
    }


def _service_interfaces(attachments: list[SgAttachment]) -> str:
    """What the interfaces without an instance belong to (an RDS database, a load balancer…).

    AWS-managed interfaces name their owner in the description ("RDSNetworkInterface", "ELB
    app/web/…", "AWS Lambda VPC ENI-…") or the requester ("amazon-rds"); an auditor needs that
    to see that an open database group really exposes a database.
    """
    counts: dict[str, int] = {}
    for attachment in attachments:
        if attachment.instance_id:
            continue
        owner = attachment.description or attachment.requester or attachment.interface_type or "unknown owner"
        counts[owner] = counts.get(owner, 0) + 1
    labels = [f"{owner} (x{n})" if n > 1 else owner for owner, n in sorted(counts.items())]
    return _some(labels, 3) if labels else ""


@check(
    "ec2_security_group_no_world_admin_ingress",
    SecurityGroup,
    title="Security group admits no traffic from 0.0.0.0/0 or ::/0 to all ports or to restricted ports",
    facts=("ingress", "attachments"),
)
def sg_world_ingress(group: SecurityGroup, ctx: CheckContext) -> Outcome:
    rules = need(group, "ingress")
    found = world_exposures(rules, settings(ctx).restricted_ports)
    targets = exposed_targets(group)
    maybe = possible_world_exposures(rules, settings(ctx).restricted_ports)
    if not found and maybe:
        return unknown(
            "no known inbound rule admits the internet to a restricted port, but rule(s) with unknown "
            f"parts could: {'; '.join(maybe)}",
            unresolved_rules=maybe,
        )
    if not found:
        return passed("no inbound rule admits 0.0.0.0/0 or ::/0 to all ports or to a restricted port")
    if group.attachments is None:
        where = ""
    elif not group.attachments:
        where = (
            " The group is attached to no network interface now, but any instance that gets it is exposed."
        )
    else:
        owners = [f"instance(s) {_some(targets['instances'])}"] if targets["instances"] else []
        others = _service_interfaces(group.attachments)
        owners += [others] if others else []
        where = f" It exposes {len(targets['interfaces'])} network interface(s)" + (
            f": {'; '.join(owners)}." if owners else "."
        )
    return failed(
        f"inbound rule(s) admit the internet: {describe_exposures(found)}.{where} Replace 0.0.0.0/0 and ::/0 "
        "with the source security groups or CIDR ranges that need access (use Session Manager for "
        "administration)",
        exposures=found,
        **targets,
    )


@check(
    "ec2_security_group_default_restricts_all",
    SecurityGroup,
    title="The default security group of every VPC has no inbound or outbound rules",
    facts=("ingress", "egress", "attachments"),
)
def default_sg_closed(group: SecurityGroup, ctx: CheckContext) -> Outcome:
    if not group.is_default:
        return not_applicable("not a VPC's default security group")
    ingress = need(group, "ingress")
    egress = need(group, "egress")
    maybe = [r for r in [*ingress, *egress] if "group" in r.unresolved]
    ingress = [r for r in ingress if "group" not in r.unresolved]
    egress = [r for r in egress if "group" not in r.unresolved]
    if not ingress and not egress and maybe:
        return unknown(
            "the default security group has no rule of its own, but "
            + "; ".join(dict.fromkeys(r.unresolved["group"] for r in maybe))
        )
    if not ingress and not egress:
        return passed("the default security group has no inbound and no outbound rules")
    return failed(
        f"the default security group has {len(ingress)} inbound and {len(egress)} outbound rule(s); remove "
        "them all and give resources purpose-made security groups (the default group is attached to "
        "anything launched without one)",
        ingress=[r.ports_text() for r in ingress],
        egress=[r.ports_text() for r in egress],
        **exposed_targets(group),
    )


# ---- EC2-02 network ACLs ------------------------------------------------------------------


def nacl_world_decisions(entries: Iterable[NaclEntry], ports: Iterable[int]) -> list[dict[str, Any]]:
    """For each address family, protocol (TCP, UDP) and port: does the first world-wide match allow it?

    NACL entries are evaluated in rule-number order and the first match wins, so a deny for
    0.0.0.0/0 at rule 90 protects the port even if rule 100 allows it; a TCP deny does not
    protect UDP. Entries for narrower ranges do not decide what the whole internet gets and are
    skipped.
    """
    inbound = sorted((e for e in entries if not e.egress), key=lambda e: e.rule_number)
    admitted = []
    for family, world in (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0")):
        world_entries = [
            e for e in inbound if e.cidr and is_world(e.cidr) and (":" in e.cidr) == (family == "IPv6")
        ]
        for protocol in ("tcp", "udp"):
            for port in ports:
                for entry in world_entries:
                    if entry.protocol in ("-1", protocol) and entry.covers_port(port):
                        if entry.allow:
                            admitted.append(
                                {
                                    "family": family,
                                    "source": world,
                                    "protocol": protocol,
                                    "port": port,
                                    "rule_number": entry.rule_number,
                                }
                            )
                        break
    return admitted


@check(
    "ec2_network_acl_no_world_admin_ingress",
    NetworkAcl,
    title="Network ACL denies inbound traffic from the internet to restricted ports",
    facts=("entries", "subnet_ids"),
)
def nacl_world_ingress(acl: NetworkAcl, ctx: CheckContext) -> Outcome:
    entries = need(acl, "entries")
    if acl.subnet_ids is not None and not acl.subnet_ids:
        return not_applicable("the network ACL is associated with no subnet")
    admitted = nacl_world_decisions(entries, settings(ctx).restricted_ports)
    if not admitted:
        return passed(
            "the first matching inbound entry for 0.0.0.0/0 and ::/0 denies every restricted TCP and UDP port"
        )
    by_rule: dict[tuple[int, str, str], list[int]] = {}
    for item in admitted:
        by_rule.setdefault((item["rule_number"], item["source"], item["protocol"]), []).append(item["port"])
    restricted = set(settings(ctx).restricted_ports)

    def ports_text(ports: list[int]) -> str:
        if set(ports) == restricted and len(ports) > 3:
            return f"every restricted port ({len(ports)})"
        return "port(s) " + ", ".join(map(str, ports))

    text = "; ".join(
        f"rule {rule} allows {source} to {protocol} {ports_text(ports)}"
        for (rule, source, protocol), ports in sorted(by_rule.items())
    )
    return failed(
        f"inbound entries admit the internet to restricted ports: {text}. Add lower-numbered DENY entries "
        "for these ports from 0.0.0.0/0 and ::/0 (or narrow the ALLOW entries)",
        admitted=admitted,
        subnets=acl.subnet_ids,
    )


# ---- EC2-03 VPC endpoints -----------------------------------------------------------------

_DEAD_ENDPOINT_STATES = {"deleted", "deleting", "failed", "rejected", "expired"}


@check(
    "ec2_vpc_endpoints_configured",
    Vpc,
    title="Every VPC in use has the required gateway and interface endpoints",
    facts=("endpoints", "interface_count"),
)
def vpc_endpoints(vpc: Vpc, ctx: CheckContext) -> Outcome:
    count = need(vpc, "interface_count")
    if count == 0:
        return not_applicable("the VPC has no network interfaces (not in use)")
    endpoints = [e for e in need(vpc, "endpoints") if (e.state or "").lower() not in _DEAD_ENDPOINT_STATES]
    config = settings(ctx)
    have = {(e.endpoint_type.lower(), e.short_service) for e in endpoints}
    missing = [f"{s} (Gateway)" for s in config.required_gateway_endpoints if ("gateway", s) not in have]
    missing += [
        f"{s} (Interface)" for s in config.required_interface_endpoints if ("interface", s) not in have
    ]
    present = sorted(f"{s} ({t.capitalize()})" for t, s in have)
    if missing:
        return failed(
            f"the VPC ({count} network interfaces) has no endpoint for {', '.join(missing)}; "
            "create them so that traffic to these services stays on the AWS network",
            missing=missing,
            present=present,
        )
    return passed(
        "the VPC has every required endpoint" + (f": {', '.join(present)}" if present else ""),
        present=present,
    )


# ---- EC2-04 EBS encryption ----------------------------------------------------------------


@check(
    "ec2_region_ebs_encryption_by_default",
    AwsRegion,
    title="EBS encryption by default is enabled in every region",
    facts=("ebs_encryption_by_default",),
)
def ebs_default(region: AwsRegion, ctx: CheckContext) -> Outcome:
    if need(region, "ebs_encryption_by_default"):
        return passed(f"EBS encryption by default is enabled in {region.name}")
    return failed(
        f"EBS encryption by default is disabled in {region.name}; enable it (EC2 console > Settings > "
        "EBS encryption, or ec2:EnableEbsEncryptionByDefault) so every new volume is encrypted"
    )


@check("ec2_volume_encrypted", Volume, title="EBS volume is encrypted", facts=("encrypted", "kms_key_id"))
def volume_encrypted(volume: Volume, ctx: CheckContext) -> Outcome:
    if need(volume, "encrypted"):
        return passed("the volume is encrypted", kms_key_id=volume.kms_key_id)
    attached = (
        f" (attached to {', '.join(volume.attached_instance_ids)})" if volume.attached_instance_ids else ""
    )
    return failed(
        f"the volume{attached} is not encrypted; snapshot it, copy the snapshot with encryption and "
        "replace the volume",
        attached_instances=volume.attached_instance_ids,
    )


@check("ec2_snapshot_encrypted", Snapshot, title="EBS snapshot is encrypted", facts=("encrypted",))
def snapshot_encrypted(snapshot: Snapshot, ctx: CheckContext) -> Outcome:
    if need(snapshot, "encrypted"):
        return passed("the snapshot is encrypted", kms_key_id=snapshot.kms_key_id)
    return failed(
        "the snapshot is not encrypted; copy it with Encrypted=true and delete the unencrypted copy",
        volume_id=snapshot.volume_id,
    )


@check(
    "ec2_snapshot_not_public",
    Snapshot,
    title="EBS snapshot is not public",
    facts=("public", "shared_with"),
)
def snapshot_not_public(snapshot: Snapshot, ctx: CheckContext) -> Outcome:
    if need(snapshot, "public"):
        return failed(
            "anyone can create a volume from this snapshot (createVolumePermission includes group 'all'); "
            "remove the 'all' permission "
            "(ModifySnapshotAttribute ... --group-names all --operation-type remove)"
        )
    shared = snapshot.shared_with or []
    return passed(
        "the snapshot is not public" + (f"; shared with account(s) {', '.join(shared)}" if shared else ""),
        shared_with=shared,
    )


def _template_region(template: LaunchTemplate, ctx: CheckContext) -> AwsRegion | None:
    if template.region is None or template.account_id is None:
        return None  # a template file: the target region's settings are not known
    found = ctx.inventory.of_type(AwsRegion, account_id=template.account_id, region=template.region)
    return found[0] if found else None


def _region_default(resource: LaunchTemplate, ctx: CheckContext) -> bool | None:
    region = _template_region(resource, ctx)
    return region.ebs_encryption_by_default if region is not None else None


@check(
    "ec2_launch_template_ebs_encrypted",
    LaunchTemplate,
    title="Launch template creates encrypted EBS volumes",
    uses=(AwsRegion,),
    facts=("ebs_volumes", "ebs_encryption_by_default"),
)
def template_ebs(template: LaunchTemplate, ctx: CheckContext) -> Outcome:
    volumes = need(template, "ebs_volumes")
    default_on = _region_default(template, ctx)
    evidence = {"version": template.version, "ebs_encryption_by_default": default_on}
    if default_on:
        return passed(
            "EBS encryption by default is enabled in the region, so every volume the template creates "
            "is encrypted",
            **evidence,
        )
    if not volumes:
        return not_applicable(
            "the template maps no EBS volume: volumes come from the AMI (judged by ec2_volume_encrypted)",
            **evidence,
        )
    plain = [v.device_name or "?" for v in volumes if v.encrypted is not True]
    if not plain:
        return passed("every EBS volume of the template's default version sets Encrypted=true", **evidence)
    if default_on is None:
        return unknown(
            f"volume(s) {', '.join(plain)} do not set Encrypted=true and the region's EBS encryption by "
            "default is not known",
            **evidence,
        )
    return failed(
        f"volume(s) {', '.join(plain)} of default version {template.version} do not set Encrypted=true and "
        "EBS encryption by default is off in the region; set Encrypted (and a KMS key) in the block device "
        "mappings, or enable encryption by default",
        unencrypted_devices=plain,
        **evidence,
    )


# ---- EC2-05 AMIs and instance metadata ----------------------------------------------------


def _judged(instance: Instance) -> Outcome | None:
    if instance.state in ("terminated", "shutting-down"):
        return not_applicable(f"the instance is {instance.state}")
    return None


def _running(instance: Instance) -> Outcome | None:
    if not instance.active:
        return not_applicable(f"the instance is {instance.state}; it is judged when it runs")
    return None


def _age_days(then: datetime, now: datetime) -> int:
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return (now - then).days


@check(
    "ec2_instance_ami_approved",
    Instance,
    title="Instance runs on a recent AMI from an approved owner",
    facts=("image", "state"),
)
def instance_ami(instance: Instance, ctx: CheckContext) -> Outcome:
    skip = _judged(instance)
    if skip is not None:
        return skip
    image = need(instance, "image")
    config = settings(ctx)
    approved = {o.lower() for o in config.approved_ami_owners}
    owner_ok = bool(
        (image.owner_alias and image.owner_alias.lower() in approved)
        or (image.owner_id and image.owner_id in approved)
        or ("self" in approved and image.owner_id and image.owner_id == instance.account_id)
    )
    problems = []
    if not owner_ok:
        owner = image.owner_alias or image.owner_id or "an unknown owner"
        problems.append(
            f"AMI {image.image_id} is owned by {owner}, which is not in ec2.approved_ami_owners "
            f"({', '.join(config.approved_ami_owners) or 'empty'})"
        )
    age = _age_days(image.creation_date, ctx.now) if image.creation_date else None
    if age is None:
        problems.append(f"AMI {image.image_id} has no creation date, so its age cannot be shown")
    elif age > config.ami_max_age_days:
        problems.append(
            f"AMI {image.image_id} is {age} days old (ec2.ami_max_age_days: {config.ami_max_age_days})"
        )
    if image.deprecation_time and image.deprecation_time <= ctx.now:
        problems.append(
            f"AMI {image.image_id} is deprecated since {image.deprecation_time.date().isoformat()}"
        )
    evidence = {
        "image_id": image.image_id,
        "owner_id": image.owner_id,
        "owner_alias": image.owner_alias,
        "image_name": image.name,
        "age_days": age,
    }
    if problems:
        return failed("; ".join(problems) + "; rebuild the instance from a current, approved AMI", **evidence)
    return passed(f"AMI {image.image_id} is {age} days old and owned by an approved owner", **evidence)


@check("ec2_image_not_public", Image, title="The account's AMIs are not public", facts=("public",))
def image_not_public(image: Image, ctx: CheckContext) -> Outcome:
    if need(image, "public"):
        return failed(
            "the AMI is public: any AWS account can launch it and read its disks; remove the 'all' "
            "launch permission (ModifyImageAttribute) or block public AMI sharing for the region"
        )
    return passed("the AMI is private")


@check(
    "ec2_instance_imdsv2_required",
    Instance,
    title="Instance metadata service requires IMDSv2 session tokens",
    facts=("metadata_http_tokens", "metadata_http_endpoint", "state"),
)
def imdsv2(instance: Instance, ctx: CheckContext) -> Outcome:
    skip = _judged(instance)
    if skip is not None:
        return skip
    if instance.metadata_http_endpoint == "disabled":
        return passed("the instance metadata endpoint is disabled")
    tokens = need(instance, "metadata_http_tokens")
    if tokens == "required":
        return passed("IMDSv2 is required (HttpTokens=required)")
    return failed(
        f"HttpTokens is {tokens}: IMDSv1 requests without a session token are answered; set "
        "HttpTokens=required (ModifyInstanceMetadataOptions)",
        http_tokens=tokens,
    )


@check(
    "ec2_launch_template_imdsv2_required",
    LaunchTemplate,
    title="Launch template requires IMDSv2 session tokens",
    uses=(AwsRegion,),
    facts=("template_metadata_http_tokens", "imds_http_tokens_default"),
)
def template_imdsv2(template: LaunchTemplate, ctx: CheckContext) -> Outcome:
    evidence = {"version": template.version, "http_tokens": template.metadata_http_tokens}
    if template.metadata_http_endpoint == "disabled":
        return passed("the template disables the instance metadata endpoint", **evidence)
    if template.metadata_http_tokens == "required":
        return passed(f"default version {template.version} sets HttpTokens=required", **evidence)
    stop_if_unknown(template, "metadata_http_tokens")
    region = _template_region(template, ctx)
    if template.metadata_http_tokens is None and region is not None:
        # Launch parameters win, then the region's account-level default (which also wins
        # over the AMI's ImdsSupport); a declarative policy can enforce IMDSv2 outright.
        default = need(region, "imds_http_tokens_default")
        evidence["account_default_http_tokens"] = default
        evidence["account_http_tokens_enforced"] = region.imds_http_tokens_enforced
        if region.imds_http_tokens_enforced == "enabled":
            return passed(
                f"default version {template.version} does not set HttpTokens, and IMDSv2 is enforced in "
                f"{region.name} (declarative policy): instances cannot launch with IMDSv1",
                **evidence,
            )
        if default == "required":
            return passed(
                f"default version {template.version} does not set HttpTokens, so instances get the "
                f"account-level default for {region.name}: HttpTokens=required",
                **evidence,
            )
    if template.metadata_http_tokens is None:
        default = (
            f"the account-level default for {region.name} is {region.imds_http_tokens_default}"
            if region is not None
            else "the AMI's or the account's default applies"
        )
        return failed(
            f"default version {template.version} does not set MetadataOptions.HttpTokens and {default}, "
            "so instances may answer IMDSv1; set HttpTokens=required in a new default version (or make "
            "IMDSv2 the account default: ec2:ModifyInstanceMetadataDefaults --http-tokens required)",
            **evidence,
        )
    return failed(
        f"default version {template.version} sets HttpTokens={template.metadata_http_tokens}; set "
        "HttpTokens=required in a new default version",
        **evidence,
    )


# ---- EC2-06 patch management --------------------------------------------------------------


@check(
    "ec2_instance_ssm_managed",
    Instance,
    title="Running instance is managed by Systems Manager and online",
    facts=("ssm_managed", "state"),
)
def ssm_managed(instance: Instance, ctx: CheckContext) -> Outcome:
    skip = _running(instance)
    if skip is not None:
        return skip
    if not need(instance, "ssm_managed"):
        return failed(
            "the instance is not managed by Systems Manager, so Patch Manager cannot scan or patch it; "
            "install the SSM Agent and attach an instance profile with AmazonSSMManagedInstanceCore "
            "(or enable Default Host Management Configuration)"
        )
    ping = instance.ssm_ping_status
    if ping and ping != "Online":
        return failed(
            f"the SSM Agent reports {ping}: Systems Manager cannot reach the instance; check the agent, "
            "its instance profile and its route to the ssm/ssmmessages/ec2messages endpoints",
            ping_status=ping,
        )
    return passed("the instance is managed by Systems Manager", ping_status=ping)


@check(
    "ec2_instance_patch_compliant",
    Instance,
    title="Managed instance is compliant with its patch baseline and was scanned recently",
    facts=("ssm_managed", "patch_state", "state"),
)
def patch_compliant(instance: Instance, ctx: CheckContext) -> Outcome:
    skip = _running(instance)
    if skip is not None:
        return skip
    if not need(instance, "ssm_managed"):
        return not_applicable("not managed by Systems Manager (reported by ec2_instance_ssm_managed)")
    if not need(instance, "patch_state_present"):
        return failed(
            "Patch Manager has never scanned the instance; associate AWS-RunPatchBaseline (Scan) with it, "
            "e.g. through a Quick Setup patch policy"
        )
    state = need(instance, "patch_state")
    evidence = state.model_dump(mode="json")
    problems = []
    counts = (
        ("missing", state.missing_count),
        ("failed", state.failed_count),
        ("installed but pending reboot", state.installed_pending_reboot_count),
        ("critical non-compliant", state.critical_non_compliant_count),
        ("security non-compliant", state.security_non_compliant_count),
    )
    problems += [f"{n} {label}" for label, n in counts if n]
    max_age = settings(ctx).patch_max_age_days
    if state.operation_end_time is None:
        problems.append("no patch operation time is recorded")
    elif (age := _age_days(state.operation_end_time, ctx.now)) > max_age:
        problems.append(f"the last patch {state.operation or 'operation'} was {age} days ago (max {max_age})")
    if problems:
        return failed(
            "patch baseline not met: " + ", ".join(problems) + "; run AWS-RunPatchBaseline with Install "
            "(and reboot) on a maintenance window",
            **evidence,
        )
    return passed("the instance meets its patch baseline and was scanned recently", **evidence)


# ---- EC2-07 key pairs ---------------------------------------------------------------------


@check(
    "ec2_key_pair_not_shared",
    KeyPair,
    title="A key pair is not reused across many instances or regions",
    uses=(Instance, KeyPair),
    facts=("fingerprint", "key_name", "state"),
)
def key_pair_reuse(key: KeyPair, ctx: CheckContext) -> Outcome:
    config = settings(ctx)
    users = sorted(
        i.instance_id
        for i in ctx.inventory.of_type(Instance, account_id=key.account_id, region=key.region)
        if i.key_name == key.key_name and i.state != "terminated"
    )
    regions = {key.region}
    if key.fingerprint:
        regions |= {
            k.region
            for k in ctx.inventory.of_type(KeyPair, account_id=key.account_id)
            if k.fingerprint == key.fingerprint
        }
    region_list = sorted(r for r in regions if r)
    problems = []
    if len(users) > config.key_pair_max_instances:
        problems.append(
            f"{len(users)} instances use it (ec2.key_pair_max_instances: {config.key_pair_max_instances})"
        )
    if len(region_list) > config.key_pair_max_regions:
        problems.append(
            f"the same key material is imported in {len(region_list)} regions ({', '.join(region_list)}; "
            f"ec2.key_pair_max_regions: {config.key_pair_max_regions})"
        )
    evidence = {"instances": users, "regions": region_list, "fingerprint": key.fingerprint}
    if problems:
        return failed(
            "the key pair is shared: " + "; ".join(problems) + ". Give each workload and region its own key "
            "pair (or use Session Manager / EC2 Instance Connect and no key pair at all)",
            **evidence,
        )
    return passed(
        f"the key pair is used by {len(users)} instance(s) in {len(region_list)} region(s)", **evidence
    )


# ---- EC2-08 flow logs ---------------------------------------------------------------------


@check(
    "ec2_vpc_flow_logs_enabled", Vpc, title="VPC flow logs are enabled and delivering", facts=("flow_logs",)
)
def flow_logs(vpc: Vpc, ctx: CheckContext) -> Outcome:
    logs = need(vpc, "flow_logs")
    if not logs:
        return failed(
            "the VPC has no flow log; create one (TrafficType ALL) to CloudWatch Logs or S3",
        )
    active = [
        f
        for f in logs
        if (f.status or "ACTIVE") == "ACTIVE" and (f.deliver_logs_status or "SUCCESS") != "FAILED"
    ]
    evidence = {"flow_logs": [f.model_dump(mode="json") for f in logs]}
    if not active:
        return failed(
            "the VPC's flow logs are not delivering (status or DeliverLogsStatus failed); "
            "fix the destination permissions or recreate the flow log",
            **evidence,
        )
    if settings(ctx).flow_logs_require_all_traffic and not any(f.traffic_type == "ALL" for f in active):
        if any(f.traffic_type is None for f in active):  # a template's TrafficType given at deploy time
            return unknown(
                "the traffic type of flow log(s) "
                + ", ".join(f.flow_log_id for f in active if f.traffic_type is None)
                + " is not known, and ec2.flow_logs_require_all_traffic is set",
                **evidence,
            )
        kinds = ", ".join(sorted({f.traffic_type or "?" for f in active}))
        return failed(
            f"the VPC's flow logs capture only {kinds} traffic and ec2.flow_logs_require_all_traffic is set; "
            "create a flow log with TrafficType ALL",
            **evidence,
        )
    return passed(
        f"flow log(s) {', '.join(f.flow_log_id for f in active)} capture "
        f"{', '.join(sorted({f.traffic_type or '?' for f in active}))} traffic",
        **evidence,
    )


# ---- EC2-09 Session Manager instead of SSH/RDP ---------------------------------------------


def instance_groups(instance: Instance, ctx: CheckContext) -> tuple[list[SecurityGroup], list[str]]:
    by_id = ctx.inventory.index(
        SecurityGroup, "group_id", account_id=instance.account_id, region=instance.region
    )
    found = [by_id[g] for g in instance.security_group_ids if g in by_id]
    missing = [g for g in instance.security_group_ids if g not in by_id]
    return found, missing


@check(
    "ec2_instance_no_world_remote_access",
    Instance,
    title="Instance is reached through Session Manager, with no SSH/RDP open to the internet",
    uses=(SecurityGroup,),
    facts=("ssm_managed", "state", "security_group_ids", "ingress"),
)
def session_manager(instance: Instance, ctx: CheckContext) -> Outcome:
    skip = _running(instance)
    if skip is not None:
        return skip
    groups, missing = instance_groups(instance, ctx)
    ports = settings(ctx).remote_access_ports
    open_by: dict[str, list[dict[str, Any]]] = {}
    maybe: list[str] = []
    for group in groups:
        if group.ingress is None:
            return unavailable(group, "ingress")
        found = world_exposures(group.ingress, ports)
        if found:
            open_by[group.group_id] = found
        maybe += [f"{group.group_id}: {text}" for text in possible_world_exposures(group.ingress, ports)]
    if open_by:
        text = "; ".join(f"{gid}: {describe_exposures(found)}" for gid, found in open_by.items())
        return failed(
            f"remote administration is open to the internet through {text}. Remove these rules and connect "
            "with Session Manager (aws ssm start-session), which needs no inbound port",
            open_rules=open_by,
            public_ip=instance.public_ip,
            ssm_managed=instance.ssm_managed,
        )
    if missing:
        return unknown(f"security group(s) {', '.join(missing)} of the instance were not collected")
    if maybe:
        return unknown(
            "no known rule opens SSH/RDP to the internet, but rule(s) with unknown parts could: "
            + "; ".join(maybe),
            unresolved_rules=maybe,
        )
    if not need(instance, "ssm_managed"):
        return failed(
            "no SSH/RDP port is open to the internet, but the instance is not managed by Systems Manager, "
            "so Session Manager cannot reach it; install the SSM Agent and attach "
            "AmazonSSMManagedInstanceCore",
            ssm_managed=False,
        )
    if instance.ssm_ping_status and instance.ssm_ping_status != "Online":
        return failed(
            "no SSH/RDP port is open to the internet, but the SSM Agent reports "
            f"{instance.ssm_ping_status}, so Session Manager cannot open a session; restore the agent's "
            "connection (agent running, instance profile, route to the ssmmessages endpoint)",
            ping_status=instance.ssm_ping_status,
        )
    return passed(
        "no SSH/RDP port is open to the internet and the instance is reachable through Session Manager",
        security_groups=instance.security_group_ids,
    )
