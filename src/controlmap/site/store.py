"""Scan results from the history store (``controlmap.store``), for the dashboards."""

from __future__ import annotations

from controlmap.findings.model import ScanResult


class StoreUnavailable(Exception):
    """The store cannot be read (not installed in this version, bad URL, unreachable database)."""


def read_store(url: str) -> list[ScanResult]:
    """The scans the dashboards need: every recorded scan, so the trend has history."""
    raise StoreUnavailable(
        f"cannot read scans from {url}: the history store is not available in this version"
    )
