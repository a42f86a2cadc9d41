"""CloudTrail: every trail once (in its home region), its logging status and event selectors.

``DescribeTrails`` includes shadow trails: the copies a multi-region trail has in every region
and, in a member account of an organization, the organization trail of the management account
(it is returned *only* as a shadow; without shadows a member account seems to have no trail).
Each trail is kept once: in its home region, or, when that region is not scanned (a
multi-region trail homed in us-east-1 scanned with ``--regions eu-west-1``), in the first
scanned region. Status and selectors are then read in the home region by ARN, as AWS requires
for shadow and organization trails.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.cloudtrail import (
    AdvancedEventSelector,
    CloudTrailTrail,
    DataResource,
    EventSelector,
    FieldSelector,
)
from controlmap.sources.aws.collector import CollectContext, Scope, collector

STATUS_FACTS = ("is_logging", "cloudwatch_last_delivery", "cloudwatch_delivery_error")
SELECTOR_FACTS = ("event_selectors", "advanced_event_selectors")


@collector("cloudtrail", service="cloudtrail", produces=[CloudTrailTrail], scope=Scope.REGIONAL)
def collect_cloudtrail(ctx: CollectContext) -> None:
    result = ctx.call("cloudtrail", "describe_trails", includeShadowTrails=True)
    if result.error is not None:
        ctx.record_error(result.error.model_copy(update={"resource_types": (CloudTrailTrail.resource_type,)}))
        return
    trails = [_trail(ctx, t) for t in (result.data or {}).get("trailList", []) if _read_here(ctx, t)]
    for trail in ctx.map(lambda t: _details(ctx, t), trails):
        ctx.add(trail)


def _read_here(ctx: CollectContext, item: dict[str, Any]) -> bool:
    """Whether this region's run keeps the trail (each trail once across the scanned regions)."""
    home = item.get("HomeRegion") or ctx.region
    if home == ctx.region:
        return True
    return home not in ctx.regions and ctx.region == min(ctx.regions)


def _trail(ctx: CollectContext, item: dict[str, Any]) -> CloudTrailTrail:
    return trail_from_api(item, ctx.account_id, ctx.region)


def trail_from_api(item: dict[str, Any], account_id: str, region: str) -> CloudTrailTrail:
    """A DescribeTrails item as a model (pure: AWS Config items of the same shape reuse it)."""
    return CloudTrailTrail(
        id=item["TrailARN"],
        name=item["Name"],
        account_id=account_id,
        region=item.get("HomeRegion") or region,
        home_region=item.get("HomeRegion") or region,
        multi_region=bool(item.get("IsMultiRegionTrail")),
        organization_trail=bool(item.get("IsOrganizationTrail")),
        include_global_events=bool(item.get("IncludeGlobalServiceEvents")),
        log_file_validation=bool(item.get("LogFileValidationEnabled")),
        s3_bucket_name=item.get("S3BucketName"),
        kms_key_id=item.get("KmsKeyId") or "",
        cloudwatch_log_group_arn=item.get("CloudWatchLogsLogGroupArn") or "",
    )


def _details(ctx: CollectContext, trail: CloudTrailTrail) -> CloudTrailTrail:
    if ctx.wants(*STATUS_FACTS):
        status = ctx.call(
            "cloudtrail", "get_trail_status", region=trail.home_region, Name=trail.id, resource_id=trail.id
        )
        if status.error is not None:
            for fact in STATUS_FACTS:
                trail.mark_error(fact, status.error)
        elif status.data is not None:
            trail.is_logging = bool(status.data.get("IsLogging"))
            trail.cloudwatch_last_delivery = status.data.get("LatestCloudWatchLogsDeliveryTime")
            trail.cloudwatch_delivery_error = status.data.get("LatestCloudWatchLogsDeliveryError") or ""
    if ctx.wants(*SELECTOR_FACTS):
        selectors = ctx.call(
            "cloudtrail",
            "get_event_selectors",
            region=trail.home_region,
            TrailName=trail.id,
            resource_id=trail.id,
        )
        if selectors.error is not None:
            for fact in SELECTOR_FACTS:
                trail.mark_error(fact, selectors.error)
        elif selectors.data is not None:
            trail.event_selectors = [event_selector(s) for s in selectors.data.get("EventSelectors") or []]
            trail.advanced_event_selectors = [
                _advanced(s) for s in selectors.data.get("AdvancedEventSelectors") or []
            ]
    return trail


def event_selector(raw: dict[str, Any]) -> EventSelector:
    return EventSelector(
        read_write_type=raw.get("ReadWriteType", "All"),
        include_management_events=raw.get("IncludeManagementEvents", True),
        exclude_management_event_sources=list(raw.get("ExcludeManagementEventSources") or []),
        data_resources=[
            DataResource(type=d.get("Type", ""), values=list(d.get("Values") or []))
            for d in raw.get("DataResources") or []
        ],
    )


def _advanced(raw: dict[str, Any]) -> AdvancedEventSelector:
    return AdvancedEventSelector(
        name=raw.get("Name"),
        field_selectors=[
            FieldSelector(
                field=f.get("Field", ""),
                equals=list(f.get("Equals") or []),
                starts_with=list(f.get("StartsWith") or []),
                ends_with=list(f.get("EndsWith") or []),
                not_equals=list(f.get("NotEquals") or []),
                not_starts_with=list(f.get("NotStartsWith") or []),
                not_ends_with=list(f.get("NotEndsWith") or []),
            )
            for f in raw.get("FieldSelectors") or []
        ],
    )
