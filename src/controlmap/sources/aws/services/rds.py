"""RDS collector: DB instances, DB clusters, manual snapshots and the parameter groups in use.

Per region: one listing each for instances, clusters, manual DB snapshots and manual cluster
snapshots; one DescribeDB(Cluster)SnapshotAttributes per manual snapshot (the only way to see a
public "restore" permission); and the parameters of each parameter group that an instance or
cluster actually reads for its TLS setting (once per group, however many databases share it).
DocumentDB and Neptune answer the same API and are left out.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.rds import (
    NON_RDS_ENGINES,
    TLS_PARAMETERS,
    DBCluster,
    DBClusterParameterGroup,
    DBClusterSnapshot,
    DBInstance,
    DBParameterGroup,
    DBSnapshot,
    tls_parameter,
)
from controlmap.sources.aws.collector import CollectContext, Scope, collector
from controlmap.sources.aws.services.ec2 import parse_time, partition

WATCHED_PARAMETERS = frozenset(TLS_PARAMETERS.values())


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in item.get("TagList") or [] if "Key" in t}


def _arn(ctx: CollectContext, kind: str, name: str) -> str:
    return rds_arn(ctx.account_id, ctx.region, kind, name)


def rds_arn(account_id: str, region: str, kind: str, name: str) -> str:
    return f"arn:{partition(region)}:rds:{region}:{account_id}:{kind}:{name}"


def _is_rds(item: dict[str, Any]) -> bool:
    return str(item.get("Engine", "")).lower() not in NON_RDS_ENGINES


@collector(
    "rds",
    service="rds",
    produces=[
        DBInstance,
        DBCluster,
        DBSnapshot,
        DBClusterSnapshot,
        DBParameterGroup,
        DBClusterParameterGroup,
    ],
    scope=Scope.REGIONAL,
)
def collect_rds(ctx: CollectContext) -> None:
    instances = ctx.paginate("rds", "describe_db_instances", "DBInstances", produces=[DBInstance])
    clusters = ctx.paginate("rds", "describe_db_clusters", "DBClusters", produces=[DBCluster])
    db_instances = [_instance(ctx, i) for i in instances or [] if _is_rds(i)]
    db_clusters = [_cluster(ctx, c) for c in clusters or [] if _is_rds(c)]
    for resource in [*db_instances, *db_clusters]:
        ctx.add(resource)

    if ctx.wants("parameters"):
        instance_groups = sorted(
            {
                g
                for i in db_instances
                if i.cluster_id is None and tls_parameter(i.engine)
                for g in i.parameter_groups or []
            }
        )
        cluster_groups = sorted(
            {
                c.cluster_parameter_group
                for c in db_clusters
                if c.cluster_parameter_group and tls_parameter(c.engine)
            }
        )
        for group in ctx.map(lambda name: _parameter_group(ctx, name, cluster=False), instance_groups):
            ctx.add(group)
        for group in ctx.map(lambda name: _parameter_group(ctx, name, cluster=True), cluster_groups):
            ctx.add(group)

    if ctx.wants("encrypted", "public", "shared_with"):
        with_attributes = ctx.wants("public", "shared_with")
        snapshots = ctx.paginate(
            "rds", "describe_db_snapshots", "DBSnapshots", produces=[DBSnapshot], SnapshotType="manual"
        )
        for snapshot in ctx.map(
            lambda s: _snapshot(ctx, s, with_attributes), [s for s in snapshots or [] if _is_rds(s)]
        ):
            ctx.add(snapshot)
        cluster_snapshots = ctx.paginate(
            "rds",
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            produces=[DBClusterSnapshot],
            SnapshotType="manual",
        )
        for cluster_snapshot in ctx.map(
            lambda s: _cluster_snapshot(ctx, s, with_attributes),
            [s for s in cluster_snapshots or [] if _is_rds(s)],
        ):
            ctx.add(cluster_snapshot)


def _common(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "engine": str(item.get("Engine", "")),
        "engine_version": item.get("EngineVersion"),
        "storage_encrypted": bool(item.get("StorageEncrypted")),
        "kms_key_id": item.get("KmsKeyId"),
        "vpc_security_group_ids": [
            g["VpcSecurityGroupId"] for g in item.get("VpcSecurityGroups") or [] if "VpcSecurityGroupId" in g
        ],
        "backup_retention_days": int(item.get("BackupRetentionPeriod") or 0),
        "log_exports": list(item.get("EnabledCloudwatchLogsExports") or []),
        "iam_auth_enabled": bool(item.get("IAMDatabaseAuthenticationEnabled")),
    }


def _instance(ctx: CollectContext, item: dict[str, Any]) -> DBInstance:
    return db_instance_from_api(item, ctx.account_id, ctx.region)


def db_instance_from_api(item: dict[str, Any], account_id: str, region: str) -> DBInstance:
    """A DescribeDBInstances item as a model (pure: AWS Config items of the same shape reuse it)."""
    identifier = item["DBInstanceIdentifier"]
    port = (item.get("Endpoint") or {}).get("Port") or item.get("DbInstancePort") or None
    return DBInstance(
        id=item.get("DBInstanceArn") or rds_arn(account_id, region, "db", identifier),
        name=identifier,
        account_id=account_id,
        region=region,
        tags=_tags(item),
        identifier=identifier,
        cluster_id=item.get("DBClusterIdentifier") or None,
        instance_class=item.get("DBInstanceClass"),
        replica_source=item.get("ReadReplicaSourceDBInstanceIdentifier")
        or item.get("ReadReplicaSourceDBClusterIdentifier"),
        status=item.get("DBInstanceStatus"),
        publicly_accessible=bool(item.get("PubliclyAccessible")),
        port=int(port) if port else None,
        parameter_groups=[
            g["DBParameterGroupName"]
            for g in item.get("DBParameterGroups") or []
            if "DBParameterGroupName" in g
        ],
        parameter_apply_status=next(
            (g.get("ParameterApplyStatus") for g in item.get("DBParameterGroups") or []), None
        ),
        **_common(item),
    )


def _cluster(ctx: CollectContext, item: dict[str, Any]) -> DBCluster:
    return db_cluster_from_api(item, ctx.account_id, ctx.region)


def db_cluster_from_api(item: dict[str, Any], account_id: str, region: str) -> DBCluster:
    """A DescribeDBClusters item as a model (pure: AWS Config items of the same shape reuse it)."""
    identifier = item["DBClusterIdentifier"]
    return DBCluster(
        id=item.get("DBClusterArn") or rds_arn(account_id, region, "cluster", identifier),
        name=identifier,
        account_id=account_id,
        region=region,
        tags=_tags(item),
        identifier=identifier,
        engine_mode=item.get("EngineMode"),
        status=item.get("Status"),
        # Only Multi-AZ DB clusters carry PubliclyAccessible; Aurora decides it per instance.
        publicly_accessible=item.get("PubliclyAccessible"),
        port=item.get("Port"),
        cluster_parameter_group=item.get("DBClusterParameterGroup"),
        members=[
            m["DBInstanceIdentifier"]
            for m in item.get("DBClusterMembers") or []
            if "DBInstanceIdentifier" in m
        ],
        member_parameter_status={
            m["DBInstanceIdentifier"]: m["DBClusterParameterGroupStatus"]
            for m in item.get("DBClusterMembers") or []
            if "DBInstanceIdentifier" in m and m.get("DBClusterParameterGroupStatus")
        },
        **_common(item),
    )


def _parameter_group(
    ctx: CollectContext, name: str, *, cluster: bool
) -> DBParameterGroup | DBClusterParameterGroup:
    model: type[DBParameterGroup] | type[DBClusterParameterGroup] = (
        DBClusterParameterGroup if cluster else DBParameterGroup
    )
    group = model(
        id=_arn(ctx, "cluster-pg" if cluster else "pg", name),
        name=name,
        account_id=ctx.account_id,
        region=ctx.region,
        group_name=name,
    )
    operation = "describe_db_cluster_parameters" if cluster else "describe_db_parameters"
    key = "DBClusterParameterGroupName" if cluster else "DBParameterGroupName"
    parameters: dict[str, str] = {}
    marker: str | None = None
    while True:  # paginated by hand so that a failure is kept on this group, not on the region
        params: dict[str, Any] = {key: name}
        if marker:
            params["Marker"] = marker
        result = ctx.call("rds", operation, resource_id=name, **params)
        if result.error is not None:
            group.mark_error("parameters", result.error)
            return group
        data = result.data or {}
        for parameter in data.get("Parameters", []):
            pname = parameter.get("ParameterName")
            if pname in WATCHED_PARAMETERS and parameter.get("ParameterValue") not in (None, ""):
                parameters[pname] = str(parameter["ParameterValue"])
        marker = data.get("Marker")
        if not marker:
            break
    group.parameters = parameters
    return group


def _restore_attribute(data: dict[str, Any] | None, result_key: str, list_key: str) -> list[str]:
    attributes = ((data or {}).get(result_key) or {}).get(list_key) or []
    for attribute in attributes:
        if attribute.get("AttributeName") == "restore":
            return [str(v) for v in attribute.get("AttributeValues") or []]
    return []


def _snapshot(ctx: CollectContext, item: dict[str, Any], with_attributes: bool) -> DBSnapshot:
    identifier = item["DBSnapshotIdentifier"]
    snapshot = DBSnapshot(
        id=item.get("DBSnapshotArn") or _arn(ctx, "snapshot", identifier),
        name=identifier,
        account_id=ctx.account_id,
        region=ctx.region,
        tags=_tags(item),
        identifier=identifier,
        instance_id=item.get("DBInstanceIdentifier"),
        engine=item.get("Engine"),
        snapshot_type=item.get("SnapshotType"),
        encrypted=bool(item.get("Encrypted")),
        kms_key_id=item.get("KmsKeyId"),
        created=parse_time(item.get("SnapshotCreateTime")),
    )
    if with_attributes:
        result = ctx.call(
            "rds", "describe_db_snapshot_attributes", DBSnapshotIdentifier=identifier, resource_id=identifier
        )
        _apply_restore(snapshot, result, "DBSnapshotAttributesResult", "DBSnapshotAttributes")
    return snapshot


def _cluster_snapshot(ctx: CollectContext, item: dict[str, Any], with_attributes: bool) -> DBClusterSnapshot:
    identifier = item["DBClusterSnapshotIdentifier"]
    snapshot = DBClusterSnapshot(
        id=item.get("DBClusterSnapshotArn") or _arn(ctx, "cluster-snapshot", identifier),
        name=identifier,
        account_id=ctx.account_id,
        region=ctx.region,
        tags=_tags(item),
        identifier=identifier,
        cluster_id=item.get("DBClusterIdentifier"),
        engine=item.get("Engine"),
        snapshot_type=item.get("SnapshotType"),
        encrypted=bool(item.get("StorageEncrypted")),
        kms_key_id=item.get("KmsKeyId"),
        created=parse_time(item.get("SnapshotCreateTime")),
    )
    if with_attributes:
        result = ctx.call(
            "rds",
            "describe_db_cluster_snapshot_attributes",
            DBClusterSnapshotIdentifier=identifier,
            resource_id=identifier,
        )
        _apply_restore(snapshot, result, "DBClusterSnapshotAttributesResult", "DBClusterSnapshotAttributes")
    return snapshot


def _apply_restore(
    snapshot: DBSnapshot | DBClusterSnapshot, result: Any, result_key: str, list_key: str
) -> None:
    if result.error is not None:
        snapshot.mark_error("public", result.error)
        snapshot.mark_error("shared_with", result.error)
        return
    values = _restore_attribute(result.data, result_key, list_key)
    snapshot.public = "all" in values
    snapshot.shared_with = sorted(v for v in values if v != "all")
