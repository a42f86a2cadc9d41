"""AWS::CloudTrail::Trail, with CloudTrail's defaults for what the template leaves out."""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.cloudtrail import (
    AdvancedEventSelector,
    CloudTrailTrail,
    DataResource,
    EventSelector,
    FieldSelector,
)
from controlmap.resources.kms import KmsKey
from controlmap.resources.s3 import S3Bucket
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, put, text, to_bool, unknown


@primary("AWS::CloudTrail::Trail")
def trail(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("TrailName")
    region = region_of(item, build)
    model = CloudTrailTrail(
        id=build.resource_id(item.logical_id),
        name=name if isinstance(name, str) else item.logical_id,
        region=region,
        home_region=region,
        tags=tags(item),
        source=item.source,
    )
    if region is None:
        model.unknown["home_region"] = "the region is chosen at deploy time (pass --parameter AWS::Region=…)"
    put(model, "is_logging", to_bool(props.get("IsLogging", True)), "IsLogging")
    put(model, "multi_region", to_bool(props.get("IsMultiRegionTrail", False)), "IsMultiRegionTrail")
    put(model, "organization_trail", to_bool(props.get("IsOrganizationTrail", False)), "IsOrganizationTrail")
    put(
        model,
        "include_global_events",
        to_bool(props.get("IncludeGlobalServiceEvents", True)),
        "IncludeGlobalServiceEvents",
    )
    put(
        model,
        "log_file_validation",
        to_bool(props.get("EnableLogFileValidation", False)),
        "EnableLogFileValidation",
    )
    put(model, "s3_bucket_name", _bucket_name(props.get("S3BucketName"), build), "S3BucketName")
    put(model, "kms_key_id", _key(props.get("KMSKeyId"), build), "KMSKeyId")
    group = props.get("CloudWatchLogsLogGroupArn")
    if isinstance(group, ResourceRef):
        group = str(group)
    put(model, "cloudwatch_log_group_arn", "" if group is None else group, "CloudWatchLogsLogGroupArn")
    model.unknown["cloudwatch_last_delivery"] = "delivery to CloudWatch Logs is only seen in the account"
    model.unknown["cloudwatch_delivery_error"] = model.unknown["cloudwatch_last_delivery"]
    _selectors(model, props)
    return [model]


def _bucket_name(value: Any, build: CfnBuild) -> Any:
    if isinstance(value, ResourceRef):
        bucket = build.target(value, S3Bucket)
        if bucket is not None:
            return bucket.name
        return build.physical(value)
    return value


def _key(value: Any, build: CfnBuild) -> Any:
    if value is None:
        return ""
    if isinstance(value, ResourceRef):
        found = build.target(value, KmsKey)
        return found.id if found is not None else str(value)
    if isinstance(value, Unresolved):
        # Stays unknown when nothing of it is known (a parameter may be empty: no key at all).
        return value if value.opaque else value.placeholder
    return value


def _selectors(model: CloudTrailTrail, props: dict[str, Any]) -> None:
    basic, advanced = props.get("EventSelectors"), props.get("AdvancedEventSelectors")
    missing = first_unresolved(basic) or first_unresolved(advanced)
    if missing is not None:
        unknown(model, "event_selectors", "EventSelectors", missing)
        unknown(model, "advanced_event_selectors", "AdvancedEventSelectors", missing)
        return
    if advanced:
        model.event_selectors = []
        model.advanced_event_selectors = [
            AdvancedEventSelector(
                name=text(selector.get("Name")),
                field_selectors=[
                    FieldSelector(
                        field=str(fs.get("Field", "")),
                        equals=[str(v) for v in as_list(fs.get("Equals"))],
                        starts_with=[str(v) for v in as_list(fs.get("StartsWith"))],
                        ends_with=[str(v) for v in as_list(fs.get("EndsWith"))],
                        not_equals=[str(v) for v in as_list(fs.get("NotEquals"))],
                        not_starts_with=[str(v) for v in as_list(fs.get("NotStartsWith"))],
                        not_ends_with=[str(v) for v in as_list(fs.get("NotEndsWith"))],
                    )
                    for fs in as_list(selector.get("FieldSelectors"))
                    if isinstance(fs, dict)
                ],
            )
            for selector in as_list(advanced)
            if isinstance(selector, dict)
        ]
        return
    model.advanced_event_selectors = []
    if not basic:  # CloudTrail's default: all management events, no data events
        model.event_selectors = [EventSelector()]
        return
    model.event_selectors = [
        EventSelector(
            read_write_type=str(selector.get("ReadWriteType", "All")),
            include_management_events=bool(to_bool(selector.get("IncludeManagementEvents", True))),
            exclude_management_event_sources=[
                str(v) for v in as_list(selector.get("ExcludeManagementEventSources"))
            ],
            data_resources=[
                DataResource(
                    type=str(dr.get("Type", "")),
                    values=[str(v) for v in as_list(dr.get("Values")) if isinstance(v, str)],
                )
                for dr in as_list(selector.get("DataResources"))
                if isinstance(dr, dict)
            ],
        )
        for selector in as_list(basic)
        if isinstance(selector, dict)
    ]
