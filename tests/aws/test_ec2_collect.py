"""EC2/VPC/EBS collectors against moto in server mode (real HTTP on 127.0.0.1).

Systems Manager fleet APIs are missing from moto; ``controlmap.demo.seed_ec2`` teaches the
in-process server to answer them from instance tags, and failures are injected at the botocore
level on controlmap's own client.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, Status, registry
from controlmap.demo.seed_ec2 import DEMO_PUBLIC_KEY, PATCH_TAG, SSM_TAG
from controlmap.demo.server import LocalAws
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.ec2 import (
    Image,
    Instance,
    KeyPair,
    LaunchTemplate,
    NetworkAcl,
    SecurityGroup,
    Snapshot,
    Volume,
    Vpc,
)
from controlmap.settings import Settings
from controlmap.sources.aws.clients import ClientFactory
from controlmap.sources.aws.collector import CollectContext
from controlmap.sources.aws.scanner import plan_collectors

ACCOUNT = "123456789012"
HOME = "us-east-1"


@functools.cache
def shared_session() -> boto3.Session:
    """One boto3 session for the module: a new session reloads every service model (~1 s a client)."""
    return boto3.Session(region_name=HOME)


def collect(
    check_ids: Sequence[str],
    regions: Sequence[str] = (HOME,),
    prepare: Callable[[ClientFactory], None] | None = None,
) -> tuple[Inventory, ClientFactory]:
    """Run the collectors the given checks need, as the scanner does, over the local server."""
    specs = [registry()[c] for c in check_ids]
    chosen, facts = plan_collectors(specs)
    factory = ClientFactory(shared_session())
    if prepare is not None:
        prepare(factory)
    inventory = Inventory()
    account = AwsAccount(id=f"arn:aws:::account/{ACCOUNT}", name=ACCOUNT, account_id=ACCOUNT)
    inventory.add(account)
    region_settings = {
        r: AwsRegion(id=f"arn:aws:::region/{ACCOUNT}/{r}", name=r, account_id=ACCOUNT, region=r)
        for r in regions
    }
    for facts_of_region in region_settings.values():
        inventory.add(facts_of_region)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for spec in chosen:
            for region in regions:
                ctx = CollectContext(
                    factory,
                    ACCOUNT,
                    region,
                    regions,
                    inventory,
                    account,
                    region_settings,
                    Settings(),
                    pool,
                    facts,
                )
                spec.func(ctx)
    return inventory, factory


def outcome(check_id: str, resource: Any, inventory: Inventory) -> Outcome:
    ctx = CheckContext(inventory=inventory, settings=Settings())
    try:
        result = registry()[check_id].func(resource, ctx)
    except FactUnavailable as missing:
        return missing.outcome
    assert isinstance(result, Outcome)
    return result


def fail_operation(
    service: str, operation: str, code: str, region: str = HOME
) -> Callable[[ClientFactory], None]:
    """A botocore-level fault: the operation raises ``code`` on controlmap's client."""

    def prepare(factory: ClientFactory) -> None:
        client = factory.client(service, region)

        def boom(**_: Any) -> None:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

        client.meta.events.register(
            f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", boom
        )

    return prepare


@pytest.fixture(autouse=True)
def no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's ~1,300 bundled public AMIs (and their snapshots) make every listing slow; tests that
    need them (the snapshot-ownership trap) ask for ``default_amis``."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "true")


@pytest.fixture
def ec2(aws: LocalAws) -> Any:
    return shared_session().client("ec2", region_name=HOME)


@pytest.fixture
def network(ec2: Any) -> dict[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    return {"vpc": vpc, "subnet": subnet}


def ami(ec2: Any) -> str:
    """An AMI to launch from, registered by the test account (moto's bundled ones are off)."""
    return str(ec2.register_image(Name="base-image", RootDeviceName="/dev/xvda")["ImageId"])


def by_name(items: Sequence[Any], name: str) -> Any:
    found = [i for i in items if i.name == name]
    assert len(found) == 1, [i.name for i in items]
    return found[0]


# ---- network ------------------------------------------------------------------------------


def test_security_group_rules_and_the_interfaces_they_expose(ec2: Any, network: dict[str, str]) -> None:
    group = ec2.create_security_group(GroupName="ssh-open", Description="x", VpcId=network["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]},
            {"IpProtocol": "6", "FromPort": 5000, "ToPort": 5500, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
    )
    instance = ec2.run_instances(
        ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"], SecurityGroupIds=[group]
    )["Instances"][0]["InstanceId"]
    loose_eni = ec2.create_network_interface(SubnetId=network["subnet"], Groups=[group])["NetworkInterface"]

    inventory, _ = collect(["ec2_security_group_no_world_admin_ingress"])
    sg = by_name(inventory.of_type(SecurityGroup), "ssh-open")
    assert sg.group_id == group and sg.vpc_id == network["vpc"] and not sg.is_default
    protocols = sorted(r.protocol for r in sg.ingress)
    assert protocols == ["-1", "tcp", "tcp"]  # "6" normalized to tcp
    assert {a.instance_id for a in sg.attachments} == {instance, None}
    assert loose_eni["NetworkInterfaceId"] in {a.interface_id for a in sg.attachments}

    result = outcome("ec2_security_group_no_world_admin_ingress", sg, inventory)
    assert result.status is Status.FAIL
    assert result.evidence["instances"] == [instance]
    assert {tuple(e["exposes"]) for e in result.evidence["exposures"]} == {(22,), (5432,)}
    defaults = [g for g in inventory.of_type(SecurityGroup) if g.is_default]
    assert defaults and all(g.name == "default" for g in defaults)


def test_network_acls_with_entries_and_subnets(ec2: Any, network: dict[str, str]) -> None:
    acl = ec2.create_network_acl(VpcId=network["vpc"])["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=90, Protocol="6", RuleAction="deny", Egress=False,
        CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22},
    )  # fmt: skip
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=100,
        Protocol="-1",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
    )
    inventory, _ = collect(["ec2_network_acl_no_world_admin_ingress"])
    item = next(a for a in inventory.of_type(NetworkAcl) if a.acl_id == acl)
    assert [(e.rule_number, e.allow, e.protocol) for e in item.entries if not e.egress] == [
        (90, False, "tcp"),
        (100, True, "-1"),
    ]
    assert item.entries[0].from_port == 22
    # Not associated with a subnet: nothing to judge.
    assert outcome("ec2_network_acl_no_world_admin_ingress", item, inventory).status is Status.NOT_APPLICABLE
    default = next(a for a in inventory.of_type(NetworkAcl) if a.vpc_id == network["vpc"] and a.is_default)
    assert default.subnet_ids == [network["subnet"]]
    assert outcome("ec2_network_acl_no_world_admin_ingress", default, inventory).status is Status.FAIL


def test_vpcs_in_use_endpoints_and_flow_logs(ec2: Any, network: dict[str, str]) -> None:
    ec2.create_network_interface(SubnetId=network["subnet"])
    ec2.create_vpc_endpoint(
        VpcId=network["vpc"], ServiceName=f"com.amazonaws.{HOME}.s3", VpcEndpointType="Gateway"
    )
    ec2.create_vpc_endpoint(
        VpcId=network["vpc"], ServiceName=f"com.amazonaws.{HOME}.dynamodb", VpcEndpointType="Gateway"
    )
    shared_session().client("logs", region_name=HOME).create_log_group(logGroupName="flows")
    ec2.create_flow_logs(
        ResourceIds=[network["vpc"]], ResourceType="VPC", TrafficType="REJECT",
        LogGroupName="flows", DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flows",
    )  # fmt: skip
    empty = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]

    inventory, factory = collect(["ec2_vpc_endpoints_configured", "ec2_vpc_flow_logs_enabled"])
    vpcs = {v.vpc_id: v for v in inventory.of_type(Vpc)}
    used, unused = vpcs[network["vpc"]], vpcs[empty]
    assert used.interface_count == 1 and unused.interface_count == 0
    assert sorted(e.short_service for e in used.endpoints) == ["dynamodb", "s3"]
    assert [f.traffic_type for f in used.flow_logs] == ["REJECT"] and unused.flow_logs == []
    assert outcome("ec2_vpc_endpoints_configured", used, inventory).status is Status.PASS
    assert outcome("ec2_vpc_endpoints_configured", unused, inventory).status is Status.NOT_APPLICABLE
    assert outcome("ec2_vpc_flow_logs_enabled", unused, inventory).status is Status.FAIL
    calls = factory.counter.snapshot()
    assert calls["ec2:DescribeFlowLogs"] == 1 and calls["ec2:DescribeVpcEndpoints"] == 1
    assert "ec2:DescribeNetworkAcls" not in calls  # no NACL check selected


def test_flow_log_listing_failure_is_an_error_on_each_vpc(network: dict[str, str]) -> None:
    inventory, _ = collect(
        ["ec2_vpc_flow_logs_enabled"],
        prepare=fail_operation("ec2", "DescribeFlowLogs", "UnauthorizedOperation"),
    )
    vpc = next(v for v in inventory.of_type(Vpc) if v.vpc_id == network["vpc"])
    result = outcome("ec2_vpc_flow_logs_enabled", vpc, inventory)
    assert result.status is Status.ERROR and result.error_code == "UnauthorizedOperation"


def test_security_group_listing_failure_is_recorded_for_the_type(aws: LocalAws) -> None:
    inventory, _ = collect(
        ["ec2_security_group_no_world_admin_ingress"],
        prepare=fail_operation("ec2", "DescribeSecurityGroups", "RequestLimitExceeded"),
    )
    assert inventory.of_type(SecurityGroup) == []
    errors = [e for e in inventory.errors if SecurityGroup.resource_type in e.resource_types]
    assert errors and errors[0].code == "RequestLimitExceeded" and errors[0].region == HOME


# ---- EBS ----------------------------------------------------------------------------------


def test_ebs_default_encryption_is_per_region(aws: LocalAws) -> None:
    shared_session().client("ec2", region_name="eu-west-1").enable_ebs_encryption_by_default()
    inventory, factory = collect(["ec2_region_ebs_encryption_by_default"], regions=[HOME, "eu-west-1"])
    regions = {r.name: r for r in inventory.of_type(AwsRegion)}
    assert regions[HOME].ebs_encryption_by_default is False
    assert regions["eu-west-1"].ebs_encryption_by_default is True
    # Only the region fact was wanted: no volume or snapshot listing.
    assert set(factory.counter.snapshot()) == {"ec2:GetEbsEncryptionByDefault"}


@pytest.mark.usefixtures("default_amis")
def test_volumes_and_snapshots(ec2: Any) -> None:
    encrypted = ec2.create_volume(AvailabilityZone=f"{HOME}a", Size=1, Encrypted=True)["VolumeId"]
    plain = ec2.create_volume(AvailabilityZone=f"{HOME}a", Size=1)["VolumeId"]
    private = ec2.create_snapshot(VolumeId=encrypted)["SnapshotId"]
    public = ec2.create_snapshot(VolumeId=plain)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=public, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    ec2.modify_snapshot_attribute(
        SnapshotId=private, Attribute="createVolumePermission", OperationType="add", UserIds=["444455556666"]
    )
    inventory, factory = collect(
        ["ec2_volume_encrypted", "ec2_snapshot_encrypted", "ec2_snapshot_not_public"]
    )
    volumes = {v.volume_id: v for v in inventory.of_type(Volume)}
    assert volumes[encrypted].encrypted is True and volumes[plain].encrypted is False
    snapshots = {s.snapshot_id: s for s in inventory.of_type(Snapshot)}
    # Only the account's own snapshots (moto lists the public AMI snapshots of others too).
    assert set(snapshots) == {private, public}
    assert snapshots[public].public is True and snapshots[private].public is False
    assert snapshots[private].shared_with == ["444455556666"]
    assert outcome("ec2_snapshot_not_public", snapshots[public], inventory).status is Status.FAIL
    assert factory.counter.snapshot()["ec2:DescribeSnapshotAttribute"] == 2  # one per own snapshot


def test_snapshot_attribute_failure_is_an_error_on_that_fact(ec2: Any) -> None:
    volume = ec2.create_volume(AvailabilityZone=f"{HOME}a", Size=1, Encrypted=True)["VolumeId"]
    ec2.create_snapshot(VolumeId=volume)
    inventory, _ = collect(
        ["ec2_snapshot_not_public", "ec2_snapshot_encrypted"],
        prepare=fail_operation("ec2", "DescribeSnapshotAttribute", "AccessDenied"),
    )
    snapshot = inventory.of_type(Snapshot)[0]
    assert outcome("ec2_snapshot_not_public", snapshot, inventory).status is Status.ERROR
    assert outcome("ec2_snapshot_encrypted", snapshot, inventory).status is Status.PASS


# ---- compute ------------------------------------------------------------------------------


def test_instances_images_and_metadata_options(ec2: Any, network: dict[str, str]) -> None:
    image = ami(ec2)
    ec2.create_key_pair(KeyName="app")
    strict = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, SubnetId=network["subnet"], KeyName="app",
        MetadataOptions={"HttpTokens": "required"},
    )["Instances"][0]["InstanceId"]  # fmt: skip
    loose = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=network["subnet"])["Instances"][
        0
    ]["InstanceId"]
    owned = ec2.create_image(InstanceId=strict, Name="golden")["ImageId"]
    ec2.modify_image_attribute(ImageId=owned, LaunchPermission={"Add": [{"Group": "all"}]})

    inventory, factory = collect(
        ["ec2_instance_imdsv2_required", "ec2_instance_ami_approved", "ec2_image_not_public"]
    )
    instances = {i.instance_id: i for i in inventory.of_type(Instance)}
    assert instances[strict].metadata_http_tokens == "required" and instances[strict].key_name == "app"
    assert instances[loose].metadata_http_tokens == "optional" and instances[loose].key_name is None
    assert instances[strict].image is not None and instances[strict].image.owner_id == ACCOUNT
    assert outcome("ec2_instance_imdsv2_required", instances[loose], inventory).status is Status.FAIL
    assert outcome("ec2_instance_ami_approved", instances[strict], inventory).status is Status.PASS
    images = {i.image_id: i for i in inventory.of_type(Image)}
    assert images[owned].public is True
    assert outcome("ec2_image_not_public", images[owned], inventory).status is Status.FAIL
    assert factory.counter.snapshot()["ec2:DescribeImages"] == 2  # used AMIs in one batch + own AMIs
    assert "ssm:DescribeInstanceInformation" not in factory.counter.snapshot()


def test_instance_on_an_ami_that_is_gone_is_unknown(ec2: Any, network: dict[str, str]) -> None:
    source = ec2.run_instances(ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"])[
        "Instances"
    ][0]
    image = ec2.create_image(InstanceId=source["InstanceId"], Name="short-lived")["ImageId"]
    orphan = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=network["subnet"])[
        "Instances"
    ][0]
    ec2.deregister_image(ImageId=image)
    inventory, _ = collect(["ec2_instance_ami_approved"])
    item = next(i for i in inventory.of_type(Instance) if i.instance_id == orphan["InstanceId"])
    result = outcome("ec2_instance_ami_approved", item, inventory)
    assert result.status is Status.UNKNOWN and image in result.reason


def test_systems_manager_state(ec2: Any, network: dict[str, str]) -> None:
    def launch(tags: dict[str, str]) -> str:
        spec = [
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()] or [{"Key": "n", "Value": "x"}],
            }
        ]
        return str(
            ec2.run_instances(
                ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"], TagSpecifications=spec
            )["Instances"][0]["InstanceId"]
        )

    patched = launch({SSM_TAG: "Online", PATCH_TAG: "days=2"})
    missing = launch({SSM_TAG: "Online", PATCH_TAG: "missing=2,security=1,days=1"})
    never = launch({SSM_TAG: "Online"})
    unmanaged = launch({})
    stopped = launch({})
    ec2.stop_instances(InstanceIds=[stopped])

    inventory, factory = collect(["ec2_instance_ssm_managed", "ec2_instance_patch_compliant"])
    items = {i.instance_id: i for i in inventory.of_type(Instance)}
    assert items[patched].ssm_managed and items[patched].ssm_ping_status == "Online"
    assert items[unmanaged].ssm_managed is False
    assert items[missing].patch_state is not None and items[missing].patch_state.missing_count == 2
    assert items[never].patch_state_present is False

    def status(check: str, instance_id: str) -> Status:
        return outcome(check, items[instance_id], inventory).status

    assert status("ec2_instance_patch_compliant", patched) is Status.PASS
    assert status("ec2_instance_patch_compliant", missing) is Status.FAIL
    assert status("ec2_instance_patch_compliant", never) is Status.FAIL
    assert status("ec2_instance_ssm_managed", unmanaged) is Status.FAIL
    assert status("ec2_instance_ssm_managed", stopped) is Status.NOT_APPLICABLE
    assert status("ec2_instance_patch_compliant", stopped) is Status.NOT_APPLICABLE
    calls = factory.counter.snapshot()
    assert calls["ssm:DescribeInstanceInformation"] == 1 and calls["ssm:DescribeInstancePatchStates"] == 1


def test_systems_manager_denied_is_an_error(ec2: Any, network: dict[str, str]) -> None:
    ec2.run_instances(ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"])
    inventory, _ = collect(
        ["ec2_instance_ssm_managed", "ec2_instance_patch_compliant"],
        prepare=fail_operation("ssm", "DescribeInstanceInformation", "AccessDeniedException"),
    )
    item = inventory.of_type(Instance)[0]
    for check in ("ec2_instance_ssm_managed", "ec2_instance_patch_compliant"):
        result = outcome(check, item, inventory)
        assert result.status is Status.ERROR and result.error_code == "AccessDeniedException"


def test_patch_state_denied_is_an_error_only_for_patching(ec2: Any, network: dict[str, str]) -> None:
    spec = [{"ResourceType": "instance", "Tags": [{"Key": SSM_TAG, "Value": "Online"}]}]
    ec2.run_instances(
        ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"], TagSpecifications=spec
    )
    inventory, _ = collect(
        ["ec2_instance_ssm_managed", "ec2_instance_patch_compliant"],
        prepare=fail_operation("ssm", "DescribeInstancePatchStates", "ThrottlingException"),
    )
    item = inventory.of_type(Instance)[0]
    assert outcome("ec2_instance_ssm_managed", item, inventory).status is Status.PASS
    assert outcome("ec2_instance_patch_compliant", item, inventory).status is Status.ERROR


def test_key_pairs_across_regions(ec2: Any, network: dict[str, str]) -> None:
    ec2.import_key_pair(KeyName="ops", PublicKeyMaterial=DEMO_PUBLIC_KEY.encode())
    shared_session().client("ec2", region_name="eu-west-1").import_key_pair(
        KeyName="ops-eu", PublicKeyMaterial=DEMO_PUBLIC_KEY.encode()
    )
    ec2.create_key_pair(KeyName="solo")
    ec2.run_instances(ImageId=ami(ec2), MinCount=2, MaxCount=2, SubnetId=network["subnet"], KeyName="solo")
    inventory, _ = collect(["ec2_key_pair_not_shared"], regions=[HOME, "eu-west-1"])
    keys = {k.key_name: k for k in inventory.of_type(KeyPair)}
    assert keys["ops"].fingerprint == keys["ops-eu"].fingerprint
    result = outcome("ec2_key_pair_not_shared", keys["ops"], inventory)
    assert result.status is Status.FAIL and result.evidence["regions"] == ["eu-west-1", HOME]
    solo = outcome("ec2_key_pair_not_shared", keys["solo"], inventory)
    assert solo.status is Status.PASS and len(solo.evidence["instances"]) == 2


def test_session_manager_check_reads_the_shared_security_groups(ec2: Any, network: dict[str, str]) -> None:
    group = ec2.create_security_group(GroupName="rdp", Description="x", VpcId=network["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    spec = [{"ResourceType": "instance", "Tags": [{"Key": SSM_TAG, "Value": "Online"}]}]
    ec2.run_instances(
        ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"], SecurityGroupIds=[group],
        TagSpecifications=spec,
    )  # fmt: skip
    inventory, factory = collect(["ec2_instance_no_world_remote_access"])
    item = inventory.of_type(Instance)[0]
    result = outcome("ec2_instance_no_world_remote_access", item, inventory)
    assert result.status is Status.FAIL and group in result.reason and "3389" in result.reason
    calls = factory.counter.snapshot()
    assert calls["ec2:DescribeSecurityGroups"] == 1 and calls["ec2:DescribeInstances"] == 1
    assert "ec2:DescribeNetworkInterfaces" not in calls  # attachments are not needed here


def test_launch_templates_default_version(ec2: Any) -> None:
    ec2.create_launch_template(
        LaunchTemplateName="v1-loose",
        LaunchTemplateData={"BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}]},
    )
    ec2.create_launch_template_version(
        LaunchTemplateName="v1-loose",
        LaunchTemplateData={"MetadataOptions": {"HttpTokens": "required"}},
    )  # version 2 exists but version 1 stays the default
    ec2.create_launch_template(
        LaunchTemplateName="strict",
        LaunchTemplateData={
            "MetadataOptions": {"HttpTokens": "required"},
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True}}],
        },
    )
    inventory, factory = collect(["ec2_launch_template_imdsv2_required", "ec2_launch_template_ebs_encrypted"])
    templates = {t.name: t for t in inventory.of_type(LaunchTemplate)}
    assert templates["v1-loose"].version == 1 and templates["v1-loose"].metadata_http_tokens is None
    assert (
        templates["strict"].ebs_volumes is not None and templates["strict"].ebs_volumes[0].encrypted is True
    )
    assert (
        outcome("ec2_launch_template_imdsv2_required", templates["v1-loose"], inventory).status is Status.FAIL
    )
    assert (
        outcome("ec2_launch_template_ebs_encrypted", templates["v1-loose"], inventory).status is Status.FAIL
    )
    assert (
        outcome("ec2_launch_template_imdsv2_required", templates["strict"], inventory).status is Status.PASS
    )
    calls = factory.counter.snapshot()
    assert calls["ec2:DescribeLaunchTemplateVersions"] == 1  # every template's default version at once
    assert calls["ec2:GetEbsEncryptionByDefault"] == 1  # the region fact the EBS check reads


def test_groups_of_a_secondary_interface_count_for_remote_access(ec2: Any, network: dict[str, str]) -> None:
    """SSH open on a group attached only to a second interface still exposes the instance."""
    closed = ec2.create_security_group(GroupName="closed", Description="x", VpcId=network["vpc"])["GroupId"]
    ssh = ec2.create_security_group(GroupName="ssh", Description="x", VpcId=network["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=ssh,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    spec = [{"ResourceType": "instance", "Tags": [{"Key": SSM_TAG, "Value": "Online"}]}]
    instance = ec2.run_instances(
        ImageId=ami(ec2), MinCount=1, MaxCount=1, SubnetId=network["subnet"], SecurityGroupIds=[closed],
        TagSpecifications=spec,
    )["Instances"][0]["InstanceId"]  # fmt: skip
    second = ec2.create_network_interface(SubnetId=network["subnet"], Groups=[ssh])["NetworkInterface"]
    ec2.attach_network_interface(
        NetworkInterfaceId=second["NetworkInterfaceId"], InstanceId=instance, DeviceIndex=1
    )
    inventory, _ = collect(["ec2_instance_no_world_remote_access"])
    item = inventory.of_type(Instance)[0]
    assert set(item.security_group_ids) == {closed, ssh}
    result = outcome("ec2_instance_no_world_remote_access", item, inventory)
    assert result.status is Status.FAIL and ssh in result.reason


def test_launch_template_without_http_tokens_takes_the_account_default(ec2: Any) -> None:
    """GetInstanceMetadataDefaults: IMDSv2 as the region's account default covers unset templates."""
    ec2.create_launch_template(LaunchTemplateName="unset", LaunchTemplateData={"ImageId": ami(ec2)})
    check = "ec2_launch_template_imdsv2_required"
    inventory, factory = collect([check])
    unset = by_name(inventory.of_type(LaunchTemplate), "unset")
    before = outcome(check, unset, inventory)
    assert before.status is Status.FAIL and "no-preference" in before.reason
    assert factory.counter.snapshot()["ec2:GetInstanceMetadataDefaults"] == 1

    ec2.modify_instance_metadata_defaults(HttpTokens="required")
    inventory, _ = collect([check])
    unset = by_name(inventory.of_type(LaunchTemplate), "unset")
    after = outcome(check, unset, inventory)
    assert after.status is Status.PASS and "account-level default" in after.reason

    denied = fail_operation("ec2", "GetInstanceMetadataDefaults", "UnauthorizedOperation")
    inventory, _ = collect([check], prepare=denied)
    unset = by_name(inventory.of_type(LaunchTemplate), "unset")
    result = outcome(check, unset, inventory)
    assert result.status is Status.ERROR and result.error_code == "UnauthorizedOperation"
