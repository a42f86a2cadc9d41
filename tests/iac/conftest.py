"""Shared helpers for the IaC tests: one catalog per session, scans of fixture paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controlmap.catalog.catalog import Catalog, load_catalog
from controlmap.checks.registry import CheckContext, Inventory, Outcome, registry
from controlmap.findings.model import Finding
from controlmap.resources.base import Resource
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac
from controlmap.sources.iac.unit import UnitResult

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def scan(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Callable[..., IacScan]:
    monkeypatch.chdir(FIXTURES)

    def run(*paths: str, settings: Settings | None = None, **options: Any) -> IacScan:
        return scan_iac(
            [Path(p) for p in paths], catalog, settings or Settings(), options=IacOptions(**options)
        )

    return run


def finding(findings: list[Finding], resource: str, check: str) -> Finding:
    """The one finding of ``check`` about the resource shown as ``resource``."""
    found = [f for f in findings if f.resource_name == resource and f.check_id == check]
    assert len(found) == 1, (
        f"expected one {check} finding for {resource}, got {[(f.status, f.reason) for f in found]}"
    )
    return found[0]


def resource(result: UnitResult, address: str, variant: int = 0) -> Resource:
    for model in result.variants[variant].resources:
        if model.source.address == address:
            return model
    raise AssertionError(
        f"no resource {address} in {[m.source.address for m in result.variants[variant].resources]}"
    )


def run_check(check_id: str, model: Resource, resources: list[Resource]) -> list[Outcome]:
    """Run one registered check on a model built by an IaC reader (catalog wiring not needed)."""
    from controlmap.checks.registry import FactUnavailable

    inventory = Inventory()
    inventory.extend(resources)
    spec = registry()[check_id]
    try:
        outcome = spec.func(model, CheckContext(inventory=inventory, settings=Settings()))
    except FactUnavailable as missing:
        return [missing.outcome]
    return [outcome] if isinstance(outcome, Outcome) else list(outcome)
