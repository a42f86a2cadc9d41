"""Reading the history: scans, a recorded scan as a ScanResult, diffs, the latest state, trends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanError, ScanResult
from controlmap.outputs.common import is_overdue
from controlmap.outputs.html import TrendPoint
from controlmap.store.db import Store, StoreError
from controlmap.store.models import LifecycleRow, ScanFindingRow, ScanRow
from controlmap.store.recorder import aware, listing_failed

_SCAN_WINDOW = 500  # earlier scans of a scope searched for one of the same coverage


def coverage(scan: ScanRow) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a scan looked at within its scope: its regions and services (``--regions``,
    ``--services``). Scans of one scope with the same coverage are *comparable*."""
    return tuple(sorted(scan.regions or [])), tuple(sorted(scan.services or []))


def comparable(a: ScanRow, b: ScanRow) -> bool:
    """Same kind, accounts (or IaC sources), regions and services: the same scan, run again."""
    return a.scope_key == b.scope_key and coverage(a) == coverage(b)


def describe_scope(scan: ScanRow) -> str:
    """``aws 123456789012 · us-east-1, eu-west-1 · s3, iam`` for messages."""
    parts = [scan.kind, ", ".join(scan.accounts or scan.sources) or "-"]
    regions, services = coverage(scan)
    if regions:
        parts.append(", ".join(regions))
    if services:
        parts.append(", ".join(services))
    return " · ".join(parts)


@dataclass(frozen=True)
class Coverage:
    """Which findings a scan could have reported: the controls it evaluated (every control a
    live scan evaluates reports at least a NOT_APPLICABLE or MANUAL finding) in its accounts and
    regions, minus the controls whose listing failed there."""

    controls: frozenset[str]
    accounts: frozenset[str]
    regions: frozenset[str]
    failed_listings: frozenset[tuple[str, str | None]]

    def covers(self, control_id: str, account_id: str | None, region: str | None) -> bool:
        """Whether the scan evaluated this control where the finding lives (so its absence means
        the resource is gone), as opposed to not looking there at all."""
        if control_id not in self.controls:
            return False
        if self.accounts and account_id is not None and account_id not in self.accounts:
            return False
        # Global resources (IAM, CloudFront) have no region and are read whatever --regions says.
        return not self.regions or region is None or region in self.regions

    def covers_finding(self, finding: Finding) -> bool:
        return self.covers(finding.control_id, finding.account_id, finding.region)

    def listed(self, finding: Finding) -> bool:
        return (finding.control_id, finding.account_id) not in self.failed_listings


def coverage_of(store: Store, scan: ScanRow, findings: Sequence[Finding] | None = None) -> Coverage:
    if findings is None:
        with store.session() as session:
            controls = set(
                session.scalars(
                    select(ScanFindingRow.control_id).where(ScanFindingRow.scan_id == scan.id).distinct()
                )
            )
            failed = {
                (f.control_id, f.account_id)
                for f in (
                    _finding(row.data)
                    for row in session.scalars(
                        select(ScanFindingRow).where(
                            ScanFindingRow.scan_id == scan.id, ScanFindingRow.status == Status.ERROR.value
                        )
                    )
                )
                if listing_failed(f)
            }
    else:
        controls = {f.control_id for f in findings}
        failed = {(f.control_id, f.account_id) for f in findings if listing_failed(f)}
    return Coverage(
        frozenset(controls), frozenset(scan.accounts or []), frozenset(scan.regions or []), frozenset(failed)
    )


def list_scans(store: Store, *, limit: int = 20, kind: str | None = None) -> list[ScanRow]:
    with store.session() as session:
        query = select(ScanRow).order_by(ScanRow.started_at.desc(), ScanRow.id)
        if kind:
            query = query.where(ScanRow.kind == kind)
        return list(session.scalars(query.limit(limit)))


def find_scan(store: Store, ref: str | None = None) -> ScanRow:
    """A scan by ID (or unique ID prefix); None or ``latest``: the newest complete scan."""
    with store.session() as session:
        if ref is None or ref == "latest":
            row = session.scalars(
                select(ScanRow)
                .where(ScanRow.state == "complete")
                .order_by(ScanRow.started_at.desc())
                .limit(1)
            ).first()
            if row is None:
                raise StoreError(
                    "no complete scan recorded yet; run `controlmap scan aws` or `controlmap demo` first"
                )
            return row
        exact = session.get(ScanRow, ref)
        if exact is not None:
            return exact
        matches = list(
            session.scalars(select(ScanRow).where(ScanRow.id.startswith(ref, autoescape=True)).limit(3))
        )
    if not matches:
        raise StoreError(f"no scan with ID {ref!r}; `controlmap scans` lists them")
    if len(matches) > 1:
        raise StoreError(f"scan ID prefix {ref!r} is ambiguous: {', '.join(m.id for m in matches)}")
    return matches[0]


def previous_comparable(store: Store, scan: ScanRow) -> ScanRow | None:
    """The newest complete scan before ``scan`` of the same scope and coverage (``comparable``).

    A ``--services s3`` scan is not compared with a full scan: everything it did not look at
    would show as resolved.
    """
    with store.session() as session:
        earlier = session.scalars(
            select(ScanRow)
            .where(
                ScanRow.scope_key == scan.scope_key,
                ScanRow.state == "complete",
                ScanRow.started_at < scan.started_at,
                ScanRow.id != scan.id,
            )
            .order_by(ScanRow.started_at.desc())
            .limit(_SCAN_WINDOW)
        )
        return next((row for row in earlier if comparable(row, scan)), None)


def findings_of(store: Store, scan_id: str) -> list[Finding]:
    with store.session() as session:
        rows = session.scalars(
            select(ScanFindingRow).where(ScanFindingRow.scan_id == scan_id).order_by(ScanFindingRow.id)
        )
        return [_finding(row.data) for row in rows]


def _finding(data: dict[str, Any]) -> Finding:
    payload = {k: v for k, v in data.items() if k != "finding_id"}
    return Finding.model_validate(payload)


def load_result(store: Store, scan: ScanRow) -> ScanResult:
    """A recorded scan, as the ScanResult every renderer takes."""
    return ScanResult(
        schema_version=scan.schema_version or ScanResult.model_fields["schema_version"].default,
        tool_version=scan.tool_version,
        scan_id=scan.id,
        kind=scan.kind,
        started_at=aware(scan.started_at),
        finished_at=aware(scan.finished_at) if scan.finished_at else None,
        complete=scan.state == "complete",
        accounts=list(scan.accounts),
        regions=list(scan.regions),
        services=list(scan.services),
        sources=list(scan.sources),
        api_calls=dict(scan.api_calls),
        errors=[ScanError.model_validate(e) for e in scan.errors],
        resource_count=scan.resource_count,
        findings=findings_of(store, scan.id),
    )


@dataclass
class FindingState:
    """A finding in the latest scan of its scope, with its lifecycle."""

    finding: Finding
    scan_id: str
    last_seen: datetime | None
    resolved_at: datetime | None
    reopened: int

    def to_json(self) -> dict[str, Any]:
        data = self.finding.to_json()
        data.update(
            scan_id=self.scan_id,
            last_seen=self.last_seen.isoformat() if self.last_seen else None,
            resolved_at=self.resolved_at.isoformat() if self.resolved_at else None,
            reopened=self.reopened,
        )
        return data


def latest_scans(store: Store) -> list[ScanRow]:
    """The newest complete scan of every scope and coverage, newest first: a nightly full scan
    and a later ``--services s3`` scan of the same account are both current for what they saw."""
    with store.session() as session:
        rows = session.scalars(
            select(ScanRow).where(ScanRow.state == "complete").order_by(ScanRow.started_at.desc())
        )
        latest: dict[tuple[str, tuple[tuple[str, ...], tuple[str, ...]]], ScanRow] = {}
        for row in rows:
            latest.setdefault((row.scope_key, coverage(row)), row)
        return list(latest.values())


def latest_findings(
    store: Store,
    *,
    severities: Sequence[str] = (),
    services: Sequence[str] = (),
    controls: Sequence[str] = (),
    statuses: Sequence[str] = (),
    accounts: Sequence[str] = (),
    overdue: bool = False,
    today: date | None = None,
) -> list[FindingState]:
    """The latest state of every finding, filtered; overdue is judged against ``today``.

    Each finding comes from the newest complete scan that evaluated it: after a full scan and a
    later ``--services s3`` scan, S3 findings come from the second and the rest from the first;
    a finding the newer scan covered but no longer reports is gone, not current.
    """
    today = today or datetime.now(UTC).date()
    wanted = {
        "severity": {s.lower() for s in severities},
        "service": {s.lower() for s in services},
        "control_id": {c.upper() for c in controls},
        "status": {s.upper() for s in statuses},
        "account_id": set(accounts),
    }
    out: list[FindingState] = []
    seen: set[str] = set()
    newer: dict[str, list[Coverage]] = {}  # scope -> coverage of the newer scans already taken
    with store.session() as session:
        for scan in latest_scans(store):
            shadows = newer.get(scan.scope_key, [])
            query = select(ScanFindingRow).where(ScanFindingRow.scan_id == scan.id)
            for column, values in wanted.items():
                if values:
                    query = query.where(getattr(ScanFindingRow, column).in_(sorted(values)))
            rows = [
                row
                for row in session.scalars(query.order_by(ScanFindingRow.id))
                if row.key not in seen
                and not any(c.covers(row.control_id, row.account_id, row.region) for c in shadows)
            ]
            newer.setdefault(scan.scope_key, []).append(coverage_of(store, scan))
            seen.update(row.key for row in rows)
            lifecycle = _lifecycle_rows(session, [r.key for r in rows])
            for row in rows:
                finding = _finding(row.data)
                late = is_overdue(finding, today)
                finding = finding.model_copy(update={"overdue": late})
                if overdue and not late:
                    continue
                lc = lifecycle.get(row.key)
                out.append(
                    FindingState(
                        finding,
                        scan.id,
                        aware(lc.last_seen) if lc else None,
                        aware(lc.resolved_at) if lc and lc.resolved_at else None,
                        lc.reopened if lc else 0,
                    )
                )
    return out


def _lifecycle_rows(session: Session, keys: Sequence[str]) -> dict[str, LifecycleRow]:
    found: dict[str, LifecycleRow] = {}
    for start in range(0, len(keys), 500):
        for row in session.scalars(
            select(LifecycleRow).where(LifecycleRow.key.in_(keys[start : start + 500]))
        ):
            found[row.key] = row
    return found


def trend(store: Store, scan: ScanRow, *, limit: int = 30) -> list[TrendPoint]:
    """Pass rate and failing counts of the complete scans comparable with ``scan``, oldest first
    (a ``--services s3`` scan between two full scans would make the line jump)."""
    with store.session() as session:
        earlier = session.scalars(
            select(ScanRow)
            .where(
                ScanRow.scope_key == scan.scope_key,
                ScanRow.state == "complete",
                ScanRow.started_at <= scan.started_at,
            )
            .order_by(ScanRow.started_at.desc())
            .limit(_SCAN_WINDOW)
        )
        rows = [row for row in earlier if row.id == scan.id or comparable(row, scan)][:limit]
    points = []
    for row in reversed(rows):
        decided = row.pass_count + row.fail_count
        rate = round(100.0 * row.pass_count / decided, 1) if decided else None
        points.append(TrendPoint(row.id, aware(row.started_at), rate, row.fail_count))
    return points


def load_history(store: Store, *, limit: int | None = None, complete_only: bool = True) -> list[ScanResult]:
    """Recorded scans as ScanResults, newest first (the static site's dashboards read these)."""
    with store.session() as session:
        query = select(ScanRow).order_by(ScanRow.started_at.desc())
        if complete_only:
            query = query.where(ScanRow.state == "complete")
        if limit is not None:
            query = query.limit(limit)
        rows = list(session.scalars(query))
    return [load_result(store, row) for row in rows]
