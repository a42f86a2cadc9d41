"""A CloudFormation template as sections and resources, each resource with its line range."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from controlmap.sources.iac.cloudformation.document import LocDict
from controlmap.sources.iac.common import IacError


@dataclass
class CfnResource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    line_start: int | None
    line_end: int | None
    condition: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_line: int | None = None
    depends_on: list[str] = field(default_factory=list)


@dataclass
class Template:
    parameters: dict[str, dict[str, Any]]
    mappings: dict[str, Any]
    conditions: dict[str, Any]
    resources: dict[str, CfnResource]
    transforms: list[str]
    condition_lines: dict[str, int] = field(default_factory=dict)
    globals: dict[str, Any] = field(default_factory=dict)  # SAM Globals section
    not_expanded: list[tuple[str, int | None]] = field(default_factory=list)  # Fn::ForEach blocks

    @property
    def is_sam(self) -> bool:
        return any(t.startswith("AWS::Serverless") for t in self.transforms) or any(
            r.type.startswith("AWS::Serverless::") for r in self.resources.values()
        )


def looks_like_cloudformation(document: Any) -> bool:
    """True for a parsed document that is a CloudFormation or SAM template."""
    if not isinstance(document, dict):
        return False
    if "AWSTemplateFormatVersion" in document:
        return True
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return False
    return any(
        isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(("AWS::", "Custom::"))
        for r in resources.values()
    )


def _section(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name) or {}
    if not isinstance(value, dict):
        line = document.line_of(name) if isinstance(document, LocDict) else None
        raise IacError(f"{name} must be a mapping", line=line)
    return value


def parse_template(document: Any) -> Template:
    if not isinstance(document, dict):
        raise IacError("a template must be a mapping with a Resources section", line=1)
    resources_section = _section(document, "Resources")
    if not resources_section:
        raise IacError("the template has no Resources", line=1)
    transform = document.get("Transform") or []
    transforms = [transform] if isinstance(transform, str) else [t for t in transform if isinstance(t, str)]
    resources: dict[str, CfnResource] = {}
    not_expanded: list[tuple[str, int | None]] = []
    for logical_id, body in resources_section.items():
        span = resources_section.lines_of(logical_id) if isinstance(resources_section, LocDict) else None
        line = span[0] if span else None
        if str(logical_id).startswith("Fn::ForEach::"):
            not_expanded.append((str(logical_id), line))  # AWS::LanguageExtensions loops are not expanded
            continue
        if not isinstance(body, dict):
            raise IacError(f"resource {logical_id} must be a mapping", line=line)
        rtype = body.get("Type")
        if not isinstance(rtype, str):
            raise IacError(f"resource {logical_id} has no Type", line=line)
        properties = body.get("Properties") or {}
        if not isinstance(properties, dict):
            properties = {}
        metadata = body.get("Metadata") or {}
        condition = body.get("Condition")
        depends_on = body.get("DependsOn") or []
        resources[str(logical_id)] = CfnResource(
            logical_id=str(logical_id),
            type=rtype,
            properties=properties,
            line_start=span[0] if span else None,
            line_end=span[1] if span else None,
            condition=condition if isinstance(condition, str) else None,
            metadata=metadata if isinstance(metadata, dict) else {},
            metadata_line=body.line_of("Metadata") if isinstance(body, LocDict) else None,
            depends_on=[str(d) for d in ([depends_on] if isinstance(depends_on, str) else depends_on)]
            if isinstance(depends_on, (str, list))
            else [],
        )
    conditions = _section(document, "Conditions")
    condition_lines = {}
    if isinstance(conditions, LocDict):
        condition_lines = {k: v[0] for k, v in conditions.key_lines.items()}
    return Template(
        parameters={k: v for k, v in _section(document, "Parameters").items() if isinstance(v, dict)},
        mappings=_section(document, "Mappings"),
        conditions=conditions,
        resources=resources,
        transforms=transforms,
        condition_lines=condition_lines,
        globals=_section(document, "Globals"),
        not_expanded=not_expanded,
    )


def dict_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping of a raw template tree, depth first (intrinsic functions are mappings)."""
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            yield value
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))


def references(node: Any) -> set[str]:
    """Names a raw property tree refers to (Ref, GetAtt, Sub variables): resources or parameters."""
    found: set[str] = set()
    for value in dict_nodes(node):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        elif set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                found.add(target.split(".", 1)[0])
            elif isinstance(target, list) and target:
                found.add(str(target[0]))
        elif set(value) == {"Fn::Sub"}:
            arg = value["Fn::Sub"]
            text = arg[0] if isinstance(arg, list) and arg else arg
            given = arg[1] if isinstance(arg, list) and len(arg) > 1 else None
            local = set(given) if isinstance(given, dict) else set()
            if isinstance(text, str):
                found.update(
                    name.split(".")[0]
                    for name in re.findall(r"\$\{([^}!][^}]*)\}", text)
                    if name.split(".")[0] not in local
                )
    return found


def dependency_problems(template: Template) -> list[IacError]:
    """What CloudFormation refuses before creating anything: a DependsOn naming no resource, and
    resources that depend on each other in a cycle (through Ref, GetAtt, Sub or DependsOn)."""
    problems: list[IacError] = []
    edges: dict[str, list[str]] = {}
    for logical_id, resource in template.resources.items():
        for missing in resource.depends_on:
            if missing not in template.resources:
                problems.append(
                    IacError(
                        f"{logical_id}: DependsOn names {missing!r}, which is not a resource",
                        line=resource.line_start,
                        code="reference",
                    )
                )
        targets = references(resource.properties) | set(resource.depends_on)
        edges[logical_id] = sorted(t for t in targets if t in template.resources and t != logical_id)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in edges.get(node, []):
            if state.get(target) == 1:
                cycle = path[path.index(target) :]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    problems.append(
                        IacError(
                            "circular dependency between resources: "
                            + " -> ".join([*cycle, target])
                            + " (CloudFormation refuses the template)",
                            line=template.resources[target].line_start,
                            code="reference",
                        )
                    )
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for logical_id in template.resources:
        if logical_id not in state:
            visit(logical_id)
    return problems
