"""Fixtures of the renderer tests: a hand-made scan (no AWS scan needed) and a small catalog."""

from __future__ import annotations

import pytest

from controlmap.catalog.catalog import Catalog
from controlmap.findings.model import ScanResult

from .factories import sample_catalog, sample_result


@pytest.fixture
def result() -> ScanResult:
    return sample_result()


@pytest.fixture
def catalog() -> Catalog:
    return sample_catalog()
