"""Markdown for a pull-request comment: a summary and the failing findings, every value escaped.

GitHub refuses comments over 65,536 characters, so the findings list stops early with a note
rather than losing the whole comment.
"""

from __future__ import annotations

from typing import Any

from controlmap.catalog.catalog import Catalog
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import (
    SEVERITY_ORDER,
    exception_note,
    expiry_notices,
    location,
    md_code,
    md_text,
    one_line,
    ordered,
    read_errors,
    resource_label,
    scan_title,
    shared_names,
    summarize,
)
from controlmap.outputs.framework import framework_view

MAX_CHARS = 60_000
ICONS = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "informational": "⚪"}


def render_markdown(
    result: ScanResult,
    *,
    framework: str | None = None,
    catalog: Catalog | None = None,
    limit: int = 200,
    **_: Any,
) -> str:
    if framework:
        return _framework(result, framework, catalog)
    summary = summarize(result.findings)
    failing = [f for f in ordered(result.findings) if f.status is Status.FAIL]
    lines = [f"### controlmap: {md_text(scan_title(result))}", ""]
    if not result.complete:
        # A PR comment must not read as a clean bill of health when the scan did not finish.
        lines += [
            "⚠️ **Incomplete scan**: it was interrupted or could not read everything; "
            "the findings below are partial.",
            "",
        ]
    if failing:
        lines.append(
            f"**{len(failing)} failing** finding(s) "
            f"({summary.open_critical} critical, {summary.overdue} overdue) "
            f"out of {summary.total.total}; pass rate {_rate(summary.total.pass_rate)}."
        )
    else:
        lines.append(f"**No failing findings** out of {summary.total.total}.")
    lines += [
        "",
        "| Severity | Fail | Pass | Excepted | Manual | Unknown | Error |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for severity in SEVERITY_ORDER:
        t = summary.by_severity[severity]
        if not t.total:
            continue
        excepted = t.count(Status.EXCEPTED) + t.count(Status.SUPPRESSED)
        lines.append(
            f"| {ICONS[severity.value]} {severity.label} | {t.failed} | {t.count(Status.PASS)} | {excepted} "
            f"| {t.count(Status.MANUAL)} | {t.count(Status.UNKNOWN)} | {t.count(Status.ERROR)} |"
        )
    for notice in expiry_notices(result):
        lines += ["", f"⏰ Expired: {md_text(notice.message)}"]
    if read_errors(result) and result.kind == "iac":
        # A template that does not parse has no findings at all: the comment must say which.
        errors = read_errors(result)
        lines += [
            "",
            f"⚠️ {len(errors)} file error(s): what they name was not scanned, or the skip was ignored.",
            "",
        ]
        for error in errors[:50]:
            where = f"{error.source}:{error.line}" if error.line else str(error.source)
            lines.append(f"- {md_code(where)} {md_text(one_line(error.message, 300))}")
        if len(errors) > 50:
            lines.append(f"- … and {len(errors) - 50} more")
    elif read_errors(result):
        lines += [
            "",
            f"⚠️ {len(read_errors(result))} read error(s) during the scan; affected checks report ERROR.",
        ]
    if failing:
        lines += ["", "#### Failing findings", ""]
        lines += ["| Severity | Control | Resource | Location | Reason | Due |", "|---|---|---|---|---|---|"]
        body: list[str] = []
        size = sum(len(x) + 1 for x in lines)
        shown = 0
        shared_failing = shared_names(failing)
        for finding in failing[:limit]:
            row = _finding_row(finding, shared_failing)
            if size + len(row) > MAX_CHARS:
                break
            body.append(row)
            size += len(row) + 1
            shown += 1
        lines += body
        if shown < len(failing):
            lines += ["", f"_…and {len(failing) - shown} more failing finding(s); see the full report._"]
    accepted = [f for f in ordered(result.findings) if f.status in (Status.EXCEPTED, Status.SUPPRESSED)]
    if accepted:
        lines += ["", "#### Excepted findings", ""]
        lines += [
            "| Severity | Control | Resource | Location | Approval | Status |",
            "|---|---|---|---|---|---|",
        ]
        size = sum(len(x) + 1 for x in lines)
        shared = shared_names(accepted)
        for count, f in enumerate(accepted[:limit]):
            row = (
                f"| {ICONS[f.severity.value]} {f.severity.label} | {md_text(f.control_id)} "
                f"| {md_code(one_line(resource_label(f, shared), 160))} "
                f"| {md_code(one_line(location(f), 160))} "
                f"| {md_text(one_line(exception_note(f), 300))} | {f.status.value} |"
            )
            if size + len(row) > MAX_CHARS:
                lines += ["", f"_…and {len(accepted) - count} more excepted finding(s)._"]
                break
            lines.append(row)
            size += len(row) + 1
    return "\n".join(lines) + "\n"


def _finding_row(f: Finding, shared: set[str]) -> str:
    due = f.due_date.isoformat() if f.due_date else ""
    if f.overdue:
        due = f"**overdue** {due}"
    return (
        f"| {ICONS[f.severity.value]} {f.severity.label} | {md_text(f.control_id)} "
        f"| {md_code(one_line(resource_label(f, shared), 160))} | {md_code(one_line(location(f), 160))} "
        f"| {md_text(one_line(f.reason, 400))} | {due} |"
    )


def _rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1f}%"


def _framework(result: ScanResult, framework: str, catalog: Catalog | None) -> str:
    view = framework_view(result, framework, catalog)
    counts = view.counts()
    lines = [f"### {md_text(view.name)}", ""]
    lines.append(", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no requirements")
    lines += ["", "| Requirement | Title | Status | Seed controls | Resources |", "|---|---|---|---|---|"]
    for row in view.rows:
        controls = ", ".join(f"{md_text(c.control_id)} ({c.status})" for c in row.controls) or "-"
        resources = len({e.resource_id for e in row.evidence})
        title = md_text(one_line(row.title, 120))
        status = f"{row.status} ({row.tally})" if row.tally else row.status
        lines.append(f"| {md_text(row.id)} | {title} | {status} | {controls} | {resources} |")
    return "\n".join(lines) + "\n"
