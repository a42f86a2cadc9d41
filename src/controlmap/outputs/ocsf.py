"""OCSF Compliance Finding (class 2003, schema 1.1.0): one event per finding, as a JSON array.

The compliance object carries the control, the ISO 27001 / SOC 2 requirements and the verdict
(Pass, Warning, Fail); ``finding_info.uid`` is the stable finding key, so a SIEM can follow one
finding across scans.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import controlmap
from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.asff import partition_of
from controlmap.outputs.common import json_lines_array

OCSF_VERSION = "1.1.0"
CLASS_UID = 2003
CATEGORY_UID = 2
ACTIVITY_CREATE = 1
SEVERITY_ID = {
    Severity.INFORMATIONAL: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
# compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 0 Unknown, 99 Other
COMPLIANCE_STATUS = {
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.EXCEPTED: (3, "Fail"),
    Status.SUPPRESSED: (3, "Fail"),
    Status.MANUAL: (2, "Warning"),
    Status.UNKNOWN: (0, "Unknown"),
    Status.ERROR: (0, "Unknown"),
    Status.NOT_APPLICABLE: (99, "Other"),
}
# finding status_id: 1 New, 3 Suppressed, 4 Resolved
FINDING_STATUS = {
    Status.PASS: (4, "Resolved"),
    Status.EXCEPTED: (3, "Suppressed"),
    Status.SUPPRESSED: (3, "Suppressed"),
}


def _ms(moment: datetime) -> int:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(moment.timestamp() * 1000)


def to_ocsf(f: Finding, *, scanned_at: datetime) -> dict[str, Any]:
    status_id, status_name = COMPLIANCE_STATUS[f.status]
    finding_status = FINDING_STATUS.get(f.status, (1, "New"))
    standards = (["ISO/IEC 27001:2022"] if f.iso27001 else []) + (["SOC 2"] if f.soc2 else [])
    region = f.region
    resource: dict[str, Any] = {
        "uid": f.resource_id,
        "name": f.resource_name,
        "type": f.resource_type,
    }
    if region:
        resource["region"] = region
        resource["cloud_partition"] = partition_of(region)
    if f.evidence:
        resource["data"] = f.evidence
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "severity_id": SEVERITY_ID[f.severity],
        "severity": f.severity.label,
        "status_id": finding_status[0],
        "status": finding_status[1],
        "time": _ms(scanned_at),
        "message": f.reason,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "controlmap", "vendor_name": "controlmap", "version": controlmap.__version__},
        },
        "finding_info": {
            "uid": f.key,
            "title": f"{f.control_id} {f.title}",
            "desc": f.reason,
            "created_time": _ms(f.first_seen or scanned_at),
            "first_seen_time": _ms(f.first_seen or scanned_at),
            "last_seen_time": _ms(scanned_at),
            "types": ["Compliance"],
        },
        "compliance": {
            "control": f.control_id,
            "requirements": [f"ISO/IEC 27001:2022 {r}" for r in f.iso27001] + [f"SOC 2 {r}" for r in f.soc2],
            "standards": standards or ["controlmap"],
            "status_id": status_id,
            "status": status_name,
            "status_code": f.status.value,
            "status_detail": f.reason,
        },
        "resources": [resource],
        "cloud": {"provider": "AWS"},
        "unmapped": {
            "check_id": f.check_id,
            "due_date": f.due_date.isoformat() if f.due_date else None,
            "overdue": f.overdue,
        },
    }
    if f.account_id:
        event["cloud"]["account"] = {"uid": f.account_id, "type": "AWS Account", "type_id": 10}
    if region:
        event["cloud"]["region"] = region
    if f.remediation:
        event["remediation"] = {"desc": f.remediation}
    if f.source is not None and f.source.file:
        event["unmapped"]["source"] = f.source.location()
    if f.exception:
        event["unmapped"]["exception"] = f.exception
    return event


def render_ocsf(result: ScanResult, **_: Any) -> str:
    scanned_at = result.finished_at or result.started_at
    return json_lines_array([to_ocsf(f, scanned_at=scanned_at) for f in result.findings])
