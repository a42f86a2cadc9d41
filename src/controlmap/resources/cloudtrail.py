"""CloudTrail trails, normalized, with their event selectors (basic and advanced) as data."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from controlmap.resources.base import Resource


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataResource(_Facts):
    type: str  # AWS::S3::Object, AWS::Lambda::Function, ...
    values: list[str] = Field(default_factory=list)  # ARN prefixes; "arn:aws:s3" = all buckets


class EventSelector(_Facts):
    read_write_type: str = "All"  # All, ReadOnly, WriteOnly
    include_management_events: bool = True
    exclude_management_event_sources: list[str] = Field(default_factory=list)
    data_resources: list[DataResource] = Field(default_factory=list)


class FieldSelector(_Facts):
    field: str  # eventCategory, resources.type, readOnly, eventSource, resources.ARN, ...
    equals: list[str] = Field(default_factory=list)
    starts_with: list[str] = Field(default_factory=list)
    ends_with: list[str] = Field(default_factory=list)
    not_equals: list[str] = Field(default_factory=list)
    not_starts_with: list[str] = Field(default_factory=list)
    not_ends_with: list[str] = Field(default_factory=list)


class AdvancedEventSelector(_Facts):
    name: str | None = None
    field_selectors: list[FieldSelector] = Field(default_factory=list)


class CloudTrailTrail(Resource):
    resource_type: ClassVar[str] = "AWS::CloudTrail::Trail"

    home_region: str | None = None
    multi_region: bool | None = None
    organization_trail: bool | None = None
    include_global_events: bool | None = None
    is_logging: bool | None = None
    log_file_validation: bool | None = None
    s3_bucket_name: str | None = None
    kms_key_id: str | None = None  # "" when logs use SSE-S3 only
    cloudwatch_log_group_arn: str | None = None  # "" when not delivering to CloudWatch Logs
    cloudwatch_last_delivery: datetime | None = None
    cloudwatch_delivery_error: str | None = None  # "" when the last delivery succeeded
    # Exactly one of these is used by a trail; the other is an empty list.
    event_selectors: list[EventSelector] | None = None
    advanced_event_selectors: list[AdvancedEventSelector] | None = None

    def covers_region(self, region: str) -> bool:
        return bool(self.multi_region) or self.home_region == region
