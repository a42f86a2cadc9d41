"""Findings: one verdict of one check about one resource, with everything each reader needs.

The security engineer reads status, reason and evidence; the developer reads the resource,
its file and line and the fix; the auditor reads the ISO 27001 / SOC 2 references and the due
date. The JSON form of this model is the documented, versioned output schema
(``docs/findings-schema.md``); bump ``SCHEMA_VERSION`` on any incompatible change.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.resources.base import SourceRef

SCHEMA_VERSION = "1.0"

FAILING = frozenset({Status.FAIL})
OPEN_STATUSES = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN})


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    control_id: str
    check_id: str | None  # None for controls no check automates (MANUAL findings)
    status: Status
    severity: Severity
    service: str
    title: str  # the control's title
    resource_id: str
    resource_type: str
    resource_name: str
    account_id: str | None = None
    region: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)  # the resource's tags (exceptions select on them)
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    detail_id: str | None = None
    error_code: str | None = None
    iso27001: list[str] = Field(default_factory=list)  # ISO/IEC 27001:2022 Annex A
    soc2: list[str] = Field(default_factory=list)  # SOC 2 TSC (2017, revised 2022)
    remediation: str = ""
    window_start_days: int | None = None
    window_end_days: int | None = None
    first_seen: datetime | None = None
    due_date: date | None = None
    overdue: bool = False
    source: SourceRef | None = None
    exception: dict[str, Any] | None = None  # the approved exception or inline suppression applied

    @property
    def key(self) -> str:
        """Stable identity across scans: control, check, resource, detail, account, region."""
        parts = [
            self.control_id,
            self.check_id or "-",
            self.resource_id,
            self.detail_id or "-",
            self.account_id or "-",
            self.region or "-",
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def is_failure(self) -> bool:
        return self.status in FAILING

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["finding_id"] = self.key
        return data


class ScanError(BaseModel):
    """A read that failed during a scan (or a file that could not be parsed), as shown in summaries."""

    model_config = ConfigDict(extra="forbid")

    source: str  # "s3:GetBucketPolicy" or a file path
    code: str  # AWS error code or a parser error kind
    message: str = ""
    region: str | None = None
    account_id: str | None = None
    resource_id: str | None = None
    line: int | None = None


class ScanResult(BaseModel):
    """One scan: what was scanned, how it went, and its findings. Every output renders this."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    tool_version: str = ""
    scan_id: str | None = None  # set by the store when the scan is recorded
    kind: str  # "aws", "iac" or "aws-config"
    started_at: datetime
    finished_at: datetime | None = None
    complete: bool = True
    accounts: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)  # files, directories or "aws"
    api_calls: dict[str, int] = Field(default_factory=dict)  # "service:Operation" -> count
    errors: list[ScanError] = Field(default_factory=list)
    resource_count: int = 0
    findings: list[Finding] = Field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"findings"})
        data["duration_seconds"] = self.duration_seconds
        data["findings"] = [f.to_json() for f in self.findings]
        return data
