"""``terraform show -json`` plan files: planned values, what is known only after apply, and the
configuration's references (which join split resources to the bucket they name).

A plan carries no file positions; findings name the plan file and the Terraform address.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controlmap.resources.base import SourceKind, SourceRef
from controlmap.sources.iac.common import IacError, IacProblem, ResourceRef, Unresolved, read_text
from controlmap.sources.iac.terraform import mappers  # noqa: F401  (registers the mappers)
from controlmap.sources.iac.terraform.build import EXISTING, TfBuild, TfItem
from controlmap.sources.iac.unit import UnitResult, Variant

log = logging.getLogger(__name__)
_INDEX = re.compile(r"\[[^\]]*\]")
_NOT_RESOURCES = ("var.", "local.", "each.", "count.", "path.", "terraform.", "self.")


def read_plan(path: Path, display: str) -> UnitResult:
    result = UnitResult(path=display, kind=SourceKind.TERRAFORM_PLAN)
    try:
        text = read_text(path)
        try:
            plan = json.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            raise IacError(f"invalid JSON: {getattr(exc, 'msg', exc)}", line=line) from None
        if not isinstance(plan, dict) or "planned_values" not in plan:
            raise IacError("not a Terraform plan (run terraform show -json plan.out > plan.json)")
        items = list(_items(plan, display))
        region = _region(plan)
        build = TfBuild(display, items, region)
        build.notes[EXISTING] = _existing(plan)
        resources = build.run()
        result.problems.extend(build.problems)
        result.variants.append(Variant(resources))
    except IacError as exc:
        result.problems.append(exc.problem(display))
    except Exception as exc:  # a defect must not end the scan of other units
        log.debug("internal error reading %s", display, exc_info=True)
        result.problems.append(
            IacProblem(
                display,
                f"internal error while reading the plan: {type(exc).__name__}: {exc}",
                code="internal",
            )
        )
    return result


def _existing(plan: dict[str, Any]) -> set[str]:
    """Addresses the plan keeps or updates in place: resources that already exist, so what AWS
    gives a new resource by default is not what they have."""
    out: set[str] = set()
    for change in plan.get("resource_changes") or []:
        actions = (change.get("change") or {}).get("actions") if isinstance(change, dict) else None
        if isinstance(actions, list) and actions and "create" not in actions and "delete" not in actions:
            out.add(str(change.get("address")))
    return out


def _region(plan: dict[str, Any]) -> str | None:
    config = plan.get("configuration") or {}
    aws = (config.get("provider_config") or {}).get("aws") or {}
    region = ((aws.get("expressions") or {}).get("region") or {}).get("constant_value")
    return region if isinstance(region, str) else None


def _walk_planned(module: dict[str, Any]) -> list[dict[str, Any]]:
    out = list(module.get("resources") or [])
    for child in module.get("child_modules") or []:
        out.extend(_walk_planned(child))
    return out


def _module_path(address: str) -> list[str]:
    """``module.a["x"].module.b.aws_s3_bucket.c[0]`` -> ``["a", "b"]``."""
    return re.findall(r"module\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.", address)


def _module_prefix(address: str) -> str:
    match = re.match(r"^((?:module\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?\.)*)", address)
    return match.group(1) if match else ""


def _config_module(config: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    module = config.get("root_module") or {}
    for name in path:
        call = (module.get("module_calls") or {}).get(name)
        if not isinstance(call, dict):
            return None
        module = call.get("module") or {}
    return module


def _items(plan: dict[str, Any], display: str) -> list[TfItem]:
    config = plan.get("configuration") or {}
    unknown_by_address = {
        change.get("address"): (change.get("change") or {}).get("after_unknown") or {}
        for change in plan.get("resource_changes") or []
        if isinstance(change, dict)
    }
    deleted = {
        change.get("address")
        for change in plan.get("resource_changes") or []
        if isinstance(change, dict) and (change.get("change") or {}).get("actions") == ["delete"]
    }
    items = []
    for resource in _walk_planned((plan.get("planned_values") or {}).get("root_module") or {}):
        if not isinstance(resource, dict) or resource.get("mode") != "managed":
            continue
        address = str(resource.get("address"))
        if address in deleted:
            continue
        values = resource.get("values") or {}
        prefix = _module_prefix(address)
        path = _module_path(address)
        module_config = _config_module(config, path) or {}
        bare = _INDEX.sub("", address[len(prefix) :])
        expressions: dict[str, Any] = {}
        each_value: str | None = None
        for entry in module_config.get("resources") or []:
            if isinstance(entry, dict) and entry.get("address") == bare:
                expressions = entry.get("expressions") or {}
                each_value = _for_each_resource(entry)
                break
        context = _Context(config, path, prefix, each_value)
        attrs = _overlay(values, unknown_by_address.get(address) or {}, expressions, context)
        source = SourceRef(kind=SourceKind.TERRAFORM_PLAN, file=display, address=address)
        items.append(TfItem(address, str(resource.get("type")), attrs, source))
    return items


@dataclass(frozen=True)
class _Context:
    """Where a planned resource sits: the configuration, its module path and address prefix, and
    the resource its ``for_each`` iterates over (``each.value`` is that resource's instance)."""

    config: dict[str, Any]
    path: list[str]
    prefix: str
    each_value: str | None = None


def _for_each_resource(entry: dict[str, Any]) -> str | None:
    """``for_each = aws_s3_bucket.b``: the resource whose instances ``each.value`` stands for."""
    references = (entry.get("for_each_expression") or {}).get("references") or []
    for reference in references:
        parts = str(reference).split(".")
        if not str(reference).startswith((*_NOT_RESOURCES, "module.", "data.")) and len(parts) >= 2:
            return f"{parts[0]}.{_INDEX.sub('', parts[1])}"
    return None


def _overlay(values: Any, after_unknown: Any, expressions: Any, context: _Context) -> Any:
    """Planned values with every after-apply attribute replaced by a reference or an Unresolved.

    An attribute known only after apply that the configuration does not set is computed by the
    provider (a v4 bucket's ``policy`` or ``versioning``, an ``id``): it is left out, so the
    split resources and the defaults decide it, as they do when reading HCL.
    """
    if not isinstance(values, dict):
        values = {}
    out = dict(values)
    if not isinstance(after_unknown, dict):
        return out
    for key, marker in after_unknown.items():
        expression = expressions.get(key) if isinstance(expressions, dict) else None
        if marker is True:
            if expression is None:
                out.pop(key, None)
            else:
                out[key] = _from_expression(key, expression, context)
        elif isinstance(marker, list) and isinstance(out.get(key), list):
            inner_exprs = expression if isinstance(expression, list) else []
            merged = []
            for index, item in enumerate(out[key]):
                item_marker = marker[index] if index < len(marker) else {}
                item_expr = inner_exprs[index] if index < len(inner_exprs) else None
                if item_marker is True:
                    if item_expr is not None:
                        merged.append(_from_expression(key, item_expr, context))
                elif isinstance(item, dict):
                    merged.append(_overlay(item, item_marker, item_expr or {}, context))
                else:
                    merged.append(item)
            out[key] = merged
        elif isinstance(marker, dict) and isinstance(out.get(key), dict):
            out[key] = _overlay(out[key], marker, expression or {}, context)
    return out


def _from_expression(key: str, expression: Any, context: _Context) -> Any:
    references = expression.get("references") if isinstance(expression, dict) else None
    for reference in references or []:
        reference = str(reference)
        if context.each_value and (reference == "each.value" or reference.startswith("each.value.")):
            # bucket = each.value.id under for_each = aws_s3_bucket.b: the instance of the same key
            reference = context.each_value + reference[len("each.value") :]
        resolved = _resource_reference(reference, context.config, context.path, context.prefix, 0)
        if resolved is not None:
            return resolved
    what = f"{', '.join(references)}" if references else key
    return Unresolved(f"{context.prefix}{what} (known after apply)")


def _resource_reference(
    reference: str, config: dict[str, Any], path: list[str], prefix: str, depth: int
) -> ResourceRef | None:
    if depth > 10 or reference.startswith(_NOT_RESOURCES):
        return None
    if reference.startswith("module."):
        parts = reference.split(".")
        if len(parts) < 3:
            return None
        name, output = _INDEX.sub("", parts[1]), parts[2]
        child = _config_module(config, [*path, name]) or {}
        expression = (child.get("outputs") or {}).get(output) or {}
        for inner in (expression.get("expression") or {}).get("references") or []:
            found = _resource_reference(
                str(inner), config, [*path, name], f"{prefix}module.{parts[1]}.", depth + 1
            )
            if found is not None:
                return found
        return None
    if reference.startswith("data."):
        return None
    parts = reference.split(".")
    if len(parts) < 2:
        return None
    address = f"{prefix}{parts[0]}.{parts[1]}"
    attribute = ".".join(parts[2:]) or None
    return ResourceRef(address, attribute)
