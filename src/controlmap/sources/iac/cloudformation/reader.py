"""Read one CloudFormation or SAM template into resource models, one set per reachable variant."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from controlmap.resources.base import SourceKind
from controlmap.sources.iac.cloudformation import mappers  # noqa: F401  (registers the mappers)
from controlmap.sources.iac.cloudformation.build import COMPANION, CfnBuild
from controlmap.sources.iac.cloudformation.document import LocDict
from controlmap.sources.iac.cloudformation.intrinsics import Resolver
from controlmap.sources.iac.cloudformation.json_loader import load_json
from controlmap.sources.iac.cloudformation.parameters import (
    describe_value,
    parameter_values,
    variant_assignments,
)
from controlmap.sources.iac.cloudformation.sam import expand_sam
from controlmap.sources.iac.cloudformation.template import (
    Template,
    dependency_problems,
    dict_nodes,
    looks_like_cloudformation,
    parse_template,
    references,
)
from controlmap.sources.iac.cloudformation.yaml_loader import load_yaml
from controlmap.sources.iac.common import MAX_TEMPLATE_BYTES, IacError, IacProblem, read_text
from controlmap.sources.iac.unit import Branch, UnitResult, Variant

log = logging.getLogger(__name__)


def load_document(text: str) -> Any:
    """Parse template text as JSON when it looks like JSON, else as YAML."""
    if text.lstrip().startswith("{"):
        return load_json(text)
    return load_yaml(text)


def read_template(path: Path, display: str, given: dict[str, str] | None = None) -> UnitResult:
    result = UnitResult(path=display, kind=SourceKind.CLOUDFORMATION)
    try:
        document = load_document(
            read_text(path, limit=MAX_TEMPLATE_BYTES, why=" (CloudFormation refuses templates over 1 MB)")
        )
        if not looks_like_cloudformation(document):
            raise IacError(
                "not a CloudFormation template (no AWSTemplateFormatVersion or Resources with AWS:: types)"
            )
        template = parse_template(document)
        build_variants(template, display, given or {}, result)
    except IacError as exc:
        result.problems.append(exc.problem(display))
    except Exception as exc:  # a defect must not end the scan of other files
        log.debug("internal error reading %s", display, exc_info=True)
        result.problems.append(
            IacProblem(
                display,
                f"internal error while reading the template: {type(exc).__name__}: {exc}",
                code="internal",
            )
        )
    return result


def build_variants(template: Template, display: str, given: dict[str, str], result: UnitResult) -> None:
    if template.is_sam:
        expand_sam(template)
    dependencies = dependency_problems(template)
    result.problems.extend(problem.problem(display) for problem in dependencies)
    if any(problem.message.startswith("circular dependency") for problem in dependencies):
        return  # CloudFormation refuses the template: nothing of it would be deployed
    values = parameter_values(template, given)
    assignments = variant_assignments(template, values)
    result.problems.extend(_suppression_problems(template, display))
    for name, line in template.not_expanded:
        result.problems.append(
            IacProblem(
                display,
                f"{name}: Fn::ForEach (AWS::LanguageExtensions) is not expanded; "
                "its resources are not scanned",
                line,
                "unsupported",
            )
        )
    varying = _varying_conditions(template, values, assignments, given)
    seen_problems: set[str] = set()
    for assignment in assignments:
        resolver = Resolver(template, values, assignment, given)
        build = CfnBuild(template, resolver, display)
        resources = build.run()
        for problem in build.problems:
            if str(problem) not in seen_problems:
                seen_problems.add(str(problem))
                result.problems.append(problem)
        _apply_suppressions(template, build)
        labels = _labels(template, resolver, build, assignment, varying) if len(assignments) > 1 else {}
        result.variants.append(Variant(resources, labels))


# ---- inline suppressions ------------------------------------------------------------------------------


def _skips(metadata: dict[str, Any]) -> list[Any]:
    block = metadata.get("controlmap")
    if not isinstance(block, dict):
        return []
    skips = block.get("skip") or []
    return skips if isinstance(skips, list) else [skips]


def _suppression_problems(template: Template, display: str) -> list[IacProblem]:
    problems = []
    for resource in template.resources.values():
        block = resource.metadata.get("controlmap")
        skip_line = block.line_of("skip") if isinstance(block, LocDict) else None
        for entry in _skips(resource.metadata):
            line = entry.start if isinstance(entry, LocDict) else skip_line or resource.metadata_line
            if isinstance(entry, str) and entry.strip():
                problems.append(
                    IacProblem(
                        display,
                        f"{resource.logical_id}: skip {entry.strip()!r} has no reason; write "
                        f"- id: {entry.strip()} and reason: <why this resource is exempt> "
                        "(the skip is ignored until then)",
                        line,
                        "suppression",
                    )
                )
            elif not isinstance(entry, dict) or not entry.get("id"):
                problems.append(
                    IacProblem(
                        display, f"{resource.logical_id}: a controlmap skip needs an id", line, "suppression"
                    )
                )
            elif not str(entry.get("reason") or "").strip():
                problems.append(
                    IacProblem(
                        display,
                        f"{resource.logical_id}: skip of {entry['id']} has no reason; "
                        "add reason: <why this resource is exempt> (the skip is ignored until then)",
                        line,
                        "suppression",
                    )
                )
    return problems


def _apply_suppressions(template: Template, build: CfnBuild) -> None:
    for logical_id, models in build.models.items():
        raw = template.resources.get(logical_id)
        if raw is None:
            continue
        skips = {
            str(e["id"]).strip(): str(e["reason"]).strip()
            for e in _skips(raw.metadata)
            if isinstance(e, dict) and e.get("id") and str(e.get("reason") or "").strip()
        }
        for model in models:
            model.suppressions.update(skips)


# ---- variant labels ----------------------------------------------------------------------------------------


def _varying_conditions(
    template: Template, values: dict[str, Any], assignments: list[dict[str, str]], given: dict[str, str]
) -> set[str]:
    """Conditions that are true in some variants and false in others: the only ones worth naming
    (a condition the AllowedValues make always false is no branch)."""
    if len(assignments) < 2:
        return set()
    seen: dict[str, set[object]] = {}
    for assignment in assignments:
        resolver = Resolver(template, values, assignment, given)
        for name in template.conditions:
            try:
                truth: object = resolver.condition(name)
            except IacError:
                truth = None  # reported when the template is built
            seen.setdefault(name, set()).add(truth if isinstance(truth, bool) else None)
    return {name for name, truths in seen.items() if len(truths) > 1}


def _labels(
    template: Template,
    resolver: Resolver,
    build: CfnBuild,
    assignment: dict[str, str],
    varying: set[str],
) -> dict[str, Branch]:
    labels: dict[str, Branch] = {}
    # A companion's conditions shape what it configures (a BucketPolicy created only in prod).
    inherited: dict[str, list[str]] = {}
    for other in template.resources.values():
        if other.type not in COMPANION:
            continue  # a bucket naming its key does not shape the key; a BucketPolicy shapes its bucket
        own = ([other.condition] if other.condition else []) + _conditions_used(other.properties)
        if own:
            for target in references(other.properties):
                if target != other.logical_id and target in template.resources:
                    inherited.setdefault(target, []).extend(own)
    for logical_id, models in build.models.items():
        raw = template.resources.get(logical_id)
        if raw is None:
            continue
        names = _conditions_used(raw.properties) + inherited.get(logical_id, [])
        if raw.condition:
            names.insert(0, raw.condition)
        decided: list[tuple[str, bool, tuple[str, ...]]] = []
        read: set[str] = set()
        for name in dict.fromkeys(names):
            if name not in template.conditions or name not in varying:
                continue
            truth = resolver.condition(name)
            reads = _parameters_read(template, name, set(assignment))
            if isinstance(truth, bool) and reads:
                decided.append((name, truth, tuple(sorted(reads))))
                read |= reads
        if decided:
            params = tuple((k, describe_value(v)) for k, v in sorted(assignment.items()) if k in read)
            label = Branch(tuple(decided), params)
            for model in models:
                labels[model.id] = label
    return labels


def _conditions_used(node: Any) -> list[str]:
    return [
        str(value["Fn::If"][0])
        for value in dict_nodes(node)
        if set(value) == {"Fn::If"} and isinstance(value["Fn::If"], list) and value["Fn::If"]
    ]


def _parameters_read(
    template: Template, condition: str, enumerated: set[str], _seen: set[str] | None = None
) -> set[str]:
    """The enumerated parameters a condition reads, directly or through other conditions."""
    seen = _seen if _seen is not None else set()
    if condition in seen:
        return set()
    seen.add(condition)
    found: set[str] = set()
    for value in dict_nodes(template.conditions.get(condition)):
        if set(value) == {"Ref"} and value["Ref"] in enumerated:
            found.add(str(value["Ref"]))
        elif set(value) == {"Condition"}:
            found.update(_parameters_read(template, str(value["Condition"]), enumerated, seen))
    return found
