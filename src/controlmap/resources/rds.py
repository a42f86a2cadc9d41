"""RDS resources: DB instances, DB clusters (Aurora and Multi-AZ clusters), snapshots, parameter groups.

An Aurora instance takes its storage encryption, backups, log exports, IAM authentication and TLS
setting from its cluster, so instance-level checks defer to the cluster (``cluster_id`` is set).
Parameter groups are resources of their own; an instance or cluster names the group it reads and
checks look the group up in the inventory, so a template that declares both works the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from controlmap.resources.base import Resource

# Engines that are not RDS but come back from the RDS API (DocumentDB, Neptune share it).
NON_RDS_ENGINES = frozenset({"docdb", "neptune"})

# The parameter that makes the server refuse unencrypted connections, by engine family. Aurora
# and Multi-AZ DB clusters read it from the cluster parameter group, instances from their own.
TLS_PARAMETERS = {
    "postgres": "rds.force_ssl",
    "aurora-postgresql": "rds.force_ssl",
    "sqlserver": "rds.force_ssl",
    "mysql": "require_secure_transport",
    "mariadb": "require_secure_transport",
    "aurora-mysql": "require_secure_transport",
    "aurora": "require_secure_transport",  # Aurora MySQL 5.6 (engine "aurora")
}


def engine_family(engine: str) -> str:
    """``sqlserver-ee`` -> ``sqlserver``, ``oracle-se2-cdb`` -> ``oracle``; others unchanged."""
    engine = engine.lower()
    for prefix in ("sqlserver", "oracle", "db2", "custom-sqlserver", "custom-oracle"):
        if engine.startswith(prefix):
            return "custom" if prefix.startswith("custom") else prefix
    return engine


def tls_parameter(engine: str) -> str | None:
    return TLS_PARAMETERS.get(engine_family(engine))


class _Database(Resource):
    """What instances and clusters share."""

    engine: str
    engine_version: str | None = None
    status: str | None = None
    storage_encrypted: bool | None = None
    kms_key_id: str | None = None
    publicly_accessible: bool | None = None
    port: int | None = None
    vpc_security_group_ids: list[str] | None = None
    backup_retention_days: int | None = None  # 0: automated backups disabled
    log_exports: list[str] | None = None  # EnabledCloudwatchLogsExports
    iam_auth_enabled: bool | None = None


class DBInstance(_Database):
    resource_type: ClassVar[str] = "AWS::RDS::DBInstance"

    identifier: str
    cluster_id: str | None = None  # set for Aurora (and Multi-AZ DB cluster) members
    instance_class: str | None = None
    replica_source: str | None = None  # set on read replicas: backups are the source's business
    parameter_groups: list[str] | None = None  # DBParameterGroupName(s) applied
    # ParameterApplyStatus of the instance's parameter group: "in-sync", "applying" or
    # "pending-reboot" (the engine still runs the old values or the old group until a reboot).
    parameter_apply_status: str | None = None


class DBCluster(_Database):
    resource_type: ClassVar[str] = "AWS::RDS::DBCluster"

    identifier: str
    engine_mode: str | None = None  # provisioned, serverless, parallelquery, global…
    cluster_parameter_group: str | None = None
    members: list[str] = []
    # Member instance -> DBClusterParameterGroupStatus ("in-sync", "pending-reboot"…).
    member_parameter_status: dict[str, str] = {}


class _DbSnapshot(Resource):
    engine: str | None = None
    snapshot_type: str | None = None  # manual, automated, shared, public
    encrypted: bool | None = None
    kms_key_id: str | None = None
    public: bool | None = None  # the "restore" attribute lists "all"
    shared_with: list[str] | None = None  # account ids in the "restore" attribute
    created: datetime | None = None


class DBSnapshot(_DbSnapshot):
    resource_type: ClassVar[str] = "AWS::RDS::DBSnapshot"

    identifier: str
    instance_id: str | None = None


class DBClusterSnapshot(_DbSnapshot):
    resource_type: ClassVar[str] = "AWS::RDS::DBClusterSnapshot"

    identifier: str
    cluster_id: str | None = None


class _ParameterGroup(Resource):
    group_name: str
    family: str | None = None
    # Parameter name -> value for the parameters controlmap reads; a parameter that is absent
    # has no value in the group (the engine default for its version then applies).
    parameters: dict[str, str] | None = None


class DBParameterGroup(_ParameterGroup):
    resource_type: ClassVar[str] = "AWS::RDS::DBParameterGroup"


class DBClusterParameterGroup(_ParameterGroup):
    resource_type: ClassVar[str] = "AWS::RDS::DBClusterParameterGroup"
