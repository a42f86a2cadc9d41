"""Run an IaC scan: discover units, read each into resource models, evaluate the catalog's checks.

Each unit (a template, a Terraform root, a plan) is evaluated on its own inventory: a check that
looks for related resources (the security groups of a database, the bucket of a trail) sees the
resources of the same stack or root module, as a deployment would. Units are independent, so
large scans fan out over worker processes (forked once, no per-file start-up cost).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import Control
from controlmap.checks.registry import Inventory, Status, registry
from controlmap.findings.evaluate import EvaluationOptions, evaluate
from controlmap.findings.model import Finding
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.base import Resource, SourceKind
from controlmap.settings import Settings
from controlmap.sources.iac.common import IacProblem
from controlmap.sources.iac.discovery import Framework, Unit, discover
from controlmap.sources.iac.unit import Branch, UnitResult, Variant, describe_branches

log = logging.getLogger(__name__)

IAC_OPTIONS = EvaluationOptions(manual_findings=False, not_applicable_findings=False)
PARALLEL_MIN_UNITS = 24


@dataclass
class IacOptions:
    framework: Framework | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # CloudFormation parameter values
    var_files: list[Path] = field(default_factory=list)  # Terraform --var-file
    variables: dict[str, str] = field(default_factory=dict)  # Terraform --var NAME=VALUE
    workers: int | None = None  # None: decide from the number of units and CPUs


@dataclass
class IacScan:
    findings: list[Finding] = field(default_factory=list)
    problems: list[IacProblem] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    resource_count: int = 0
    kinds: set[SourceKind] = field(default_factory=set)


def read_unit(unit: Unit, options: IacOptions) -> UnitResult:
    if unit.framework is Framework.CLOUDFORMATION:
        from controlmap.sources.iac.cloudformation.reader import read_template

        return read_template(unit.path, unit.display, options.parameters)
    if unit.framework is Framework.TERRAFORM:
        from controlmap.sources.iac.terraform.reader import read_root

        return read_root(unit.path, unit.display, options.var_files, options.variables)
    from controlmap.sources.iac.terraform.plan import read_plan

    return read_plan(unit.path, unit.display)


def evaluate_unit(
    result: UnitResult, catalog: Catalog, settings: Settings, controls: Sequence[Control] | None
) -> list[Finding]:
    per_variant: list[tuple[list[Finding], Variant]] = []
    evaluated: dict[str, list[Finding]] = {}
    for variant in result.variants:
        # Branches that build identical resources (a condition that only shapes Outputs or an
        # unmapped resource) are evaluated once.
        fingerprint = (
            "\x1e".join(sorted(m.model_dump_json() for m in variant.resources))
            if len(result.variants) > 1
            else ""
        )
        findings = evaluated.get(fingerprint)
        if findings is None:
            inventory = Inventory()
            inventory.extend(variant.resources)
            findings = evaluate(catalog, inventory, settings, controls=controls, options=IAC_OPTIONS)
            findings = _declared_only(findings, variant)
            evaluated[fingerprint] = findings
        per_variant.append((findings, variant))
    return _readable_ids(merge_variants(per_variant), result.path)


def _readable_ids(findings: list[Finding], unit: str) -> list[Finding]:
    """Reasons name other resources of the unit by the address users write (``aws_kms_key.data``,
    ``Sg``), not by the internal id that prefixes the unit's path (``/ci/runner/infra#Sg``)."""
    prefix = f"{unit}#"
    return [
        f.model_copy(update={"reason": f.reason.replace(prefix, "")}) if prefix in (f.reason or "") else f
        for f in findings
    ]


PSEUDO_TYPES = frozenset({AwsAccount.resource_type, AwsRegion.resource_type})
_BASE_FIELDS = frozenset(Resource.model_fields)


def _declared_only(findings: list[Finding], variant: Variant) -> list[Finding]:
    """Account and region settings are judged only on what the configuration declares.

    A Terraform root that sets the password policy says nothing about the root user's MFA or the
    trails of the region; checks reading those facts would only add noise (or a wrong FAIL, for
    checks that look for resources elsewhere in the account).
    """
    declared: dict[str, set[str]] = {
        r.id: set(r.model_fields_set) - _BASE_FIELDS for r in variant.resources if r.type_name in PSEUDO_TYPES
    }
    if not declared:
        return findings
    checks = registry()
    out = []
    for finding in findings:
        facts = declared.get(finding.resource_id)
        if facts is not None:
            spec = checks.get(finding.check_id or "")
            if spec is None or not facts.intersection(spec.facts):
                continue
        out.append(finding)
    return out


_SEVERITY_OF_STATUS = {
    Status.FAIL: 0,
    Status.ERROR: 1,
    Status.UNKNOWN: 2,
    Status.SUPPRESSED: 3,
    Status.EXCEPTED: 4,
    Status.MANUAL: 5,
    Status.PASS: 6,
    Status.NOT_APPLICABLE: 7,
}


def merge_variants(per_variant: list[tuple[list[Finding], Variant]]) -> list[Finding]:
    """One finding per (control, check, resource, detail) across the branches of a template.

    A control fails when some reachable branch fails; the finding then names the branch
    ("when condition IsProd is false"). It passes only when every branch where the resource
    exists passes.
    """
    if len(per_variant) == 1:
        return per_variant[0][0]
    grouped: dict[tuple[str, str | None, str, str | None], list[tuple[Finding, Branch | None]]] = {}
    for findings, variant in per_variant:
        for finding in findings:
            # The template's resource (file and address), not its id: a bucket name can differ by branch.
            source = finding.source
            where = f"{source.file}#{source.address}" if source is not None else finding.resource_id
            key = (finding.control_id, finding.check_id, where, finding.detail_id)
            grouped.setdefault(key, []).append((finding, variant.labels.get(finding.resource_id)))
    merged: list[Finding] = []
    total = len(per_variant)
    for entries in grouped.values():
        worst_rank = min(_SEVERITY_OF_STATUS.get(f.status, 9) for f, _ in entries)
        worst = [(f, label) for f, label in entries if _SEVERITY_OF_STATUS.get(f.status, 9) == worst_rank]
        finding, label = worst[0]
        distinct = {(f.status, f.reason) for f, _ in entries}
        # Naming branches says why it fails; when every branch fails (in words that may differ),
        # no condition is why, and "when IsPublic is true or IsPublic is false" would only mislead.
        if label and len(worst) < total and (len(distinct) > 1 or len(entries) < total):
            shown = describe_branches([lbl for _, lbl in worst if lbl])
            finding = finding.model_copy(update={"reason": f"when {shown}: {finding.reason}"})
        merged.append(finding)
    return merged


# ---- the scan ------------------------------------------------------------------------------------

_WORKER_STATE: dict[str, object] = {}


def _work(unit: Unit) -> tuple[list[Finding], list[IacProblem], int, SourceKind]:
    catalog = _WORKER_STATE["catalog"]
    settings = _WORKER_STATE["settings"]
    controls = _WORKER_STATE["controls"]
    options = _WORKER_STATE["options"]
    assert isinstance(catalog, Catalog) and isinstance(settings, Settings) and isinstance(options, IacOptions)
    result = read_unit(unit, options)
    skip_problems = check_suppressions(result, catalog)
    try:
        findings = evaluate_unit(result, catalog, settings, controls)  # type: ignore[arg-type]
    except Exception as exc:  # a defect in evaluation must not end the scan of other units
        log.debug("evaluation of %s failed", unit.display, exc_info=True)
        problem = IacProblem(
            unit.display, f"internal error while evaluating: {type(exc).__name__}: {exc}", None, "internal"
        )
        return [], [*result.problems, *skip_problems, problem], result.resource_count, result.kind
    return findings, [*result.problems, *skip_problems], result.resource_count, result.kind


def check_suppressions(result: UnitResult, catalog: Catalog) -> list[IacProblem]:
    """Inline skips name a control (any case: ``s3-05``) or a check; a skip naming neither (a typo)
    would silently suppress nothing, so it is reported, once per resource and ID."""
    controls = {c.id.upper(): c.id for c in catalog.ordered()}
    checks = registry()
    problems: list[IacProblem] = []
    reported: set[tuple[str, str]] = set()
    for variant in result.variants:
        for model in variant.resources:
            if not model.suppressions:
                continue
            normalized: dict[str, str] = {}
            for ident, reason in model.suppressions.items():
                known = controls.get(ident.upper()) or (ident.lower() if ident.lower() in checks else None)
                if known is not None:
                    normalized[known] = reason
                    continue
                source = model.source
                where = (source.address or model.name) if source is not None else model.name
                if (where, ident) not in reported:
                    reported.add((where, ident))
                    problems.append(
                        IacProblem(
                            source.file if source is not None and source.file else result.path,
                            f"{where}: skip of {ident} names no control or check of the catalog "
                            "(the skip is ignored)",
                            source.line_start if source is not None else None,
                            "suppression",
                        )
                    )
            model.suppressions = normalized
    return problems


def scan_iac(
    paths: Sequence[Path],
    catalog: Catalog,
    settings: Settings,
    *,
    controls: Sequence[Control] | None = None,
    options: IacOptions | None = None,
) -> IacScan:
    options = options or IacOptions()
    units, problems = discover(list(paths), options.framework)
    scan = IacScan(problems=list(problems), units=[u.display for u in units])
    _WORKER_STATE.update(catalog=catalog, settings=settings, controls=controls, options=options)
    workers = options.workers
    if workers is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        workers = min(cpus, 8) if len(units) >= PARALLEL_MIN_UNITS else 1
    outputs = _run_parallel(units, workers) if workers > 1 else [_work(u) for u in units]
    for findings, unit_problems, count, kind in outputs:
        scan.findings.extend(findings)
        scan.problems.extend(unit_problems)
        scan.resource_count += count
        scan.kinds.add(kind)
    return scan


def _run_parallel(
    units: list[Unit], workers: int
) -> list[tuple[list[Finding], list[IacProblem], int, SourceKind]]:
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return [_work(u) for u in units]
    registry()  # import every check before forking, so workers inherit them
    chunk = max(1, len(units) // (workers * 4))
    with context.Pool(workers) as pool:
        return pool.map(_work, units, chunksize=chunk)
