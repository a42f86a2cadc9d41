"""Parameter values: given on the command line or in a file, else the template's defaults.

A parameters file may be CloudFormation's own JSON list (``[{"ParameterKey": …, "ParameterValue": …}]``;
an entry with ``UsePreviousValue`` and no value is left to the parameter's default), a CodePipeline
template configuration (``{"Parameters": {…}}``), a plain JSON or YAML mapping, or ``KEY=VALUE`` lines.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from controlmap.sources.iac.cloudformation.intrinsics import OTHER, SSM_TYPE_PREFIX
from controlmap.sources.iac.cloudformation.template import Template
from controlmap.sources.iac.common import IacError, read_text

__all__ = ["MAX_VARIANTS", "OTHER", "parameter_values", "read_parameters_file", "variant_assignments"]

MAX_VARIANTS = 16


def read_parameters_file(path: Path) -> dict[str, str]:
    text = read_text(path, limit=5 * 1024 * 1024)
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise IacError(f"parameters file is not valid JSON: {exc}") from None
        return _from_data(data)
    mapping = _yaml_mapping(text)
    if mapping is not None:
        return _from_data(mapping)
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise IacError(f"expected KEY=VALUE, got {line[:60]!r}", line=number)
        out[key.strip()] = value.strip()
    return out


def _yaml_mapping(text: str) -> dict[str, Any] | None:
    """A YAML mapping (``Env: prod``), or None for anything else (KEY=VALUE lines read as YAML
    are one plain string)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except (YAMLError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _from_data(data: Any) -> dict[str, str]:
    if isinstance(data, list):
        out = {}
        for item in data:
            if not isinstance(item, dict) or "ParameterKey" not in item:
                raise IacError("a parameters list must hold {ParameterKey, ParameterValue} objects")
            if "ParameterValue" not in item and item.get("UsePreviousValue"):
                continue  # the deployed stack's value, which a static scan does not know
            out[str(item["ParameterKey"])] = _text(item.get("ParameterValue", ""))
        return out
    if isinstance(data, dict):
        inner = data.get("Parameters", data)
        if not isinstance(inner, dict):
            raise IacError("Parameters must be a mapping of names to values")
        return {str(k): _text(v) for k, v in inner.items()}
    raise IacError("a parameters file must be a JSON list or mapping, or KEY=VALUE lines")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _typed(spec: dict[str, Any], value: Any) -> Any:
    ptype = str(spec.get("Type", "String"))
    if ptype.startswith("List<") or ptype == "CommaDelimitedList":
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in str(value).split(",")] if str(value) else []
    return _text(value)


def parameter_values(template: Template, given: dict[str, str]) -> dict[str, Any]:
    """Values of the parameters the template fixes: given ones first, then defaults. Pseudo
    parameters (``AWS::Region``…) may be given too."""
    values: dict[str, Any] = {}
    for name, spec in template.parameters.items():
        if str(spec.get("Type", "")).startswith(SSM_TYPE_PREFIX):
            continue  # its value (given or default) names an SSM parameter read at deploy time
        if name in given:
            values[name] = _typed(spec, given[name])
        elif "Default" in spec and not isinstance(spec["Default"], dict):
            values[name] = _typed(spec, spec["Default"])
    for name, value in given.items():
        if name.startswith("AWS::"):
            values[name] = value
    return values


def variant_assignments(template: Template, values: dict[str, Any]) -> list[dict[str, str]]:
    """Values to try for parameters that decide a condition but have none.

    A parameter's candidates are its AllowedValues, else the literals the conditions compare it
    with plus "any other value"; every combination is one variant (at most ``MAX_VARIANTS``;
    parameters beyond that stay unresolved and their conditions give UNKNOWN findings).
    """
    domains: dict[str, list[str]] = {}
    for expr in template.conditions.values():
        for name, literals in _compared_parameters(expr).items():
            if name in values or (
                name not in template.parameters and name not in ("AWS::Region", "AWS::AccountId")
            ):
                continue
            allowed = template.parameters.get(name, {}).get("AllowedValues")
            if isinstance(allowed, list) and allowed:
                domain = [_text(v) for v in allowed]
            else:
                domain = [*domains.get(name, []), *literals]
                domain = [*dict.fromkeys(d for d in domain if d != OTHER), OTHER]
            domains[name] = domain
    if not domains:
        return [{}]
    chosen: dict[str, list[str]] = {}
    size = 1
    for name, domain in sorted(domains.items()):
        if size * len(domain) > MAX_VARIANTS:
            continue
        chosen[name] = domain
        size *= len(domain)
    names = sorted(chosen)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(chosen[n] for n in names))]


def _compared_parameters(expr: Any) -> dict[str, list[str]]:
    """Parameters a condition expression reads, with the literals it compares each with."""
    found: dict[str, list[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"Fn::Equals"} and isinstance(node["Fn::Equals"], list):
                refs = [x["Ref"] for x in node["Fn::Equals"] if isinstance(x, dict) and set(x) == {"Ref"}]
                literals = [_text(x) for x in node["Fn::Equals"] if isinstance(x, (str, int, float, bool))]
                for ref in refs:
                    found.setdefault(str(ref), []).extend(literals)
            elif set(node) == {"Ref"}:
                found.setdefault(str(node["Ref"]), [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(expr)
    return found


def describe_value(value: str) -> str:
    return "another value" if value == OTHER else repr(value)
