"""Where each account stands, from the recorded scans: pass rates, open Critical and overdue findings, trend.

Scans may cover a subset of services, so an account's current state is assembled per service
from the most recent scan that looked at that service. Pass rate is PASS / (PASS + FAIL):
excepted, suppressed, manual and not-applicable findings are counted but do not move it, and
ERROR / UNKNOWN findings are open (someone must look) but are not failures of the resource.
Findings without an account (IaC scans) belong to no dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import OPEN_STATUSES, Finding, ScanResult
from controlmap.outputs.common import expiry_notices, is_overdue, read_errors


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    open: int = 0
    total: int = 0

    def add(self, finding: Finding) -> None:
        self.total += 1
        if finding.status is Status.PASS:
            self.passed += 1
        elif finding.status is Status.FAIL:
            self.failed += 1
        if finding.status in OPEN_STATUSES:
            self.open += 1

    @property
    def evaluated(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        """Pass rate in percent, or None when nothing was evaluated."""
        return 100.0 * self.passed / self.evaluated if self.evaluated else None


@dataclass(frozen=True)
class TrendPoint:
    when: datetime
    scan_id: str | None
    rate: float | None
    open: int
    open_critical: int


@dataclass
class AccountDashboard:
    account_id: str
    last_scan: datetime
    regions: list[str]
    incomplete: bool  # the latest scan stopped early or had read errors
    expired_exceptions: list[str]  # lapsed approvals: their findings fail again (not read errors)
    findings: list[Finding]
    overall: Tally
    by_service: list[tuple[str, Tally]]
    by_severity: list[tuple[Severity, Tally]]
    status_counts: list[tuple[Status, int]]
    open_critical: list[Finding]
    overdue: list[Finding]
    trend: list[TrendPoint] = field(default_factory=list)


def tally(findings: Iterable[Finding]) -> Tally:
    result = Tally()
    for finding in findings:
        result.add(finding)
    return result


def build_dashboards(scans: Sequence[ScanResult], today: date) -> list[AccountDashboard]:
    ordered = sorted(scans, key=lambda s: s.started_at)
    current: dict[str, dict[str, list[Finding]]] = {}  # account -> service -> latest findings
    last_seen: dict[str, ScanResult] = {}
    trends: dict[str, list[TrendPoint]] = {}
    for scan in ordered:
        per_account: dict[str, list[Finding]] = {}
        for finding in scan.findings:
            if finding.account_id:
                per_account.setdefault(finding.account_id, []).append(finding)
        for account in scan.accounts:
            per_account.setdefault(account, [])
        for account, findings in per_account.items():
            services = set(scan.services) | {f.service for f in findings}
            state = current.setdefault(account, {})
            for service in services:
                state[service] = [f for f in findings if f.service == service]
            last_seen[account] = scan
            summary = tally(findings)
            trends.setdefault(account, []).append(
                TrendPoint(
                    when=scan.finished_at or scan.started_at,
                    scan_id=scan.scan_id,
                    rate=summary.rate,
                    open=summary.open,
                    open_critical=sum(
                        1 for f in findings if f.severity is Severity.CRITICAL and f.status in OPEN_STATUSES
                    ),
                )
            )
    dashboards = []
    for account in sorted(current):
        findings = [f for service in sorted(current[account]) for f in current[account][service]]
        scan = last_seen[account]
        dashboards.append(_dashboard(account, scan, findings, trends[account], today))
    return dashboards


def _dashboard(
    account: str, scan: ScanResult, findings: list[Finding], trend: list[TrendPoint], today: date
) -> AccountDashboard:
    by_service: dict[str, Tally] = {}
    by_severity: dict[Severity, Tally] = {}
    statuses: dict[Status, int] = {}
    for finding in findings:
        by_service.setdefault(finding.service, Tally()).add(finding)
        by_severity.setdefault(finding.severity, Tally()).add(finding)
        statuses[finding.status] = statuses.get(finding.status, 0) + 1
    severity_rows = sorted(by_severity.items(), key=lambda kv: -kv[0].rank)
    open_findings = sorted(
        (f for f in findings if f.status in OPEN_STATUSES),
        key=lambda f: (-f.severity.rank, f.due_date or date.max, f.control_id, f.resource_name),
    )
    return AccountDashboard(
        account_id=account,
        last_scan=scan.finished_at or scan.started_at,
        regions=sorted({f.region for f in findings if f.region} | set(scan.regions)),
        incomplete=not scan.complete or any(e.account_id in (None, account) for e in read_errors(scan)),
        expired_exceptions=[e.message for e in expiry_notices(scan)],
        findings=findings,
        overall=tally(findings),
        by_service=sorted(by_service.items()),
        by_severity=severity_rows,
        status_counts=[(s, statuses[s]) for s in Status if s in statuses],
        open_critical=[f for f in open_findings if f.severity is Severity.CRITICAL],
        overdue=[f for f in open_findings if is_overdue(f, today)],
        trend=trend,
    )


def failing_by_type(dashboards: Sequence[AccountDashboard]) -> dict[str, list[Finding]]:
    """Current FAIL findings of every account, grouped by resource type ID, most severe first."""
    out: dict[str, list[Finding]] = {}
    for board in dashboards:
        for finding in board.findings:
            if finding.status is Status.FAIL:
                out.setdefault(finding.resource_type, []).append(finding)
    for items in out.values():
        items.sort(key=lambda f: (-f.severity.rank, f.account_id or "", f.resource_name, f.control_id))
    return out


def failing_by_control(dashboards: Sequence[AccountDashboard]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for board in dashboards:
        for finding in board.findings:
            if finding.status is Status.FAIL:
                out.setdefault(finding.control_id, []).append(finding)
    return out
