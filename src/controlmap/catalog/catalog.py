"""The loaded catalog: built-in controls, an organisation's own controls, resource types and frameworks."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from controlmap.catalog.messages import schema_problems
from controlmap.catalog.models import (
    Control,
    Framework,
    ResourceType,
    ServiceFile,
    Severity,
)
from controlmap.yamlfile import (
    FileError,
    FileProblem,
    load_trusted_model,
    read_trusted_yaml,
    read_yaml,
    to_plain,
)

DATA_DIR = Path(str(resources.files("controlmap.catalog") / "data"))
CONTROLS_DIR = DATA_DIR / "controls"
FRAMEWORKS_DIR = DATA_DIR / "frameworks"
RESOURCE_TYPES_FILE = DATA_DIR / "resource-types.yaml"


class ResourceTypesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource_types: list[ResourceType]


@dataclass
class LoadedControl:
    control: Control
    path: str
    line: int | None


@dataclass
class Catalog:
    """Everything the tool knows about the standard. Built-in first, then custom files override."""

    controls: dict[str, Control] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)  # service key -> display name
    resource_types: dict[str, ResourceType] = field(default_factory=dict)  # by canonical id
    frameworks: dict[str, Framework] = field(default_factory=dict)
    origins: dict[str, LoadedControl] = field(default_factory=dict)
    problems: list[FileProblem] = field(default_factory=list)  # non-fatal problems met while loading

    # ---- queries ---------------------------------------------------------------------------
    def get(self, control_id: str) -> Control | None:
        return self.controls.get(control_id.upper())

    def ordered(self) -> list[Control]:
        """Controls in catalog order (service file order, then as written)."""
        return list(self.controls.values())

    def resource_type(self, name: str) -> ResourceType | None:
        """Find a resource type by any of its names (CloudFormation, Terraform or AWS Config)."""
        if name in self.resource_types:
            return self.resource_types[name]
        lowered = name.lower()
        for rtype in self.resource_types.values():
            if lowered in (n.lower() for n in rtype.names()):
                return rtype
        return None

    def controls_for_type(self, name: str) -> list[Control]:
        rtype = self.resource_type(name)
        if rtype is None:
            return []
        return [c for c in self.controls.values() if rtype.id in c.resource_types]

    def filter(
        self,
        *,
        services: Sequence[str] = (),
        severities: Sequence[Severity] = (),
        resource_type: str | None = None,
        framework_ref: str | None = None,
        ids: Sequence[str] = (),
    ) -> list[Control]:
        wanted_services = {s.lower() for s in services}
        wanted_ids = {i.upper() for i in ids}
        rtype = self.resource_type(resource_type) if resource_type else None
        fw_key, fw_id = _split_framework_ref(framework_ref) if framework_ref else (None, None)
        out = []
        for control in self.controls.values():
            if wanted_ids and control.id not in wanted_ids:
                continue
            if wanted_services and control.service.lower() not in wanted_services:
                continue
            if severities and control.severity not in severities:
                continue
            if resource_type and (rtype is None or rtype.id not in control.resource_types):
                continue
            if fw_key is not None:
                refs = [r for key, ids_ in control.references.items() if key.startswith(fw_key) for r in ids_]
                if fw_id not in refs:
                    continue
            out.append(control)
        return out


def _split_framework_ref(ref: str) -> tuple[str, str]:
    """'iso27001:A.8.24' -> ('iso27001', 'A.8.24'); 'soc2:CC6.7' -> ('soc2', 'CC6.7')."""
    key, _, ident = ref.partition(":")
    key = key.strip().lower().replace("-", "").replace(" ", "")
    if key in ("iso", "iso27001"):
        key = "iso27001"
    return key, ident.strip().upper() if not ident.strip().startswith("A.") else ident.strip()


def control_files(directory: Path) -> list[Path]:
    """The .yaml and .yml files under ``directory`` and its subdirectories, sorted by relative path.

    Hidden directories (``.git``) are skipped and symbolic links to directories are not followed,
    so a link loop cannot make the walk endless.
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(root) / name
            if path.suffix in (".yaml", ".yml") and path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def unique_files(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without repeats of the same file (by resolved path), first occurrence kept.

    The same file reached twice (settings ``catalog:`` and ``--catalog`` naming one directory, or a
    directory and a file in it) is one file: reading it twice would report its controls as
    duplicates of themselves.
    """
    return [path for path, _ in _first_of_each_file((p, None) for p in paths)]


T = TypeVar("T")


def _first_of_each_file(items: Iterable[tuple[Path, T]]) -> list[tuple[Path, T]]:
    seen: set[Path] = set()
    out = []
    for path, extra in items:
        try:
            key = path.resolve()
        except (OSError, RuntimeError):  # a link loop (RuntimeError before 3.13): the reader reports it
            key = path.absolute()
        if key not in seen:
            seen.add(key)
            out.append((path, extra))
    return out


def path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a catalog file or directory, or None when it can."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.ENOENT:
            return "no such file or directory"
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return "not a regular file or directory"


def load_service_file(path: Path, *, trusted: bool = False) -> tuple[ServiceFile, dict[str, int | None]]:
    """Load one service file; returns the model and each control's line.

    ``trusted`` (built-in files): parse with libyaml first, falling back to the careful reader.
    """
    if trusted and (fast := _load_trusted_service_file(path)) is not None:
        return fast
    document = read_yaml(path)
    if document is None:
        raise FileError([FileProblem(str(path), None, "file is empty")])
    try:
        model = ServiceFile.model_validate(to_plain(document))
    except ValidationError as exc:
        raise FileError(schema_problems(path, document, exc, ServiceFile)) from None
    lines: dict[str, int | None] = {}
    try:
        for index, item in enumerate(document["controls"]):
            lines[str(item["id"])] = document["controls"].lc.item(index)[0] + 1
    except (KeyError, TypeError, AttributeError):
        pass
    return model, lines


def _load_trusted_service_file(path: Path) -> tuple[ServiceFile, dict[str, int | None]] | None:
    parsed = read_trusted_yaml(path)
    if parsed is None or not isinstance(parsed[0], dict):
        return None
    data, item_lines = parsed
    try:
        model = ServiceFile.model_validate(data)
    except ValidationError:
        return None
    lines: dict[str, int | None] = {
        control.id: line
        for control, line in zip(model.controls, item_lines.get("controls", []), strict=False)
    }
    return model, lines


def load_catalog(extra: Iterable[Path] = (), *, include_builtin: bool = True) -> Catalog:
    """Load the built-in catalog and then each custom path (a file or a directory of YAML files).

    A custom control with the ID of a built-in one replaces it; that is how an organisation
    tightens a severity or adds its own remediation. Files that fail validation raise FileError.
    """
    catalog = Catalog()
    rtypes = load_trusted_model(RESOURCE_TYPES_FILE, ResourceTypesFile)
    for rtype in rtypes.resource_types:
        catalog.resource_types[rtype.id] = rtype
    for fw_path in sorted(FRAMEWORKS_DIR.glob("*.yaml")):
        if fw_path.name.startswith("iso27001-2013-to-"):
            continue  # the correspondence, not a framework (catalog/correspondence.py reads it)
        framework = load_trusted_model(fw_path, Framework)
        catalog.frameworks[framework.key] = framework

    extra = list(extra)
    if extra:
        # Custom files are an organisation's own: lint them as ``catalog lint`` would, so a duplicate
        # ID, a 2013 ISO ID or a misspelt check is refused rather than silently loaded. The shipped
        # catalog is linted in CI and trusted here, which keeps every command fast.
        from controlmap.catalog.lint import ERROR, lint  # lint imports this module

        checked = lint(extra)
        if any(p.level == ERROR for p in checked):
            raise FileError(checked)
        catalog.problems += checked
    problems: list[FileProblem] = []
    sources: list[tuple[Path, bool]] = []
    if include_builtin:
        sources += [(p, False) for p in control_files(CONTROLS_DIR)]
    for path in extra:
        if path.is_dir():
            sources += [(p, True) for p in control_files(path)]
        else:
            sources.append((path, True))
    for path, custom in _first_of_each_file(sources):
        try:
            # Custom files were just linted with the careful reader (lines, duplicate keys), so
            # both kinds are read fast here; a file that fails validation is re-read carefully.
            service_file, lines = load_service_file(path, trusted=True)
        except FileError as exc:
            problems.extend(exc.problems)
            continue
        catalog.services.setdefault(service_file.service, service_file.name)
        if custom:  # an organisation's own types (the lint refused any name already taken)
            for rtype in service_file.resource_types:
                catalog.resource_types.setdefault(rtype.id, rtype)
        for control in service_file.controls:
            if custom:
                control = control.model_copy(update={"custom": True})
            catalog.controls[control.id] = control
            catalog.origins[control.id] = LoadedControl(control, str(path), lines.get(control.id))
    if problems:
        raise FileError(problems)
    return catalog
