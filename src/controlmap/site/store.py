"""Scan results from the history store (``controlmap.store``), for the dashboards.

The dashboards need each account's current state and its history, so this reads the newest
complete scan of every scope plus the recent complete scans before it (for the trend), through
the store's own query API. Incomplete scans are left out: their findings describe part of an
account and would make the pass rate jump.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from controlmap.findings.model import ScanResult
from controlmap.settings import Settings

HISTORY_LIMIT = 60  # recent scans read for the trend charts


class StoreUnavailable(Exception):
    """The store cannot be read (bad URL, missing file, unreachable database)."""


def read_store(
    url: str | None, settings: Settings | None = None, *, history: int = HISTORY_LIMIT
) -> list[ScanResult]:
    """Scans from the store at ``url`` (or $CONTROLMAP_DB, the settings' ``db:``, the default file).

    A store named explicitly must exist; the default one may be absent (no scans recorded yet),
    which gives no dashboards rather than an error.
    """
    from controlmap.store.db import ENV_VAR, StoreEmpty, StoreError, describe_url, open_store, resolve_url
    from controlmap.store.queries import latest_scans, load_history, load_result

    resolved = resolve_url(url, settings)
    explicit = bool(url or os.environ.get(ENV_VAR) or (settings is not None and settings.db))
    if _missing_sqlite_file(resolved):
        if explicit:
            raise StoreUnavailable(f"no database at {describe_url(resolved)}; run a scan first")
        return []
    try:
        store = open_store(resolved, create=False)  # reading the history never creates a database
    except StoreEmpty:
        return []  # a database without controlmap's tables: no scans recorded yet
    except StoreError as exc:
        raise StoreUnavailable(str(exc)) from None
    try:
        scans = load_history(store, limit=history)
        seen = {scan.scan_id for scan in scans}
        # A scope scanned rarely may be older than the recent history: its newest scan still counts.
        scans += [load_result(store, row) for row in latest_scans(store) if row.id not in seen]
        return sorted(scans, key=lambda s: s.started_at)
    except (StoreError, SQLAlchemyError) as exc:
        raise StoreUnavailable(f"cannot read scans from {describe_url(resolved)}: {exc}") from None
    finally:
        store.close()


def _missing_sqlite_file(url: str) -> bool:
    """Building the site reads the store; it must not create an empty database by accident."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False  # open_store reports the bad URL
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return False
    return not Path(parsed.database).expanduser().is_file()
