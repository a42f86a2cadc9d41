"""The prioritised remediation plan, derived from each control's severity.

Never from the seed's summary tables, which disagree with its per-control severities.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from controlmap.catalog.catalog import DATA_DIR, Catalog
from controlmap.catalog.models import Control, Severity, TierWindow
from controlmap.settings import PlanSettings
from controlmap.yamlfile import load_trusted_model

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
