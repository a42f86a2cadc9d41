"""Recording a scan: atomically, with each finding's lifecycle (first seen, resolved, reopened).

A scan row is written ``running`` before collection starts. Its findings, the lifecycle updates
and the ``complete`` mark are written in one transaction at the end, so a crash or Ctrl-C never
leaves half a scan: earlier scans stay intact and this one is marked ``incomplete`` (or stays
``running`` if the process was killed outright; listings show both as not complete).

Lifecycle rules (keyed by ``Finding.key``):

- a finding *fails* when its status is FAIL, or EXCEPTED/SUPPRESSED (a failure someone accepted);
- ``first_seen`` is the start of the first scan that saw it failing, and the due date is
  ``first_seen`` + the plan window's end for its severity and service (from the settings);
  a finding that reopens keeps its original first-seen date and due date, so fixing something
  briefly does not restart its clock; ``reopened`` counts how often that happened;
- it is *resolved* when a later complete scan sees it PASS or NOT_APPLICABLE, or evaluated the same
  control in the same scope and the resource is gone (an incomplete scan resolves nothing);
- it is *overdue* when it is FAIL (not excepted) and the scan date is past its due date.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

import controlmap
from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import is_overdue
from controlmap.settings import PlanSettings, Settings
from controlmap.store.db import Store, database_error, open_store
from controlmap.store.models import LifecycleRow, ScanFindingRow, ScanRow

FAILING = frozenset({Status.FAIL, Status.EXCEPTED, Status.SUPPRESSED})
RESOLVING = frozenset({Status.PASS, Status.NOT_APPLICABLE})
_RETRIES = 3
_IN_CHUNK = 500  # keys per IN (...) query; SQLite allows 999 parameters by default


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; everything the store writes is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def scope_key(kind: str, accounts: Iterable[str], sources: Iterable[str]) -> str:
    """Scans of the same kind over the same accounts (or IaC sources) are comparable."""
    payload = json.dumps([kind, sorted(set(accounts)), sorted(set(sources))])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def scanned_sources(result: ScanResult) -> list[str]:
    """The sources as the store keeps them. IaC paths are made absolute: every repository's CI job
    scans ``.``, and a team database must not take two projects for the same scope (each scan
    would mark the other project's findings gone, and `findings` would show only the last)."""
    if result.kind != "iac":
        return list(result.sources)
    return [str(Path(source).expanduser().resolve()) for source in result.sources]


def scope_of(result: ScanResult) -> str:
    return scope_key(result.kind, result.accounts, scanned_sources(result))


def new_scan_id() -> str:
    return uuid.uuid4().hex[:12]


def window_end_days(finding: Finding, plan: PlanSettings | None) -> int:
    if plan is not None:
        return plan.window(finding.severity, finding.service).end_days
    if finding.window_end_days is not None:
        return finding.window_end_days
    return 365 if finding.severity in (Severity.LOW, Severity.INFORMATIONAL) else 90


class ScanRecorder:
    """Handed out by ``scan_session``; call ``record(result)`` once the scan has its findings."""

    def __init__(self, store: Store, scan_id: str, settings: Settings | None):
        self.store = store
        self.scan_id = scan_id
        self.settings = settings
        self.recorded = False

    def record(self, result: ScanResult) -> ScanResult:
        """Write the findings and lifecycle in one transaction; return the result with history filled.

        Two scans recorded at the same moment can both try to create the same lifecycle row; the
        loser's transaction rolls back whole and is retried against the winner's rows.
        """
        for attempt in range(_RETRIES):
            try:
                return self._record_once(result)
            except IntegrityError as exc:
                if attempt == _RETRIES - 1:
                    raise database_error(self.store.url, exc, "write to") from None
            except SQLAlchemyError as exc:  # a damaged or locked database: the scan still reports
                raise database_error(self.store.url, exc, "write to") from None
        raise AssertionError("unreachable")

    def _record_once(self, result: ScanResult) -> ScanResult:
        with self.store.session() as session, session.begin():
            scan = session.get(ScanRow, self.scan_id)
            if scan is None:
                raise RuntimeError(f"scan {self.scan_id} vanished from the store")
            findings = _apply_lifecycle(session, scan, result, self.settings)
            rows = [
                {
                    "scan_id": self.scan_id,
                    "key": f.key,
                    "control_id": f.control_id,
                    "status": f.status.value,
                    "severity": f.severity.value,
                    "service": f.service,
                    "account_id": f.account_id,
                    "region": f.region,
                    "resource_id": f.resource_id,
                    "due_date": f.due_date,
                    "data": f.to_json(),
                }
                for f in findings
            ]
            if rows:
                session.execute(FINDINGS.insert(), rows)
            _fill_scan_row(scan, result, findings)
        self.recorded = True
        return result.model_copy(update={"scan_id": self.scan_id, "findings": findings})


def _fill_scan_row(scan: ScanRow, result: ScanResult, findings: Sequence[Finding]) -> None:
    scan.kind = result.kind
    scan.state = "complete" if result.complete else "incomplete"
    scan.scope_key = scope_of(result)
    scan.started_at = aware(result.started_at)
    scan.finished_at = aware(result.finished_at) if result.finished_at else datetime.now(UTC)
    scan.tool_version = result.tool_version
    scan.schema_version = result.schema_version
    scan.accounts = list(result.accounts)
    scan.regions = list(result.regions)
    scan.services = list(result.services)
    scan.sources = scanned_sources(result)
    scan.api_calls = dict(result.api_calls)
    scan.errors = [e.model_dump(mode="json") for e in result.errors]
    scan.resource_count = result.resource_count
    scan.finding_count = len(findings)
    scan.fail_count = sum(1 for f in findings if f.status is Status.FAIL)
    scan.pass_count = sum(
        1 for f in findings if f.status in (Status.PASS, Status.EXCEPTED, Status.SUPPRESSED)
    )
    if not result.complete:
        scan.note = scan.note or "the scan reported itself incomplete"


LIFECYCLE: Table = LifecycleRow.__table__  # type: ignore[assignment]
FINDINGS: Table = ScanFindingRow.__table__  # type: ignore[assignment]
_UPDATE_LIFECYCLE = (
    LIFECYCLE.update()
    .where(LIFECYCLE.c.key == bindparam("b_key"))
    .values({c.name: bindparam("b_" + c.name) for c in LIFECYCLE.columns if c.name != "key"})
)


def _load_rows(session: Session, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        for row in session.execute(select(LIFECYCLE).where(LIFECYCLE.c.key.in_(chunk))).mappings():
            rows[row["key"]] = dict(row)
    return rows


def _apply_lifecycle(
    session: Session, scan: ScanRow, result: ScanResult, settings: Settings | None
) -> list[Finding]:
    """Lifecycle rows read and written with bulk statements: a 10,000-finding scan is one round trip each."""
    seen_at = aware(result.started_at)
    today = seen_at.date()
    scope = scope_of(result)
    by_key: dict[str, Finding] = {}
    for finding in result.findings:
        by_key.setdefault(finding.key, finding)
    rows = _load_rows(session, list(by_key))
    plan = settings.resolved_plan() if settings is not None else None
    created: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, Any]] = {}
    out: list[Finding] = []
    for finding in result.findings:
        key = finding.key
        row = rows.get(key)
        update: dict[str, object] = {}
        if finding.status in FAILING:
            due_days = window_end_days(finding, plan)
            if row is None:
                row = {
                    "key": key,
                    "scope_key": scope,
                    "control_id": finding.control_id,
                    "check_id": finding.check_id,
                    "service": finding.service,
                    "severity": finding.severity.value,
                    "resource_id": finding.resource_id,
                    "account_id": finding.account_id,
                    "region": finding.region,
                    "status": finding.status.value,
                    "first_seen": seen_at,
                    "last_seen": seen_at,
                    "resolved_at": None,
                    "reopened": 0,
                    "due_date": None,
                    "last_scan_id": scan.id,
                    "resolved_scan_id": None,
                    "open": True,
                }
                rows[key] = created[key] = row
            elif not row["open"]:
                row.update(open=True, reopened=row["reopened"] + 1, resolved_at=None, resolved_scan_id=None)
            first_seen = aware(row["first_seen"])
            due: date = (first_seen + timedelta(days=due_days)).date()
            row.update(
                last_seen=max(aware(row["last_seen"]), seen_at),
                due_date=due,
                severity=finding.severity.value,
                scope_key=scope,
            )
            update = {
                "first_seen": first_seen,
                "due_date": due,
                "window_end_days": due_days,
                "overdue": is_overdue(finding.model_copy(update={"due_date": due}), today),
            }
        else:
            # An incomplete scan never resolves (docs/history.md): `findings` and `diff` skip it,
            # so a fix it saw would show as a FAIL already resolved, and the next complete scan
            # that still fails would count a reopen that never happened.
            if row is not None and row["open"] and finding.status in RESOLVING and result.complete:
                row.update(open=False, resolved_at=seen_at, resolved_scan_id=scan.id)
            if finding.status in RESOLVING:
                update = {"due_date": None, "overdue": False}
            if row is not None:
                update["first_seen"] = aware(row["first_seen"])
        if row is not None:
            row.update(status=finding.status.value, last_scan_id=scan.id)
            if key not in created:
                changed[key] = row
        out.append(finding.model_copy(update=update) if update else finding)
    if result.complete:
        for row in _missing(session, scope, result, set(by_key), seen_at):
            row.update(open=False, resolved_at=seen_at, resolved_scan_id=scan.id, status="GONE")
            changed[row["key"]] = row
    # Core executemany (batched by the driver), not the ORM unit of work: 10,000 rows in seconds.
    if created:
        session.execute(LIFECYCLE.insert(), list(created.values()))
    if changed:
        session.execute(
            _UPDATE_LIFECYCLE, [{"b_" + k: v for k, v in row.items()} for row in changed.values()]
        )
    return out


def listing_failed(finding: Finding) -> bool:
    """An ERROR finding that stands for a whole listing that failed (``AccessDenied`` on
    ``ListBuckets``): the engine names it ``"<resource type> in <account>/<region>"``. Its
    resources were not seen, so their absence proves nothing."""
    return finding.status is Status.ERROR and finding.resource_id.startswith(f"{finding.resource_type} in ")


def _missing(
    session: Session, scope: str, result: ScanResult, present: set[str], seen_at: datetime
) -> list[dict[str, Any]]:
    """Open findings of this scope that a complete scan no longer reports: the resource is gone.

    Only controls the scan evaluated in that account count, and not those whose listing failed
    there: a global listing (S3, IAM) fails in the home region, so a failed listing blocks the
    control in the whole account for this scan.
    """
    blocked = {(f.control_id, f.account_id) for f in result.findings if listing_failed(f)}
    evaluated = {(f.control_id, f.account_id) for f in result.findings} - blocked
    query = select(LIFECYCLE).where(LIFECYCLE.c.scope_key == scope, LIFECYCLE.c.open.is_(True))
    gone = []
    for mapping in session.execute(query).mappings():
        row = dict(mapping)
        if row["key"] in present or (row["control_id"], row["account_id"]) not in evaluated:
            continue
        if result.regions and row["region"] is not None and row["region"] not in result.regions:
            continue
        if aware(row["last_seen"]) >= seen_at:
            continue  # seen by a newer scan recorded earlier (out-of-order recording)
        gone.append(row)
    return gone


@contextmanager
def scan_session(
    db_url: str | None = None,
    settings: Settings | None = None,
    *,
    kind: str,
    started_at: datetime | None = None,
    store: Store | None = None,
) -> Iterator[ScanRecorder]:
    """Mark a scan ``running`` now; ``incomplete`` if the block fails or is interrupted.

    Usage::

        with scan_session(db_url, settings, kind="aws") as recorder:
            result = run_the_scan()
            result = recorder.record(result)
    """
    owned = store is None
    active = store or open_store(db_url, settings)
    scan_id = new_scan_id()
    started = aware(started_at or datetime.now(UTC))
    try:
        _start_row(active, scan_id, kind, started)
    except SQLAlchemyError as exc:
        if owned:
            active.close()
        raise database_error(active.url, exc, "write to") from None
    recorder = ScanRecorder(active, scan_id, settings)
    try:
        yield recorder
    except BaseException as exc:  # Ctrl-C included: the scan must not look complete
        if not recorder.recorded:
            _mark_incomplete(active, scan_id, f"interrupted: {type(exc).__name__}")
        raise
    else:
        if not recorder.recorded:
            _mark_incomplete(active, scan_id, "the scan ended without recording results")
    finally:
        if owned:
            active.close()


def _start_row(store: Store, scan_id: str, kind: str, started: datetime) -> None:
    with store.session() as session, session.begin():
        session.add(
            ScanRow(
                id=scan_id,
                kind=kind,
                state="running",
                scope_key=scope_key(kind, [], []),
                started_at=started,
                tool_version=controlmap.__version__,  # known at the start, kept if the scan never ends
                schema_version="",
                accounts=[],
                regions=[],
                services=[],
                sources=[],
                api_calls={},
                errors=[],
                resource_count=0,
                finding_count=0,
                fail_count=0,
                pass_count=0,
                note="",
            )
        )


def _mark_incomplete(store: Store, scan_id: str, note: str) -> None:
    """Best effort: if the database itself is what failed, the row stays ``running``, which
    every listing shows as not complete (running/interrupted) all the same."""
    try:
        with store.session() as session, session.begin():
            scan = session.get(ScanRow, scan_id)
            if scan is not None:
                scan.state = "incomplete"
                scan.finished_at = datetime.now(UTC)
                scan.note = note
    except SQLAlchemyError:
        pass


def record_scan(
    result: ScanResult,
    db_url: str | None = None,
    settings: Settings | None = None,
    *,
    store: Store | None = None,
) -> ScanResult:
    """Record a finished scan in one go; returns it with ``scan_id``, first seen, due dates, overdue."""
    with scan_session(
        db_url, settings, kind=result.kind, started_at=result.started_at, store=store
    ) as recorder:
        return recorder.record(result)
