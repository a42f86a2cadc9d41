"""Scan AWS Config data: read items (files or the Config API), build the inventory, run the checks.

The checks are the live scan's own; what differs is only what the data can show. A finding that
would say "no resource of this type" becomes UNKNOWN when AWS Config does not record the type
(key pairs, AMIs, EBS snapshots) or when the data cannot show that it is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import controlmap
from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import Control
from controlmap.checks.registry import registry
from controlmap.findings.evaluate import evaluate
from controlmap.findings.model import ScanError, ScanResult
from controlmap.settings import Settings
from controlmap.sources.config import verdicts
from controlmap.sources.config.build import BuildResult, build_inventory, config_types_for
from controlmap.sources.config.coverage import Coverage
from controlmap.sources.config.items import ConfigDataError, ConfigItem, ItemProblem, read_file


@dataclass
class ConfigData:
    """Items read from files or from AWS Config, with what went wrong reading them."""

    items: list[ConfigItem] = field(default_factory=list)
    problems: list[ItemProblem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)  # source -> recognised format
    coverage: Coverage = field(default_factory=Coverage)
    api_calls: dict[str, int] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)  # read live: the account, even with no items


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; directories yield their *.json and *.json.gz files (recursively, sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith((".json", ".json.gz"))
            )
        else:
            out.append(path)
    return out


def read_files(paths: Sequence[Path]) -> ConfigData:
    data = ConfigData()
    for path in expand_paths(paths):
        data.sources.append(str(path))
        if not path.exists():
            data.problems.append(ItemProblem(str(path), "no such file"))
            continue
        try:
            items, problems, fmt = read_file(path)
        except ConfigDataError as exc:
            message = str(exc)
            prefix = f"{path}: "
            data.problems.append(
                ItemProblem(str(path), message[len(prefix) :] if message.startswith(prefix) else message)
            )
            continue
        data.items += items
        data.problems += problems
        data.formats[str(path)] = fmt
    return data


def controls_reader(catalog: Catalog) -> Callable[[str, str], list[str]]:
    """(model type, fact) -> IDs of the controls whose checks read that fact."""
    checks = registry()

    @cache
    def lookup(resource_type: str, fact: str) -> list[str]:
        out = []
        for control in catalog.ordered():
            for check_id in control.checks:
                spec = checks.get(check_id)
                if (
                    spec is not None
                    and resource_type in (spec.resource_type, *spec.uses)
                    and fact in spec.facts
                ):
                    out.append(control.id)
                    break
        return out

    return lookup


def config_types(controls: Sequence[Control]) -> list[str]:
    """The AWS Config types the checks of these controls read (``--services``, ``--controls``)."""
    checks = registry()
    models: set[str] = set()
    facts: set[str] = set()
    for control in controls:
        for check_id in control.checks:
            spec = checks.get(check_id)
            if spec is not None:
                models.update((spec.resource_type, *spec.uses))
                facts.update(spec.facts)
    return config_types_for(models, facts)


def run_config_scan(
    data: ConfigData, catalog: Catalog, settings: Settings, controls: Sequence[Control]
) -> tuple[ScanResult, BuildResult]:
    started = datetime.now(UTC)
    built = build_inventory(
        data.items, data.coverage, controls_reader(catalog), settings, accounts=data.accounts
    )
    problems = [*data.problems, *built.problems]
    findings = evaluate(catalog, built.inventory, settings, controls=controls)
    findings = verdicts.apply(findings, controls, built.inventory, data.coverage, problems)
    regions = sorted({r for r in built.inventory.regions} | set(data.regions))
    result = ScanResult(
        tool_version=controlmap.__version__,
        kind="aws-config",
        started_at=started,
        finished_at=datetime.now(UTC),
        complete=not problems,
        accounts=sorted(built.inventory.accounts),
        regions=regions,
        services=sorted({c.service for c in controls}),
        sources=data.sources,
        api_calls=data.api_calls,
        errors=[
            ScanError(
                source=p.source,
                code=p.code,
                message=p.detail(),
                resource_id=p.resource_id,
                account_id=p.account_id,
                region=p.region,
            )
            for p in problems
        ],
        resource_count=len(built.inventory),
        findings=findings,
    )
    return result, built
