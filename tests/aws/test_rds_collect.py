"""RDS collector against moto in server mode: instances, clusters, snapshots, parameter groups."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, Status, registry
from controlmap.demo.server import LocalAws
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.ec2 import SecurityGroup
from controlmap.resources.rds import (
    DBCluster,
    DBClusterParameterGroup,
    DBClusterSnapshot,
    DBInstance,
    DBParameterGroup,
    DBSnapshot,
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


RDS_CHECKS = sorted(c for c in registry() if c.startswith("rds_"))


def collect(
    check_ids: Sequence[str], prepare: Callable[[ClientFactory], None] | None = None
) -> tuple[Inventory, ClientFactory, list[str]]:
    chosen, facts = plan_collectors([registry()[c] for c in check_ids])
    factory = ClientFactory(shared_session())
    if prepare is not None:
        prepare(factory)
    inventory = Inventory()
    account = AwsAccount(id="a", name=ACCOUNT, account_id=ACCOUNT)
    region = AwsRegion(id="r", name=HOME, account_id=ACCOUNT, region=HOME)
    inventory.add(account)
    inventory.add(region)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for spec in chosen:
            spec.func(
                CollectContext(
                    factory,
                    ACCOUNT,
                    HOME,
                    [HOME],
                    inventory,
                    account,
                    {HOME: region},
                    Settings(),
                    pool,
                    facts,
                )
            )
    return inventory, factory, [c.name for c in chosen]


def outcome(check_id: str, resource: Any, inventory: Inventory) -> Outcome:
    try:
        result = registry()[check_id].func(resource, CheckContext(inventory=inventory, settings=Settings()))
    except FactUnavailable as missing:
        return missing.outcome
    assert isinstance(result, Outcome)
    return result


@pytest.fixture(autouse=True)
def no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Security groups are read through EC2; moto's bundled AMIs only slow that down."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def rds(aws: LocalAws) -> Any:
    return shared_session().client("rds", region_name=HOME)


def create(rds: Any, identifier: str, **kw: Any) -> None:
    kw.setdefault("DBInstanceClass", "db.t3.micro")
    kw.setdefault("AllocatedStorage", 20)
    kw.setdefault("MasterUsername", "admin")
    kw.setdefault("MasterUserPassword", "not-a-real-secret-1")
    rds.create_db_instance(DBInstanceIdentifier=identifier, **kw)


def test_instances_and_their_tls_parameter_group(rds: Any) -> None:
    rds.create_db_parameter_group(
        DBParameterGroupName="pg-tls", DBParameterGroupFamily="postgres14", Description="x"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="pg-tls",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
    )
    create(rds, "pg14-tls", Engine="postgres", EngineVersion="14.10", DBParameterGroupName="pg-tls",
           StorageEncrypted=True, BackupRetentionPeriod=10, EnableCloudwatchLogsExports=["postgresql"],
           EnableIAMDatabaseAuthentication=True)  # fmt: skip
    create(rds, "pg14-default", Engine="postgres", EngineVersion="14.10")
    create(rds, "pg15-default", Engine="postgres", EngineVersion="15.5")
    create(
        rds,
        "my-public",
        Engine="mysql",
        EngineVersion="8.0.35",
        PubliclyAccessible=True,
        BackupRetentionPeriod=0,
    )

    inventory, factory, collectors = collect(RDS_CHECKS)
    assert "rds" in collectors and "ec2-network" in collectors  # RDS-04 reads the EC2 security groups
    dbs = {d.identifier: d for d in inventory.of_type(DBInstance)}
    good = dbs["pg14-tls"]
    assert good.storage_encrypted and good.backup_retention_days == 10 and good.iam_auth_enabled
    assert good.log_exports == ["postgresql"] and good.port == 5432 and good.parameter_groups == ["pg-tls"]
    groups = {g.group_name: g for g in inventory.of_type(DBParameterGroup)}
    assert groups["pg-tls"].parameters == {"rds.force_ssl": "1"}

    def status(check: str, identifier: str) -> Status:
        return outcome(check, dbs[identifier], inventory).status

    assert status("rds_instance_tls_enforced", "pg14-tls") is Status.PASS
    assert status("rds_instance_tls_enforced", "pg14-default") is Status.FAIL  # default 0 before 15
    assert status("rds_instance_tls_enforced", "pg15-default") is Status.PASS  # default 1 from 15
    assert status("rds_instance_tls_enforced", "my-public") is Status.FAIL
    assert status("rds_instance_not_publicly_accessible", "my-public") is Status.FAIL
    assert status("rds_instance_backup_retention", "my-public") is Status.FAIL
    assert status("rds_instance_log_exports", "pg14-tls") is Status.PASS
    calls = factory.counter.snapshot()
    # one parameter listing per group in use, however many instances share it
    assert calls["rds:DescribeDBParameters"] == len(groups) == 4


def test_security_groups_come_from_the_ec2_inventory(rds: Any) -> None:
    ec2 = shared_session().client("ec2", region_name=HOME)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    app = ec2.create_security_group(GroupName="app", Description="x", VpcId=vpc)["GroupId"]
    private = ec2.create_security_group(GroupName="db-private", Description="x", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=private,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": app}]}
        ],
    )
    public = ec2.create_security_group(GroupName="db-public", Description="x", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=public,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "IpRanges": [{"CidrIp": "198.51.100.0/24"}],
            }
        ],
    )
    create(rds, "inside", Engine="mysql", EngineVersion="8.0.35", VpcSecurityGroupIds=[private])
    create(rds, "outside", Engine="mysql", EngineVersion="8.0.35", VpcSecurityGroupIds=[public])
    inventory, factory, _ = collect(["rds_instance_security_groups_restricted"])
    dbs = {d.identifier: d for d in inventory.of_type(DBInstance)}
    assert outcome("rds_instance_security_groups_restricted", dbs["inside"], inventory).status is Status.PASS
    result = outcome("rds_instance_security_groups_restricted", dbs["outside"], inventory)
    assert result.status is Status.FAIL and "198.51.100.0/24" in result.reason
    assert len(inventory.of_type(SecurityGroup)) >= 3
    calls = factory.counter.snapshot()
    assert "ec2:DescribeNetworkInterfaces" not in calls and "rds:DescribeDBParameters" not in calls


def test_aurora_cluster_reads_the_cluster_parameter_group(rds: Any) -> None:
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="aurora-tls",
        DBParameterGroupFamily="aurora-postgresql15",
        Description="x",
    )
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName="aurora-tls",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
    )
    rds.create_db_cluster(
        DBClusterIdentifier="orders",
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1",
        DBClusterParameterGroupName="aurora-tls",
        StorageEncrypted=True,
        BackupRetentionPeriod=7,
        EnableIAMDatabaseAuthentication=True,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="orders-1", DBClusterIdentifier="orders", Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )  # fmt: skip
    inventory, _, _ = collect(RDS_CHECKS)
    item = inventory.of_type(DBCluster)[0]
    assert item.cluster_parameter_group == "aurora-tls" and item.members == ["orders-1"]
    groups = inventory.of_type(DBClusterParameterGroup)
    assert [g.parameters for g in groups] == [{"rds.force_ssl": "1"}]
    assert outcome("rds_cluster_tls_enforced", item, inventory).status is Status.PASS
    assert outcome("rds_cluster_iam_auth_enabled", item, inventory).status is Status.PASS
    member = inventory.of_type(DBInstance)[0]
    assert member.cluster_id == "orders"
    for check in (
        "rds_instance_tls_enforced",
        "rds_instance_storage_encrypted",
        "rds_instance_backup_retention",
    ):
        assert outcome(check, member, inventory).status is Status.NOT_APPLICABLE


def test_snapshots_public_and_encrypted(rds: Any) -> None:
    create(rds, "src", Engine="postgres", EngineVersion="16.3", StorageEncrypted=False)
    rds.create_db_snapshot(DBSnapshotIdentifier="open", DBInstanceIdentifier="src")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="open", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_snapshot(DBSnapshotIdentifier="shared", DBInstanceIdentifier="src")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="shared", AttributeName="restore", ValuesToAdd=["444455556666"]
    )
    rds.create_db_cluster(
        DBClusterIdentifier="c", Engine="aurora-mysql", MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1", StorageEncrypted=True,
    )  # fmt: skip
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="cs", DBClusterIdentifier="c")
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="cs", AttributeName="restore", ValuesToAdd=["all"]
    )

    checks = [
        "rds_snapshot_not_public",
        "rds_snapshot_encrypted",
        "rds_cluster_snapshot_not_public",
        "rds_cluster_snapshot_encrypted",
    ]
    inventory, factory, _ = collect(checks)
    snaps = {s.identifier: s for s in inventory.of_type(DBSnapshot)}
    assert set(snaps) == {"open", "shared"}  # manual snapshots only
    assert snaps["open"].public is True and snaps["shared"].public is False
    assert snaps["shared"].shared_with == ["444455556666"]
    assert outcome("rds_snapshot_not_public", snaps["open"], inventory).status is Status.FAIL
    assert outcome("rds_snapshot_encrypted", snaps["open"], inventory).status is Status.FAIL
    cluster_snap = inventory.of_type(DBClusterSnapshot)[0]
    assert cluster_snap.public is True and cluster_snap.encrypted is True
    assert outcome("rds_cluster_snapshot_not_public", cluster_snap, inventory).status is Status.FAIL
    calls = factory.counter.snapshot()
    assert (
        calls["rds:DescribeDBSnapshotAttributes"] == 2
        and calls["rds:DescribeDBClusterSnapshotAttributes"] == 1
    )
    assert "ec2:DescribeSecurityGroups" not in calls


def test_parameter_group_failure_is_an_error_for_tls_only(rds: Any) -> None:
    create(rds, "pg", Engine="postgres", EngineVersion="16.3", StorageEncrypted=True)

    def prepare(factory: ClientFactory) -> None:
        client = factory.client("rds", HOME)

        def boom(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeDBParameters")

        client.meta.events.register("before-call.rds.DescribeDBParameters", boom)

    inventory, _, _ = collect(
        ["rds_instance_tls_enforced", "rds_instance_storage_encrypted"], prepare=prepare
    )
    item = inventory.of_type(DBInstance)[0]
    result = outcome("rds_instance_tls_enforced", item, inventory)
    assert result.status is Status.ERROR and result.error_code == "AccessDenied"
    assert outcome("rds_instance_storage_encrypted", item, inventory).status is Status.PASS


def test_neptune_and_documentdb_are_not_rds(rds: Any) -> None:
    rds.create_db_cluster(DBClusterIdentifier="graph", Engine="neptune", MasterUsername="admin",
                          MasterUserPassword="not-a-real-secret-1")  # fmt: skip
    create(rds, "real", Engine="mariadb", EngineVersion="10.11.6")
    inventory, _, _ = collect(RDS_CHECKS)
    assert [c.identifier for c in inventory.of_type(DBCluster)] == []
    assert [d.identifier for d in inventory.of_type(DBInstance)] == ["real"]


def test_listing_failure_recorded_against_the_type(aws: LocalAws) -> None:
    def prepare(factory: ClientFactory) -> None:
        client = factory.client("rds", HOME)

        def boom(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeDBInstances")

        client.meta.events.register("before-call.rds.DescribeDBInstances", boom)

    inventory, _, _ = collect(["rds_instance_storage_encrypted"], prepare=prepare)
    assert [e.code for e in inventory.errors if DBInstance.resource_type in e.resource_types] == [
        "AccessDenied"
    ]


def test_parameter_apply_status_is_read(rds: Any) -> None:
    """A group waiting for a reboot (ParameterApplyStatus / DBClusterParameterGroupStatus) is seen."""
    rds.create_db_parameter_group(
        DBParameterGroupName="ss-tls", DBParameterGroupFamily="sqlserver-se-15.0", Description="x"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="ss-tls",
        Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "pending-reboot"}
        ],
    )
    for name in ("ss-waiting", "ss-applied"):
        create(rds, name, Engine="sqlserver-se", EngineVersion="15.00", DBParameterGroupName="ss-tls",
               LicenseModel="license-included")  # fmt: skip
    rds.create_db_cluster(
        DBClusterIdentifier="au", Engine="aurora-mysql", MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1", StorageEncrypted=True,
    )  # fmt: skip
    rds.create_db_instance(
        DBInstanceIdentifier="au-1",
        DBClusterIdentifier="au",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.large",
    )

    def prepare(factory: ClientFactory) -> None:
        """moto always answers in-sync; AWS says pending-reboot until the instance reboots."""
        client = factory.client("rds", HOME)

        def waiting(parsed: dict[str, Any], **_: Any) -> None:
            for item in parsed.get("DBInstances", []):
                if item["DBInstanceIdentifier"] == "ss-waiting":
                    for group in item["DBParameterGroups"]:
                        group["ParameterApplyStatus"] = "pending-reboot"
            for item in parsed.get("DBClusters", []):
                for member in item.get("DBClusterMembers", []):
                    member["DBClusterParameterGroupStatus"] = "pending-reboot"

        client.meta.events.register("after-call.rds.DescribeDBInstances", waiting)
        client.meta.events.register("after-call.rds.DescribeDBClusters", waiting)

    inventory, _, _ = collect(["rds_instance_tls_enforced", "rds_cluster_tls_enforced"], prepare=prepare)
    dbs = {d.identifier: d for d in inventory.of_type(DBInstance)}
    assert dbs["ss-waiting"].parameter_apply_status == "pending-reboot"
    assert dbs["ss-applied"].parameter_apply_status == "in-sync"
    waiting = outcome("rds_instance_tls_enforced", dbs["ss-waiting"], inventory)
    assert waiting.status is Status.FAIL and "pending-reboot" in waiting.reason
    assert outcome("rds_instance_tls_enforced", dbs["ss-applied"], inventory).status is Status.PASS
    aurora = inventory.of_type(DBCluster)[0]
    assert aurora.member_parameter_status == {"au-1": "pending-reboot"}
