"""Lint catalog files: the built-in catalog or an organisation's own control files.

Errors make a catalog unusable or wrong for an auditor: schema errors, duplicate control IDs,
unknown resource types, unknown framework keys or IDs, ISO 27001:2013 IDs cited as 2022, bare
SOC 2 category words, checks that do not exist, manual controls with nothing to attest.
Warnings are things to finish: controls no check evaluates yet, ambiguous ISO IDs carried over
from the seed unreviewed.

Every problem names its file and line, so ``catalog lint`` reads like a compiler's output.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from controlmap.catalog.catalog import (
    CONTROLS_DIR,
    FRAMEWORKS_DIR,
    RESOURCE_TYPES_FILE,
    ResourceTypesFile,
    control_files,
    path_problem,
    unique_files,
)
from controlmap.catalog.correspondence import CORRESPONDENCE_FILE, Correspondence
from controlmap.catalog.messages import schema_problems
from controlmap.catalog.models import (
    ISO27001_2013,
    ISO27001_2022,
    SOC2_2017,
    Automation,
    Control,
    Framework,
    ResourceType,
    ServiceFile,
)
from controlmap.settings import PlanSettings
from controlmap.yamlfile import (
    FileError,
    FileProblem,
    line_of,
    load_model,
    load_trusted_model,
    read_yaml,
    to_plain,
)

PLAN_FILE = FRAMEWORKS_DIR.parent / "plan.yaml"

M = TypeVar("M", bound=BaseModel)

ERROR = "error"
WARNING = "warning"

# The bare words the seed writes where SOC 2 has criteria, and what to cite instead.
_CATEGORY_ADVICE = {
    "security": "cite the common criteria that fit (CC1.1-CC9.2), e.g. CC6.1 for logical access",
    "confidentiality": (
        "cite CC6.1 for encryption at rest and key protection, CC6.7 for encryption in transit, "
        "and add C1.1 if the Confidentiality category is in scope"
    ),
    "availability": (
        "cite A1.2 for backups, versioning and recovery infrastructure, "
        "A1.3 for restore tests, A1.1 for capacity"
    ),
    "processing integrity": "cite the processing integrity criteria PI1.1-PI1.5",
    "privacy": "cite the privacy criteria P1.1-P8.1",
}

_ISO_2013_SHAPE = re.compile(r"^A\.(9|1[0-8])(\.\d+){0,2}$|^A\.\d+\.\d+\.\d+$")
_ISO_RANGE = "A.5.1-A.5.37, A.6.1-A.6.8, A.7.1-A.7.14, A.8.1-A.8.34"
_TSC_RANGE = "CC1.1-CC9.2, A1.1-A1.3, C1.1-C1.2, PI1.1-PI1.5, P1.1-P8.1"


@dataclass
class ReferenceData:
    """What control files are checked against: resource types, frameworks, checks."""

    resource_types: dict[str, ResourceType] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    correspondence: Correspondence | None = None
    checks: set[str] | None = None  # None: the registry could not be loaded

    def resource_type_by_name(self, name: str) -> ResourceType | None:
        lowered = name.lower()
        for rtype in self.resource_types.values():
            if lowered in (n.lower() for n in rtype.names()):
                return rtype
        return None


def lint(paths: Sequence[Path] = ()) -> list[FileProblem]:
    """Lint control files (files or directories); with no paths, lint the built-in catalog.

    The built-in resource types, frameworks and check registry are the reference for every file;
    linting the built-in catalog also validates those reference files and the plan.
    """
    problems: list[FileProblem] = []
    # Linting the built-in catalog checks the reference files carefully (ruamel: duplicate keys,
    # lines); linting a user's files only needs them loaded, which libyaml does much faster.
    reference = load_reference_data(problems, careful=not paths)
    if not paths:
        problems += lint_plan(PLAN_FILE)
        files = control_files(CONTROLS_DIR)
    else:
        files = []
        for path in paths:
            problem = path_problem(path)
            if problem is not None:
                problems.append(FileProblem(str(path), None, problem, ERROR, "io"))
            elif path.is_dir():
                found = control_files(path)
                if not found:
                    problems.append(
                        FileProblem(
                            str(path),
                            None,
                            f"no control files in {path} (.yaml or .yml, subdirectories included)",
                            WARNING,
                            "io",
                        )
                    )
                files += found
            else:
                files.append(path)
    problems += lint_control_files(unique_files(files), reference)
    return problems


def has_errors(problems: Iterable[FileProblem]) -> bool:
    return any(p.level == ERROR for p in problems)


# ---- reference data ---------------------------------------------------------------------------


def load_reference_data(problems: list[FileProblem], *, careful: bool = True) -> ReferenceData:
    """Load resource types, frameworks, the correspondence and the check registry; append problems."""
    data = ReferenceData()
    try:
        rtypes = _load(RESOURCE_TYPES_FILE, ResourceTypesFile, careful)
        problems += _resource_type_problems(rtypes)
        data.resource_types = {r.id: r for r in rtypes.resource_types}
    except FileError as exc:
        problems += exc.problems
    for path in sorted(FRAMEWORKS_DIR.glob("*.yaml")):
        if path == CORRESPONDENCE_FILE:
            continue
        try:
            framework = _load(path, Framework, careful)
        except FileError as exc:
            problems += exc.problems
            continue
        seen: set[str] = set()
        for requirement in framework.requirements:
            if requirement.id in seen:
                problems.append(FileProblem(str(path), None, f"requirement {requirement.id} is listed twice"))
            seen.add(requirement.id)
        data.frameworks[framework.key] = framework
    try:
        data.correspondence = _load(CORRESPONDENCE_FILE, Correspondence, careful)
    except FileError as exc:
        problems += exc.problems
    iso = data.frameworks.get(ISO27001_2022)
    if data.correspondence is not None and iso is not None:
        for ident in sorted(data.correspondence.all_successors() - iso.ids()):
            problems.append(
                FileProblem(
                    str(CORRESPONDENCE_FILE), None, f"successor {ident} is not an ISO 27001:2022 control"
                )
            )
    try:
        from controlmap.checks.registry import registry

        data.checks = set(registry())
    except Exception as exc:  # a broken check module must not stop the lint of data files
        problems.append(
            FileProblem(
                "controlmap.checks", None, f"could not load the check registry: {exc}", ERROR, "checks"
            )
        )
    return data


def _load(path: Path, model: type[M], careful: bool) -> M:
    return load_model(path, model) if careful else load_trusted_model(path, model)


def _resource_type_problems(rtypes: ResourceTypesFile) -> list[FileProblem]:
    problems = []
    path = str(RESOURCE_TYPES_FILE)
    owner: dict[str, str] = {}
    for rtype in rtypes.resource_types:
        for name in rtype.names():
            key = name.lower()
            if key in owner and owner[key] != rtype.id:
                problems.append(
                    FileProblem(path, None, f"name {name!r} belongs to both {owner[key]} and {rtype.id}")
                )
            owner.setdefault(key, rtype.id)
    return problems


def lint_plan(path: Path) -> list[FileProblem]:
    try:
        plan = load_model(path, PlanSettings)
    except FileError as exc:
        return list(exc.problems)
    problems = []
    windows = [(f"tiers.{s.value}", w) for s, w in plan.tiers.items()]
    windows += [
        (f"service_windows.{s.value}.{svc}", w)
        for s, m in plan.service_windows.items()
        for svc, w in m.items()
    ]
    for where, window in windows:
        if window.end_days <= window.start_days:
            problems.append(
                FileProblem(
                    str(path), None, f"{where}: end_days ({window.end_days}) must be after start_days"
                )
            )
    return problems


# ---- control files ----------------------------------------------------------------------------


def lint_control_files(files: Sequence[Path], reference: ReferenceData) -> list[FileProblem]:
    """Lint control files together: IDs are unique across them, and the resource types one file
    defines may be used by any of them (a first pass collects the definitions)."""
    by_file: dict[Path, list[FileProblem]] = {}
    documents: list[tuple[Path, Any]] = []
    for path in files:
        document, by_file[path] = _read_catalog_file(path)
        if document is not None:
            documents.append((path, document))
    reference = _with_custom_types(documents, reference, by_file)
    seen: dict[str, str] = {}  # control id -> "file:line" of its first definition
    for path, document in documents:
        by_file[path] += _lint_document(path, document, reference, seen)
    # In file order, as a compiler reports them: schema errors come from pydantic in field order.
    return [p for path in files for p in sorted(by_file[path], key=lambda p: p.line or 0)]


def _read_catalog_file(path: Path) -> tuple[Any, list[FileProblem]]:
    """The file's document when it is a mapping, else None with the problem."""
    try:
        document = read_yaml(path)
    except FileError as exc:
        return None, list(exc.problems)
    if document is None:
        return None, [FileProblem(str(path), None, "file is empty")]
    if not isinstance(document, dict):
        return None, [
            FileProblem(str(path), 1, "a catalog file is a mapping with service, name and controls")
        ]
    return document, []


def _with_custom_types(
    documents: Sequence[tuple[Path, Any]], reference: ReferenceData, by_file: dict[Path, list[FileProblem]]
) -> ReferenceData:
    """The reference data plus the resource types the files define; a name taken twice is an error."""
    custom: dict[str, ResourceType] = {}
    owner = {name.lower(): rtype.id for rtype in reference.resource_types.values() for name in rtype.names()}
    for path, document in documents:
        items = document.get("resource_types")
        for index, item in enumerate(items if isinstance(items, list) else []):
            try:
                rtype = ResourceType.model_validate(to_plain(item))
            except ValidationError:
                continue  # the file's schema validation reports it
            clashes = [n for n in dict.fromkeys(rtype.names()) if n.lower() in owner]
            if clashes:
                taken = ", ".join(f"{n!r} (already {owner[n.lower()]})" for n in clashes)
                message = f"resource type {rtype.id}: names already in use: {taken}"
                by_file[path].append(
                    FileProblem(str(path), line_of(items, [index]), message, code="resource-type")
                )
                continue
            owner.update({name.lower(): rtype.id for name in rtype.names()})
            custom[rtype.id] = rtype
    if not custom:
        return reference
    return dataclasses.replace(reference, resource_types={**reference.resource_types, **custom})


def _lint_document(
    path: Path, document: Any, reference: ReferenceData, seen: dict[str, str]
) -> list[FileProblem]:
    problems: list[FileProblem] = []
    try:
        ServiceFile.model_validate(to_plain(document))
    except ValidationError as exc:
        problems += schema_problems(path, document, exc, ServiceFile)
    service = document.get("service")
    if isinstance(service, str) and not _SERVICE_KEY.fullmatch(service):
        service_line = line_of(document, ["service"])
        problems.append(FileProblem(str(path), service_line, _service_key_advice(service), code="service"))
    controls = document.get("controls")
    if not isinstance(controls, list):
        return problems
    for index, item in enumerate(controls):
        if not isinstance(item, dict):
            continue  # the schema error above already says so
        line = line_of(controls, [index])
        ident = item.get("id")
        if isinstance(ident, str):
            where = f"{path}:{line}" if line else str(path)
            if ident in seen:
                problems.append(
                    FileProblem(
                        str(path),
                        line,
                        f"duplicate control id {ident} (first defined at {seen[ident]})",
                        code="duplicate-id",
                    )
                )
            else:
                seen[ident] = where
        try:
            control = Control.model_validate(to_plain(item))
        except ValidationError:
            continue  # reported by the file-level validation
        if not _SERVICE_KEY.fullmatch(control.service):
            message = f"{control.id}: {_service_key_advice(control.service)}"
            problems.append(
                FileProblem(str(path), line_of(item, ["service"]) or line, message, code="service")
            )
        problems += [
            FileProblem(str(path), line_of(item, loc) or line, f"{control.id}: {message}", level, code)
            for loc, level, code, message in control_problems(control, reference)
        ]
    return problems


_SERVICE_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _service_key_advice(service: str) -> str:
    return (
        f"service {service!r}: a service key is lower case letters, digits and dashes, e.g. s3 or "
        "apigateway (--service and the plan's service_windows use it)"
    )


Finding = tuple[tuple[str | int, ...], str, str, str]  # (location in the control, level, code, message)


def control_problems(control: Control, reference: ReferenceData) -> list[Finding]:
    """Semantic problems of one schema-valid control, each with its location inside the control."""
    out: list[Finding] = []
    out += _resource_type_findings(control, reference)
    out += _reference_findings(control, reference)
    out += _automation_findings(control, reference)
    out += _trace_findings(control)
    out += _equivalent_findings(control)
    return out


# What each kind of equivalent looks like, and how to write it when it does not.
_EQUIVALENT_SHAPES = {
    "security_hub": (
        re.compile(r"^[A-Z][A-Za-z0-9]*\.\d+$"),
        "not a Security Hub CSPM control ID (they look like S3.1 or APIGateway.8)",
    ),
    "config_rules": (
        re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$"),
        "not an AWS Config managed rule name (lower case with dashes, e.g. s3-bucket-versioning-enabled)",
    ),
    "cis_aws_v3": (
        re.compile(r"^\d+(\.\d+)+$"),
        'not a CIS AWS Foundations v3.0 recommendation number (e.g. "2.1.4")',
    ),
}


def _equivalent_findings(control: Control) -> list[Finding]:
    """``S3-1`` or ``S3_BUCKET_VERSIONING_ENABLED`` would never match what AWS shows an auditor."""
    out: list[Finding] = []
    for kind, (shape, advice) in _EQUIVALENT_SHAPES.items():
        for index, value in enumerate(getattr(control.equivalents, kind)):
            if shape.fullmatch(value):
                continue
            hint = advice
            if kind == "config_rules" and re.match(r"^[A-Z0-9_]+$", value):
                name = value.lower().replace("_", "-")
                hint = f"that is a source identifier; cite the rule's name (usually {name!r})"
            out.append((("equivalents", kind, index), ERROR, "equivalent", f"{value!r}: {hint}"))
    return out


def _citation(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _trace_findings(control: Control) -> list[Finding]:
    """Every change against the seed's citation needs a correction line an auditor can read."""
    published = control.as_published
    if published is None:
        return []
    out: list[Finding] = []
    changed_refs = (published.iso27001 is not None and _citation(published.iso27001) != control.iso27001) or (
        published.soc2 is not None and _citation(published.soc2) != control.soc2
    )
    if changed_refs and not control.corrections:
        out.append(
            (
                ("references",),
                WARNING,
                "untraced",
                "references differ from as_published but no correction line says why",
            )
        )
    mentions_summary = any("summary" in line.lower() for line in control.corrections)
    tier = (published.summary_tier or "").strip().lower()
    if tier and tier != control.severity.value and not mentions_summary:
        out.append(
            (
                ("as_published", "summary_tier"),
                WARNING,
                "untraced",
                f"the seed's summary table puts it under {published.summary_tier} but its severity is "
                f"{control.severity.value}; add a correction line about the summary table",
            )
        )
    published_severity = (published.severity or "").strip().lower()
    severity_explained = any("severity" in line.lower() for line in control.corrections)
    if published_severity and published_severity != control.severity.value and not severity_explained:
        out.append(
            (
                ("severity",),
                WARNING,
                "untraced",
                f"severity {control.severity.value} differs from the published {published.severity}; "
                "add a correction line saying why",
            )
        )
    return out


def _resource_type_findings(control: Control, reference: ReferenceData) -> list[Finding]:
    out: list[Finding] = []
    if not reference.resource_types:
        return out
    for index, name in enumerate(control.resource_types):
        if name in reference.resource_types:
            continue
        loc = ("resource_types", index)
        other = reference.resource_type_by_name(name)
        if other is not None:
            message = (
                f"resource type {name!r} is another name of {other.id}; list the canonical id {other.id}"
            )
        else:
            message = f"unknown resource type {name!r}" + _did_you_mean(name, reference.resource_types)
        out.append((loc, ERROR, "resource-type", message))
    return out


def _reference_findings(control: Control, reference: ReferenceData) -> list[Finding]:
    out: list[Finding] = []
    for key, idents in control.references.items():
        if key == ISO27001_2013:
            converted = "; ".join(iso_2013_advice(i, reference.correspondence) for i in idents)
            out.append(
                (
                    ("references", key),
                    ERROR,
                    "iso-2013",
                    f"ISO 27001:2013 references are not accepted (2013 certificates expired on 31 Oct 2025); "
                    f"cite {ISO27001_2022} IDs instead: {converted}",
                )
            )
            continue
        framework = reference.frameworks.get(key)
        if framework is None:
            if reference.frameworks:
                known = ", ".join(sorted(reference.frameworks))
                out.append(
                    (("references", key), ERROR, "framework", f"unknown framework {key!r} (known: {known})")
                )
            continue
        seen: set[str] = set()
        for index, ident in enumerate(idents):
            loc = ("references", key, index)
            if ident in seen:
                out.append((loc, WARNING, "framework", f"{ident} is listed twice under {key}"))
            seen.add(ident)
            if key == ISO27001_2022:
                found = _iso_finding(control, ident, framework, reference.correspondence)
            elif key == SOC2_2017:
                found = _soc2_finding(ident, framework)
            else:
                found = (
                    None
                    if ident in framework.ids()
                    else (ERROR, "framework", f"{ident} is not in {framework.name}")
                )
            if found is not None:
                out.append((loc, *found))
    return out


def iso_2013_advice(ident: str, correspondence: Correspondence | None) -> str:
    """'A.9.4 is an ISO 27001:2013 ID; its 2022 successors are A.8.3, A.8.5, ...' (or as much as is known)."""
    successors = correspondence.successors(ident) if correspondence else None
    if not successors:
        return f"{ident} looks like an ISO 27001:2013 ID; convert it with the 2013 -> 2022 correspondence"
    title = correspondence.title(ident) if correspondence else None
    noun = "successor is" if len(successors) == 1 else "successors are"
    suffix = f" (2013: {title})" if title else ""
    return f"{ident} is an ISO 27001:2013 ID; its 2022 {noun} {', '.join(successors)}{suffix}"


def _iso_finding(
    control: Control, ident: str, framework: Framework, correspondence: Correspondence | None
) -> tuple[str, str, str] | None:
    if ident in framework.ids():
        if correspondence is not None and ident in correspondence.ambiguous(framework.ids()):
            return _ambiguous_finding(control, ident, framework, correspondence)
        return None
    if (correspondence is not None and correspondence.successors(ident)) or _ISO_2013_SHAPE.fullmatch(ident):
        return ERROR, "iso-2013", iso_2013_advice(ident, correspondence)
    if (written := _as_framework_writes_it(ident, framework)) is not None:
        return (
            ERROR,
            "framework",
            f"{ident!r} is not an ID of {framework.name}; did you mean {written}?",
        )
    return ERROR, "framework", f"{ident} is not an ISO/IEC 27001:2022 Annex A control ({_ISO_RANGE})"


def _as_framework_writes_it(ident: str, framework: Framework) -> str | None:
    """'a.5.9' or 'A.5.9 ' -> 'A.5.9'; 'cc6.1' -> 'CC6.1': the ID the author meant, if any."""
    candidate = ident.strip().upper()
    return candidate if candidate != ident and candidate in framework.ids() else None


def _ambiguous_finding(
    control: Control, ident: str, framework: Framework, correspondence: Correspondence
) -> tuple[str, str, str] | None:
    """A.8.2/A.8.3 mean different things in 2013 and 2022; warn when the seed's use is unreviewed.

    Unreviewed: the ID is carried over from the published citation and no correction line
    mentions it. A reviewer who keeps it writes a correction line saying why.
    """
    published = control.as_published.iso27001 if control.as_published else None
    if not published or ident not in re.split(r"[,;\s]+", published):
        return None
    if any(ident in line for line in control.corrections):
        return None
    title_2022 = next((r.title for r in framework.requirements if r.id == ident), "?")
    title_2013 = correspondence.title(ident) or "?"
    successors = ", ".join(correspondence.successors(ident) or [])
    return (
        WARNING,
        "iso-ambiguous",
        f"{ident} is {title_2022} in ISO 27001:2022 but {title_2013} in 2013 "
        f"(2022 successors: {successors}); the seed's citation is kept unreviewed: "
        "confirm the 2022 meaning in a correction line or replace it",
    )


def soc2_category_advice(ident: str) -> str | None:
    """'"Availability" is a Trust Services category, not a criterion: cite A1.2 ...', or None."""
    advice = _CATEGORY_ADVICE.get(ident.strip().lower())
    if advice is None:
        return None
    return f'"{ident.strip()}" is a Trust Services category, not a criterion: {advice}'


def _soc2_finding(ident: str, framework: Framework) -> tuple[str, str, str] | None:
    if ident in framework.ids():
        return None
    advice = soc2_category_advice(ident)
    if advice is not None:
        return ERROR, "soc2-category", advice
    if (written := _as_framework_writes_it(ident, framework)) is not None:
        return (
            ERROR,
            "framework",
            f"{ident!r} is not an ID of {framework.name}; did you mean {written}?",
        )
    if re.match(r"^PP1\.\d$", ident):
        return ERROR, "framework", f"{ident} is not a TSC ID; the AICPA numbers processing integrity PI1.x"
    return ERROR, "framework", f"{ident} is not a SOC 2 Trust Services Criterion ({_TSC_RANGE})"


def _automation_findings(control: Control, reference: ReferenceData) -> list[Finding]:
    out: list[Finding] = []
    if reference.checks is not None:
        for index, check_id in enumerate(control.checks):
            if check_id not in reference.checks:
                message = f"check {check_id!r} is not registered" + _did_you_mean(check_id, reference.checks)
                out.append((("checks", index), ERROR, "unknown-check", message))
    if control.automation is not Automation.MANUAL and not control.checks:
        out.append(
            (
                ("automation",),
                WARNING,
                "not-automated",
                f"not yet automated: automation is {control.automation.value} but no check is listed",
            )
        )
    if control.automation is Automation.MANUAL and control.checks:
        out.append(
            (
                ("automation",),
                WARNING,
                "automation",
                "lists checks but says automation: manual; use partial or full",
            )
        )
    if control.automation is not Automation.FULL and not (control.attestation or "").strip():
        out.append(
            (
                ("automation",),
                ERROR,
                "attestation",
                f"automation is {control.automation.value}: say what an auditor must attest in `attestation`",
            )
        )
    return out


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def summarise(problems: Sequence[FileProblem]) -> dict[str, Any]:
    errors = sum(1 for p in problems if p.level == ERROR)
    return {"errors": errors, "warnings": len(problems) - errors}
