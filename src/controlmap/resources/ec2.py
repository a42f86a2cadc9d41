"""EC2 and VPC resources: security groups, network ACLs, VPCs, instances, EBS, AMIs and key pairs.

The models keep what the API (or a template) says, normalized so that checks never parse AWS
shapes: a security group rule is a protocol, a port range and its sources; a network ACL entry
is a numbered allow or deny. Facts a source cannot see stay ``None`` (an IaC template does not
know which interfaces a group is attached to, nor the Systems Manager state of an instance).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import Resource

WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"

# Protocol names and numbers as the EC2 API and templates spell them; "-1" means every protocol.
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
PORT_PROTOCOLS = frozenset({"tcp", "udp"})


def normalize_protocol(protocol: str | int | None) -> str:
    text = str(protocol if protocol is not None else "-1").strip().lower()
    return _PROTOCOL_NAMES.get(text, text)


def is_world(cidr: str) -> bool:
    """Whether a CIDR admits every address of its family (0.0.0.0/0, ::/0)."""
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def covers_all_addresses(cidrs: list[str]) -> bool:
    """Whether these CIDRs together admit every address of a family: 0.0.0.0/0, or a split such
    as 0.0.0.0/1 + 128.0.0.0/1 that is the same thing written to slip past a /0 check."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(v4)) or any(
        n.prefixlen == 0 for n in ipaddress.collapse_addresses(v6)
    )


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PortRule(_Facts):
    """What a security group rule or a network ACL entry matches: protocol and port range."""

    protocol: str = "-1"  # normalized: "-1" (all), "tcp", "udp", "icmp", "icmpv6" or a number
    from_port: int | None = None  # None with protocol tcp/udp/-1: every port
    to_port: int | None = None

    @property
    def all_traffic(self) -> bool:
        return self.protocol == "-1" or (self.protocol in PORT_PROTOCOLS and self.covers_all_ports)

    @property
    def covers_all_ports(self) -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol not in PORT_PROTOCOLS:
            return False
        low = 0 if self.from_port is None or self.from_port < 0 else self.from_port
        high = 65535 if self.to_port is None or self.to_port < 0 else self.to_port
        return low <= 1 and high >= 65535  # 0-65535 and 1-65535 both mean "every port"

    def covers_port(self, port: int) -> bool:
        """Whether TCP or UDP traffic to ``port`` matches (protocol -1 matches every port)."""
        if self.protocol == "-1":
            return True
        if self.protocol not in PORT_PROTOCOLS:
            return False
        low = 0 if self.from_port is None or self.from_port < 0 else self.from_port
        high = 65535 if self.to_port is None or self.to_port < 0 else self.to_port
        return low <= port <= high

    def ports_text(self) -> str:
        if self.protocol == "-1":
            return "all traffic"
        if self.protocol not in PORT_PROTOCOLS:
            return f"protocol {self.protocol}"
        if self.covers_all_ports:
            return f"{self.protocol} all ports"
        if self.from_port == self.to_port:
            return f"{self.protocol}/{self.from_port}"
        return f"{self.protocol}/{self.from_port}-{self.to_port}"


class SgRule(PortRule):
    """One security group permission (ingress or egress) with all its sources."""

    ipv4_ranges: list[str] = []
    ipv6_ranges: list[str] = []
    source_groups: list[str] = []  # group ids ("sg-…" or "account/sg-…")
    prefix_lists: list[str] = []
    # Parts of the rule a source could not know (an IaC value with no default), keyed "ports" or
    # "sources" ("group" too for a rule that may not be this group's at all: a separate rule
    # naming its group through a variable), each with what it depends on. The known parts stay
    # filled, so a sibling rule that is known to be open still fails; a rule with unknown parts
    # can only make a verdict UNKNOWN.
    unresolved: dict[str, str] = {}

    def world_sources(self) -> list[str]:
        """The sources admitting everyone: 0.0.0.0/0 and ::/0, or ranges that add up to them."""
        world = [c for c in [*self.ipv4_ranges, *self.ipv6_ranges] if is_world(c)]
        for family in (self.ipv4_ranges, self.ipv6_ranges):
            if not any(is_world(c) for c in family) and covers_all_addresses(family):
                world += family
        return world

    def unresolved_text(self) -> str:
        return "; ".join(dict.fromkeys(self.unresolved.values()))


class SgAttachment(_Facts):
    """A network interface a security group is attached to, and what it belongs to."""

    interface_id: str
    interface_type: str | None = None  # "interface", "lambda", "nat_gateway"…
    instance_id: str | None = None
    description: str | None = None
    requester: str | None = None  # "amazon-rds", "amazon-elb"… for AWS-managed interfaces
    public_ip: str | None = None


class SecurityGroup(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::SecurityGroup"

    group_id: str
    vpc_id: str | None = None
    is_default: bool = False  # the VPC's "default" group (cannot be deleted)
    ingress: list[SgRule] | None = None
    egress: list[SgRule] | None = None
    # The interfaces the group is attached to; None when the source cannot see them (IaC).
    attachments: list[SgAttachment] | None = None


class NaclEntry(PortRule):
    rule_number: int
    egress: bool = False
    allow: bool = True
    cidr: str | None = None  # IPv4 or IPv6 block


class NetworkAcl(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::NetworkAcl"

    acl_id: str
    vpc_id: str | None = None
    is_default: bool = False
    entries: list[NaclEntry] | None = None
    subnet_ids: list[str] | None = None


class FlowLogFacts(_Facts):
    flow_log_id: str
    traffic_type: str | None = None  # ACCEPT, REJECT, ALL
    status: str | None = None  # ACTIVE…
    deliver_logs_status: str | None = None  # SUCCESS, FAILED
    destination_type: str | None = None  # cloud-watch-logs, s3, kinesis-data-firehose


class VpcEndpointFacts(_Facts):
    endpoint_id: str
    service_name: str  # com.amazonaws.<region>.s3
    endpoint_type: str  # Gateway, Interface, GatewayLoadBalancer
    state: str | None = None

    @property
    def short_service(self) -> str:
        """The service part of the name ("s3", "ssmmessages", "ecr.api")."""
        parts = self.service_name.split(".")
        return ".".join(parts[3:]) if len(parts) > 3 and parts[0] == "com" else self.service_name


class Vpc(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::VPC"

    vpc_id: str
    is_default: bool = False
    cidr_blocks: list[str] = []
    # Network interfaces in the VPC: a VPC with none is not "in use" (endpoint checks skip it).
    interface_count: int | None = None
    flow_logs: list[FlowLogFacts] | None = None
    endpoints: list[VpcEndpointFacts] | None = None


class ImageFacts(_Facts):
    """What an instance's AMI is, as far as DescribeImages still shows it."""

    image_id: str
    owner_id: str | None = None
    owner_alias: str | None = None  # "amazon", "aws-marketplace", "self"
    creation_date: datetime | None = None
    name: str | None = None
    deprecation_time: datetime | None = None


class PatchState(_Facts):
    """DescribeInstancePatchStates for one managed instance."""

    baseline_id: str | None = None
    operation: str | None = None  # Scan or Install
    operation_end_time: datetime | None = None
    missing_count: int = 0
    failed_count: int = 0
    installed_pending_reboot_count: int = 0
    critical_non_compliant_count: int = 0
    security_non_compliant_count: int = 0
    other_non_compliant_count: int = 0


class Instance(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::Instance"

    instance_id: str
    state: str | None = None  # pending, running, stopping, stopped, shutting-down, terminated
    vpc_id: str | None = None
    subnet_id: str | None = None
    image_id: str | None = None
    image: ImageFacts | None = None  # None: the image is no longer visible (deregistered, shared away)
    key_name: str | None = None  # None: launched without a key pair (IaC: not declared)
    platform: str | None = None  # "windows" or None (Linux/UNIX)
    public_ip: str | None = None
    security_group_ids: list[str] = []
    interface_ids: list[str] = []
    launch_time: datetime | None = None
    metadata_http_tokens: str | None = None  # "required" (IMDSv2 only) or "optional"
    metadata_http_endpoint: str | None = None  # "enabled" or "disabled"
    iam_instance_profile: str | None = None
    ssm_managed: bool | None = None  # registered with Systems Manager (DescribeInstanceInformation)
    ssm_ping_status: str | None = None  # Online, ConnectionLost, Inactive
    patch_state: PatchState | None = None
    patch_state_present: bool | None = None  # False: managed but never scanned by Patch Manager

    @property
    def active(self) -> bool:
        """Running or about to run; stopped and terminated instances are not judged."""
        return self.state in (None, "pending", "running")


class TemplateVolume(_Facts):
    """An EBS block device mapping of a launch template."""

    device_name: str | None = None
    encrypted: bool | None = None  # None: not set (the region's encryption by default decides)
    snapshot_id: str | None = None
    kms_key_id: str | None = None


class LaunchTemplate(Resource):
    """A launch template, judged on its default version (what Auto Scaling and RunInstances use)."""

    resource_type: ClassVar[str] = "AWS::EC2::LaunchTemplate"

    template_id: str
    version: int | None = None
    image_id: str | None = None
    # None: the template does not set it (the AMI's or the account's IMDS default applies).
    metadata_http_tokens: str | None = None
    metadata_http_endpoint: str | None = None
    ebs_volumes: list[TemplateVolume] | None = None


class Volume(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::Volume"

    volume_id: str
    state: str | None = None
    encrypted: bool | None = None
    kms_key_id: str | None = None
    attached_instance_ids: list[str] = []


class Snapshot(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::Snapshot"

    snapshot_id: str
    volume_id: str | None = None
    encrypted: bool | None = None
    kms_key_id: str | None = None
    public: bool | None = None  # CreateVolumePermission includes Group "all"
    shared_with: list[str] | None = None  # account ids with CreateVolumePermission
    start_time: datetime | None = None


class Image(Resource):
    """An AMI owned by the scanned account."""

    resource_type: ClassVar[str] = "AWS::EC2::Image"

    image_id: str
    public: bool | None = None
    creation_date: datetime | None = None
    state: str | None = None


class KeyPair(Resource):
    resource_type: ClassVar[str] = "AWS::EC2::KeyPair"

    key_name: str
    key_pair_id: str | None = None
    fingerprint: str | None = None  # same material imported in several regions has one fingerprint
    key_type: str | None = None
    create_time: datetime | None = None
