"""KMS: every key of every region, with the settings the KMS controls read.

AWS managed keys need only ``DescribeKey`` (AWS owns their policy and rotates them yearly);
rotation status is read only for enabled symmetric customer keys with AWS-generated material,
the only keys for which automatic rotation exists.

The waiting period of a scheduled deletion is not part of ``DescribeKey`` (AWS returns
``PendingDeletionWindowInDays`` only for a multi-Region primary key waiting for its replicas);
it is in the ``ScheduleKeyDeletion`` event of CloudTrail's event history, which keeps 90 days of
management events in every account, trail or not. So when a key is pending deletion, one
``LookupEvents`` listing per region (events of the last 31 days: the longest window is 30)
gives the window chosen for each key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from controlmap.resources.kms import KmsKey
from controlmap.resources.policy import PolicyParseError, parse_policy
from controlmap.sources.aws.collector import CollectContext, Scope, collector


@collector("kms", service="kms", produces=[KmsKey], scope=Scope.REGIONAL)
def collect_kms(ctx: CollectContext) -> None:
    keys = ctx.paginate("kms", "list_keys", "Keys", produces=[KmsKey])
    if keys is None:
        return
    aliases: dict[str, list[str]] = {}
    listed = ctx.paginate("kms", "list_aliases", "Aliases") if keys else []
    for alias in listed or []:
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    found = [k for k in ctx.map(lambda k: _key(ctx, k, aliases, listed is not None), keys) if k is not None]
    pending = [k for k in found if k.key_state == "PendingDeletion" and k.deletion_window_days is None]
    if pending and ctx.wants("deletion_window_days"):
        _deletion_windows(ctx, pending)
    for key in found:
        ctx.add(key)


# A deletion is scheduled at most 30 days ahead, so a key still pending was scheduled within that.
_SCHEDULING_LOOKBACK = timedelta(days=31)
_DEFAULT_WINDOW_DAYS = 30  # ScheduleKeyDeletion without PendingWindowInDays


def _deletion_windows(ctx: CollectContext, pending: list[KmsKey]) -> None:
    """Fill ``deletion_window_days`` of pending keys from their latest ScheduleKeyDeletion event."""
    events, error = ctx.listing(
        "cloudtrail",
        "lookup_events",
        "Events",
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ScheduleKeyDeletion"}],
        StartTime=datetime.now(UTC) - _SCHEDULING_LOOKBACK,
    )
    if events is None:
        for key in pending:
            if error is not None:
                key.mark_error("deletion_window_days", error)
        return
    windows: dict[str, int] = {}
    for event in sorted(events, key=lambda e: e.get("EventTime") or datetime.min.replace(tzinfo=UTC)):
        found = _scheduled_window(event)
        if found is not None:
            windows[found[0]] = found[1]  # the latest scheduling of a key wins
    for key in pending:
        window = windows.get(key.id) or windows.get(key.id.rsplit("/", 1)[-1])
        if window is not None:
            key.deletion_window_days = window
        else:
            key.mark_unknown(
                "deletion_window_days",
                "no ScheduleKeyDeletion event for the key in CloudTrail's event history of the last 31 days",
            )


def _scheduled_window(event: dict[str, Any]) -> tuple[str, int] | None:
    """(key ARN or ID, waiting period in days) from one ScheduleKeyDeletion event."""
    try:
        detail = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        return None
    if detail.get("errorCode"):
        return None  # a refused request scheduled nothing
    request = detail.get("requestParameters") or {}
    response = detail.get("responseElements") or {}
    key = response.get("keyId") or next(
        (
            r.get("ResourceName")
            for r in event.get("Resources") or []
            if r.get("ResourceType") == "AWS::KMS::Key"
        ),
        None,
    )
    key = key or request.get("keyId")
    window = request.get("pendingWindowInDays", _DEFAULT_WINDOW_DAYS)
    if not key or not isinstance(window, int):
        return None
    return str(key), window


def apply_key_metadata(key: KmsKey, meta: dict[str, Any]) -> None:
    """DescribeKey's KeyMetadata onto a key (pure: AWS Config items of the same shape reuse it)."""
    key.key_manager = meta.get("KeyManager")
    key.key_state = meta.get("KeyState")
    key.key_spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
    key.key_usage = meta.get("KeyUsage")
    key.origin = meta.get("Origin")
    key.multi_region = meta.get("MultiRegion")
    key.deletion_date = meta.get("DeletionDate")
    key.deletion_window_days = meta.get("PendingDeletionWindowInDays")
    key.expiration_model = meta.get("ExpirationModel")
    key.valid_to = meta.get("ValidTo")


def _key(
    ctx: CollectContext, listed: dict[str, Any], aliases: dict[str, list[str]], aliases_known: bool
) -> KmsKey | None:
    key_id = listed["KeyId"]
    described = ctx.call(
        "kms", "describe_key", KeyId=key_id, resource_id=listed.get("KeyArn"), absent=("NotFoundException",)
    )
    if described.absent:
        return None  # deleted while we listed
    names = sorted(aliases.get(key_id, []))
    key = KmsKey(
        id=listed.get("KeyArn") or key_id,
        name=names[0] if names else key_id,
        account_id=ctx.account_id,
        region=ctx.region,
        aliases=names if aliases_known else None,
    )
    if described.error is not None:
        for fact in ("key_manager", "key_state", "key_spec", "origin"):
            key.mark_error(fact, described.error)
        return key
    apply_key_metadata(key, (described.data or {}).get("KeyMetadata", {}))
    if key.key_manager != "CUSTOMER":
        return key
    if ctx.wants("policy"):
        policy = ctx.call("kms", "get_key_policy", KeyId=key_id, PolicyName="default", resource_id=key.id)
        if policy.error is not None:
            key.mark_error("policy", policy.error)
        elif policy.data is not None:
            try:
                key.policy = parse_policy(policy.data.get("Policy"))
            except PolicyParseError as exc:
                key.mark_unknown("policy", f"the key policy could not be parsed: {exc}")
    rotatable = key.key_state == "Enabled" and key.key_spec == "SYMMETRIC_DEFAULT" and key.origin == "AWS_KMS"
    if ctx.wants("rotation_enabled") and rotatable:
        rotation = ctx.call("kms", "get_key_rotation_status", KeyId=key_id, resource_id=key.id)
        if rotation.error is not None:
            key.mark_error("rotation_enabled", rotation.error)
        elif rotation.data is not None:
            key.rotation_enabled = bool(rotation.data.get("KeyRotationEnabled"))
            key.rotation_period_days = rotation.data.get("RotationPeriodInDays")
    return key
