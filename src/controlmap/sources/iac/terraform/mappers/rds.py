"""RDS in Terraform: DB instances, Aurora clusters and their instances, parameter groups."""

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
from controlmap.sources.iac.cloudformation.mappers.rds import inherit_cluster_settings
from controlmap.sources.iac.common import Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, put, text, to_bool, to_int, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, primary
from controlmap.sources.iac.terraform.mappers._common import base, block_list, ref_text
from controlmap.sources.iac.terraform.mappers.ec2 import group_id

_RESTORED_FROM = (
    "snapshot_identifier",
    "replicate_source_db",
    "restore_to_point_in_time",
    "source_db_cluster_identifier",
)


def _common(model: _Database, item: TfItem, build: TfBuild) -> None:
    source = next((k for k in _RESTORED_FROM if item.get(k) is not None), None)
    if source is not None and item.get("storage_encrypted") is None and item.get("kms_key_id") is None:
        # Restored or replicated: the storage is encrypted exactly when the source is.
        model.unknown["storage_encrypted"] = (
            f"the database is created from {source}, whose encryption it inherits"
        )
    else:
        put(model, "storage_encrypted", to_bool(item.get("storage_encrypted", False)), "storage_encrypted")
    model.kms_key_id = ref_text(item.get("kms_key_id"))
    if model.kms_key_id and item.get("storage_encrypted") is None:
        model.storage_encrypted = True
    put(model, "port", to_int(item.get("port")), "port")
    groups = item.get("vpc_security_group_ids")
    missing = first_unresolved(groups)
    if missing is not None and not isinstance(groups, list):
        unknown(model, "vpc_security_group_ids", "vpc_security_group_ids", missing)
    else:
        model.vpc_security_group_ids = [g for g in (group_id(v, build, item) for v in as_list(groups)) if g]
    put(
        model,
        "backup_retention_days",
        to_int(item.get("backup_retention_period", 1)),
        "backup_retention_period",
    )
    put(
        model,
        "log_exports",
        item.get("enabled_cloudwatch_logs_exports", []),
        "enabled_cloudwatch_logs_exports",
        lambda v: [str(x) for x in as_list(v)],
    )
    put(
        model,
        "iam_auth_enabled",
        to_bool(item.get("iam_database_authentication_enabled", False)),
        "iam_database_authentication_enabled",
    )
    put(model, "engine_version", item.get("engine_version"), "engine_version")


def _default_group(
    build: TfBuild, model: type[DBParameterGroup] | type[DBClusterParameterGroup], engine: str, item: TfItem
) -> str:
    name = f"default.{engine}"
    key = f"({model.__name__} {name})"
    if key not in build.models:
        build.models[key] = [
            model(
                id=build.resource_id(key),
                name=name,
                source=item.source,
                group_name=name,
                family=None,
                parameters={},
            )
        ]
    return name


def _group_name(
    value: Any, build: TfBuild, item: TfItem, model: type[DBParameterGroup] | type[DBClusterParameterGroup]
) -> Any:
    found = build.target(value, model, "group_name", item)
    return found.group_name if found is not None else ref_text(value)


@primary("aws_db_instance", "aws_rds_cluster_instance")
def db_instance(item: TfItem, build: TfBuild) -> list[Resource]:
    identifier = item.get("identifier")
    member = item.type == "aws_rds_cluster_instance"
    engine = item.get("engine")
    model = DBInstance(
        **base(item, build, identifier),
        identifier=identifier if isinstance(identifier, str) else item.address,
        engine=engine.lower() if isinstance(engine, str) else "unknown",
        instance_class=text(item.get("instance_class")),
    )
    if member:
        model.cluster_id = ref_text(item.get("cluster_identifier")) or "(computed)"
        model.unknown["storage_encrypted"] = "a cluster member's storage encryption is set on the cluster"
        model.storage_encrypted = None
        model.publicly_accessible = None
        put(
            model,
            "publicly_accessible",
            to_bool(item.get("publicly_accessible", False)),
            "publicly_accessible",
        )
    else:
        _common(model, item, build)
        put(
            model,
            "publicly_accessible",
            to_bool(item.get("publicly_accessible", False)),
            "publicly_accessible",
        )
    group = item.get("db_parameter_group_name" if member else "parameter_group_name")
    if isinstance(group, Unresolved) and not group.placeholder:
        unknown(model, "parameter_groups", "parameter_group_name", group)
    elif group is None:
        model.parameter_groups = [_default_group(build, DBParameterGroup, model.engine, item)]
    else:
        model.parameter_groups = [str(_group_name(group, build, item, DBParameterGroup))]
    if isinstance(engine, Unresolved):
        unknown(model, "engine", "engine", engine)
        model.engine = "unknown"
    elif model.engine == "unknown":
        model.unknown["engine"] = "engine is not set"
    return [model]


@primary("aws_rds_cluster")
def db_cluster(item: TfItem, build: TfBuild) -> list[Resource]:
    identifier = item.get("cluster_identifier")
    engine = item.get("engine")
    engine_text = engine.lower() if isinstance(engine, str) else "aurora-mysql"
    model = DBCluster(
        **base(item, build, identifier),
        identifier=identifier if isinstance(identifier, str) else item.address,
        engine=engine_text,
        engine_mode=text(item.get("engine_mode")) or "provisioned",
    )
    if isinstance(engine, Unresolved):
        unknown(model, "engine", "engine", engine)
        model.engine = "unknown"
    _common(model, item, build)
    if model.engine_mode == "serverless" and item.get("storage_encrypted") is None:
        model.storage_encrypted = True
    model.publicly_accessible = False
    group = item.get("db_cluster_parameter_group_name")
    if isinstance(group, Unresolved) and not group.placeholder:
        unknown(model, "cluster_parameter_group", "db_cluster_parameter_group_name", group)
    elif group is None:
        model.cluster_parameter_group = _default_group(build, DBClusterParameterGroup, engine_text, item)
    else:
        model.cluster_parameter_group = str(_group_name(group, build, item, DBClusterParameterGroup))
    return [model]


@companion("aws_rds_cluster_instance")
def join_cluster(item: TfItem, build: TfBuild) -> None:
    cluster = build.target(item.get("cluster_identifier"), DBCluster, "identifier", item)
    if cluster is None:
        return
    for model in build.models.get(item.address, []):
        if isinstance(model, DBInstance):
            model.cluster_id = cluster.identifier
            cluster.members.append(model.identifier)
            if model.engine == "unknown":
                model.engine = cluster.engine
                model.unknown.pop("engine", None)
            inherit_cluster_settings(model, cluster)


@primary("aws_db_parameter_group", "aws_rds_cluster_parameter_group")
def parameter_group(item: TfItem, build: TfBuild) -> list[Resource]:
    cluster = item.type == "aws_rds_cluster_parameter_group"
    name = item.get("name")
    group_name = name if isinstance(name, str) else item.address
    model_type = DBClusterParameterGroup if cluster else DBParameterGroup
    model = model_type(
        **base(item, build, group_name), group_name=group_name, family=text(item.get("family"))
    )
    blocks = block_list(item, "parameter")
    if isinstance(blocks, Unresolved):
        unknown(model, "parameters", "parameter", blocks)
        return [model]
    parameters: dict[str, str] = {}
    for block in blocks:
        key, value = block.get("name"), block.get("value")
        missing = first_unresolved([key, value])
        if missing is not None:
            unknown(model, "parameters", "parameter", missing)
            return [model]
        parameters[str(key)] = str(text(value))
    model.parameters = parameters
    return [model]
