"""CSV: one row per finding (or per requirement with ``framework``), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from controlmap.catalog.catalog import Catalog
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import csv_cell, ordered
from controlmap.outputs.framework import framework_view

FINDING_COLUMNS = (
    "finding_id",
    "status",
    "severity",
    "control_id",
    "check_id",
    "title",
    "service",
    "resource_id",
    "resource_type",
    "resource_name",
    "account_id",
    "region",
    "tags",
    "file",
    "line_start",
    "line_end",
    "reason",
    "remediation",
    "iso27001",
    "soc2",
    "first_seen",
    "due_date",
    "overdue",
    "exception_approved_by",
    "exception_expires",
    "evidence",
)
FRAMEWORK_COLUMNS = (
    "requirement",
    "title",
    "group",
    "status",
    "failed",
    "passed",
    "controls",
    "evidence_resources",
)


def _finding_row(f: Finding) -> list[Any]:
    exc = f.exception or {}
    return [
        f.key,
        f.status.value,
        f.severity.value,
        f.control_id,
        f.check_id or "",
        f.title,
        f.service,
        f.resource_id,
        f.resource_type,
        f.resource_name,
        f.account_id or "",
        f.region or "",
        json.dumps(f.tags, sort_keys=True, ensure_ascii=False) if f.tags else "",
        f.source.file if f.source and f.source.file else "",
        f.source.line_start if f.source and f.source.line_start else "",
        f.source.line_end if f.source and f.source.line_end else "",
        f.reason,
        f.remediation,
        " ".join(f.iso27001),
        " ".join(f.soc2),
        f.first_seen.isoformat() if f.first_seen else "",
        f.due_date.isoformat() if f.due_date else "",
        "yes" if f.overdue else "no",
        exc.get("approved_by", ""),
        str(exc.get("expires", "")),
        json.dumps(f.evidence, sort_keys=True, default=str) if f.evidence else "",
    ]


def _write(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([v if isinstance(v, int) else csv_cell(v) for v in row])
    return buffer.getvalue()


def render_csv(
    result: ScanResult, *, framework: str | None = None, catalog: Catalog | None = None, **_: Any
) -> str:
    if framework:
        view = framework_view(result, framework, catalog)
        rows = [
            [
                r.id,
                r.title,
                r.group,
                r.status,
                r.failed,
                r.passed,
                " ".join(f"{c.control_id}={c.status}" for c in r.controls),
                " ".join(sorted({e.resource_id for e in r.evidence})),
            ]
            for r in view.rows
        ]
        return _write(FRAMEWORK_COLUMNS, rows)
    return _write(FINDING_COLUMNS, [_finding_row(f) for f in ordered(result.findings)])
