"""DynamoDB tables and DAX clusters.

Per table, only what a selected check needs: DescribeTable (encryption), DescribeContinuousBackups
(point-in-time recovery) and GetResourcePolicy (transport and public access). A table encrypted
with a KMS key names only the key ARN; whether AWS (``alias/aws/dynamodb``) or the customer
manages it is read once per distinct key with kms:DescribeKey.
"""

from __future__ import annotations

import threading
from typing import Any

from controlmap.resources.base import CollectionError
from controlmap.resources.dynamodb import DaxCluster, DynamoDbTable, TableEncryption
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.aws.collector import CollectContext, Scope, collector
from controlmap.sources.aws.services.lambda_ import resource_tags

_NOT_FOUND = ("ResourceNotFoundException",)


@collector("dynamodb", service="dynamodb", produces=[DynamoDbTable], scope=Scope.REGIONAL)
def collect_dynamodb(ctx: CollectContext) -> None:
    names = ctx.paginate("dynamodb", "list_tables", "TableNames", produces=[DynamoDbTable])
    if not names:
        return
    keys = _KeyOwners(ctx)
    tags = resource_tags(ctx, "dynamodb:table")
    for table in ctx.map(lambda name: _table(ctx, name, keys), names):
        if table is not None:
            table.tags = tags.get(table.id, {})
            ctx.add(table)


class _KeyOwners:
    """KMS key ARN -> AWS or CUSTOMER, read once per key however many tables share it."""

    def __init__(self, ctx: CollectContext) -> None:
        self.ctx = ctx
        self.lock = threading.Lock()
        self.cache: dict[str, tuple[str | None, CollectionError | None]] = {}
        self.key_locks: dict[str, threading.Lock] = {}

    def owner(self, key_arn: str, resource_id: str) -> tuple[str | None, CollectionError | None]:
        with self.lock:
            key_lock = self.key_locks.setdefault(key_arn, threading.Lock())
        with key_lock:  # tables sharing a key wait for the first read instead of repeating it
            if key_arn not in self.cache:
                result = self.ctx.call("kms", "describe_key", KeyId=key_arn, resource_id=resource_id)
                manager = ((result.data or {}).get("KeyMetadata") or {}).get("KeyManager")
                self.cache[key_arn] = (manager, result.error)
            return self.cache[key_arn]


def _table(ctx: CollectContext, name: str, keys: _KeyOwners) -> DynamoDbTable | None:
    arn = f"arn:aws:dynamodb:{ctx.region}:{ctx.account_id}:table/{name}"
    table = DynamoDbTable(id=arn, name=name, account_id=ctx.account_id, region=ctx.region, table_name=name)
    if ctx.wants("encryption"):
        described = ctx.call("dynamodb", "describe_table", TableName=name, resource_id=arn, absent=_NOT_FOUND)
        if described.absent:
            return None  # deleted while we listed
        if described.error is not None:
            table.mark_error("encryption", described.error)
        else:
            data = (described.data or {}).get("Table") or {}
            table.id = data.get("TableArn") or arn
            table.status = data.get("TableStatus")
            _encryption(table, data.get("SSEDescription"), keys)
    if ctx.wants("point_in_time_recovery"):
        backups = ctx.call(
            "dynamodb", "describe_continuous_backups", TableName=name, resource_id=table.id, absent=_NOT_FOUND
        )
        if backups.error is not None:
            table.mark_error("point_in_time_recovery", backups.error)
        elif backups.data is not None:
            pitr = (
                (backups.data.get("ContinuousBackupsDescription") or {}).get("PointInTimeRecoveryDescription")
            ) or {}
            table.point_in_time_recovery = pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
    if ctx.wants("resource_policy"):
        policy = ctx.call(
            "dynamodb",
            "get_resource_policy",
            ResourceArn=table.id,
            resource_id=table.id,
            absent=("PolicyNotFoundException", *_NOT_FOUND),
        )
        if policy.error is not None:
            table.mark_error("resource_policy", policy.error)
        elif policy.absent or policy.data is None or not policy.data.get("Policy"):
            table.resource_policy = PolicyDocument()
        else:
            try:
                table.resource_policy = parse_policy(policy.data["Policy"])
            except PolicyParseError as exc:
                table.mark_unknown("resource_policy", f"the resource policy could not be parsed: {exc}")
    return table


def _encryption(table: DynamoDbTable, sse: dict[str, Any] | None, keys: _KeyOwners) -> None:
    if not sse or (sse.get("Status") in ("DISABLED", None) and not sse.get("KMSMasterKeyArn")):
        table.encryption = TableEncryption(owner="AWS_OWNED")
        return
    key = sse.get("KMSMasterKeyArn")
    if not key:
        table.encryption = TableEncryption(owner="AWS_OWNED", status=sse.get("Status"))
        return
    manager, error = keys.owner(key, table.id)
    if error is not None and manager is None:
        table.encryption = TableEncryption(owner=None, kms_key_arn=key, status=sse.get("Status"))
        table.mark_unknown(
            "encryption.owner", f"kms:DescribeKey on {key} failed ({error.code}); key owner unknown"
        )
        return
    owner = {"CUSTOMER": "CUSTOMER", "AWS": "AWS_MANAGED"}.get(manager or "")
    table.encryption = TableEncryption(owner=owner, kms_key_arn=key, status=sse.get("Status"))


@collector("dax", service="dynamodb", produces=[DaxCluster], scope=Scope.REGIONAL)
def collect_dax(ctx: CollectContext) -> None:
    available = ctx.factory.session.get_available_regions("dax") if hasattr(ctx.factory, "session") else None
    if available and ctx.region not in available:
        return  # DAX does not exist in this region
    clusters = ctx.paginate("dax", "describe_clusters", "Clusters", produces=[DaxCluster])
    for item in clusters or []:
        name = item.get("ClusterName", "?")
        ctx.add(
            DaxCluster(
                id=item.get("ClusterArn") or f"arn:aws:dax:{ctx.region}:{ctx.account_id}:cache/{name}",
                name=name,
                account_id=ctx.account_id,
                region=ctx.region,
                cluster_name=name,
                status=item.get("Status"),
                encrypted_at_rest=(item.get("SSEDescription") or {}).get("Status") == "ENABLED",
                endpoint_encryption=item.get("ClusterEndpointEncryptionType") or "NONE",
                security_group_ids=[g["SecurityGroupIdentifier"] for g in item.get("SecurityGroups") or []],
                subnet_group=item.get("SubnetGroup"),
            )
        )
