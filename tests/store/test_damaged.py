"""A store that is not what it should be: not a database, damaged, from a newer controlmap, or
opened by several scans at once. Every case is a clear message (exit 2), never a traceback, and
a scan whose store fails still reports."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from controlmap.checks.registry import Status
from controlmap.cli.app import app
from controlmap.store import StoreError, open_store, record_scan
from controlmap.store.db import head_revision

from .test_store import BUCKET_A, DAY0, SETTINGS, s3, scan

runner = CliRunner()
READ_COMMANDS = (["scans"], ["findings"], ["diff"], ["report", "-f", "json"])


def recorded_db(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "history.db"
    url = f"sqlite:///{path}"
    store = open_store(url)
    for day in range(3):
        findings = [s3(f"arn:aws:s3:::bucket-{i}", Status.FAIL) for i in range(200)]
        record_scan(scan(DAY0.replace(day=DAY0.day + day), findings), settings=SETTINGS, store=store)
    store.close()  # the last connection checkpoints the WAL into the file
    return path, url


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("meeting notes, not a database\n")
    for command in READ_COMMANDS:
        result = run(*command, "--db", f"sqlite:///{path}")
        assert result.exit_code == 2, (command, result.output)
        assert "not a controlmap history database" in result.output
        assert "sqlalche.me" not in result.output  # no library help links, one line
    assert path.read_text() == "meeting notes, not a database\n"  # never overwritten


def test_a_damaged_database_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path, url = recorded_db(tmp_path)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    # Keep the schema and the migration stamp readable (pages 1-2), destroy the tables' pages.
    data[2 * page :] = b"\xff" * (len(data) - 2 * page)
    path.write_bytes(bytes(data))
    for command in READ_COMMANDS:
        result = run(*command, "--db", url)
        assert result.exit_code == 2, (command, result.output)
        assert "cannot" in result.output and "damaged" in result.output, result.output
    with pytest.raises(StoreError, match="damaged"):
        record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), url, SETTINGS)


def test_a_database_from_a_newer_controlmap(tmp_path: Path) -> None:
    _, url = recorded_db(tmp_path)
    store = open_store(url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    store.close()
    result = run("scans", "--db", url)
    assert result.exit_code == 2
    assert "written by a newer controlmap" in result.output and "0099_future" in result.output
    with pytest.raises(StoreError, match="newer controlmap"):
        record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), url, SETTINGS)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_scans_opening_a_new_database_at_once_all_succeed(backend: str, tmp_path: Path, request) -> None:
    """Four scans starting together on a new team database: one creates the schema, the others
    wait for it instead of failing on `table already exists`."""
    url = f"sqlite:///{tmp_path / 'new.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    start = threading.Barrier(4)
    problems: list[str] = []

    def open_and_record() -> None:
        start.wait()
        try:
            record_scan(scan(DAY0, [s3(BUCKET_A, Status.FAIL)]), url, SETTINGS)
        except StoreError as exc:
            problems.append(str(exc))

    threads = [threading.Thread(target=open_and_record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == head_revision()
            )
            assert connection.execute(text("SELECT count(*) FROM scans")).scalar() == 4
    finally:
        store.close()


def test_ctrl_c_during_a_scan_says_what_became_of_it(tmp_path: Path, capsys) -> None:
    """Typer turns Ctrl-C into a silent exit 130; the scan says it was recorded as incomplete."""
    from controlmap.cli.scan import FinishOptions, recording
    from controlmap.settings import Settings
    from controlmap.store.queries import list_scans

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with pytest.raises(KeyboardInterrupt), recording(FinishOptions(db=url), Settings(), "aws"):
        raise KeyboardInterrupt
    store = open_store(url)
    try:
        (row,) = list_scans(store)
    finally:
        store.close()
    assert row.state == "incomplete"
    err = " ".join(capsys.readouterr().err.split())
    assert f"interrupted: scan {row.id} is recorded as incomplete" in err
