"""Metamorphic testing of the IaC readers: a value made unknown never turns a verdict.

Take a unit whose findings are known, replace one value of one resource by a value the scan
cannot know, and scan again. The original value is one of the values the unknown one may take,
so whatever the scan now says must also hold for it: a finding may become UNKNOWN, but it may
not become FAIL unless it failed before, nor PASS unless it passed (or did not apply) before.
A mapper that reads an unknown value as "not set" (an empty list of subnets, no key, logging
OFF) breaks this, and so does a companion whose target is unknown being dropped.

Values are replaced one at a time, as Terraform values (after evaluation, so HCL and plans are
both covered: a variable without a value, a string with an unknown part, nested blocks built by
a ``dynamic`` block over an unknown collection) and as
CloudFormation properties (``Ref`` to a parameter without a default, ``Fn::ImportValue``, or
``Fn::Sub`` with an unknown part).
"""

from __future__ import annotations

import copy
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controlmap.catalog.catalog import Catalog
from controlmap.checks.registry import Status
from controlmap.resources.base import SourceKind
from controlmap.settings import Settings
from controlmap.sources.iac.cloudformation.reader import build_variants, load_document
from controlmap.sources.iac.cloudformation.template import parse_template
from controlmap.sources.iac.common import Unresolved, read_text
from controlmap.sources.iac.scan import evaluate_unit
from controlmap.sources.iac.terraform.build import TfBuild, TfItem
from controlmap.sources.iac.terraform.expressions import UnknownBlock
from controlmap.sources.iac.terraform.module import load_root
from controlmap.sources.iac.terraform.plan import _items as plan_items
from controlmap.sources.iac.terraform.reader import root_values
from controlmap.sources.iac.unit import UnitResult, Variant

Key = tuple[str | None, str, str | None]  # check, resource address, detail
UNKNOWN_VARIABLE = "var.unknown (no default and no value given)"
HOLE = "${var.unknown}"


@dataclass(frozen=True)
class Flip:
    """A finding the mutation turned: where the value was replaced and what changed."""

    where: str
    check: str | None
    resource: str
    before: Status | None
    after: Status
    reason: str

    def __str__(self) -> str:
        before = self.before.value if self.before else "-"
        return f"{self.where}: {self.check} on {self.resource} {before} -> {self.after.value} ({self.reason})"


def _verdicts(result: UnitResult, catalog: Catalog) -> dict[Key, tuple[Status, str]]:
    out: dict[Key, tuple[Status, str]] = {}
    for f in evaluate_unit(result, catalog, Settings(), None):
        address = f.source.address if f.source and f.source.address else f.resource_id
        out[(f.check_id, address, f.detail_id)] = (f.status, f.reason)
    return out


def flips(
    before: dict[Key, tuple[Status, str]], after: dict[Key, tuple[Status, str]], where: str
) -> list[Flip]:
    found = []
    for key, (status, reason) in after.items():
        if key not in before:
            continue  # not judged before (a reference the unit does not declare, now gone)
        was = before[key][0]
        false_fail = status is Status.FAIL and was is not Status.FAIL
        false_pass = status is Status.PASS and was not in (Status.PASS, Status.NOT_APPLICABLE)
        if false_fail or false_pass:
            found.append(Flip(where, key[0], key[1], was, status, reason))
    return found


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every scalar, to every list of scalars, and to every intrinsic function call."""
    if isinstance(node, dict) and len(node) == 1:
        (key,) = node
        if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::")):
            yield path
            return
    if isinstance(node, dict):
        for key, value in node.items():
            if not str(key).startswith("__"):
                yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        if node and all(not isinstance(x, (dict, list)) for x in node):
            yield path
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    elif node is not None and path:
        yield path


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    node = copy.deepcopy(node)
    _get(node, path[:-1])[path[-1]] = value
    return node


# ---- Terraform (HCL roots and plans) ------------------------------------------------------------


def terraform_value(original: Any, mode: str) -> Any:
    if mode == "partial":
        if not isinstance(original, str) or len(original) < 2:
            return None
        half = original[: len(original) // 2]
        return Unresolved(UNKNOWN_VARIABLE, placeholder=half + HOLE, partial=True, holes=(HOLE,))
    return Unresolved(UNKNOWN_VARIABLE)


def terraform_items(path: Path) -> tuple[list[TfItem], str | None]:
    if path.is_file():  # a plan
        import json

        return plan_items(json.loads(path.read_text(encoding="utf-8")), str(path)), None
    config, root = load_root(path, str(path), root_values(path, [], {}, []))
    items = [
        TfItem(i.address, i.type, i.attrs, i.source, i.skips)
        for i in root.all_instances()
        if i.mode == "managed"
    ]
    return items, config.region


def _blocks(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every list of nested blocks (what a ``dynamic`` block would build)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).startswith("__"):
                continue
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                yield (*path, key)
            yield from _blocks(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _blocks(value, (*path, index))


def terraform_flips(path: Path, catalog: Catalog, mode: str) -> list[Flip]:
    items, region = terraform_items(path)

    def judge(current: list[TfItem]) -> dict[Key, tuple[Status, str]]:
        result = UnitResult(path=str(path), kind=SourceKind.TERRAFORM)
        result.variants.append(Variant(TfBuild(str(path), copy.deepcopy(current), region).run()))
        return _verdicts(result, catalog)

    before = judge(items)
    found: list[Flip] = []
    for index, item in enumerate(items):
        leaves = _blocks(item.attrs) if mode == "dynamic" else _leaves(item.attrs)
        for leaf in leaves:
            if mode == "dynamic":  # a dynamic block over a collection the scan cannot know
                value: Any = [UnknownBlock(Unresolved(f"a dynamic block over {UNKNOWN_VARIABLE}"))]
            else:
                value = terraform_value(_get(item.attrs, leaf), mode)
            if value is None:
                continue
            mutated = list(items)
            mutated[index] = TfItem(
                item.address, item.type, _replaced(item.attrs, leaf, value), item.source, item.skips
            )
            where = f"{item.address}.{'.'.join(map(str, leaf))} ({mode})"
            found += flips(before, judge(mutated), where)
    return found


# ---- CloudFormation -------------------------------------------------------------------------------


def cloudformation_value(original: Any, mode: str) -> Any:
    if mode == "partial":
        if not isinstance(original, str) or len(original) < 2:
            return None
        return {"Fn::Sub": original[: len(original) // 2].replace("${", "${!") + "${Unknown}"}
    if mode == "import":
        return {"Fn::ImportValue": "another-stacks-export"}
    return {"Ref": "Unknown"}


def cloudformation_flips(path: Path, catalog: Catalog, mode: str) -> list[Flip]:
    document = load_document(read_text(path))

    def judge(current: Any) -> dict[Key, tuple[Status, str]]:
        result = UnitResult(path=str(path), kind=SourceKind.CLOUDFORMATION)
        build_variants(parse_template(copy.deepcopy(current)), str(path), {}, result)
        return _verdicts(result, catalog)

    before = judge(document)
    found: list[Flip] = []
    for logical_id, resource in (document.get("Resources") or {}).items():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(properties, dict):
            continue
        for leaf in _leaves(properties):
            value = cloudformation_value(_get(properties, leaf), mode)
            if value is None:
                continue
            mutated = copy.deepcopy(document)
            mutated.setdefault("Parameters", {})["Unknown"] = {"Type": "String"}
            mutated["Resources"][logical_id]["Properties"] = _replaced(properties, leaf, value)
            where = f"{logical_id}.{'.'.join(map(str, leaf))} ({mode})"
            found += flips(before, judge(mutated), where)
    return found


def write_snippet(folder: Path, text: str, kind: str) -> Path:
    """A catalog remediation snippet as a unit: a Terraform root or a template."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "terraform":
        (folder / "main.tf").write_text(text, encoding="utf-8")
        return folder
    template = folder / "template.yaml"
    body = textwrap.indent(text, "  ")
    template.write_text(f'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n{body}', encoding="utf-8")
    return template


# ---- contrast: other known values of the same argument ---------------------------------------------
#
# A default can hide an unknown value when the default equals the fixture's value (an unknown
# traffic type read as ALL in a fixture that says ALL). So each value is also replaced by the other
# values the corpus gives the same argument of the same resource type: where those known worlds
# disagree, the unknown value must not PASS or FAIL. Names are left out: giving a resource another
# resource's name makes a world that cannot exist (two buckets with one name); so are arguments
# whose other values AWS would refuse in that configuration.

_IDENTITY = re.compile(r"(^|_)(name|bucket|identifier|domain_name)$|Name$")
# Arguments some of whose other values make a configuration AWS refuses: a bucket with a public
# ACL grant cannot have Object Ownership BucketOwnerEnforced (the ACL is refused).
_EXCLUSIVE = re.compile(r"^(object_ownership|ObjectOwnership)$")


def _norm(path: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple("#" if isinstance(step, int) else step for step in path)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not isinstance(value, Unresolved)


def _contrast(
    worlds: list[dict[Key, tuple[Status, str]]], unknown: dict[Key, tuple[Status, str]], where: str
) -> list[Flip]:
    found = []
    for key, (status, reason) in unknown.items():
        seen = {w[key][0] for w in worlds if key in w}
        if len(seen) < 2:
            continue
        if (status is Status.FAIL and seen != {Status.FAIL}) or (
            status is Status.PASS and not seen <= {Status.PASS, Status.NOT_APPLICABLE}
        ):
            found.append(
                Flip(
                    where,
                    key[0],
                    key[1],
                    None,
                    status,
                    f"known values give {sorted(s.value for s in seen)}: {reason}",
                )
            )
    return found


def _judge_terraform(
    path: Path, items: list[TfItem], region: str | None, catalog: Catalog
) -> dict[Key, tuple[Status, str]]:
    result = UnitResult(path=str(path), kind=SourceKind.TERRAFORM)
    result.variants.append(Variant(TfBuild(str(path), copy.deepcopy(items), region).run()))
    return _verdicts(result, catalog)


def _judge_cloudformation(path: Path, document: Any, catalog: Catalog) -> dict[Key, tuple[Status, str]]:
    result = UnitResult(path=str(path), kind=SourceKind.CLOUDFORMATION)
    build_variants(parse_template(copy.deepcopy(document)), str(path), {}, result)
    return _verdicts(result, catalog)


def _others(values: dict[Any, set[Any]], key: Any, original: Any) -> list[Any]:
    """Up to three other values the corpus gives the same argument (same type as the original)."""
    return sorted((v for v in values.get(key, ()) if v != original and type(v) is type(original)), key=str)[
        :3
    ]


def terraform_contrasts(paths: list[Path], catalog: Catalog) -> list[Flip]:
    units = [(path, *terraform_items(path)) for path in paths]
    values: dict[Any, set[Any]] = {}
    for _, items, _ in units:
        for item in items:
            for leaf in _leaves(item.attrs):
                if _scalar(_get(item.attrs, leaf)):
                    values.setdefault((item.type, _norm(leaf)), set()).add(_get(item.attrs, leaf))
    found: list[Flip] = []
    for path, items, region in units:
        base = _judge_terraform(path, items, region, catalog)
        for index, item in enumerate(items):
            for leaf in _leaves(item.attrs):
                if _IDENTITY.search(str(leaf[-1])) or _EXCLUSIVE.search(str(leaf[-1])):
                    continue
                others = _others(values, (item.type, _norm(leaf)), _get(item.attrs, leaf))
                worlds = [base]
                for value in [*others, Unresolved(UNKNOWN_VARIABLE)] if others else []:
                    mutated = list(items)
                    mutated[index] = TfItem(
                        item.address, item.type, _replaced(item.attrs, leaf, value), item.source, item.skips
                    )
                    worlds.append(_judge_terraform(path, mutated, region, catalog))
                if others:
                    where = f"{item.address}.{'.'.join(map(str, leaf))}"
                    found += _contrast(worlds[:-1], worlds[-1], where)
    return found


def cloudformation_contrasts(paths: list[Path], catalog: Catalog) -> list[Flip]:
    documents = [(path, load_document(read_text(path))) for path in paths]
    values: dict[Any, set[Any]] = {}
    for _, document in documents:
        for resource in (document.get("Resources") or {}).values():
            properties = resource.get("Properties") if isinstance(resource, dict) else None
            for leaf in _leaves(properties) if isinstance(properties, dict) else ():
                if _scalar(_get(properties, leaf)):
                    values.setdefault((resource.get("Type"), _norm(leaf)), set()).add(_get(properties, leaf))
    found: list[Flip] = []
    for path, document in documents:
        base = _judge_cloudformation(path, document, catalog)
        for logical_id, resource in (document.get("Resources") or {}).items():
            properties = resource.get("Properties") if isinstance(resource, dict) else None
            if not isinstance(properties, dict):
                continue
            for leaf in _leaves(properties):
                if _IDENTITY.search(str(leaf[-1])) or _EXCLUSIVE.search(str(leaf[-1])):
                    continue
                others = _others(values, (resource.get("Type"), _norm(leaf)), _get(properties, leaf))
                worlds = [base]
                for value in [*others, {"Ref": "Unknown"}] if others else []:
                    mutated = copy.deepcopy(document)
                    mutated.setdefault("Parameters", {})["Unknown"] = {"Type": "String"}
                    mutated["Resources"][logical_id]["Properties"] = _replaced(properties, leaf, value)
                    worlds.append(_judge_cloudformation(path, mutated, catalog))
                if others:
                    where = f"{path.name}:{logical_id}.{'.'.join(map(str, leaf))}"
                    found += _contrast(worlds[:-1], worlds[-1], where)
    return found
