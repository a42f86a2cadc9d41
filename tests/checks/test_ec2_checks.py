"""EC2/VPC checks on hand-built models: passing, failing, not-applicable, unknown and error cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, Status, registry
from controlmap.resources.account import AwsRegion
from controlmap.resources.base import CollectionError, SourceKind, SourceRef
from controlmap.resources.ec2 import (
    FlowLogFacts,
    Image,
    ImageFacts,
    Instance,
    KeyPair,
    LaunchTemplate,
    NaclEntry,
    NetworkAcl,
    PatchState,
    SecurityGroup,
    SgAttachment,
    SgRule,
    Snapshot,
    TemplateVolume,
    Volume,
    Vpc,
    VpcEndpointFacts,
)
from controlmap.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ACCOUNT = "111122223333"
REGION = "us-east-1"


def run(check_id: str, resource: Any, *others: Any, settings: dict[str, Any] | None = None) -> Outcome:
    inventory = Inventory()
    for item in (resource, *others):
        inventory.add(item)
    ctx = CheckContext(inventory=inventory, settings=Settings.model_validate(settings or {}), now=NOW)
    try:
        result = registry()[check_id].func(resource, ctx)
    except FactUnavailable as missing:
        return missing.outcome
    assert isinstance(result, Outcome)
    return result


def sg(group_id: str = "sg-1", *, ingress: list[SgRule] | None = None, **kw: Any) -> SecurityGroup:
    kw.setdefault("attachments", [])
    return SecurityGroup(
        id=f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group_id}",
        name=kw.pop("name", group_id),
        account_id=ACCOUNT,
        region=REGION,
        group_id=group_id,
        ingress=ingress if ingress is not None else [],
        egress=kw.pop("egress", []),
        **kw,
    )


def world(protocol: str = "tcp", low: int | None = None, high: int | None = None, v6: bool = False) -> SgRule:
    cidrs = {"ipv6_ranges": ["::/0"]} if v6 else {"ipv4_ranges": ["0.0.0.0/0"]}
    return SgRule(protocol=protocol, from_port=low, to_port=high, **cidrs)


def instance(instance_id: str = "i-1", **kw: Any) -> Instance:
    kw.setdefault("state", "running")
    return Instance(
        id=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}",
        name=kw.pop("name", instance_id),
        account_id=ACCOUNT,
        region=kw.pop("region", REGION),
        instance_id=instance_id,
        **kw,
    )


# ---- EC2-01 -------------------------------------------------------------------------------


class TestSecurityGroupWorldIngress:
    check = "ec2_security_group_no_world_admin_ingress"

    def test_web_tier_on_80_and_443_passes_by_default(self) -> None:
        out = run(self.check, sg(ingress=[world("tcp", 80, 80), world("tcp", 443, 443)]))
        assert out.status is Status.PASS

    def test_web_ports_fail_when_configured_as_restricted(self) -> None:
        out = run(
            self.check,
            sg(ingress=[world("tcp", 443, 443)]),
            settings={"ec2": {"restricted_ports": [22, 443]}},
        )
        assert out.status is Status.FAIL
        assert "443" in out.reason

    def test_ssh_open_to_the_world_fails_and_names_exposed_instances(self) -> None:
        group = sg(
            ingress=[world("tcp", 22, 22)],
            attachments=[
                SgAttachment(interface_id="eni-1", instance_id="i-9", public_ip="203.0.113.7"),
                SgAttachment(interface_id="eni-2", requester="amazon-elb"),
            ],
        )
        out = run(self.check, group)
        assert out.status is Status.FAIL
        assert "tcp/22 from 0.0.0.0/0" in out.reason
        assert "i-9" in out.reason and "2 network interface(s)" in out.reason
        assert "amazon-elb" in out.reason  # what the interface without an instance belongs to
        assert out.evidence["instances"] == ["i-9"]
        assert {i["id"] for i in out.evidence["interfaces"]} == {"eni-1", "eni-2"}

    @pytest.mark.parametrize(
        "ranges",
        [
            {"ipv4_ranges": ["0.0.0.0/1", "128.0.0.0/1"]},
            {"ipv4_ranges": ["10.0.0.0/8", "0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"]},
            {"ipv6_ranges": ["::/1", "8000::/1"]},
        ],
    )
    def test_ranges_adding_up_to_every_address_are_the_world(self, ranges: dict[str, list[str]]) -> None:
        out = run(self.check, sg(ingress=[SgRule(protocol="tcp", from_port=22, to_port=22, **ranges)]))
        assert out.status is Status.FAIL
        assert "tcp/22" in out.reason and "/1" in out.reason

    def test_half_of_the_addresses_is_not_the_world(self) -> None:
        rule = SgRule(
            protocol="tcp", from_port=22, to_port=22, ipv4_ranges=["0.0.0.0/1"], ipv6_ranges=["8000::/1"]
        )
        assert run(self.check, sg(ingress=[rule])).status is Status.PASS

    def test_protocol_minus_one_is_every_port(self) -> None:
        out = run(self.check, sg(ingress=[world("-1")]))
        assert out.status is Status.FAIL
        assert out.evidence["exposures"][0]["exposes"] == "all"

    def test_port_range_covering_a_database_port(self) -> None:
        out = run(self.check, sg(ingress=[world("tcp", 5000, 5500)]))
        assert out.status is Status.FAIL
        assert out.evidence["exposures"][0]["exposes"] == [5432]

    def test_ipv6_world(self) -> None:
        out = run(self.check, sg(ingress=[world("tcp", 3389, 3389, v6=True)]))
        assert out.status is Status.FAIL
        assert "::/0" in out.reason

    def test_udp_all_ports(self) -> None:
        out = run(self.check, sg(ingress=[world("udp", 0, 65535)]))
        assert out.status is Status.FAIL

    def test_icmp_from_the_world_is_not_a_port(self) -> None:
        out = run(self.check, sg(ingress=[world("icmp", 8, -1)]))
        assert out.status is Status.PASS

    def test_restricted_port_from_a_narrow_range_passes(self) -> None:
        rule = SgRule(protocol="tcp", from_port=22, to_port=22, ipv4_ranges=["198.51.100.0/24"])
        assert run(self.check, sg(ingress=[rule])).status is Status.PASS

    def test_aws_managed_interfaces_are_named_by_their_owner(self) -> None:
        rds = SgAttachment(interface_id="eni-3", description="RDSNetworkInterface", requester="amazon-rds")
        group = sg(
            ingress=[world("tcp", 3306, 3306)],
            attachments=[rds, rds.model_copy(update={"interface_id": "eni-4"})],
        )
        out = run(self.check, group)
        assert out.status is Status.FAIL
        assert "2 network interface(s): RDSNetworkInterface (x2)." in out.reason

    def test_unattached_group_still_fails_and_says_so(self) -> None:
        out = run(self.check, sg(ingress=[world("tcp", 22, 22)], attachments=[]))
        assert out.status is Status.FAIL
        assert "attached to no network interface" in out.reason

    def test_unknown_rules_from_a_template(self) -> None:
        group = sg(source=SourceRef(kind=SourceKind.CLOUDFORMATION, file="t.yaml"))
        group.ingress = None
        out = run(self.check, group)
        assert out.status is Status.UNKNOWN

    def test_failed_read_is_an_error(self) -> None:
        group = sg()
        group.ingress = None
        group.mark_error(
            "ingress", CollectionError(service="ec2", operation="DescribeSecurityGroups", code="Boom")
        )
        out = run(self.check, group)
        assert out.status is Status.ERROR and out.error_code == "Boom"

    def test_bad_settings_are_rejected(self) -> None:
        with pytest.raises(ValueError):
            run(self.check, sg(), settings={"ec2": {"restricted_ports": "twenty-two"}})


class TestDefaultSecurityGroup:
    check = "ec2_security_group_default_restricts_all"

    def test_non_default_group_not_applicable(self) -> None:
        assert run(self.check, sg(ingress=[world("-1")])).status is Status.NOT_APPLICABLE

    def test_closed_default_group_passes(self) -> None:
        assert run(self.check, sg(name="default", is_default=True)).status is Status.PASS

    def test_default_group_with_egress_fails(self) -> None:
        out = run(self.check, sg(name="default", is_default=True, egress=[world("-1")]))
        assert out.status is Status.FAIL
        assert "1 outbound" in out.reason

    def test_default_group_with_self_referencing_ingress_fails(self) -> None:
        rule = SgRule(protocol="-1", source_groups=["sg-1"])
        out = run(self.check, sg(name="default", is_default=True, ingress=[rule]))
        assert out.status is Status.FAIL


# ---- EC2-02 -------------------------------------------------------------------------------


def acl(entries: list[NaclEntry], subnets: list[str] | None = None) -> NetworkAcl:
    return NetworkAcl(
        id="acl-arn",
        name="acl-1",
        account_id=ACCOUNT,
        region=REGION,
        acl_id="acl-1",
        entries=entries,
        subnet_ids=["subnet-1"] if subnets is None else subnets,
    )


def entry(number: int, allow: bool, cidr: str = "0.0.0.0/0", protocol: str = "-1", **kw: Any) -> NaclEntry:
    return NaclEntry(rule_number=number, allow=allow, cidr=cidr, protocol=protocol, **kw)


class TestNetworkAcl:
    check = "ec2_network_acl_no_world_admin_ingress"

    def test_aws_default_allow_all_fails(self) -> None:
        out = run(self.check, acl([entry(100, True), entry(32767, False)]))
        assert out.status is Status.FAIL
        assert "rule 100" in out.reason and "every restricted port" in out.reason

    def test_deny_before_allow_protects(self) -> None:
        entries = [
            entry(100, True, protocol="tcp", from_port=443, to_port=443),
            entry(32767, False),
        ]
        assert run(self.check, acl(entries)).status is Status.PASS

    def test_rule_order_not_list_order(self) -> None:
        entries = [
            entry(200, True),
            entry(50, False),
            entry(32767, False),
        ]
        out = run(self.check, acl(entries), settings={"ec2": {"restricted_ports": [22]}})
        assert out.status is Status.PASS  # everything denied at 50 before the allow-all at 200

    def test_tcp_deny_does_not_protect_udp(self) -> None:
        entries = [entry(50, False, protocol="tcp", from_port=0, to_port=65535), entry(100, True)]
        out = run(self.check, acl(entries), settings={"ec2": {"restricted_ports": [22]}})
        assert out.status is Status.FAIL
        assert [a["protocol"] for a in out.evidence["admitted"]] == ["udp"]
        assert "udp port(s) 22" in out.reason

    def test_partial_deny_does_not_protect_from_the_world(self) -> None:
        entries = [
            entry(50, False, cidr="203.0.113.0/24"),
            entry(100, True, protocol="tcp", from_port=22, to_port=22),
        ]
        out = run(self.check, acl(entries), settings={"ec2": {"restricted_ports": [22]}})
        assert out.status is Status.FAIL
        assert out.evidence["admitted"] == [
            {"family": "IPv4", "source": "0.0.0.0/0", "protocol": "tcp", "port": 22, "rule_number": 100}
        ]

    def test_ipv6_entry(self) -> None:
        out = run(
            self.check, acl([entry(100, True, cidr="::/0", protocol="tcp", from_port=3389, to_port=3389)])
        )
        assert out.status is Status.FAIL and "::/0" in out.reason

    def test_egress_entries_ignored(self) -> None:
        assert run(self.check, acl([entry(100, True, egress=True)])).status is Status.PASS

    def test_unassociated_acl_not_applicable(self) -> None:
        assert run(self.check, acl([entry(100, True)], subnets=[])).status is Status.NOT_APPLICABLE


# ---- EC2-03 / EC2-08 ----------------------------------------------------------------------


def vpc(**kw: Any) -> Vpc:
    kw.setdefault("interface_count", 3)
    kw.setdefault("endpoints", [])
    kw.setdefault("flow_logs", [])
    return Vpc(id="vpc-arn", name="vpc-1", account_id=ACCOUNT, region=REGION, vpc_id="vpc-1", **kw)


def endpoint(service: str, kind: str = "Gateway", state: str = "available") -> VpcEndpointFacts:
    return VpcEndpointFacts(
        endpoint_id=f"vpce-{service}",
        service_name=f"com.amazonaws.{REGION}.{service}",
        endpoint_type=kind,
        state=state,
    )


class TestVpcEndpoints:
    check = "ec2_vpc_endpoints_configured"

    def test_vpc_without_interfaces_not_applicable(self) -> None:
        assert run(self.check, vpc(interface_count=0)).status is Status.NOT_APPLICABLE

    def test_missing_gateway_endpoints_fail(self) -> None:
        out = run(self.check, vpc(endpoints=[endpoint("s3")]))
        assert out.status is Status.FAIL
        assert out.evidence["missing"] == ["dynamodb (Gateway)"]

    def test_interface_endpoint_does_not_replace_a_required_gateway(self) -> None:
        out = run(self.check, vpc(endpoints=[endpoint("s3"), endpoint("dynamodb", "Interface")]))
        assert out.status is Status.FAIL

    def test_all_present_passes(self) -> None:
        out = run(self.check, vpc(endpoints=[endpoint("s3"), endpoint("dynamodb")]))
        assert out.status is Status.PASS

    def test_configured_interface_endpoints(self) -> None:
        settings = {"ec2": {"required_interface_endpoints": ["ssm", "ecr.api"]}}
        eps = [endpoint("s3"), endpoint("dynamodb"), endpoint("ssm", "Interface")]
        out = run(self.check, vpc(endpoints=eps), settings=settings)
        assert out.status is Status.FAIL and out.evidence["missing"] == ["ecr.api (Interface)"]
        eps.append(endpoint("ecr.api", "Interface"))
        assert run(self.check, vpc(endpoints=eps), settings=settings).status is Status.PASS

    def test_deleted_endpoint_does_not_count(self) -> None:
        out = run(self.check, vpc(endpoints=[endpoint("s3", state="deleted"), endpoint("dynamodb")]))
        assert out.status is Status.FAIL

    def test_interface_count_unknown(self) -> None:
        assert run(self.check, vpc(interface_count=None)).status is Status.UNKNOWN


class TestFlowLogs:
    check = "ec2_vpc_flow_logs_enabled"

    def test_no_flow_log_fails(self) -> None:
        assert run(self.check, vpc()).status is Status.FAIL

    def test_active_flow_log_passes(self) -> None:
        logs = [
            FlowLogFacts(
                flow_log_id="fl-1", traffic_type="ALL", status="ACTIVE", deliver_logs_status="SUCCESS"
            )
        ]
        assert run(self.check, vpc(flow_logs=logs)).status is Status.PASS

    def test_failing_delivery_fails(self) -> None:
        logs = [
            FlowLogFacts(
                flow_log_id="fl-1", traffic_type="ALL", status="ACTIVE", deliver_logs_status="FAILED"
            )
        ]
        out = run(self.check, vpc(flow_logs=logs))
        assert out.status is Status.FAIL and "not delivering" in out.reason

    def test_reject_only_fails_when_all_traffic_required(self) -> None:
        logs = [FlowLogFacts(flow_log_id="fl-1", traffic_type="REJECT", status="ACTIVE")]
        assert run(self.check, vpc(flow_logs=logs)).status is Status.PASS
        out = run(self.check, vpc(flow_logs=logs), settings={"ec2": {"flow_logs_require_all_traffic": True}})
        assert out.status is Status.FAIL

    def test_error_reading_flow_logs(self) -> None:
        item = vpc(flow_logs=None)
        item.mark_error(
            "flow_logs", CollectionError(service="ec2", operation="DescribeFlowLogs", code="AccessDenied")
        )
        out = run(self.check, item)
        assert out.status is Status.ERROR and out.error_code == "AccessDenied"


# ---- EC2-04 -------------------------------------------------------------------------------


class TestEbs:
    def test_region_default(self) -> None:
        region = AwsRegion(id="r", name=REGION, account_id=ACCOUNT, region=REGION)
        assert run("ec2_region_ebs_encryption_by_default", region).status is Status.UNKNOWN
        region.ebs_encryption_by_default = False
        assert run("ec2_region_ebs_encryption_by_default", region).status is Status.FAIL
        region.ebs_encryption_by_default = True
        assert run("ec2_region_ebs_encryption_by_default", region).status is Status.PASS

    def test_volume(self) -> None:
        volume = Volume(id="v", name="v", volume_id="vol-1", encrypted=False, attached_instance_ids=["i-1"])
        out = run("ec2_volume_encrypted", volume)
        assert out.status is Status.FAIL and "i-1" in out.reason
        volume.encrypted = True
        assert run("ec2_volume_encrypted", volume).status is Status.PASS

    def test_snapshot_encryption_and_public(self) -> None:
        snap = Snapshot(id="s", name="s", snapshot_id="snap-1", encrypted=False, public=True, shared_with=[])
        assert run("ec2_snapshot_encrypted", snap).status is Status.FAIL
        out = run("ec2_snapshot_not_public", snap)
        assert out.status is Status.FAIL and "'all'" in out.reason
        shared = Snapshot(
            id="s2",
            name="s2",
            snapshot_id="snap-2",
            encrypted=True,
            public=False,
            shared_with=["444455556666"],
        )
        out = run("ec2_snapshot_not_public", shared)
        assert out.status is Status.PASS and "444455556666" in out.reason
        assert run("ec2_snapshot_encrypted", shared).status is Status.PASS

    def test_snapshot_permissions_unknown(self) -> None:
        snap = Snapshot(id="s", name="s", snapshot_id="snap-1", encrypted=True)
        assert run("ec2_snapshot_not_public", snap).status is Status.UNKNOWN


# ---- EC2-05 -------------------------------------------------------------------------------


def image(
    age_days: int = 10, owner_alias: str | None = "amazon", owner_id: str = "137112412989", **kw: Any
) -> ImageFacts:
    return ImageFacts(
        image_id="ami-1",
        owner_id=owner_id,
        owner_alias=owner_alias,
        creation_date=NOW - timedelta(days=age_days),
        **kw,
    )


class TestAmi:
    check = "ec2_instance_ami_approved"

    def test_recent_amazon_image_passes(self) -> None:
        out = run(self.check, instance(image=image()))
        assert out.status is Status.PASS and out.evidence["age_days"] == 10

    def test_old_image_fails(self) -> None:
        out = run(self.check, instance(image=image(age_days=400)))
        assert out.status is Status.FAIL and "400 days old" in out.reason

    def test_age_is_configurable(self) -> None:
        out = run(self.check, instance(image=image(age_days=40)), settings={"ec2": {"ami_max_age_days": 30}})
        assert out.status is Status.FAIL

    def test_unapproved_owner_fails(self) -> None:
        out = run(self.check, instance(image=image(owner_alias=None, owner_id="999988887777")))
        assert out.status is Status.FAIL and "999988887777" in out.reason

    def test_self_means_the_instance_account(self) -> None:
        out = run(self.check, instance(image=image(owner_alias=None, owner_id=ACCOUNT)))
        assert out.status is Status.PASS

    def test_account_id_in_approved_list(self) -> None:
        settings = {"ec2": {"approved_ami_owners": ["999988887777"]}}
        out = run(
            self.check, instance(image=image(owner_alias=None, owner_id="999988887777")), settings=settings
        )
        assert out.status is Status.PASS
        assert run(self.check, instance(image=image()), settings=settings).status is Status.FAIL

    def test_deprecated_image_fails(self) -> None:
        out = run(self.check, instance(image=image(deprecation_time=NOW - timedelta(days=1))))
        assert out.status is Status.FAIL and "deprecated" in out.reason

    def test_image_no_longer_visible_is_unknown(self) -> None:
        item = instance(image_id="ami-gone")
        item.mark_unknown("image", "AMI ami-gone is no longer visible")
        out = run(self.check, item)
        assert out.status is Status.UNKNOWN and "ami-gone" in out.reason

    def test_terminated_instance_not_applicable(self) -> None:
        assert run(self.check, instance(state="terminated")).status is Status.NOT_APPLICABLE

    def test_public_ami_of_the_account(self) -> None:
        owned = Image(id="img", name="img", image_id="ami-1", public=True)
        assert run("ec2_image_not_public", owned).status is Status.FAIL
        owned.public = False
        assert run("ec2_image_not_public", owned).status is Status.PASS


class TestImds:
    check = "ec2_instance_imdsv2_required"

    def test_required_passes(self) -> None:
        assert run(self.check, instance(metadata_http_tokens="required")).status is Status.PASS

    def test_optional_fails(self) -> None:
        out = run(self.check, instance(metadata_http_tokens="optional"))
        assert out.status is Status.FAIL and "HttpTokens=required" in out.reason

    def test_endpoint_disabled_passes(self) -> None:
        out = run(self.check, instance(metadata_http_tokens="optional", metadata_http_endpoint="disabled"))
        assert out.status is Status.PASS

    def test_unknown_in_template(self) -> None:
        out = run(
            self.check, instance(state=None, source=SourceRef(kind=SourceKind.TERRAFORM, file="main.tf"))
        )
        assert out.status is Status.UNKNOWN

    def test_terminated(self) -> None:
        assert run(self.check, instance(state="terminated")).status is Status.NOT_APPLICABLE


# ---- EC2-06 -------------------------------------------------------------------------------


class TestPatching:
    def test_stopped_and_terminated_are_not_findings(self) -> None:
        for state in ("stopped", "terminated"):
            for check in ("ec2_instance_ssm_managed", "ec2_instance_patch_compliant"):
                assert run(check, instance(state=state, ssm_managed=False)).status is Status.NOT_APPLICABLE

    def test_unmanaged_instance(self) -> None:
        out = run("ec2_instance_ssm_managed", instance(ssm_managed=False))
        assert out.status is Status.FAIL and "AmazonSSMManagedInstanceCore" in out.reason
        # reported once: the patch check defers to the managed check
        assert (
            run("ec2_instance_patch_compliant", instance(ssm_managed=False)).status is Status.NOT_APPLICABLE
        )

    def test_connection_lost(self) -> None:
        out = run("ec2_instance_ssm_managed", instance(ssm_managed=True, ssm_ping_status="ConnectionLost"))
        assert out.status is Status.FAIL and "ConnectionLost" in out.reason

    def test_managed_online(self) -> None:
        out = run("ec2_instance_ssm_managed", instance(ssm_managed=True, ssm_ping_status="Online"))
        assert out.status is Status.PASS

    def test_never_scanned(self) -> None:
        out = run("ec2_instance_patch_compliant", instance(ssm_managed=True, patch_state_present=False))
        assert out.status is Status.FAIL and "never scanned" in out.reason

    def test_missing_patches(self) -> None:
        state = PatchState(
            missing_count=3, critical_non_compliant_count=1, operation_end_time=NOW - timedelta(days=1)
        )
        out = run(
            "ec2_instance_patch_compliant",
            instance(ssm_managed=True, patch_state_present=True, patch_state=state),
        )
        assert out.status is Status.FAIL
        assert "3 missing" in out.reason and "1 critical" in out.reason

    def test_stale_scan(self) -> None:
        state = PatchState(operation="Scan", operation_end_time=NOW - timedelta(days=45))
        item = instance(ssm_managed=True, patch_state_present=True, patch_state=state)
        out = run("ec2_instance_patch_compliant", item)
        assert out.status is Status.FAIL and "45 days ago" in out.reason
        assert (
            run("ec2_instance_patch_compliant", item, settings={"ec2": {"patch_max_age_days": 60}}).status
            is Status.PASS
        )

    def test_compliant(self) -> None:
        state = PatchState(operation="Install", operation_end_time=NOW - timedelta(days=2))
        out = run(
            "ec2_instance_patch_compliant",
            instance(ssm_managed=True, patch_state_present=True, patch_state=state),
        )
        assert out.status is Status.PASS

    def test_ssm_error(self) -> None:
        item = instance()
        item.mark_error(
            "ssm_managed",
            CollectionError(
                service="ssm", operation="DescribeInstanceInformation", code="AccessDeniedException"
            ),
        )
        out = run("ec2_instance_ssm_managed", item)
        assert out.status is Status.ERROR and out.error_code == "AccessDeniedException"


# ---- EC2-07 -------------------------------------------------------------------------------


def key(name: str = "k", region: str = REGION, fingerprint: str = "fp-1") -> KeyPair:
    return KeyPair(
        id=f"arn:aws:ec2:{region}:{ACCOUNT}:key-pair/{name}",
        name=name,
        account_id=ACCOUNT,
        region=region,
        key_name=name,
        fingerprint=fingerprint,
    )


class TestKeyPairs:
    check = "ec2_key_pair_not_shared"

    def test_unused_key_passes(self) -> None:
        out = run(self.check, key(), instance(key_name=None))
        assert out.status is Status.PASS and out.evidence["instances"] == []

    def test_too_many_instances(self) -> None:
        users = [instance(f"i-{n}", key_name="k") for n in range(6)]
        out = run(self.check, key(), *users)
        assert out.status is Status.FAIL and "6 instances" in out.reason
        out = run(self.check, key(), *users, settings={"ec2": {"key_pair_max_instances": 10}})
        assert out.status is Status.PASS

    def test_terminated_instances_do_not_count(self) -> None:
        users = [instance(f"i-{n}", key_name="k", state="terminated") for n in range(6)]
        assert run(self.check, key(), *users).status is Status.PASS

    def test_same_material_in_two_regions(self) -> None:
        out = run(self.check, key(), key(region="eu-west-1"))
        assert out.status is Status.FAIL and out.evidence["regions"] == ["eu-west-1", "us-east-1"]
        assert (
            run(
                self.check, key(), key(region="eu-west-1"), settings={"ec2": {"key_pair_max_regions": 2}}
            ).status
            is Status.PASS
        )

    def test_same_name_different_material_is_not_reuse(self) -> None:
        assert run(self.check, key(), key(region="eu-west-1", fingerprint="fp-2")).status is Status.PASS


# ---- EC2-09 -------------------------------------------------------------------------------


class TestSessionManager:
    check = "ec2_instance_no_world_remote_access"

    def test_ssh_open_to_world_fails(self) -> None:
        group = sg("sg-ssh", ingress=[world("tcp", 22, 22)])
        out = run(self.check, instance(security_group_ids=["sg-ssh"], ssm_managed=True), group)
        assert out.status is Status.FAIL and "sg-ssh" in out.reason and "Session Manager" in out.reason

    def test_all_traffic_group_counts_as_rdp_open(self) -> None:
        group = sg("sg-all", ingress=[world("-1")])
        out = run(self.check, instance(security_group_ids=["sg-all"], ssm_managed=True), group)
        assert out.status is Status.FAIL

    def test_database_port_open_is_not_this_control(self) -> None:
        group = sg("sg-db", ingress=[world("tcp", 5432, 5432)])
        out = run(
            self.check,
            instance(security_group_ids=["sg-db"], ssm_managed=True, ssm_ping_status="Online"),
            group,
        )
        assert out.status is Status.PASS

    def test_managed_and_closed_passes(self) -> None:
        group = sg("sg-web", ingress=[world("tcp", 443, 443)])
        out = run(
            self.check,
            instance(security_group_ids=["sg-web"], ssm_managed=True, ssm_ping_status="Online"),
            group,
        )
        assert out.status is Status.PASS

    def test_closed_but_unmanaged_fails(self) -> None:
        group = sg("sg-web")
        out = run(self.check, instance(security_group_ids=["sg-web"], ssm_managed=False), group)
        assert out.status is Status.FAIL and "not managed" in out.reason

    def test_missing_group_is_unknown(self) -> None:
        out = run(self.check, instance(security_group_ids=["sg-gone"], ssm_managed=True))
        assert out.status is Status.UNKNOWN and "sg-gone" in out.reason

    def test_stopped_not_applicable(self) -> None:
        assert run(self.check, instance(state="stopped")).status is Status.NOT_APPLICABLE


# ---- launch templates (EC2-04, EC2-05) ----------------------------------------------------


def template(**kw: Any) -> LaunchTemplate:
    return LaunchTemplate(
        id="lt-arn", name="lt", account_id=ACCOUNT, region=REGION, template_id="lt-1", version=3, **kw
    )


def region(default: bool | None) -> AwsRegion:
    return AwsRegion(
        id="r", name=REGION, account_id=ACCOUNT, region=REGION, ebs_encryption_by_default=default
    )


class TestLaunchTemplates:
    def test_imdsv2(self) -> None:
        check = "ec2_launch_template_imdsv2_required"
        assert run(check, template(metadata_http_tokens="required")).status is Status.PASS
        out = run(check, template(metadata_http_tokens="optional"))
        assert out.status is Status.FAIL and "version 3" in out.reason
        out = run(check, template())
        assert out.status is Status.FAIL and "does not set" in out.reason
        assert run(check, template(metadata_http_endpoint="disabled")).status is Status.PASS

    @pytest.mark.parametrize(
        ("default", "enforced", "status"),
        [
            ("required", "disabled", Status.PASS),  # the account default fills the unset value
            ("no-preference", "enabled", Status.PASS),  # a declarative policy refuses IMDSv1
            ("optional", "disabled", Status.FAIL),
            ("no-preference", "disabled", Status.FAIL),
        ],
    )
    def test_unset_tokens_take_the_account_default(self, default: str, enforced: str, status: Status) -> None:
        check = "ec2_launch_template_imdsv2_required"
        facts = AwsRegion(
            id="r", name=REGION, account_id=ACCOUNT, region=REGION,
            imds_http_tokens_default=default, imds_http_tokens_enforced=enforced,
        )  # fmt: skip
        out = run(check, template(), facts)
        assert out.status is status
        assert out.evidence["account_default_http_tokens"] == default
        if status is Status.FAIL:
            assert f"account-level default for {REGION} is {default}" in out.reason
        # A template that asks for IMDSv1 explicitly overrides the account default.
        assert run(check, template(metadata_http_tokens="optional"), facts).status is Status.FAIL

    def test_unknown_account_default_is_unknown_or_error(self) -> None:
        check = "ec2_launch_template_imdsv2_required"
        blank = AwsRegion(id="r", name=REGION, account_id=ACCOUNT, region=REGION)
        assert run(check, template(), blank).status is Status.UNKNOWN
        blank.mark_error(
            "imds_http_tokens_default",
            CollectionError(
                service="ec2", operation="GetInstanceMetadataDefaults", code="UnauthorizedOperation"
            ),
        )
        out = run(check, template(), blank)
        assert out.status is Status.ERROR and out.error_code == "UnauthorizedOperation"

    def test_ebs_unset_depends_on_region_default(self) -> None:
        check = "ec2_launch_template_ebs_encrypted"
        item = template(ebs_volumes=[TemplateVolume(device_name="/dev/xvda")])
        assert run(check, item, region(True)).status is Status.PASS
        out = run(check, item, region(False))
        assert out.status is Status.FAIL and "/dev/xvda" in out.reason
        assert run(check, item, region(None)).status is Status.UNKNOWN

    def test_ebs_explicitly_encrypted(self) -> None:
        item = template(ebs_volumes=[TemplateVolume(device_name="/dev/xvda", encrypted=True)])
        assert run("ec2_launch_template_ebs_encrypted", item, region(False)).status is Status.PASS

    def test_no_mappings(self) -> None:
        out = run("ec2_launch_template_ebs_encrypted", template(ebs_volumes=[]), region(False))
        assert out.status is Status.NOT_APPLICABLE

    def test_template_file_does_not_borrow_another_regions_setting(self) -> None:
        item = template(ebs_volumes=[TemplateVolume(device_name="/dev/xvda")])
        item.region = None
        assert run("ec2_launch_template_ebs_encrypted", item, region(True)).status is Status.UNKNOWN


def test_long_instance_lists_are_shortened_in_the_reason_not_the_evidence() -> None:
    attachments = [SgAttachment(interface_id=f"eni-{n}", instance_id=f"i-{n:02d}") for n in range(12)]
    out = run(
        "ec2_security_group_no_world_admin_ingress",
        sg(ingress=[world("tcp", 22, 22)], attachments=attachments),
    )
    assert "and 7 more" in out.reason
    assert len(out.evidence["instances"]) == 12


def test_every_ec2_and_rds_control_is_evaluated_on_an_account_without_resources() -> None:
    from controlmap.catalog.catalog import load_catalog
    from controlmap.findings.evaluate import evaluate
    from controlmap.resources.account import AwsAccount

    catalog = load_catalog()
    controls = [c for c in catalog.ordered() if c.service in ("ec2", "rds")]
    assert len(controls) == 16 and all(c.checks for c in controls)
    inventory = Inventory()
    inventory.add(AwsAccount(id=f"arn:aws:::account/{ACCOUNT}", name=ACCOUNT, account_id=ACCOUNT))
    findings = evaluate(catalog, inventory, Settings(), controls=controls, now=NOW)
    by_control: dict[str, set[str]] = {}
    for finding in findings:
        by_control.setdefault(finding.control_id, set()).add(finding.status.value)
    assert set(by_control) == {c.id for c in controls}
    for control in controls:
        expected = {"NOT_APPLICABLE"} | ({"MANUAL"} if control.automation.value == "partial" else set())
        assert by_control[control.id] == expected, control.id
