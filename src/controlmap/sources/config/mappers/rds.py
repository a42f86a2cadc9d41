"""RDS DB instances, clusters and snapshots, from their configuration items.

Instances and clusters are the Describe* shapes (with the Java SDK's odd casing, e.g.
``dBInstanceIdentifier``, ``dbclusterArn``), parsed by the live collector's code. Snapshots carry
their ``restore`` attribute (who may restore them: ``all`` is public) in the supplementary
configuration. AWS Config does not record DB parameter groups, so the TLS checks (RDS-02) name
the group and report UNKNOWN.
"""

from __future__ import annotations

from typing import Any

from controlmap.checks.registry import Inventory
from controlmap.resources.base import Resource, SourceKind, SourceRef
from controlmap.resources.rds import (
    NON_RDS_ENGINES,
    DBCluster,
    DBClusterParameterGroup,
    DBClusterSnapshot,
    DBInstance,
    DBParameterGroup,
    DBSnapshot,
)
from controlmap.sources.aws.services.rds import db_cluster_from_api, db_instance_from_api, rds_arn
from controlmap.sources.config.casefold import CaseFolded, decode_json_text, fold
from controlmap.sources.config.items import ConfigItem, parse_time
from controlmap.sources.config.mappers._base import MapContext, base, finisher, identify, mapper


def _not_rds(config: CaseFolded) -> bool:
    return str(config.get("Engine") or "").lower() in NON_RDS_ENGINES


def _database(item: ConfigItem, parse: Any, key: str) -> list[Resource]:
    config = fold(item.configuration)
    if _not_rds(config):
        return []
    if not config.get(key):
        config[key.lower()] = item.resource_name or item.resource_id
    model = parse(config, item.account_id or "", item.region or "")
    identify(model, item)
    if item.arn:
        model.id = item.arn
    return [model]


@mapper("AWS::RDS::DBInstance")
def db_instance(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    return _database(item, db_instance_from_api, "DBInstanceIdentifier")


@mapper("AWS::RDS::DBCluster")
def db_cluster(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    return _database(item, db_cluster_from_api, "DBClusterIdentifier")


def restore_values(item: ConfigItem, name: str) -> list[str] | None:
    """The ``restore`` attribute's values from the supplementary configuration; None if not recorded."""
    if item.supplementary is None:
        return None
    attributes = decode_json_text(item.supplement(name))
    if attributes is None:
        return None
    if isinstance(attributes, dict):
        attributes = [attributes]
    for attribute in attributes or []:
        folded = fold(attribute) if isinstance(attribute, dict) else CaseFolded({})
        if folded.get("attributeName") == "restore":
            return [str(v) for v in folded.get("attributeValues") or []]
    return []


def _sharing(model: DBSnapshot | DBClusterSnapshot, values: list[str] | None, name: str) -> None:
    if values is None:
        for fact in ("public", "shared_with"):
            model.mark_unknown(fact, f"the configuration item has no {name} (who may restore the snapshot)")
        return
    model.public = "all" in values
    model.shared_with = sorted(v for v in values if v != "all")


@mapper("AWS::RDS::DBSnapshot")
def db_snapshot(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    if _not_rds(config):
        return []
    identifier = str(config.get("DBSnapshotIdentifier") or item.resource_name or item.resource_id)
    model = DBSnapshot(
        **base(item, name=identifier, id=config.get("DBSnapshotArn") or item.arn),
        identifier=identifier,
        instance_id=config.get("DBInstanceIdentifier"),
        engine=config.get("Engine"),
        snapshot_type=config.get("SnapshotType"),
        encrypted=bool(config.get("Encrypted")),
        kms_key_id=config.get("KmsKeyId"),
        created=parse_time(config.get("SnapshotCreateTime")),
    )
    _sharing(model, restore_values(item, "DBSnapshotAttributes"), "DBSnapshotAttributes")
    return [model]


@mapper("AWS::RDS::DBClusterSnapshot")
def db_cluster_snapshot(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    if _not_rds(config):
        return []
    identifier = str(config.get("DBClusterSnapshotIdentifier") or item.resource_name or item.resource_id)
    model = DBClusterSnapshot(
        **base(item, name=identifier, id=config.get("DBClusterSnapshotArn") or item.arn),
        identifier=identifier,
        cluster_id=config.get("DBClusterIdentifier"),
        engine=config.get("Engine"),
        snapshot_type=config.get("SnapshotType"),
        encrypted=bool(config.get("StorageEncrypted")),
        kms_key_id=config.get("KmsKeyId"),
        created=parse_time(config.get("SnapshotCreateTime")),
    )
    _sharing(model, restore_values(item, "DBClusterSnapshotAttributes"), "DBClusterSnapshotAttributes")
    return [model]


@finisher
def parameter_groups(inventory: Inventory, ctx: MapContext) -> None:
    """The parameter groups databases name, with their parameters unknown (Config does not record them)."""
    wanted: dict[tuple[str, str | None, str | None, bool], None] = {}
    for instance in inventory.of_type(DBInstance):
        if instance.cluster_id is None:
            for name in instance.parameter_groups or []:
                wanted[(name, instance.account_id, instance.region, False)] = None
    for cluster in inventory.of_type(DBCluster):
        if cluster.cluster_parameter_group:
            wanted[(cluster.cluster_parameter_group, cluster.account_id, cluster.region, True)] = None
    for name, account, region, is_cluster in wanted:
        model: type[DBParameterGroup] | type[DBClusterParameterGroup] = (
            DBClusterParameterGroup if is_cluster else DBParameterGroup
        )
        group = model(
            id=rds_arn(account or "", region or "", "cluster-pg" if is_cluster else "pg", name),
            name=name,
            account_id=account,
            region=region,
            group_name=name,
            source=SourceRef(kind=SourceKind.AWS_CONFIG),
        )
        kind = "DB cluster parameter group" if is_cluster else "DB parameter group"
        ctx.not_recorded(group, ["parameters"], f"RDS parameter groups (the parameters of {kind} {name})")
        inventory.add(group)
