"""Read one Terraform root module (a directory) into resource models."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from controlmap.resources.base import SourceKind
from controlmap.sources.iac.common import IacError, IacProblem, Unresolved, first_unresolved
from controlmap.sources.iac.discovery import display_path
from controlmap.sources.iac.terraform import mappers  # noqa: F401  (registers the mappers)
from controlmap.sources.iac.terraform.build import TfBuild, TfItem
from controlmap.sources.iac.terraform.expressions import Scope, evaluate, parse_expression
from controlmap.sources.iac.terraform.module import load_root, read_tfvars
from controlmap.sources.iac.unit import UnitResult, Variant

log = logging.getLogger(__name__)


def root_values(
    directory: Path, var_files: list[Path], variables: dict[str, str], problems: list[IacProblem]
) -> dict[str, Any]:
    """Variable values in Terraform's order: terraform.tfvars(.json), *.auto.tfvars(.json),
    -var-file, -var."""
    files: list[Path] = []
    for name in ("terraform.tfvars", "terraform.tfvars.json"):
        if (directory / name).is_file():
            files.append(directory / name)
    files += sorted(p for p in directory.iterdir() if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
    files += var_files
    values: dict[str, Any] = {}
    for path in files:
        try:
            values.update(read_tfvars(path))
        except IacError as exc:
            problems.append(exc.problem(display_path(path)))
    for name, raw in variables.items():
        values[name] = cli_value(raw)
    return values


def cli_value(raw: str) -> Any:
    """A -var value: lists, maps, numbers and booleans are HCL expressions, the rest is a string."""
    text = raw.strip()
    if text[:1] in ("[", "{") or text in ("true", "false") or text.replace(".", "", 1).isdigit():
        try:
            value = evaluate(parse_expression(text), Scope(lambda n: Unresolved(n)))
        except IacError:
            return raw
        if first_unresolved(value) is None:
            return value
    return raw


def read_root(
    directory: Path,
    display: str,
    var_files: list[Path] | None = None,
    variables: dict[str, str] | None = None,
) -> UnitResult:
    result = UnitResult(path=display, kind=SourceKind.TERRAFORM)
    try:
        values = root_values(directory, var_files or [], variables or {}, result.problems)
        config, root = load_root(directory, display, values)
        items: list[TfItem] = []
        for instance in root.all_instances():
            if instance.mode != "managed":
                continue
            items.append(
                TfItem(instance.address, instance.type, instance.attrs, instance.source, instance.skips)
            )
        build = TfBuild(display, items, config.region)
        resources = build.run()
        result.problems.extend(config.problems)
        result.problems.extend(build.problems)
        result.variants.append(Variant(resources))
    except IacError as exc:
        result.problems.append(exc.problem(display))
    except RecursionError:
        result.problems.append(
            IacProblem(
                display, "the configuration is nested too deeply (circular reference?)", code="reference"
            )
        )
    except Exception as exc:  # a defect must not end the scan of other units
        log.debug("internal error reading %s", display, exc_info=True)
        result.problems.append(
            IacProblem(
                display,
                f"internal error while reading the module: {type(exc).__name__}: {exc}",
                code="internal",
            )
        )
    return result
