"""The prioritised remediation plan, derived from each control's severity.

Never from the seed's summary tables, which disagree with its per-control severities.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from controlmap.catalog.catalog import DATA_DIR, Catalog, path_problem
from controlmap.catalog.models import Control, Severity, TierWindow
from controlmap.settings import PlanSettings, Settings
from controlmap.yamlfile import FileError, FileProblem, line_of, load_trusted_model, read_yaml

PLAN_FILE = DATA_DIR / "plan.yaml"


@lru_cache(maxsize=1)
def builtin_plan_settings() -> PlanSettings:
    """The seed's windows: 0-30 / 30-90 / 90-180 days, and its service-specific High windows."""
    return load_trusted_model(PLAN_FILE, PlanSettings)


@dataclass(frozen=True)
class PlanEntry:
    severity: Severity
    service: str
    window: TierWindow
    controls: tuple[Control, ...]


def build_plan(catalog: Catalog, plan: PlanSettings) -> list[PlanEntry]:
    """Group controls by severity tier, then by service window, most severe first."""
    groups: dict[tuple[Severity, str], list[Control]] = {}
    for control in catalog.ordered():
        groups.setdefault((control.severity, control.service), []).append(control)
    entries = [
        PlanEntry(severity, service, plan.window(severity, service), tuple(controls))
        for (severity, service), controls in groups.items()
    ]
    service_order = list(dict.fromkeys(c.service for c in catalog.ordered()))
    entries.sort(key=lambda e: (-e.severity.rank, service_order.index(e.service)))
    return entries


def plan_problems(settings: Settings, services: Iterable[str]) -> list[FileProblem]:
    """Service keys in the settings file's ``plan.service_windows`` that no catalog service has.

    The plan's schema cannot know them: an organisation's own catalog files may add services.
    """
    if settings.plan is None or not settings.source_path:
        return []
    known = sorted(set(services))
    unknown = [
        (severity, service)
        for severity, by_service in settings.plan.service_windows.items()
        for service in by_service
        if service not in known
    ]
    if not unknown:
        return []
    path = Path(settings.source_path)
    document = _settings_document(path)
    problems = []
    for severity, service in unknown:
        line = line_of(document, ["plan", "service_windows", severity.value, service]) if document else None
        close = difflib.get_close_matches(service, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(
            FileProblem(
                str(path),
                line,
                f"plan.service_windows.{severity.value}: unknown service {service!r}{hint} "
                f"(known: {', '.join(known)})",
            )
        )
    return problems


def settings_catalog_problems(settings: Settings, paths: Iterable[Path]) -> list[FileProblem]:
    """A ``catalog:`` entry that cannot be read, reported where it is written (``controlmap.yaml:3``).

    ``paths`` are the entries resolved against the settings file. The path alone
    (``/abs/org-controls: no such file or directory``) would not tell the user which file sent
    controlmap there, nor that the entry is relative to that file rather than to the shell.
    """
    if not settings.catalog or not settings.source_path:
        return []
    source = Path(settings.source_path)
    document = _settings_document(source)
    problems = []
    for index, (entry, path) in enumerate(zip(settings.catalog, paths, strict=False)):
        if (why := path_problem(path)) is not None:
            line = line_of(document, ["catalog", index]) if document is not None else None
            resolved = f" ({path})" if path != Path(entry) else ""
            problems.append(FileProblem(str(source), line, f"catalog: {entry!r}{resolved}: {why}", code="io"))
    return problems


def _settings_document(path: Path) -> Any:
    """The settings file as a ruamel document, for line numbers; None if it cannot be re-read."""
    try:
        return read_yaml(path)
    except FileError:
        return None
