"""The history store: scans and findings in SQLite or PostgreSQL (SQLAlchemy + Alembic).

The scan commands call ``record_scan`` (or ``scan_session`` to have an interrupted scan marked
incomplete); the history and report commands read through ``controlmap.store.queries``.
"""

from controlmap.findings.model import ScanResult
from controlmap.settings import Settings
from controlmap.store.db import (
    ENV_VAR,
    Store,
    StoreEmpty,
    StoreError,
    default_url,
    describe_url,
    open_store,
    resolve_url,
)
from controlmap.store.recorder import ScanRecorder, record_scan, scan_session


def load_history(
    db_url: str | None = None, settings: Settings | None = None, *, limit: int | None = None
) -> list[ScanResult]:
    """Every complete recorded scan, newest first, as ScanResults (opens and closes the store)."""
    from controlmap.store.queries import load_history as _load

    store = open_store(db_url, settings, create=False)
    try:
        return _load(store, limit=limit)
    finally:
        store.close()


__all__ = [
    "ENV_VAR",
    "ScanRecorder",
    "Store",
    "StoreEmpty",
    "StoreError",
    "default_url",
    "describe_url",
    "load_history",
    "open_store",
    "record_scan",
    "resolve_url",
    "scan_session",
]
