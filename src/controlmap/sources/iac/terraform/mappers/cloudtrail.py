"""aws_cloudtrail with CloudTrail's defaults."""

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
from controlmap.resources.s3 import S3Bucket
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, put, text, to_bool, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, primary
from controlmap.sources.iac.terraform.mappers._common import base, block_list, ref_text


def _texts(value: Any) -> list[str]:
    return [str(v) for v in as_list(value) if isinstance(v, (str, int))]


@primary("aws_cloudtrail")
def trail(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("name")
    model = CloudTrailTrail(**base(item, build, name), home_region=build.region)
    if build.region is None:
        model.unknown["home_region"] = "the region comes from the provider configuration (not a literal)"
    put(model, "is_logging", to_bool(item.get("enable_logging", True)), "enable_logging")
    put(model, "multi_region", to_bool(item.get("is_multi_region_trail", False)), "is_multi_region_trail")
    put(
        model,
        "organization_trail",
        to_bool(item.get("is_organization_trail", False)),
        "is_organization_trail",
    )
    put(
        model,
        "include_global_events",
        to_bool(item.get("include_global_service_events", True)),
        "include_global_service_events",
    )
    put(
        model,
        "log_file_validation",
        to_bool(item.get("enable_log_file_validation", False)),
        "enable_log_file_validation",
    )
    bucket_value = item.get("s3_bucket_name")
    linked = build.target(bucket_value, S3Bucket, item=item)
    if linked is not None:
        model.s3_bucket_name = linked.name
    elif isinstance(bucket_value, (ResourceRef, Unresolved)) and ref_text(bucket_value) is None:
        unknown(
            model,
            "s3_bucket_name",
            "s3_bucket_name",
            bucket_value if isinstance(bucket_value, Unresolved) else f"{bucket_value} (known after apply)",
        )
    else:
        model.s3_bucket_name = ref_text(bucket_value)
    for fact, name, shown in (
        ("kms_key_id", "kms_key_id", "(a computed key)"),
        ("cloudwatch_log_group_arn", "cloud_watch_logs_group_arn", "(a computed log group)"),
    ):
        value = item.get(name)
        if isinstance(value, Unresolved) and value.opaque:  # may be null: none at all
            unknown(model, fact, name, value)
        else:
            setattr(model, fact, "" if value is None else ref_text(value) or shown)
    model.unknown["cloudwatch_last_delivery"] = "delivery to CloudWatch Logs is only seen in the account"
    model.unknown["cloudwatch_delivery_error"] = model.unknown["cloudwatch_last_delivery"]
    basic, advanced = block_list(item, "event_selector"), block_list(item, "advanced_event_selector")
    missing = first_unresolved(basic) or first_unresolved(advanced)
    if isinstance(basic, Unresolved) or isinstance(advanced, Unresolved) or missing is not None:
        reason = (
            basic
            if isinstance(basic, Unresolved)
            else advanced
            if isinstance(advanced, Unresolved)
            else missing
        )
        unknown(model, "event_selectors", "event_selector", reason or "")
        unknown(model, "advanced_event_selectors", "advanced_event_selector", reason or "")
        return [model]
    if advanced:
        model.event_selectors = []
        model.advanced_event_selectors = [
            AdvancedEventSelector(
                name=text(selector.get("name")),
                field_selectors=[
                    FieldSelector(
                        field=str(fs.get("field", "")),
                        equals=_texts(fs.get("equals")),
                        starts_with=_texts(fs.get("starts_with")),
                        ends_with=_texts(fs.get("ends_with")),
                        not_equals=_texts(fs.get("not_equals")),
                        not_starts_with=_texts(fs.get("not_starts_with")),
                        not_ends_with=_texts(fs.get("not_ends_with")),
                    )
                    for fs in as_list(selector.get("field_selector"))
                    if isinstance(fs, dict)
                ],
            )
            for selector in advanced
        ]
        return [model]
    model.advanced_event_selectors = []
    model.event_selectors = [
        EventSelector(
            read_write_type=str(selector.get("read_write_type") or "All"),
            include_management_events=bool(to_bool(selector.get("include_management_events", True))),
            exclude_management_event_sources=_texts(selector.get("exclude_management_event_sources")),
            data_resources=[
                DataResource(type=str(dr.get("type", "")), values=_texts(dr.get("values")))
                for dr in as_list(selector.get("data_resource"))
                if isinstance(dr, dict)
            ],
        )
        for selector in basic
    ] or [EventSelector()]
    return [model]
