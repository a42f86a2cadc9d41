"""The organisation's settings file, ``controlmap.yaml``.

It holds policy choices, not code: remediation windows, thresholds (key age, backup retention),
allowed lists (approved AMI owners, key administrators), extra catalog directories, the
exceptions file and the database URL. Each area of checks declares its own typed section with
``register_section``; unknown top-level keys and bad values are reported with file and line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from controlmap.catalog.messages import schema_problems
from controlmap.catalog.models import Severity, TierWindow
from controlmap.yamlfile import FileError, FileProblem, read_yaml, to_plain

DEFAULT_FILE_NAMES = ("controlmap.yaml", "controlmap.yml", ".controlmap.yaml")
ENV_VAR = "CONTROLMAP_SETTINGS"

S = TypeVar("S", bound=BaseModel)

_SECTIONS: dict[str, type[BaseModel]] = {}


def register_section(name: str, model: type[S]) -> type[S]:
    """Declare a settings section (e.g. ``iam``) validated by ``model``; every field needs a default."""
    _SECTIONS[name] = model
    return model


class PlanSettings(BaseModel):
    """Remediation windows: per severity tier, and per service within a tier where the seed says so."""

    model_config = ConfigDict(extra="forbid")

    tiers: dict[Severity, TierWindow] = Field(
        default_factory=lambda: {
            Severity.CRITICAL: TierWindow(start_days=0, end_days=30),
            Severity.HIGH: TierWindow(start_days=30, end_days=90),
            Severity.MEDIUM: TierWindow(start_days=90, end_days=180),
            Severity.LOW: TierWindow(start_days=180, end_days=365),
            Severity.INFORMATIONAL: TierWindow(start_days=180, end_days=365),
        }
    )
    # severity -> service -> window; e.g. the seed gives High S3 controls 30-60 days.
    service_windows: dict[Severity, dict[str, TierWindow]] = Field(default_factory=dict)

    def window(self, severity: Severity, service: str) -> TierWindow:
        by_service = self.service_windows.get(severity, {})
        if service in by_service:
            return by_service[service]
        return self.tiers.get(severity, TierWindow(start_days=0, end_days=365))


class Settings(BaseModel):
    model_config = ConfigDict(extra="allow")

    plan: PlanSettings | None = None  # None: use the built-in plan (catalog/data/plan.yaml)
    catalog: list[str] = Field(default_factory=list)  # extra catalog files or directories
    exceptions_file: str | None = None
    db: str | None = None
    source_path: str | None = Field(default=None, exclude=True)

    _cache: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    def section(self, name: str, model: type[S]) -> S:
        cached = self._cache.get(name)
        if isinstance(cached, model):
            return cached
        raw = (self.model_extra or {}).get(name, {}) or {}
        value = model.model_validate(raw)
        self._cache[name] = value
        return value

    def resolved_plan(self) -> PlanSettings:
        from controlmap.catalog.plan import builtin_plan_settings

        builtin = builtin_plan_settings()
        if self.plan is None:
            return builtin
        # The organisation's plan overlays the built-in one: a tier it restates replaces that tier
        # and the seed's service windows within it; tiers and windows it does not name stay.
        own_tiers = self.plan.tiers if "tiers" in self.plan.model_fields_set else {}
        windows = {sev: dict(m) for sev, m in builtin.service_windows.items() if sev not in own_tiers}
        for severity, by_service in self.plan.service_windows.items():
            windows.setdefault(severity, {}).update(by_service)
        return PlanSettings(tiers={**builtin.tiers, **own_tiers}, service_windows=windows)


def find_settings_file(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    for name in DEFAULT_FILE_NAMES:
        candidate = Path.cwd() / name
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None) -> Settings:
    """Load the settings file (explicit, $CONTROLMAP_SETTINGS, or ./controlmap.yaml); defaults if none."""
    found = find_settings_file(path)
    if found is None:
        return Settings()
    if not found.is_file():
        raise FileError([FileProblem(str(found), None, "settings file not found", code="io")])
    document = read_yaml(found)
    if document is None:
        return Settings(source_path=str(found))
    if not isinstance(document, dict):
        raise FileError([FileProblem(str(found), 1, "settings must be a mapping of sections")])
    plain = to_plain(document)
    problems: list[FileProblem] = []
    try:
        settings = Settings.model_validate(plain)
    except ValidationError as exc:
        raise FileError(schema_problems(found, document, exc, Settings)) from None
    _import_section_owners()
    for key, value in (settings.model_extra or {}).items():
        model = _SECTIONS.get(key)
        if model is None:
            known = ", ".join(sorted(["plan", "catalog", "exceptions_file", "db", *_SECTIONS]))
            problems.append(
                FileProblem(str(found), _key_line(document, key), f"unknown section {key!r} (known: {known})")
            )
            continue
        try:
            model.model_validate(value or {})
        except ValidationError as exc:
            nested = schema_problems(found, document[key], exc, model)
            problems.extend(FileProblem(p.path, p.line, f"{key}.{p.message}") for p in nested)
    if problems:
        raise FileError(problems)
    settings.source_path = str(found)
    return settings


def _key_line(document: Any, key: str) -> int | None:
    try:
        return int(document.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _import_section_owners() -> None:
    """Sections are declared by the check modules; importing them registers every section."""
    import controlmap.checks  # noqa: F401


def known_sections() -> dict[str, type[BaseModel]]:
    _import_section_owners()
    return dict(_SECTIONS)
