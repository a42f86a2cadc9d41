"""The prioritised remediation plan, derived from each control's severity.

Never from the seed's summary tables, which disagree with its per-control severities.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from controlmap.catalog.catalog import DATA_DIR, Catalog
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
    try:
        document = read_yaml(path)
    except FileError:
        document = None
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
