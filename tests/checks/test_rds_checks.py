"""RDS checks on hand-built models: engines, versions, Aurora clusters and the traps between them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, Status, registry
from controlmap.resources.base import CollectionError, SourceKind, SourceRef
from controlmap.resources.ec2 import SecurityGroup, SgRule
from controlmap.resources.rds import (
    DBCluster,
    DBClusterParameterGroup,
    DBClusterSnapshot,
    DBInstance,
    DBParameterGroup,
    DBSnapshot,
    engine_family,
)
from controlmap.settings import Settings

ACCOUNT = "111122223333"
REGION = "eu-west-1"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


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


def db(engine: str = "postgres", version: str = "16.3", **kw: Any) -> DBInstance:
    ident = kw.pop("identifier", "db-1")
    return DBInstance(
        id=f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{ident}",
        name=ident,
        account_id=ACCOUNT,
        region=REGION,
        identifier=ident,
        engine=engine,
        engine_version=version,
        **kw,
    )


def cluster(engine: str = "aurora-postgresql", version: str = "15.4", **kw: Any) -> DBCluster:
    return DBCluster(
        id=f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:c-1",
        name="c-1",
        account_id=ACCOUNT,
        region=REGION,
        identifier="c-1",
        engine=engine,
        engine_version=version,
        **kw,
    )


def pg(
    name: str, cluster_group: bool = False, **parameters: str
) -> DBParameterGroup | DBClusterParameterGroup:
    model = DBClusterParameterGroup if cluster_group else DBParameterGroup
    return model(
        id=f"arn:aws:rds:{REGION}:{ACCOUNT}:pg:{name}",
        name=name,
        account_id=ACCOUNT,
        region=REGION,
        group_name=name,
        parameters=dict(parameters),
    )


def force_ssl(value: str) -> dict[str, str]:
    return {"rds.force_ssl": value}


# ---- RDS-01 -------------------------------------------------------------------------------


class TestEncryption:
    def test_instance(self) -> None:
        assert run("rds_instance_storage_encrypted", db(storage_encrypted=True)).status is Status.PASS
        out = run("rds_instance_storage_encrypted", db(storage_encrypted=False))
        assert out.status is Status.FAIL and "cannot be switched on in place" in out.reason

    def test_aurora_member_defers_to_cluster(self) -> None:
        out = run(
            "rds_instance_storage_encrypted", db("aurora-mysql", cluster_id="c-1", storage_encrypted=False)
        )
        assert out.status is Status.NOT_APPLICABLE and "c-1" in out.reason

    def test_cluster(self) -> None:
        assert run("rds_cluster_storage_encrypted", cluster(storage_encrypted=False)).status is Status.FAIL
        assert run("rds_cluster_storage_encrypted", cluster(storage_encrypted=True)).status is Status.PASS

    def test_unknown_in_template(self) -> None:
        out = run(
            "rds_instance_storage_encrypted",
            db(source=SourceRef(kind=SourceKind.CLOUDFORMATION, file="t.yaml")),
        )
        assert out.status is Status.UNKNOWN

    @pytest.mark.parametrize("model", [DBSnapshot, DBClusterSnapshot])
    def test_snapshots(self, model: type[DBSnapshot] | type[DBClusterSnapshot]) -> None:
        prefix = "rds_snapshot" if model is DBSnapshot else "rds_cluster_snapshot"
        bad = model(id="s", name="s", identifier="s", encrypted=False, public=True, shared_with=[])
        assert run(f"{prefix}_encrypted", bad).status is Status.FAIL
        out = run(f"{prefix}_not_public", bad)
        assert out.status is Status.FAIL and "'all'" in out.reason
        good = model(
            id="g", name="g", identifier="g", encrypted=True, public=False, shared_with=["444455556666"]
        )
        assert run(f"{prefix}_encrypted", good).status is Status.PASS
        out = run(f"{prefix}_not_public", good)
        assert out.status is Status.PASS and "444455556666" in out.reason

    def test_snapshot_attribute_error(self) -> None:
        snap = DBSnapshot(id="s", name="s", identifier="s", encrypted=True)
        snap.mark_error(
            "public",
            CollectionError(service="rds", operation="DescribeDBSnapshotAttributes", code="AccessDenied"),
        )
        out = run("rds_snapshot_not_public", snap)
        assert out.status is Status.ERROR and out.error_code == "AccessDenied"


# ---- RDS-02 -------------------------------------------------------------------------------


class TestTls:
    check = "rds_instance_tls_enforced"

    def test_postgres_custom_group_sets_force_ssl(self) -> None:
        out = run(self.check, db(parameter_groups=["tls"]), pg("tls", **force_ssl("1")))
        assert out.status is Status.PASS and "set in DB parameter group tls" in out.reason

    def test_postgres_custom_group_turns_it_off(self) -> None:
        out = run(self.check, db(version="16.3", parameter_groups=["loose"]), pg("loose", **force_ssl("0")))
        assert out.status is Status.FAIL and "rds.force_ssl=0" in out.reason

    @pytest.mark.parametrize(
        ("version", "status"),
        [("14.10", Status.FAIL), ("15.2", Status.PASS), ("16.3", Status.PASS), ("13.14", Status.FAIL)],
    )
    def test_postgres_default_depends_on_version(self, version: str, status: Status) -> None:
        out = run(self.check, db(version=version, parameter_groups=["default.x"]), pg("default.x"))
        assert out.status is status
        assert "engine default" in out.reason

    @pytest.mark.parametrize(
        ("engine", "version", "group_value", "status"),
        [
            ("mysql", "8.0.35", None, Status.FAIL),
            ("mysql", "8.0.35", "ON", Status.PASS),
            ("mysql", "8.0.35", "1", Status.PASS),
            ("mysql", "8.4.3", None, Status.FAIL),
            ("mariadb", "10.11.6", None, Status.FAIL),
            ("mariadb", "11.8.1", None, Status.PASS),
            ("mariadb", "10.6.16", "OFF", Status.FAIL),
        ],
    )
    def test_mysql_family(self, engine: str, version: str, group_value: str | None, status: Status) -> None:
        params = {"require_secure_transport": group_value} if group_value else {}
        out = run(self.check, db(engine, version, parameter_groups=["g"]), pg("g", **params))
        assert out.status is status
        assert "require_secure_transport" in out.reason

    def test_sql_server_uses_force_ssl(self) -> None:
        out = run(self.check, db("sqlserver-se", "15.00", parameter_groups=["g"]), pg("g"))
        assert out.status is Status.FAIL and "rds.force_ssl=0" in out.reason
        out = run(self.check, db("sqlserver-se", "15.00", parameter_groups=["g"]), pg("g", **force_ssl("1")))
        assert out.status is Status.PASS

    def test_oracle_is_manual(self) -> None:
        out = run(self.check, db("oracle-ee", "19.0", parameter_groups=["g"]), pg("g"))
        assert out.status is Status.MANUAL and "option group" in out.reason

    def test_old_mariadb_cannot_be_decided(self) -> None:
        out = run(self.check, db("mariadb", "10.4.30", parameter_groups=["g"]), pg("g"))
        assert out.status is Status.MANUAL and "10.5" in out.reason

    def test_aurora_instance_defers_to_cluster(self) -> None:
        out = run(
            self.check, db("aurora-postgresql", "15.4", cluster_id="c-1", parameter_groups=["g"]), pg("g")
        )
        assert out.status is Status.NOT_APPLICABLE and "cluster parameter group" in out.reason

    def test_aurora_cluster_reads_cluster_group_not_instance_group(self) -> None:
        # The instance-level group sets force_ssl=1, but Aurora reads the cluster group (default 0).
        item = cluster(cluster_parameter_group="cpg")
        out = run(
            "rds_cluster_tls_enforced",
            item,
            pg("cpg", cluster_group=True),
            pg("cpg", **force_ssl("1")),  # same name, but a DB parameter group
        )
        assert out.status is Status.FAIL and "cluster parameter group cpg" in out.reason
        out = run("rds_cluster_tls_enforced", item, pg("cpg", cluster_group=True, **force_ssl("1")))
        assert out.status is Status.PASS

    def test_aurora_mysql_cluster(self) -> None:
        item = cluster("aurora-mysql", "8.0.mysql_aurora.3.05.2", cluster_parameter_group="cpg")
        params = {"require_secure_transport": "ON"}
        assert run("rds_cluster_tls_enforced", item, pg("cpg", True, **params)).status is Status.PASS
        assert run("rds_cluster_tls_enforced", item, pg("cpg", True)).status is Status.FAIL

    def test_group_not_applied_until_reboot_is_not_enforcement(self) -> None:
        """SQL Server's rds.force_ssl is static, and a newly attached group waits for a reboot."""
        pending = db("sqlserver-se", "15.00", parameter_groups=["g"], parameter_apply_status="pending-reboot")
        out = run(self.check, pending, pg("g", **force_ssl("1")))
        assert out.status is Status.FAIL and "pending-reboot" in out.reason and "reboot" in out.reason
        assert out.evidence["pending_reboot"] is True
        in_sync = pending.model_copy(update={"parameter_apply_status": "in-sync"})
        assert run(self.check, in_sync, pg("g", **force_ssl("1"))).status is Status.PASS
        # Off and pending: still the plain failure (turning it on is the fix).
        out = run(self.check, pending, pg("g", **force_ssl("0")))
        assert out.status is Status.FAIL and "rds.force_ssl=0" in out.reason
        # A template declares no apply status: judged on the group alone.
        assert (
            run(
                self.check,
                pending.model_copy(update={"parameter_apply_status": None}),
                pg("g", **force_ssl("1")),
            ).status
            is Status.PASS
        )

    def test_cluster_members_pending_reboot(self) -> None:
        item = cluster(
            cluster_parameter_group="cpg",
            members=["c-1-a", "c-1-b"],
            member_parameter_status={"c-1-a": "in-sync", "c-1-b": "pending-reboot"},
        )
        out = run("rds_cluster_tls_enforced", item, pg("cpg", True, **force_ssl("1")))
        assert out.status is Status.FAIL and "c-1-b" in out.reason and "c-1-a" not in out.reason
        synced = item.model_copy(update={"member_parameter_status": {"c-1-a": "in-sync", "c-1-b": "in-sync"}})
        assert (
            run("rds_cluster_tls_enforced", synced, pg("cpg", True, **force_ssl("1"))).status is Status.PASS
        )

    def test_group_not_collected_is_unknown(self) -> None:
        out = run(self.check, db(parameter_groups=["missing"]))
        assert out.status is Status.UNKNOWN and "missing" in out.reason

    def test_group_read_failure_is_error(self) -> None:
        group = pg("g")
        group.parameters = None
        group.mark_error(
            "parameters",
            CollectionError(service="rds", operation="DescribeDBParameters", code="DBParameterGroupNotFound"),
        )
        out = run(self.check, db(parameter_groups=["g"]), group)
        assert out.status is Status.ERROR and out.error_code == "DBParameterGroupNotFound"

    def test_group_in_another_region_is_not_used(self) -> None:
        other = pg("g", **force_ssl("1"))
        other.region = "us-east-1"
        assert run(self.check, db(parameter_groups=["g"]), other).status is Status.UNKNOWN


def test_engine_family() -> None:
    assert engine_family("sqlserver-ee") == "sqlserver"
    assert engine_family("oracle-se2-cdb") == "oracle"
    assert engine_family("custom-oracle-ee") == "custom"
    assert engine_family("aurora-mysql") == "aurora-mysql"


# ---- RDS-03 / RDS-04 ----------------------------------------------------------------------


def group(group_id: str, *rules: SgRule) -> SecurityGroup:
    return SecurityGroup(
        id=f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group_id}",
        name=group_id,
        account_id=ACCOUNT,
        region=REGION,
        group_id=group_id,
        ingress=list(rules),
        egress=[],
    )


def tcp(port: int, **sources: Any) -> SgRule:
    return SgRule(protocol="tcp", from_port=port, to_port=port, **sources)


class TestNetwork:
    check = "rds_instance_security_groups_restricted"

    def test_public_flag(self) -> None:
        assert run("rds_instance_not_publicly_accessible", db(publicly_accessible=True)).status is Status.FAIL
        assert (
            run("rds_instance_not_publicly_accessible", db(publicly_accessible=False)).status is Status.PASS
        )

    def test_application_group_and_private_range_pass(self) -> None:
        sg = group("sg-db", tcp(5432, source_groups=["sg-app"]), tcp(5432, ipv4_ranges=["10.1.0.0/16"]))
        out = run(self.check, db(vpc_security_group_ids=["sg-db"], port=5432), sg)
        assert out.status is Status.PASS

    def test_world_on_the_database_port_fails(self) -> None:
        sg = group("sg-db", tcp(5432, ipv4_ranges=["0.0.0.0/0"]))
        out = run(self.check, db(vpc_security_group_ids=["sg-db"], port=5432), sg)
        assert out.status is Status.FAIL and out.evidence["offending"][0]["world"] is True

    def test_specific_public_address_fails(self) -> None:
        sg = group("sg-db", tcp(5432, ipv4_ranges=["203.0.113.10/32"]))
        out = run(self.check, db(vpc_security_group_ids=["sg-db"], port=5432), sg)
        assert out.status is Status.FAIL and "203.0.113.10/32" in out.reason

    def test_allowed_cidrs_are_configurable(self) -> None:
        sg = group("sg-db", tcp(5432, ipv4_ranges=["203.0.113.10/32"]))
        settings = {"rds": {"allowed_cidrs": ["10.0.0.0/8", "203.0.113.0/24"]}}
        out = run(self.check, db(vpc_security_group_ids=["sg-db"], port=5432), sg, settings=settings)
        assert out.status is Status.PASS

    def test_rule_for_another_port_does_not_reach_the_database(self) -> None:
        sg = group("sg-db", tcp(443, ipv4_ranges=["0.0.0.0/0"]), tcp(5432, source_groups=["sg-app"]))
        assert run(self.check, db(vpc_security_group_ids=["sg-db"], port=5432), sg).status is Status.PASS

    def test_all_traffic_rule_reaches_the_port(self) -> None:
        sg = group("sg-db", SgRule(protocol="-1", ipv6_ranges=["::/0"]))
        assert run(self.check, db(vpc_security_group_ids=["sg-db"], port=3306), sg).status is Status.FAIL

    def test_prefix_list_noted(self) -> None:
        sg = group("sg-db", tcp(5432, prefix_lists=["pl-123"]))
        out = run(self.check, db(vpc_security_group_ids=["sg-db"], port=5432), sg)
        assert out.status is Status.PASS and "pl-123" in out.reason

    def test_group_not_collected(self) -> None:
        out = run(self.check, db(vpc_security_group_ids=["sg-gone"], port=5432))
        assert out.status is Status.UNKNOWN and "sg-gone" in out.reason


# ---- RDS-05 / RDS-06 / RDS-07 -------------------------------------------------------------


class TestBackups:
    def test_retention(self) -> None:
        check = "rds_instance_backup_retention"
        out = run(check, db(backup_retention_days=0))
        assert out.status is Status.FAIL and "disabled" in out.reason
        out = run(check, db(backup_retention_days=1))
        assert out.status is Status.FAIL and "below" in out.reason  # above zero is not enough
        assert run(check, db(backup_retention_days=7)).status is Status.PASS
        out = run(check, db(backup_retention_days=7), settings={"rds": {"min_backup_retention_days": 14}})
        assert out.status is Status.FAIL

    def test_replica_and_member(self) -> None:
        check = "rds_instance_backup_retention"
        out = run(check, db(backup_retention_days=0, replica_source="db-primary"))
        assert out.status is Status.NOT_APPLICABLE and "db-primary" in out.reason
        assert run(check, db(cluster_id="c-1", backup_retention_days=1)).status is Status.NOT_APPLICABLE

    def test_cluster(self) -> None:
        assert run("rds_cluster_backup_retention", cluster(backup_retention_days=1)).status is Status.FAIL
        assert run("rds_cluster_backup_retention", cluster(backup_retention_days=35)).status is Status.PASS

    def test_invalid_setting_rejected(self) -> None:
        with pytest.raises(ValueError):
            run(
                "rds_cluster_backup_retention",
                cluster(backup_retention_days=7),
                settings={"rds": {"min_backup_retention_days": 0}},
            )


class TestLogs:
    def test_postgres(self) -> None:
        check = "rds_instance_log_exports"
        assert run(check, db(log_exports=["postgresql"])).status is Status.PASS
        out = run(check, db(log_exports=[]))
        assert out.status is Status.FAIL and "postgresql" in out.reason

    def test_mysql_needs_audit_error_slowquery(self) -> None:
        out = run("rds_instance_log_exports", db("mysql", "8.0.35", log_exports=["error", "general"]))
        assert out.status is Status.FAIL and out.evidence["missing"] == ["audit", "slowquery"]
        assert "MARIADB_AUDIT_PLUGIN" in out.reason

    def test_sqlserver_and_oracle_have_their_own_logs(self) -> None:
        assert (
            run("rds_instance_log_exports", db("sqlserver-ex", "15.0", log_exports=["agent", "error"])).status
            is Status.PASS
        )
        out = run("rds_instance_log_exports", db("oracle-se2", "19.0", log_exports=["alert"]))
        assert out.status is Status.FAIL and out.evidence["missing"] == ["audit", "listener"]

    def test_configured_requirement_ignores_unsupported_types(self) -> None:
        settings = {"rds": {"required_log_exports": {"postgres": ["postgresql", "audit"]}}}
        out = run("rds_instance_log_exports", db(log_exports=["postgresql"]), settings=settings)
        assert out.status is Status.PASS and out.evidence["ignored_unsupported"] == ["audit"]

    def test_aurora(self) -> None:
        assert (
            run("rds_instance_log_exports", db("aurora-mysql", cluster_id="c")).status
            is Status.NOT_APPLICABLE
        )
        item = cluster("aurora-mysql", "8.0", log_exports=["audit", "error", "slowquery"])
        assert run("rds_cluster_log_exports", item).status is Status.PASS

    def test_unknown_engine_is_manual(self) -> None:
        assert run("rds_instance_log_exports", db("somedb", "1", log_exports=[])).status is Status.MANUAL


class TestIamAuth:
    @pytest.mark.parametrize("engine", ["oracle-ee", "sqlserver-se", "db2-se"])
    def test_unsupported_engines_not_applicable(self, engine: str) -> None:
        out = run("rds_instance_iam_auth_enabled", db(engine, "1", iam_auth_enabled=False))
        assert out.status is Status.NOT_APPLICABLE

    @pytest.mark.parametrize("engine", ["mysql", "postgres", "mariadb"])
    def test_supported_engines(self, engine: str) -> None:
        assert run("rds_instance_iam_auth_enabled", db(engine, iam_auth_enabled=False)).status is Status.FAIL
        assert run("rds_instance_iam_auth_enabled", db(engine, iam_auth_enabled=True)).status is Status.PASS

    @pytest.mark.parametrize(
        ("version", "status"),
        [("10.4.34", Status.NOT_APPLICABLE), ("10.6.18", Status.NOT_APPLICABLE), ("10.11.8", Status.FAIL),
         ("11.4.3", Status.FAIL), ("11.8.1", Status.FAIL)],
    )  # fmt: skip
    def test_mariadb_supports_it_from_10_11(self, version: str, status: Status) -> None:
        out = run("rds_instance_iam_auth_enabled", db("mariadb", version, iam_auth_enabled=False))
        assert out.status is status
        if status is Status.NOT_APPLICABLE:
            assert "10.11" in out.reason and "upgrade" in out.reason

    def test_cluster(self) -> None:
        assert run("rds_cluster_iam_auth_enabled", cluster(iam_auth_enabled=False)).status is Status.FAIL
        assert (
            run("rds_instance_iam_auth_enabled", db("aurora-postgresql", cluster_id="c")).status
            is Status.NOT_APPLICABLE
        )


def test_settings_file_errors_name_file_and_line(tmp_path: Any) -> None:
    from controlmap.settings import load_settings
    from controlmap.yamlfile import FileError

    path = tmp_path / "controlmap.yaml"
    path.write_text(
        "ec2:\n  restricted_ports: [22, ssh]\n  remote_access_ports: [70000]\n"
        "rds:\n  min_backup_retention_days: 0\n  allowed_cidrs: [10.0.0.0/8, 10.0.0/33]\n"
    )
    with pytest.raises(FileError) as caught:
        load_settings(path)
    lines = {(p.line, p.message.split(":")[0]) for p in caught.value.problems}
    assert lines == {
        (2, "ec2.restricted_ports[1]"),  # list positions print as [1]
        (3, "ec2.remote_access_ports"),
        (5, "rds.min_backup_retention_days"),
        (6, "rds.allowed_cidrs"),
    }
    messages = " ".join(p.message for p in caught.value.problems)
    assert "70000" in messages and "10.0.0/33" in messages
