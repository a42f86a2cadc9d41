"""The HTML report: one self-contained file a security lead can send to an auditor.

No network is needed to view it: styles, script and the trend chart (SVG) are inline, and a
Content-Security-Policy meta tag forbids every remote load (scripts and styles are allowed only
by their SHA-256 hashes). Every value is escaped by Jinja2 autoescaping; the findings the table
script filters are embedded as JSON in a ``<script type="application/json">`` block with ``<``,
``>`` and ``&`` written as ``\\u`` escapes, so ``</script>`` in a tag value cannot end the block,
and the script builds cells with ``textContent`` only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

import controlmap
from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import (
    SEVERITY_ORDER,
    exception_note,
    expiry_notices,
    is_overdue,
    location,
    ordered,
    read_errors,
    scan_title,
    summarize,
)
from controlmap.outputs.framework import FrameworkView, framework_view

SUMMARY_LIMIT = 20  # rows per list in the executive summary; the findings table has them all


@dataclass(frozen=True)
class TrendPoint:
    """One past scan in the trend chart (the store provides these)."""

    scan_id: str
    started_at: datetime
    pass_rate: float | None
    failing: int


def json_for_script(data: Any) -> Markup:
    """JSON safe inside a <script> element: no '<', '>' or '&' survive literally."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def _asset(name: str) -> str:
    return (resources.files("controlmap.outputs") / "templates" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("controlmap.outputs", "templates"),
        autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _finding_row(f: Finding) -> dict[str, Any]:
    return {
        "id": f.key,
        "status": f.status.value,
        "severity": f.severity.value,
        "rank": f.severity.rank,
        "control": f.control_id,
        "title": f.title,
        "service": f.service,
        "resource": f.resource_name,
        "resource_id": f.resource_id,
        "type": f.resource_type,
        "account": f.account_id or "",
        "region": f.region or "",
        "where": location(f),
        "reason": f.reason,
        "remediation": f.remediation,
        "due": f.due_date.isoformat() if f.due_date else "",
        "overdue": f.overdue,
        "first_seen": f.first_seen.date().isoformat() if f.first_seen else "",
        # The same words as the console and Markdown: which exception, who approved it, until
        # when; an auditor looks the ID up in exceptions.yaml (justification, ticket).
        "exception": exception_note(f),
        "refs": " ".join(f.iso27001 + f.soc2),
        "tags": ", ".join(f"{k}={v}" for k, v in sorted(f.tags.items())),
    }


@dataclass
class PlanControl:
    control_id: str
    title: str
    service: str
    open: int
    overdue: int
    due: date | None
    next_step: str


@dataclass
class PlanTier:
    severity: Severity
    window: str
    open: int
    overdue: int
    earliest_due: date | None
    controls: list[PlanControl]


def remediation_plan(findings: list[Finding]) -> list[PlanTier]:
    """Open failures grouped by severity tier, each control with its earliest due date."""
    tiers = []
    for severity in SEVERITY_ORDER:
        failing = [f for f in findings if f.severity is severity and f.status is Status.FAIL]
        if not failing:
            continue
        by_control: dict[str, list[Finding]] = {}
        for f in failing:
            by_control.setdefault(f.control_id, []).append(f)
        controls = []
        for control_id, group in by_control.items():
            dues = [f.due_date for f in group if f.due_date]
            controls.append(
                PlanControl(
                    control_id,
                    group[0].title,
                    group[0].service,
                    len(group),
                    sum(1 for f in group if f.overdue),
                    min(dues) if dues else None,
                    group[0].remediation,
                )
            )
        controls.sort(key=lambda c: (c.due or date.max, -c.overdue, c.control_id))
        windows = sorted({(f.window_start_days, f.window_end_days) for f in failing if f.window_end_days})
        window = ", ".join(f"{s or 0}-{e} days" for s, e in windows)
        dues = [c.due for c in controls if c.due]
        tiers.append(
            PlanTier(
                severity,
                window,
                len(failing),
                sum(c.overdue for c in controls),
                min(dues) if dues else None,
                controls,
            )
        )
    return tiers


@dataclass
class Attestation:
    control_id: str
    title: str
    severity: Severity
    accounts: list[str]
    what: str


def attestations(findings: list[Finding]) -> list[Attestation]:
    """MANUAL findings, one row per control: what an auditor must see evidence of, and where."""
    by_control: dict[str, Attestation] = {}
    for f in findings:
        if f.status is not Status.MANUAL:
            continue
        row = by_control.setdefault(
            f.control_id, Attestation(f.control_id, f.title, f.severity, [], f.reason)
        )
        if f.account_id and f.account_id not in row.accounts:
            row.accounts.append(f.account_id)
    return sorted(by_control.values(), key=lambda a: (-a.severity.rank, a.control_id))


def trend_svg(points: list[TrendPoint], width: int = 640, height: int = 180) -> dict[str, Any] | None:
    """Coordinates for the trend chart: pass rate as a line, failing findings as bars."""
    if len(points) < 1:
        return None
    pad_left, pad_right, pad_top, pad_bottom = 56, 40, 10, 30
    inner_w = width - pad_left - pad_right
    inner_h = height - pad_top - pad_bottom
    step = inner_w / max(len(points) - 1, 1)
    max_fail = max((p.failing for p in points), default=0) or 1
    bar_w = max(min(step * 0.5, 24), 2)
    line, bars, labels = [], [], []
    for i, p in enumerate(points):
        x = pad_left + (i * step if len(points) > 1 else inner_w / 2)
        if p.pass_rate is not None:
            line.append((round(x, 1), round(pad_top + inner_h * (1 - p.pass_rate / 100), 1), p.pass_rate))
        bar_h = inner_h * p.failing / max_fail
        bars.append(
            {
                "x": round(x - bar_w / 2, 1),
                "y": round(pad_top + inner_h - bar_h, 1),
                "w": round(bar_w, 1),
                "h": round(bar_h, 1),
                "failing": p.failing,
                "label": p.started_at.strftime("%Y-%m-%d %H:%M"),
            }
        )
        labels.append({"x": round(x, 1), "text": p.started_at.strftime("%m-%d")})
    every = max(1, len(labels) // 8)
    return {
        "width": width,
        "height": height,
        "left": pad_left,
        "right": width - pad_right,
        "top": pad_top,
        "bottom": pad_top + inner_h,
        "points": " ".join(f"{x},{y}" for x, y, _ in line),
        "dots": [{"x": x, "y": y, "rate": r} for x, y, r in line],
        "bars": bars,
        "labels": labels[::every],
        "max_fail": max_fail,
    }


def render_html(
    result: ScanResult,
    *,
    framework: str | None = None,
    catalog: Catalog | None = None,
    history: list[TrendPoint] | None = None,
    title: str | None = None,
    expired_exceptions: list[dict[str, Any]] | None = None,
    **_: Any,
) -> str:
    findings = ordered(result.findings)
    summary = summarize(findings)
    views: list[FrameworkView] = []
    for fw in [framework] if framework else ["iso27001", "soc2"]:
        views.append(framework_view(result, fw, catalog))
    css = _asset("report.css")
    script = _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    points = list(history or [])
    if result.scan_id is None or all(p.scan_id != result.scan_id for p in points):
        points.append(
            TrendPoint(
                result.scan_id or "this scan", result.started_at, summary.total.pass_rate, summary.failing
            )
        )
    points.sort(key=lambda p: p.started_at)
    context = {
        "title": title or f"controlmap report: {scan_title(result)}",
        "result": result,
        "summary": summary,
        "severities": SEVERITY_ORDER,
        "Status": Status,
        "plan": remediation_plan(findings),
        "attestations": attestations(findings),
        "views": views,
        "trend": trend_svg(points),
        "trend_points": points,
        "findings_json": json_for_script([_finding_row(f) for f in findings]),
        "statuses": sorted({f.status.value for f in findings}),
        "services": sorted({f.service for f in findings}),
        "css": Markup(css),
        "script": Markup(script),
        "csp": csp,
        "version": controlmap.__version__,
        "expired_exceptions": expired_exceptions or [],
        "notices": expiry_notices(result),
        "read_errors": read_errors(result),
        "open_critical": [f for f in findings if f.severity is Severity.CRITICAL and f.status is Status.FAIL],
        "overdue": [f for f in findings if is_overdue(f)],
        "location": location,
        "summary_limit": SUMMARY_LIMIT,
    }
    return _environment().get_template("report.html.j2").render(context)
