"""The history store: scans and findings in SQLite or PostgreSQL (SQLAlchemy + Alembic).

The scan commands call ``record_scan`` (or ``scan_session`` to have an interrupted scan marked
incomplete); the history and report commands read through ``controlmap.store.queries``.
"""

from controlmap.store.db import ENV_VAR, Store, StoreError, default_url, describe_url, open_store, resolve_url
from controlmap.store.recorder import ScanRecorder, record_scan, scan_session

__all__ = [
    "ENV_VAR",
    "ScanRecorder",
    "Store",
    "StoreError",
    "default_url",
    "describe_url",
    "open_store",
    "record_scan",
    "resolve_url",
    "scan_session",
]
