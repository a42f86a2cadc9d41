"""Reading the history: scans, a recorded scan as a ScanResult, diffs, the latest state, trends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanError, ScanResult
from controlmap.outputs.common import is_overdue
from controlmap.outputs.html import TrendPoint
from controlmap.store.db import Store, StoreError
from controlmap.store.models import LifecycleRow, ScanFindingRow, ScanRow
from controlmap.store.recorder import aware


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
    """The newest complete scan of the same scope before ``scan``."""
    with store.session() as session:
        return session.scalars(
            select(ScanRow)
            .where(
                ScanRow.scope_key == scan.scope_key,
                ScanRow.state == "complete",
                ScanRow.started_at < scan.started_at,
                ScanRow.id != scan.id,
            )
            .order_by(ScanRow.started_at.desc())
            .limit(1)
        ).first()


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
class Diff:
    old: ScanRow
    new: ScanRow
    new_failures: list[Finding]
    resolved: list[Finding]  # failing in OLD, not failing in NEW (the NEW finding if present)
    still_failing: list[Finding]
    swapped: bool = False  # the scans were given newest first and were put in order

    def to_json(self) -> dict[str, Any]:
        return {
            "old_scan": self.old.id,
            "new_scan": self.new.id,
            "new": [f.to_json() for f in self.new_failures],
            "resolved": [f.to_json() for f in self.resolved],
            "still_failing": [f.to_json() for f in self.still_failing],
        }


def diff_scans(store: Store, old_ref: str | None = None, new_ref: str | None = None) -> Diff:
    """New, resolved and still-failing findings; default: the latest two comparable complete scans."""
    new = find_scan(store, new_ref)
    if old_ref is None:
        old = previous_comparable(store, new)
        if old is None:
            raise StoreError(f"scan {new.id} has no earlier complete scan of the same scope to compare with")
    else:
        old = find_scan(store, old_ref)
    swapped = aware(old.started_at) > aware(new.started_at)
    if swapped:  # `diff NEW OLD`: compare in time order, or "new" and "resolved" trade places
        old, new = new, old
    old_findings = {f.key: f for f in findings_of(store, old.id)}
    new_findings = {f.key: f for f in findings_of(store, new.id)}
    old_failing = {k for k, f in old_findings.items() if f.status is Status.FAIL}
    new_failing = {k for k, f in new_findings.items() if f.status is Status.FAIL}
    return Diff(
        old,
        new,
        [new_findings[k] for k in new_failing - old_failing],
        [new_findings.get(k, old_findings[k]) for k in old_failing - new_failing],
        [new_findings[k] for k in new_failing & old_failing],
        swapped,
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
    """The newest complete scan of every scope (account set or IaC source set)."""
    with store.session() as session:
        rows = session.scalars(
            select(ScanRow).where(ScanRow.state == "complete").order_by(ScanRow.started_at.desc())
        )
        latest: dict[str, ScanRow] = {}
        for row in rows:
            latest.setdefault(row.scope_key, row)
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
    """The latest state of every finding, filtered; overdue is judged against ``today``."""
    today = today or datetime.now(UTC).date()
    wanted = {
        "severity": {s.lower() for s in severities},
        "service": {s.lower() for s in services},
        "control_id": {c.upper() for c in controls},
        "status": {s.upper() for s in statuses},
        "account_id": set(accounts),
    }
    out: list[FindingState] = []
    with store.session() as session:
        for scan in latest_scans(store):
            query = select(ScanFindingRow).where(ScanFindingRow.scan_id == scan.id)
            for column, values in wanted.items():
                if values:
                    query = query.where(getattr(ScanFindingRow, column).in_(sorted(values)))
            rows = list(session.scalars(query.order_by(ScanFindingRow.id)))
            keys = [r.key for r in rows]
            lifecycle: dict[str, LifecycleRow] = {}
            for start in range(0, len(keys), 500):
                for found in session.scalars(
                    select(LifecycleRow).where(LifecycleRow.key.in_(keys[start : start + 500]))
                ):
                    lifecycle[found.key] = found
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


def trend(store: Store, scan: ScanRow, *, limit: int = 30) -> list[TrendPoint]:
    """Pass rate and failing counts of the complete scans of ``scan``'s scope, oldest first."""
    with store.session() as session:
        rows = list(
            session.scalars(
                select(ScanRow)
                .where(
                    ScanRow.scope_key == scan.scope_key,
                    ScanRow.state == "complete",
                    ScanRow.started_at <= scan.started_at,
                )
                .order_by(ScanRow.started_at.desc())
                .limit(limit)
            )
        )
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
