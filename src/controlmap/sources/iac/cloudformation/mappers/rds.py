"""RDS: DB instances, DB clusters (Aurora: encryption, backups and logs live on the cluster) and
parameter groups.

Defaults are the RDS API's: storage not encrypted, one day of backups, no log exports, no IAM
authentication. An instance or cluster that names no parameter group gets the engine's default
group, which sets nothing (the engine default of each parameter applies).
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.rds import (
    DBCluster,
    DBClusterParameterGroup,
    DBInstance,
    DBParameterGroup,
    _Database,
)
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, finisher, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.cloudformation.mappers.ec2 import group_id_of
from controlmap.sources.iac.cloudformation.mappers.s3 import key_reference
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, put, text, to_bool, to_int, unknown

_CREATED_DEFAULT_GROUPS = "_cfn_default_parameter_groups"


_RESTORED_FROM = (
    "DBSnapshotIdentifier",
    "DBClusterSnapshotIdentifier",
    "SourceDBInstanceIdentifier",
    "SnapshotIdentifier",
    "SourceDBClusterIdentifier",
)


def _common(model: _Database, item: CfnItem, build: CfnBuild) -> None:
    props = item.props
    source = next((k for k in _RESTORED_FROM if props.get(k) is not None), None)
    if source is not None and "StorageEncrypted" not in props and "KmsKeyId" not in props:
        # Restored or replicated: the storage is encrypted exactly when the source is.
        model.storage_encrypted = None
        model.unknown["storage_encrypted"] = (
            f"the database is created from {source}, whose encryption it inherits"
        )
    else:
        put(model, "storage_encrypted", to_bool(props.get("StorageEncrypted", False)), "StorageEncrypted")
    key = key_reference(props.get("KmsKeyId"), build)
    model.kms_key_id = key if isinstance(key, str) else None
    if key is not None and "StorageEncrypted" not in props:
        model.storage_encrypted = True  # a KmsKeyId implies encryption
        model.unknown.pop("storage_encrypted", None)
    put(model, "port", to_int(props.get("Port")), "Port")
    groups = props.get("VPCSecurityGroups") or props.get("VpcSecurityGroupIds")
    missing = first_unresolved(groups)
    if missing is not None:
        unknown(model, "vpc_security_group_ids", "VPCSecurityGroups", missing)
    else:
        model.vpc_security_group_ids = [g for g in (group_id_of(v, build) for v in as_list(groups)) if g]
    put(
        model, "backup_retention_days", to_int(props.get("BackupRetentionPeriod", 1)), "BackupRetentionPeriod"
    )
    logs = props.get("EnableCloudwatchLogsExports")
    put(model, "log_exports", logs if logs is not None else [], "EnableCloudwatchLogsExports", _texts)
    iam = to_bool(props.get("EnableIAMDatabaseAuthentication", False))
    put(model, "iam_auth_enabled", iam, "EnableIAMDatabaseAuthentication")
    put(model, "engine_version", props.get("EngineVersion"), "EngineVersion")


def _texts(values: Any) -> list[str]:
    return [str(v) for v in as_list(values)]


def _engine(item: CfnItem, model_default: str) -> str:
    engine = item.props.get("Engine")
    return engine.lower() if isinstance(engine, str) else model_default


def _note_engine(model: DBInstance | DBCluster, item: CfnItem) -> None:
    """An engine given by a parameter is unknown (what TLS, logs and IAM auth mean depends on it)."""
    engine = item.props.get("Engine")
    if isinstance(engine, Unresolved):
        unknown(model, "engine", "Engine", engine)
        model.engine = "unknown"


def _group_name(
    value: Any, build: CfnBuild, model: type[DBParameterGroup] | type[DBClusterParameterGroup]
) -> Any:
    if isinstance(value, ResourceRef):
        group = build.target(value, model)
        return group.group_name if group is not None else str(value)
    return value


def _default_group(
    build: CfnBuild, model: type[DBParameterGroup] | type[DBClusterParameterGroup], engine: str, item: CfnItem
) -> str:
    """The engine's default parameter group: it sets no parameter, so engine defaults apply."""
    name = f"default.{engine}"
    created: set[str] = getattr(build, _CREATED_DEFAULT_GROUPS, set())
    key = f"{model.__name__}:{name}"
    if key not in created:
        created.add(key)
        setattr(build, _CREATED_DEFAULT_GROUPS, created)
        group = model(
            id=build.resource_id(f"{name} ({model.resource_type})"),
            name=name,
            source=item.source,
            group_name=name,
            family=None,
            parameters={},
        )
        build.models.setdefault(f"({name})", []).append(group)
    return name


@primary("AWS::RDS::DBInstance")
def db_instance(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    identifier = props.get("DBInstanceIdentifier")
    cluster = props.get("DBClusterIdentifier")
    model = DBInstance(
        id=build.resource_id(item.logical_id),
        name=identifier if isinstance(identifier, str) else item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        identifier=identifier if isinstance(identifier, str) else item.logical_id,
        engine=_engine(item, "unknown"),
        instance_class=text(props.get("DBInstanceClass")),
    )
    _common(model, item, build)
    _note_engine(model, item)
    if cluster is not None:
        model.cluster_id = text(cluster) or str(cluster if isinstance(cluster, ResourceRef) else "(computed)")
    public = to_bool(props.get("PubliclyAccessible"))
    if public is None:
        # RDS's default: private in a named DB subnet group, public in the default VPC.
        public = "DBSubnetGroupName" not in props and cluster is None
    put(model, "publicly_accessible", public, "PubliclyAccessible")
    group = props.get("DBParameterGroupName")
    if isinstance(group, Unresolved):
        unknown(model, "parameter_groups", "DBParameterGroupName", group)
    elif group is None:
        model.parameter_groups = [_default_group(build, DBParameterGroup, model.engine, item)]
    else:
        model.parameter_groups = [str(_group_name(group, build, DBParameterGroup))]
    return [model]


@primary("AWS::RDS::DBCluster")
def db_cluster(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    identifier = props.get("DBClusterIdentifier")
    engine = _engine(item, "aurora-mysql")
    model = DBCluster(
        id=build.resource_id(item.logical_id),
        name=identifier if isinstance(identifier, str) else item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        identifier=identifier if isinstance(identifier, str) else item.logical_id,
        engine=engine,
        engine_mode=text(props.get("EngineMode")) or "provisioned",
    )
    _note_engine(model, item)
    _common(model, item, build)
    if model.engine_mode == "serverless" and "StorageEncrypted" not in props:
        model.storage_encrypted = True  # Aurora Serverless v1 clusters are always encrypted
    put(model, "publicly_accessible", to_bool(props.get("PubliclyAccessible", False)), "PubliclyAccessible")
    group = props.get("DBClusterParameterGroupName")
    if isinstance(group, Unresolved):
        unknown(model, "cluster_parameter_group", "DBClusterParameterGroupName", group)
    elif group is None:
        model.cluster_parameter_group = _default_group(build, DBClusterParameterGroup, engine, item)
    else:
        model.cluster_parameter_group = str(_group_name(group, build, DBClusterParameterGroup))
    return [model]


@primary("AWS::RDS::DBParameterGroup", "AWS::RDS::DBClusterParameterGroup")
def parameter_group(item: CfnItem, build: CfnBuild) -> list[Resource]:
    cluster = item.type == "AWS::RDS::DBClusterParameterGroup"
    name_prop = "DBClusterParameterGroupName" if cluster else "DBParameterGroupName"
    name = item.props.get(name_prop)
    group_name = name if isinstance(name, str) else item.logical_id
    model_type = DBClusterParameterGroup if cluster else DBParameterGroup
    model = model_type(
        id=build.resource_id(item.logical_id),
        name=group_name,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        group_name=group_name,
        family=text(item.props.get("Family")),
    )
    parameters = item.props.get("Parameters") or {}
    missing = first_unresolved(parameters)
    if missing is not None:
        unknown(model, "parameters", "Parameters", missing)
    elif isinstance(parameters, dict):
        model.parameters = {str(k): str(text(v) if text(v) is not None else v) for k, v in parameters.items()}
    return [model]


@companion("AWS::RDS::DBInstance")
def _join_cluster(item: CfnItem, build: CfnBuild) -> None:
    """An Aurora instance names its cluster; the cluster lists it as a member."""
    cluster_value = item.props.get("DBClusterIdentifier")
    if cluster_value is None:
        return
    cluster = build.target(cluster_value, DBCluster, "identifier")
    for model in build.models.get(item.logical_id, []):
        if isinstance(model, DBInstance) and cluster is not None:
            model.cluster_id = cluster.identifier
            cluster.members.append(model.identifier)
            if model.engine == "unknown":
                model.engine = cluster.engine
                if "engine" in cluster.unknown:
                    model.unknown["engine"] = cluster.unknown["engine"]
                else:
                    model.unknown.pop("engine", None)
            inherit_cluster_settings(model, cluster)


def inherit_cluster_settings(instance: DBInstance, cluster: DBCluster) -> None:
    """A cluster member reports its cluster's storage, backup, log, IAM and network settings (as
    RDS does: the VPC security groups of an Aurora instance are its cluster's, and it listens on
    the cluster's port)."""
    facts = ["storage_encrypted", "kms_key_id", "backup_retention_days", "log_exports", "iam_auth_enabled"]
    facts.append("vpc_security_group_ids")
    if instance.port is None and "port" not in instance.unknown:
        facts.append("port")
    for fact in facts:
        setattr(instance, fact, getattr(cluster, fact))
        if fact in cluster.unknown:
            instance.unknown[fact] = cluster.unknown[fact]
        else:
            instance.unknown.pop(fact, None)


@finisher
def _instance_engines(build: CfnBuild) -> None:
    for model in build.all(DBInstance):
        if model.engine == "unknown" and "engine" not in model.unknown:
            model.unknown["engine"] = "Engine is not set"
