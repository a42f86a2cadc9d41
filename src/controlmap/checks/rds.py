"""RDS checks (RDS-01 … RDS-07) for DB instances, Aurora / Multi-AZ DB clusters and their snapshots.

Where a cluster owns a setting (storage encryption, backups, log exports, IAM authentication, the
TLS parameter in the *cluster* parameter group) the member instances report NOT_APPLICABLE and
name the cluster, so one misconfiguration is one finding. Engine differences are tables here:
which parameter forces TLS and its default by version, which logs an engine can export, which
engines support IAM database authentication.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    check,
    failed,
    manual,
    need,
    not_applicable,
    passed,
    stop_if_unknown,
    unavailable,
    unknown,
)
from controlmap.resources.ec2 import SecurityGroup, is_world
from controlmap.resources.rds import (
    DBCluster,
    DBClusterParameterGroup,
    DBClusterSnapshot,
    DBInstance,
    DBParameterGroup,
    DBSnapshot,
    _Database,
    _DbSnapshot,
    _ParameterGroup,
    engine_family,
    tls_parameter,
)
from controlmap.settings import register_section

# Log types each engine family can export to CloudWatch Logs (EnabledCloudwatchLogsExports).
SUPPORTED_LOG_EXPORTS: dict[str, frozenset[str]] = {
    "mysql": frozenset({"audit", "error", "general", "slowquery", "iam-db-auth-error"}),
    "mariadb": frozenset({"audit", "error", "general", "slowquery", "iam-db-auth-error"}),
    "aurora-mysql": frozenset({"audit", "error", "general", "slowquery", "instance", "iam-db-auth-error"}),
    "aurora": frozenset({"audit", "error", "general", "slowquery"}),
    "postgres": frozenset({"postgresql", "upgrade", "iam-db-auth-error"}),
    "aurora-postgresql": frozenset({"postgresql", "instance", "iam-db-auth-error"}),
    "sqlserver": frozenset({"agent", "error"}),
    "oracle": frozenset({"alert", "audit", "listener", "trace", "oemagent"}),
    "db2": frozenset({"diag.log", "notify.log"}),
}

DEFAULT_REQUIRED_LOGS: dict[str, list[str]] = {
    "mysql": ["audit", "error", "slowquery"],
    "mariadb": ["audit", "error", "slowquery"],
    "aurora-mysql": ["audit", "error", "slowquery"],
    "aurora": ["audit", "error", "slowquery"],
    "postgres": ["postgresql"],
    "aurora-postgresql": ["postgresql"],
    "sqlserver": ["agent", "error"],
    "oracle": ["alert", "audit", "listener"],
    "db2": ["diag.log"],
}

IAM_AUTH_ENGINES = frozenset({"mysql", "mariadb", "postgres", "aurora-mysql", "aurora-postgresql", "aurora"})

PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]


class RdsSettings(BaseModel):
    """``rds:`` section of controlmap.yaml."""

    model_config = ConfigDict(extra="forbid")

    min_backup_retention_days: int = Field(default=7, ge=1, le=35)
    # Engine family -> log types that must be exported (mysql, postgres, sqlserver, oracle, …).
    required_log_exports: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_REQUIRED_LOGS))
    # Source ranges a database security group may admit besides security groups (private by default).
    allowed_cidrs: list[str] = Field(default_factory=lambda: list(PRIVATE_RANGES))

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not an IPv4 or IPv6 CIDR block") from None
        return value


register_section("rds", RdsSettings)


def settings(ctx: CheckContext) -> RdsSettings:
    return ctx.config(RdsSettings, "rds")


def _cluster_owned(instance: DBInstance, what: str) -> Outcome | None:
    if instance.cluster_id:
        return not_applicable(
            f"{what} is a setting of DB cluster {instance.cluster_id}; see the cluster's finding"
        )
    return None


# ---- RDS-01 encryption at rest ------------------------------------------------------------


def _encrypted(db: _Database, kind: str) -> Outcome:
    if need(db, "storage_encrypted"):
        return passed(f"the {kind}'s storage is encrypted", kms_key_id=db.kms_key_id)
    return failed(
        f"the {kind}'s storage is not encrypted; encryption cannot be switched on in place: snapshot it, "
        "copy the snapshot with a KMS key and restore from the encrypted copy",
        engine=db.engine,
    )


@check(
    "rds_instance_storage_encrypted",
    DBInstance,
    title="RDS DB instance storage is encrypted",
    facts=("storage_encrypted",),
)
def instance_encrypted(instance: DBInstance, ctx: CheckContext) -> Outcome:
    return _cluster_owned(instance, "storage encryption") or _encrypted(instance, "DB instance")


@check(
    "rds_cluster_storage_encrypted",
    DBCluster,
    title="RDS DB cluster storage is encrypted",
    facts=("storage_encrypted",),
)
def cluster_encrypted(cluster: DBCluster, ctx: CheckContext) -> Outcome:
    return _encrypted(cluster, "DB cluster")


def _snapshot_encrypted(snapshot: _DbSnapshot, ctx: CheckContext) -> Outcome:
    if need(snapshot, "encrypted"):
        return passed("the snapshot is encrypted", kms_key_id=snapshot.kms_key_id)
    return failed(
        "the snapshot is not encrypted; copy it with a KMS key (CopyDBSnapshot/CopyDBClusterSnapshot "
        "--kms-key-id) and delete the unencrypted copy"
    )


def _snapshot_public(snapshot: _DbSnapshot, ctx: CheckContext) -> Outcome:
    if need(snapshot, "public"):
        return failed(
            "the snapshot is public: its 'restore' attribute includes 'all', so any AWS account can restore "
            "it; remove 'all' (ModifyDBSnapshotAttribute / ModifyDBClusterSnapshotAttribute "
            "--values-to-remove all)"
        )
    shared = snapshot.shared_with or []
    return passed(
        "the snapshot is not public" + (f"; shared with account(s) {', '.join(shared)}" if shared else ""),
        shared_with=shared,
    )


check("rds_snapshot_encrypted", DBSnapshot, title="RDS DB snapshot is encrypted", facts=("encrypted",))(
    _snapshot_encrypted
)
check(
    "rds_cluster_snapshot_encrypted",
    DBClusterSnapshot,
    title="RDS DB cluster snapshot is encrypted",
    facts=("encrypted",),
)(_snapshot_encrypted)
check(
    "rds_snapshot_not_public",
    DBSnapshot,
    title="RDS DB snapshot is not public",
    facts=("public", "shared_with"),
)(_snapshot_public)
check(
    "rds_cluster_snapshot_not_public",
    DBClusterSnapshot,
    title="RDS DB cluster snapshot is not public",
    facts=("public", "shared_with"),
)(_snapshot_public)


# ---- RDS-02 TLS ---------------------------------------------------------------------------


def _version(text: str | None) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text or "")
    return tuple(int(n) for n in numbers[:3])


def tls_default(engine: str, version: str | None) -> str | None:
    """The engine default of the TLS parameter when the group does not list a value; None: unknown."""
    family = engine_family(engine)
    v = _version(version)
    if family == "postgres":
        return None if not v else ("1" if v[0] >= 15 else "0")  # rds.force_ssl is 1 from PostgreSQL 15
    if family == "mysql":
        return None if not v else ("1" if v[:2] >= (9, 7) else "0")  # require_secure_transport ON from 9.7
    if family == "mariadb":
        return None if not v else ("1" if v[:2] >= (11, 8) else "0")  # ON from MariaDB 11.8
    if family in ("aurora-postgresql", "aurora-mysql", "sqlserver"):
        return "0"
    return None


def _tls_unsupported(engine: str, version: str | None) -> str | None:
    family = engine_family(engine)
    v = _version(version)
    if family == "aurora":
        return "Aurora MySQL version 1 (MySQL 5.6) has no require_secure_transport parameter"
    if family == "mysql" and v and v[:2] < (5, 7):
        return "MySQL before 5.7 has no require_secure_transport parameter"
    if family == "mariadb" and v and v[:2] < (10, 5):
        return "MariaDB before 10.5 has no require_secure_transport parameter"
    return None


def _is_on(value: str) -> bool:
    return value.strip().lower() in ("1", "on", "true")


def _group(
    ctx: CheckContext, model: type[_ParameterGroup], db: _Database, name: str
) -> _ParameterGroup | None:
    for group in ctx.inventory.of_type(model, account_id=db.account_id, region=db.region):
        if group.group_name == name:
            return group
    return None


def _pending_reboot(db: _Database) -> str | None:
    """Who has not applied the parameter group yet ("the instance", "members a, b have"), if anyone.

    A parameter group newly attached, or a static parameter changed in it, takes effect only
    after a reboot; until then DescribeDBInstances reports ``pending-reboot`` (per member of a
    cluster for its cluster parameter group), as AWS Config's rds-sqlserver-encrypted-in-transit
    rule also reads it.
    """
    if isinstance(db, DBInstance):
        return "the instance has" if db.parameter_apply_status == "pending-reboot" else None
    if isinstance(db, DBCluster):
        members = sorted(m for m, state in db.member_parameter_status.items() if state == "pending-reboot")
        if members:
            return f"member instance(s) {', '.join(members)} have"
    return None


def _tls(db: _Database, ctx: CheckContext, group_name: str | None, model: type[_ParameterGroup]) -> Outcome:
    stop_if_unknown(db, "engine")
    family = engine_family(db.engine)
    parameter = tls_parameter(db.engine)
    kind = "cluster parameter group" if model is DBClusterParameterGroup else "DB parameter group"
    if family in ("oracle", "db2", "custom") or parameter is None:
        how = {
            "oracle": "Oracle enforces TLS through the SSL option of the option group and SQLNET settings",
            "db2": "Db2 enforces TLS through its SSL port configuration",
        }.get(family, f"engine {db.engine} has no TLS-enforcing parameter controlmap can read")
        return manual(
            f"{how}; attest that only encrypted connections are accepted "
            "(e.g. no non-TLS listener port open)",
            engine=db.engine,
        )
    reason = _tls_unsupported(db.engine, db.engine_version)
    if reason:
        return manual(
            f"{reason}; TLS can only be required per user (REQUIRE SSL). Attest that every account requires "
            "it, or upgrade the engine and set require_secure_transport=1",
            engine=db.engine,
            engine_version=db.engine_version,
        )
    if not group_name:
        return unknown(f"the {kind} of this database is not known")
    group = _group(ctx, model, db, group_name)
    if group is None:
        return unknown(f"{kind} {group_name} was not collected")
    if group.parameters is None:
        return unavailable(group, "parameters")
    value = group.parameters.get(parameter)
    source = f"set in {kind} {group_name}"
    if value is None:
        value = tls_default(db.engine, db.engine_version)
        # Without a version the database gets the one AWS picks at creation; only a default that
        # is the same in every version is known then.
        version = (
            f" {db.engine_version}" if db.engine_version else ", whichever version AWS picks (none is set)"
        )
        source = f"engine default for {db.engine}{version}; {kind} {group_name} does not set it"
        if value is None and not db.engine_version:
            stop_if_unknown(db, "engine_version")
            return unknown(
                f"{parameter} is not set in {group_name}, and its default for {db.engine} depends on the "
                "engine version, which is not known (a database created without one gets the version AWS "
                "picks at creation)"
            )
        if value is None:
            return unknown(
                f"{parameter} is not set in {group_name} and its default for {db.engine} "
                f"{db.engine_version} is not known"
            )
    evidence = {"parameter": parameter, "value": value, "source": source, "parameter_group": group_name}
    pending = _pending_reboot(db)
    if _is_on(value) and pending:
        return failed(
            f"{parameter}={value} ({source}), but {pending} not applied the {kind} yet (status "
            "pending-reboot): until a reboot the engine runs the previous group or values and may still "
            "accept connections without TLS; reboot in a maintenance window",
            pending_reboot=True,
            **evidence,
        )
    if _is_on(value):
        return passed(f"{parameter}={value} ({source}): connections without TLS are refused", **evidence)
    return failed(
        f"{parameter}={value} ({source}): clients may connect without TLS; set {parameter}=1 in a custom "
        f"{kind} attached to the database",
        **evidence,
    )


@check(
    "rds_instance_tls_enforced",
    DBInstance,
    title="RDS DB instance refuses connections without TLS",
    uses=(DBParameterGroup,),
    facts=("parameters", "parameter_groups", "engine_version"),
)
def instance_tls(instance: DBInstance, ctx: CheckContext) -> Outcome:
    skip = _cluster_owned(instance, "the TLS parameter (cluster parameter group)")
    if skip is not None:
        return skip
    groups = instance.parameter_groups
    return _tls(instance, ctx, groups[0] if groups else None, DBParameterGroup)


@check(
    "rds_cluster_tls_enforced",
    DBCluster,
    title="RDS DB cluster refuses connections without TLS (cluster parameter group)",
    uses=(DBClusterParameterGroup,),
    facts=("parameters", "cluster_parameter_group", "engine_version"),
)
def cluster_tls(cluster: DBCluster, ctx: CheckContext) -> Outcome:
    return _tls(cluster, ctx, cluster.cluster_parameter_group, DBClusterParameterGroup)


# ---- RDS-03 / RDS-04 network exposure -----------------------------------------------------


@check(
    "rds_instance_not_publicly_accessible",
    DBInstance,
    title="RDS DB instance is not publicly accessible",
    facts=("publicly_accessible",),
)
def not_public(instance: DBInstance, ctx: CheckContext) -> Outcome:
    if need(instance, "publicly_accessible"):
        return failed(
            "PubliclyAccessible is true: the endpoint resolves to a public IP address; set it to false "
            "(ModifyDBInstance --no-publicly-accessible) and reach the database from inside the VPC"
        )
    return passed("PubliclyAccessible is false")


def _allowed(cidr: str, allowed: list[str]) -> bool:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    for entry in allowed:
        try:
            block = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if network.version == block.version and network.subnet_of(block):  # type: ignore[arg-type]
            return True
    return False


@check(
    "rds_instance_security_groups_restricted",
    DBInstance,
    title="RDS DB instance security groups admit only application security groups or private ranges",
    uses=(SecurityGroup,),
    facts=("vpc_security_group_ids", "port", "ingress"),
)
def security_groups(instance: DBInstance, ctx: CheckContext) -> Outcome:
    group_ids = need(instance, "vpc_security_group_ids")
    if not group_ids:
        return unknown("the DB instance lists no VPC security group (EC2-Classic or not declared)")
    by_id = ctx.inventory.index(
        SecurityGroup, "group_id", account_id=instance.account_id, region=instance.region
    )
    allowed = settings(ctx).allowed_cidrs
    port = instance.port
    offending: list[dict[str, Any]] = []
    maybe: list[str] = []
    prefix_lists: list[str] = []
    for group_id in group_ids:
        group = by_id.get(group_id)
        if group is None:
            return unknown(f"security group {group_id} of the DB instance was not collected")
        if group.ingress is None:
            return unavailable(group, "ingress")
        for rule in group.ingress:
            if "ports" not in rule.unresolved and port is not None and not rule.covers_port(port):
                continue
            public = [c for c in [*rule.ipv4_ranges, *rule.ipv6_ranges] if not _allowed(c, allowed)]
            if rule.unresolved and (public or "sources" in rule.unresolved):
                maybe.append(f"{group_id}: {rule.unresolved_text()}")
                if "ports" in rule.unresolved:
                    continue  # known public sources on unknown ports: cannot say the port is open
            if public:
                offending.append(
                    {
                        "group": group_id,
                        "ports": rule.ports_text(),
                        "sources": public,
                        "world": any(is_world(c) for c in public),
                    }
                )
            prefix_lists += rule.prefix_lists
    evidence = {"security_groups": group_ids, "port": port, "prefix_lists": sorted(set(prefix_lists))}
    if offending:
        text = "; ".join(f"{o['group']} {o['ports']} from {', '.join(o['sources'])}" for o in offending)
        return failed(
            f"the database port is open to addresses outside rds.allowed_cidrs: {text}. Admit only the "
            "application or bastion security groups (or private ranges)",
            offending=offending,
            **evidence,
        )
    if maybe:
        return unknown(
            "no known rule opens the database port outside rds.allowed_cidrs, but rule(s) with unknown "
            f"parts could: {'; '.join(maybe)}",
            unresolved_rules=maybe,
            **evidence,
        )
    note = (
        f"; prefix list(s) {', '.join(sorted(set(prefix_lists)))} are admitted and not expanded"
        if prefix_lists
        else ""
    )
    return passed(
        "the database's security groups admit only security groups and private ranges" + note, **evidence
    )


# ---- RDS-05 backups -----------------------------------------------------------------------


def _backups(db: _Database, ctx: CheckContext) -> Outcome:
    days = need(db, "backup_retention_days")
    minimum = settings(ctx).min_backup_retention_days
    if days == 0:
        return failed(
            "automated backups are disabled (BackupRetentionPeriod 0); "
            f"set a retention of at least {minimum} days",
            retention_days=0,
        )
    if days < minimum:
        return failed(
            f"automated backups are kept {days} day(s), below rds.min_backup_retention_days ({minimum}); "
            f"set BackupRetentionPeriod to {minimum} or more",
            retention_days=days,
        )
    return passed(f"automated backups are kept {days} days (minimum {minimum})", retention_days=days)


@check(
    "rds_instance_backup_retention",
    DBInstance,
    title="RDS DB instance keeps automated backups for the minimum retention",
    facts=("backup_retention_days",),
)
def instance_backups(instance: DBInstance, ctx: CheckContext) -> Outcome:
    skip = _cluster_owned(instance, "backup retention")
    if skip is not None:
        return skip
    if instance.replica_source:
        return not_applicable(f"read replica of {instance.replica_source}; backups are taken on the source")
    return _backups(instance, ctx)


@check(
    "rds_cluster_backup_retention",
    DBCluster,
    title="RDS DB cluster keeps automated backups for the minimum retention",
    facts=("backup_retention_days",),
)
def cluster_backups(cluster: DBCluster, ctx: CheckContext) -> Outcome:
    return _backups(cluster, ctx)


# ---- RDS-06 log exports -------------------------------------------------------------------


def _logs(db: _Database, ctx: CheckContext) -> Outcome:
    exported = set(need(db, "log_exports"))
    stop_if_unknown(db, "engine")
    family = engine_family(db.engine)
    supported = SUPPORTED_LOG_EXPORTS.get(family)
    if supported is None:
        return manual(f"controlmap does not know which logs {db.engine} can export; attest its logging")
    required = settings(ctx).required_log_exports.get(family, [])
    ignored = sorted(set(required) - supported)
    wanted = [r for r in required if r in supported]
    missing = [r for r in wanted if r not in exported]
    evidence = {"exported": sorted(exported), "required": wanted, "engine": db.engine}
    if ignored:
        evidence["ignored_unsupported"] = ignored
    if not wanted:
        return manual(f"no log export is required for {family} in rds.required_log_exports", **evidence)
    if missing:
        hint = (
            " (MySQL/MariaDB audit logs also need the MARIADB_AUDIT_PLUGIN option)"
            if "audit" in missing
            else ""
        )
        return failed(
            f"log type(s) {', '.join(missing)} are not exported to CloudWatch Logs; add them to "
            f"EnabledCloudwatchLogsExports{hint}",
            missing=missing,
            **evidence,
        )
    return passed(f"exports {', '.join(sorted(exported))} to CloudWatch Logs", **evidence)


@check(
    "rds_instance_log_exports",
    DBInstance,
    title="RDS DB instance exports the engine's logs to CloudWatch Logs",
    facts=("log_exports",),
)
def instance_logs(instance: DBInstance, ctx: CheckContext) -> Outcome:
    return _cluster_owned(instance, "log export") or _logs(instance, ctx)


@check(
    "rds_cluster_log_exports",
    DBCluster,
    title="RDS DB cluster exports the engine's logs to CloudWatch Logs",
    facts=("log_exports",),
)
def cluster_logs(cluster: DBCluster, ctx: CheckContext) -> Outcome:
    return _logs(cluster, ctx)


# ---- RDS-07 IAM database authentication ---------------------------------------------------


# Engine versions before which IAM database authentication cannot be turned on (AWS's "Supported
# Regions and DB engines for IAM database authentication": RDS for MariaDB from 10.11 only).
IAM_AUTH_MIN_VERSION: dict[str, tuple[int, ...]] = {"mariadb": (10, 11)}


def _iam_auth(db: _Database, ctx: CheckContext) -> Outcome:
    stop_if_unknown(db, "engine")
    family = engine_family(db.engine)
    if family not in IAM_AUTH_ENGINES:
        return not_applicable(f"{db.engine} does not support IAM database authentication")
    minimum = IAM_AUTH_MIN_VERSION.get(family)
    version = _version(db.engine_version)
    if minimum and version and version[: len(minimum)] < minimum:
        needed = ".".join(map(str, minimum))
        return not_applicable(
            f"{db.engine} {db.engine_version} does not support IAM database authentication (available from "
            f"{needed}); upgrade the engine to use it",
            engine=db.engine,
            engine_version=db.engine_version,
        )
    if need(db, "iam_auth_enabled"):
        return passed("IAM database authentication is enabled")
    return failed(
        "IAM database authentication is disabled; enable it (--enable-iam-database-authentication) and "
        "grant rds-db:connect to the roles that use the database",
        engine=db.engine,
    )


@check(
    "rds_instance_iam_auth_enabled",
    DBInstance,
    title="RDS DB instance uses IAM database authentication where the engine supports it",
    facts=("iam_auth_enabled",),
)
def instance_iam_auth(instance: DBInstance, ctx: CheckContext) -> Outcome:
    return _cluster_owned(instance, "IAM database authentication") or _iam_auth(instance, ctx)


@check(
    "rds_cluster_iam_auth_enabled",
    DBCluster,
    title="RDS DB cluster uses IAM database authentication where the engine supports it",
    facts=("iam_auth_enabled",),
)
def cluster_iam_auth(cluster: DBCluster, ctx: CheckContext) -> Outcome:
    return _iam_auth(cluster, ctx)
