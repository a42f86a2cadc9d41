"""KMS keys, from their configuration items (DescribeKey's KeyMetadata, parsed by the live code).

Config records the key metadata and, for customer managed keys, ``KeyRotationStatus`` in the
supplementary configuration. It does not record key policies, aliases or the rotation period.
"""

from __future__ import annotations

from controlmap.resources.base import Resource
from controlmap.resources.kms import KmsKey
from controlmap.sources.aws.services.kms import apply_key_metadata
from controlmap.sources.config.casefold import decode_json_text, fold
from controlmap.sources.config.items import ConfigItem, parse_time
from controlmap.sources.config.mappers._base import MapContext, base, mapper


@mapper("AWS::KMS::Key")
def key(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    key_id = str(config.get("keyId") or item.resource_id)
    model = KmsKey(**base(item, name=key_id, id=config.get("arn") or item.arn))
    apply_key_metadata(model, config)
    # The live parser assigns without validation; Config writes dates as text.
    model.deletion_date = parse_time(model.deletion_date)
    model.valid_to = parse_time(model.valid_to)
    if model.multi_region is not None:
        model.multi_region = bool(model.multi_region)
    rotation = decode_json_text(item.supplement("KeyRotationStatus"))
    if isinstance(rotation, bool):
        model.rotation_enabled = rotation
    elif model.key_manager == "CUSTOMER":
        model.mark_unknown("rotation_enabled", "the configuration item has no KeyRotationStatus")
    ctx.not_recorded(model, ["policy"], "KMS key policies")
    ctx.not_recorded(model, ["aliases"], "KMS key aliases")
    ctx.not_recorded(model, ["rotation_period_days"], "the KMS key rotation period")
    if model.key_state == "PendingDeletion":
        ctx.not_recorded(model, ["deletion_window_days"], "the waiting period of a scheduled key deletion")
    return [model]
