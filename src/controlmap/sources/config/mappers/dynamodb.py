"""DynamoDB tables, from their configuration items (DescribeTable's shape).

``ssedescription`` names the KMS key, if any; whether AWS or the customer manages it comes from
the key's own item (``AWS::KMS::Key``) when the data has it. Point-in-time recovery is in the
supplementary ``ContinuousBackupsDescription``. Resource-based policies are not recorded.
"""

from __future__ import annotations

from controlmap.checks.registry import Inventory
from controlmap.resources.base import Resource
from controlmap.resources.dynamodb import DynamoDbTable, TableEncryption
from controlmap.resources.kms import KmsKey
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, base, finisher, mapper

OWNERS = {"CUSTOMER": "CUSTOMER", "AWS": "AWS_MANAGED"}


@mapper("AWS::DynamoDB::Table")
def table(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    name = str(config.get("tableName") or item.resource_name or item.resource_id)
    model = DynamoDbTable(
        **base(item, name=name, id=config.get("tableArn") or item.arn),
        table_name=name,
        status=config.get("tableStatus"),
    )
    sse = config.get("ssedescription") or config.get("sseDescription")
    key = (sse or {}).get("kmsMasterKeyArn")
    if not sse or not key:
        model.encryption = TableEncryption(owner="AWS_OWNED", status=(sse or {}).get("status"))
    else:
        model.encryption = TableEncryption(owner=None, kms_key_arn=str(key), status=sse.get("status"))
    backups = fold(item.supplement("ContinuousBackupsDescription") or {})
    pitr = (backups.get("pointInTimeRecoveryDescription") or {}).get("pointInTimeRecoveryStatus")
    if pitr is not None:
        model.point_in_time_recovery = pitr == "ENABLED"
    else:
        model.mark_unknown(
            "point_in_time_recovery", "the configuration item has no ContinuousBackupsDescription"
        )
    ctx.not_recorded(model, ["resource_policy"], "DynamoDB resource-based policies")
    return [model]


@finisher
def key_owners(inventory: Inventory, ctx: MapContext) -> None:
    """Who manages each table's KMS key, from the key's own item."""
    managers = {k.id: k.key_manager for k in inventory.of_type(KmsKey)}
    for model in inventory.of_type(DynamoDbTable):
        encryption = model.encryption
        if encryption is None or encryption.kms_key_arn is None:
            continue
        manager = managers.get(encryption.kms_key_arn)
        if manager in OWNERS:
            model.encryption = encryption.model_copy(update={"owner": OWNERS[manager or ""]})
        else:
            model.mark_unknown(
                "encryption.owner",
                f"KMS key {encryption.kms_key_arn} is not in the data (include its AWS::KMS::Key item); "
                "whether AWS or the customer manages it is unknown",
            )
