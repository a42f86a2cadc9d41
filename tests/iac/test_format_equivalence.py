"""The same infrastructure gives the same verdicts whatever the format it is written in.

CloudFormation: every YAML fixture is rewritten as JSON (long-form intrinsics) and must give the
same findings. Terraform: every single-module fixture is turned into the plan JSON Terraform would
print (values known after apply marked in ``after_unknown``, with the configuration's references)
and the plan must give the same findings as the HCL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from controlmap.catalog.catalog import Catalog
from controlmap.settings import Settings
from controlmap.sources.iac.cloudformation.yaml_loader import load_yaml
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.scan import IacOptions, scan_iac
from controlmap.sources.iac.terraform.expressions import JsonDocument
from controlmap.sources.iac.terraform.module import load_root

from .conftest import FIXTURES

CFN = sorted(p.name for p in (FIXTURES / "cloudformation").glob("*.yaml"))
TF_SINGLE_MODULE = ["account", "iam_kms", "network", "rds", "s3_inline", "serverless", "unknown"]


def verdicts(catalog: Catalog, path: Path, **options: Any) -> set[tuple[str, str, str]]:
    result = scan_iac([path], catalog, Settings(), options=IacOptions(workers=1, **options))
    return {(f.resource_name, f.check_id or "", f.status.value) for f in result.findings}


@pytest.mark.parametrize("name", CFN)
def test_cloudformation_json_matches_yaml(catalog: Catalog, tmp_path: Path, name: str) -> None:
    source = FIXTURES / "cloudformation" / name
    converted = tmp_path / (Path(name).stem + ".json")
    converted.write_text(json.dumps(load_yaml(source.read_text()), indent=2))
    assert verdicts(catalog, converted) == verdicts(catalog, source)


def _plan_value(value: Any, refs: list[str]) -> tuple[Any, Any]:
    """(planned value, after_unknown marker) of an evaluated HCL value; refs collects references."""
    if isinstance(value, ResourceRef):
        refs.append(f"{value.address}.{value.attribute}" if value.attribute else value.address)
        return None, True
    if isinstance(value, Unresolved):
        # A bucket whose name is chosen at apply time stands in as its address; Terraform's
        # plan would carry the reference itself.
        placeholder = value.placeholder or ""
        if placeholder.startswith("arn:aws:s3:::aws_"):
            refs.append(placeholder.removeprefix("arn:aws:s3:::") + ".arn")
        elif placeholder.startswith("aws_") and " " not in placeholder:
            refs.append(placeholder + ".id")
        return None, True
    if isinstance(value, JsonDocument):
        plain = dict(value)
        return (json.dumps(plain), False) if "${" not in json.dumps(plain, default=str) else (None, True)
    if isinstance(value, dict):
        out, marks = {}, {}
        for key, inner in value.items():
            planned, mark = _plan_value(inner, refs)
            if mark is True:
                marks[key] = True
            else:
                out[key] = planned
                if mark:
                    marks[key] = mark
        return out, marks or False
    if isinstance(value, list):
        items, marks, any_mark = [], [], False
        for inner in value:
            planned, mark = _plan_value(inner, refs)
            items.append(planned)
            marks.append(mark if mark else {})
            any_mark = any_mark or bool(mark)
        return items, (marks if any_mark else False)
    return value, False


def terraform_plan(directory: Path) -> dict[str, Any]:
    config, root = load_root(directory, "x", {})
    planned, changes, configured = [], [], []
    for instance in root.all_instances():
        if instance.mode != "managed":
            continue
        values, unknown = {}, {}
        expressions: dict[str, Any] = {}
        for key, raw in instance.attrs.items():
            refs: list[str] = []
            value, mark = _plan_value(raw, refs)
            if mark is True:
                unknown[key] = True
                expressions[key] = {"references": refs} if refs else {"references": ["var.unknown"]}
            else:
                values[key] = value
                if mark:
                    unknown[key] = mark
                    expressions[key] = _nested_expressions(raw)
        base = instance.address.split("[")[0]
        planned.append(
            {
                "address": instance.address,
                "mode": "managed",
                "type": instance.type,
                "name": instance.name,
                "values": values,
            }
        )
        changes.append(
            {"address": instance.address, "change": {"actions": ["create"], "after_unknown": unknown}}
        )
        configured.append(
            {
                "address": base,
                "mode": "managed",
                "type": instance.type,
                "name": instance.name,
                "expressions": expressions,
            }
        )
    provider: dict[str, Any] = {}
    if config.region:
        provider = {"aws": {"expressions": {"region": {"constant_value": config.region}}}}
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": provider, "root_module": {"resources": configured}},
    }


def _nested_expressions(value: Any) -> Any:
    if isinstance(value, (ResourceRef, Unresolved)):
        refs: list[str] = []
        _plan_value(value, refs)
        return {"references": refs or ["var.unknown"]}
    if isinstance(value, dict):
        return {k: _nested_expressions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nested_expressions(v) for v in value]
    return {"constant_value": value}


@pytest.mark.parametrize("name", TF_SINGLE_MODULE)
def test_terraform_plan_matches_hcl(catalog: Catalog, tmp_path: Path, name: str) -> None:
    directory = FIXTURES / "terraform" / name
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(terraform_plan(directory), default=str))
    from_hcl = verdicts(catalog, directory)
    from_plan = verdicts(catalog, plan)
    assert from_plan == from_hcl
