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
from controlmap.checks.registry import Status, registry
from controlmap.findings.evaluate import evaluate
from controlmap.findings.model import Finding, ScanError, ScanResult
from controlmap.settings import Settings
from controlmap.sources.config.build import MODEL_SOURCES, RECORDED_NOT_MAPPED, BuildResult, build_inventory
from controlmap.sources.config.items import ConfigDataError, ConfigItem, ItemProblem, read_file
from controlmap.sources.config.mappers._base import Coverage

ACCOUNT_TYPES = frozenset({"AWS::::Account", "AWS::::Region"})


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


def run_config_scan(
    data: ConfigData, catalog: Catalog, settings: Settings, controls: Sequence[Control]
) -> tuple[ScanResult, BuildResult]:
    started = datetime.now(UTC)
    built = build_inventory(
        data.items, data.coverage, controls_reader(catalog), settings, accounts=data.accounts
    )
    findings = evaluate(catalog, built.inventory, settings, controls=controls)
    findings = [_visible(f, data.coverage) for f in findings]
    problems = [*data.problems, *built.problems]
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
            ScanError(source=p.source, code=p.code, message=p.detail(), resource_id=p.resource_id)
            for p in problems
        ],
        resource_count=len(built.inventory),
        findings=findings,
    )
    return result, built


def _visible(finding: Finding, coverage: Coverage) -> Finding:
    """ "No resource of this type" is only true if the data could have shown one."""
    if finding.status is not Status.NOT_APPLICABLE or finding.check_id is None:
        return finding
    spec = registry().get(finding.check_id)
    if spec is None or finding.resource_type != "AWS::::Account" or not finding.reason.startswith("no "):
        return finding
    if spec.resource_type == "AWS::::Region":
        reason = (
            f"the data holds no regional configuration items for account {finding.account_id}, so "
            "region-level settings cannot be judged; include the regions' snapshots"
        )
        return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
    if spec.resource_type in ACCOUNT_TYPES:
        return finding
    config_type = MODEL_SOURCES.get(spec.resource_type)
    if config_type is None and spec.resource_type in RECORDED_NOT_MAPPED:
        reason = (
            f"controlmap does not read AWS Config's {spec.resource_type} items yet; "
            f"run `controlmap scan aws` for {finding.control_id}"
        )
        return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
    if config_type is None:
        reason = (
            f"AWS Config does not record {spec.resource_type}; "
            f"run `controlmap scan aws` for {finding.control_id}"
        )
        return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
    if coverage.knows_absence_in_account(config_type, finding.account_id):
        reason = f"no {config_type} configuration items for account {finding.account_id} in the data"
        return finding.model_copy(update={"reason": reason})
    reason = coverage.why_unknown_in_account(config_type, finding.account_id)
    return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
