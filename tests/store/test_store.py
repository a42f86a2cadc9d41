"""The history store on SQLite and PostgreSQL: lifecycle, atomic scans, diff, queries, URLs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.settings import PlanSettings, Settings
from controlmap.store import Store, StoreError, open_store, record_scan, resolve_url, scan_session
from controlmap.store import recorder as recorder_module
from controlmap.store.db import head_revision
from controlmap.store.diff import diff_scans
from controlmap.store.models import LifecycleRow, ScanFindingRow, ScanRow
from controlmap.store.queries import (
    find_scan,
    latest_findings,
    list_scans,
    load_result,
    trend,
)
from outputs.factories import finding

SETTINGS = Settings(plan=PlanSettings())  # critical 0-30, high 30-90, medium 90-180 days
DAY0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
BUCKET_A = "arn:aws:s3:::a"
BUCKET_B = "arn:aws:s3:::b"
BUCKET_C = "arn:aws:s3:::c"


def scan(
    at: datetime, findings: list[Finding], *, complete: bool = True, accounts=("111122223333",)
) -> ScanResult:
    return ScanResult(
        kind="aws",
        started_at=at,
        finished_at=at + timedelta(minutes=2),
        complete=complete,
        accounts=list(accounts),
        regions=["eu-west-1"],
        services=["s3"],
        sources=["aws"],
        api_calls={"s3:ListBuckets": 1},
        resource_count=len(findings),
        findings=findings,
    )


def s3(resource: str, status: Status, **kw) -> Finding:
    return finding(resource_id=resource, resource_name=resource.rsplit(":", 1)[-1], status=status, **kw)


def lifecycle(store: Store, resource: str) -> LifecycleRow:
    with store.session() as session:
        row = session.scalars(select(LifecycleRow).where(LifecycleRow.resource_id == resource)).one()
        return row


def test_migrations_create_the_schema_once(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"scans", "scan_findings", "finding_lifecycle", "alembic_version"} <= tables
    with store.engine.connect() as connection:
        version = connection.exec_driver_sql("select version_num from alembic_version").scalar()
    assert version == head_revision()
    again = open_store(store.url)  # a second open is a no-op, not an error
    again.close()


def test_lifecycle_across_scans(store: Store) -> None:
    first = record_scan(
        scan(DAY0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL), s3(BUCKET_C, Status.PASS)]),
        settings=SETTINGS,
        store=store,
    )
    assert first.scan_id
    a1 = first.findings[0]
    assert a1.first_seen == DAY0 and a1.due_date == date(2026, 2, 4) and not a1.overdue
    assert first.findings[2].due_date is None  # a passing finding has nothing due

    day10 = DAY0 + timedelta(days=10)
    second = record_scan(
        scan(day10, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.PASS), s3(BUCKET_C, Status.FAIL)]),
        settings=SETTINGS,
        store=store,
    )
    a2, _, c2 = second.findings
    assert a2.first_seen == DAY0 and a2.due_date == date(2026, 2, 4)  # still failing: same clock
    assert c2.first_seen == day10 and c2.due_date == date(2026, 2, 14)  # new
    b = lifecycle(store, BUCKET_B)
    assert not b.open and b.resolved_at is not None and b.resolved_scan_id == second.scan_id

    day40 = DAY0 + timedelta(days=40)
    third = record_scan(
        scan(day40, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL)]),  # bucket c was deleted
        settings=SETTINGS,
        store=store,
    )
    a3, b3 = third.findings
    assert a3.overdue and a3.due_date == date(2026, 2, 4)
    assert b3.first_seen == DAY0 and b3.overdue  # reopened keeps its original clock
    b = lifecycle(store, BUCKET_B)
    assert b.open and b.reopened == 1 and b.resolved_at is None
    c = lifecycle(store, BUCKET_C)
    assert not c.open and c.status == "GONE" and c.resolved_scan_id == third.scan_id

    diff = diff_scans(store)
    assert diff.old.id == second.scan_id and diff.new.id == third.scan_id
    assert [f.resource_id for f in diff.new_failures] == [BUCKET_B]
    assert [f.resource_id for f in diff.resolved] == [BUCKET_C]
    assert [f.resource_id for f in diff.still_failing] == [BUCKET_A]
    explicit = diff_scans(store, first.scan_id, third.scan_id)
    assert sorted(f.resource_id for f in explicit.still_failing) == [BUCKET_A, BUCKET_B]

    points = trend(store, find_scan(store, third.scan_id))
    assert [p.failing for p in points] == [2, 2, 2]
    assert [p.pass_rate for p in points] == [pytest.approx(33.3), pytest.approx(33.3), 0.0]


def test_excepted_findings_keep_their_clock_but_are_not_overdue(store: Store) -> None:
    record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    later = record_scan(
        scan(DAY0 + timedelta(days=60), [s3(BUCKET_A, Status.EXCEPTED)]), settings=SETTINGS, store=store
    )
    assert later.findings[0].first_seen == DAY0 and not later.findings[0].overdue
    assert lifecycle(store, BUCKET_A).open


def test_unknown_and_error_do_not_resolve(store: Store) -> None:
    record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    record_scan(scan(DAY0 + timedelta(days=1), [s3(BUCKET_A, Status.ERROR)]), settings=SETTINGS, store=store)
    assert lifecycle(store, BUCKET_A).open


def test_other_controls_and_regions_are_not_resolved_by_absence(store: Store) -> None:
    record_scan(
        scan(DAY0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL, control_id="S3-02")]),
        settings=SETTINGS,
        store=store,
    )
    # A later scan that only evaluated S3-01 says nothing about S3-02.
    record_scan(scan(DAY0 + timedelta(days=1), [s3(BUCKET_A, Status.PASS)]), settings=SETTINGS, store=store)
    assert lifecycle(store, BUCKET_B).open
    assert not lifecycle(store, BUCKET_A).open


def test_interrupted_scan_is_incomplete_and_earlier_scans_intact(store: Store) -> None:
    earlier = record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    with pytest.raises(KeyboardInterrupt), scan_session(settings=SETTINGS, kind="aws", store=store):
        raise KeyboardInterrupt
    rows = list_scans(store)
    assert [r.state for r in rows].count("incomplete") == 1
    interrupted = next(r for r in rows if r.state == "incomplete")
    assert interrupted.note == "interrupted: KeyboardInterrupt"
    assert find_scan(store).id == earlier.scan_id  # the latest *complete* scan
    assert load_result(store, find_scan(store, earlier.scan_id)).findings[0].resource_id == BUCKET_A


def test_crash_while_writing_leaves_no_partial_findings(store: Store, monkeypatch) -> None:
    def explode(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(recorder_module, "_fill_scan_row", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    with store.session() as session:
        assert session.scalars(select(ScanFindingRow)).first() is None
        assert session.scalars(select(LifecycleRow)).first() is None
        (row,) = session.scalars(select(ScanRow)).all()
        assert row.state == "incomplete"


def test_session_without_record_is_incomplete(store: Store) -> None:
    with scan_session(kind="iac", store=store):
        pass
    assert list_scans(store)[0].state == "incomplete"


def test_incomplete_result_does_not_resolve_missing(store: Store) -> None:
    record_scan(
        scan(DAY0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL)]), settings=SETTINGS, store=store
    )
    partial = record_scan(
        scan(DAY0 + timedelta(days=1), [s3(BUCKET_A, Status.FAIL)], complete=False),
        settings=SETTINGS,
        store=store,
    )
    assert find_scan(store, partial.scan_id).state == "incomplete"
    assert lifecycle(store, BUCKET_B).open


def test_incomplete_result_does_not_resolve_on_pass_either(store: Store) -> None:
    """A PASS in an incomplete scan (some reads failed) resolves nothing: `findings` and `diff`
    skip incomplete scans, so it would show a FAIL already resolved, and the next complete scan
    still failing would count a reopen that never happened."""
    record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    record_scan(
        scan(DAY0 + timedelta(days=1), [s3(BUCKET_A, Status.PASS)], complete=False),
        settings=SETTINGS,
        store=store,
    )
    row = lifecycle(store, BUCKET_A)
    assert row.open and row.resolved_at is None
    [state] = latest_findings(store)
    assert state.finding.status is Status.FAIL and state.resolved_at is None
    record_scan(scan(DAY0 + timedelta(days=2), [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    assert lifecycle(store, BUCKET_A).reopened == 0
    record_scan(scan(DAY0 + timedelta(days=3), [s3(BUCKET_A, Status.PASS)]), settings=SETTINGS, store=store)
    assert not lifecycle(store, BUCKET_A).open  # a complete scan's PASS still resolves


def test_round_trip_and_scan_lookup(store: Store) -> None:
    original = scan(DAY0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_C, Status.PASS)])
    recorded = record_scan(original, settings=SETTINGS, store=store)
    row = find_scan(store, recorded.scan_id[:6])
    loaded = load_result(store, row)
    assert loaded.scan_id == recorded.scan_id and loaded.complete
    assert [f.to_json() for f in loaded.findings] == [f.to_json() for f in recorded.findings]
    assert loaded.api_calls == {"s3:ListBuckets": 1} and loaded.started_at == DAY0
    with pytest.raises(StoreError, match="no scan with ID 'zzz'"):
        find_scan(store, "zzz")
    with pytest.raises(StoreError, match="no earlier complete scan"):
        diff_scans(store)


def test_empty_store_explains(store: Store) -> None:
    with pytest.raises(StoreError, match="no complete scan recorded yet"):
        find_scan(store)


def test_latest_findings_filters(store: Store) -> None:
    iam = finding(
        control_id="IAM-01",
        service="iam",
        severity=Severity.HIGH,
        resource_id="arn:aws:iam::111122223333:root",
        resource_name="root",
        region=None,
    )
    record_scan(
        scan(DAY0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_C, Status.PASS), iam]),
        settings=SETTINGS,
        store=store,
    )
    other = finding(resource_id="arn:aws:s3:::x", resource_name="x", account_id="999988887777")
    record_scan(scan(DAY0, [other], accounts=("999988887777",)), settings=SETTINGS, store=store)
    today = DAY0.date() + timedelta(days=31)
    everything = latest_findings(store, today=today)
    assert len(everything) == 4
    assert {s.finding.resource_id for s in latest_findings(store, severities=["high"], today=today)} == {
        "arn:aws:iam::111122223333:root"
    }
    assert len(latest_findings(store, services=["s3"], today=today)) == 3
    assert len(latest_findings(store, controls=["iam-01"], today=today)) == 1
    assert len(latest_findings(store, statuses=["pass"], today=today)) == 1
    assert len(latest_findings(store, accounts=["999988887777"], today=today)) == 1
    overdue = latest_findings(store, overdue=True, today=today)
    # Critical S3 failures (30 days) are overdue on day 31; the High IAM one (90 days) is not.
    assert {s.finding.resource_id for s in overdue} == {BUCKET_A, "arn:aws:s3:::x"}
    assert all(s.finding.overdue for s in overdue)


def test_resolve_url_precedence(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    assert resolve_url().endswith("controlmap.db") and resolve_url().startswith("sqlite:///")
    assert resolve_url(settings=Settings(db="sqlite:///from-settings.db")) == "sqlite:///from-settings.db"
    monkeypatch.setenv("CONTROLMAP_DB", "postgresql://u@h/db")
    assert resolve_url(settings=Settings(db="sqlite:///x.db")) == "postgresql+psycopg://u@h/db"
    assert resolve_url("sqlite:///flag.db") == "sqlite:///flag.db"


def test_bad_urls_are_clear_errors(tmp_path) -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        open_store("not a url")
    with pytest.raises(StoreError, match=r"for a file use sqlite:///history\.db"):
        open_store("history.db")  # a path given where a URL belongs: say how to write it
    with pytest.raises(StoreError) as info:
        open_store("postgresql+psycopg://user:s3cret@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "s3cret" not in str(info.value) and "cannot open database" in str(info.value)
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open database"):
        open_store(f"sqlite:///{tmp_path / 'dir.db'}")


def test_password_in_the_url_query_is_hidden_too(tmp_path) -> None:
    """libpq takes ``?password=`` as well as ``user:password@``: neither may reach a message."""
    from controlmap.store import describe_url

    shown = describe_url("postgresql+psycopg://u@h/db?password=s3cret&sslmode=require")
    assert "s3cret" not in shown and "password=***" in shown and "sslmode=require" in shown
    assert "k3y" not in describe_url("postgresql+psycopg://u:pw@h/db?SSLPassword=k3y")
    with pytest.raises(StoreError) as info:
        open_store("postgresql+psycopg://user@127.0.0.1:1/nowhere?password=s3cret&connect_timeout=2")
    assert "s3cret" not in str(info.value) and "password=***" in str(info.value)


def test_a_server_that_never_answers_times_out(monkeypatch) -> None:
    """A hung or firewalled PostgreSQL server is a clear error after a bounded wait, not a hang:
    every scan opens the store before it collects anything."""
    import socket
    import time

    from controlmap.store import db as db_module

    monkeypatch.setattr(db_module, "PG_CONNECT_TIMEOUT", 1)
    with socket.socket() as listener:  # accepts connections (the kernel's backlog) and never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"cannot open database .*timeout"):
            open_store(f"postgresql+psycopg://u:s3cret@127.0.0.1:{port}/db")
        assert time.monotonic() - started < 20


def test_load_history_newest_first(store: Store) -> None:
    from controlmap.store.queries import load_history

    record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    record_scan(scan(DAY0 + timedelta(days=1), [s3(BUCKET_A, Status.PASS)]), settings=SETTINGS, store=store)
    with pytest.raises(KeyboardInterrupt), scan_session(kind="aws", store=store):
        raise KeyboardInterrupt
    history = load_history(store)
    assert [r.findings[0].status for r in history] == [Status.PASS, Status.FAIL]
    assert len(load_history(store, complete_only=False)) == 3


def test_lifecycle_conflict_is_retried(store: Store, monkeypatch) -> None:
    """A concurrent scan creating the same lifecycle row first: the write is redone, not lost."""
    from sqlalchemy.exc import IntegrityError

    real = recorder_module._apply_lifecycle
    calls = {"n": 0}

    def conflict_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("INSERT INTO finding_lifecycle", {}, Exception("duplicate key"))
        return real(*args, **kwargs)

    monkeypatch.setattr(recorder_module, "_apply_lifecycle", conflict_once)
    recorded = record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    assert calls["n"] == 2
    assert find_scan(store).id == recorded.scan_id
    assert lifecycle(store, BUCKET_A).open


def test_migrations_match_the_models_and_downgrade(store: Store) -> None:
    """The shipped migration creates exactly what the models declare, and can be undone."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from controlmap.store.db import _alembic_config
    from controlmap.store.models import Base

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with store.engine.begin() as connection:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not {"scans", "scan_findings", "finding_lifecycle"} & set(inspect(store.engine).get_table_names())
    open_store(store.url).close()  # and migrates back up on the next open
    assert {"scans", "scan_findings", "finding_lifecycle"} <= set(inspect(store.engine).get_table_names())


def test_sqlite_file_is_private(tmp_path) -> None:
    path = tmp_path / "new" / "history.db"
    open_store(f"sqlite:///{path}").close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
