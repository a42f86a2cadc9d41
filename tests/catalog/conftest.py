"""Fixtures for the catalog tests: small catalogs under fixtures/ and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed-aws-security-controls-map.md"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's own controlmap.yaml or $CONTROLMAP_SETTINGS must not leak into these tests."""
    monkeypatch.delenv("CONTROLMAP_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)
