"""Framework views: where each ISO/IEC 27001:2022 Annex A control or SOC 2 criterion stands.

A requirement's status pools the findings of every seed control mapped to it:

- ``non-compliant``: at least one automated verdict FAILs, whatever else passes (the row shows
  the pass and fail counts, so "3 fail / 40 pass" is visible without reading "partially");
- ``partially``: nothing fails and some verdicts pass, while an auditor's attestation (MANUAL),
  an undetermined result (UNKNOWN, ERROR) or a seed control the scan did not evaluate at all
  (``--services s3`` leaves IAM out) is outstanding;
- ``compliant``: every decided verdict passes (approved exceptions count as passing) and nothing
  is outstanding;
- ``manual``: only attestation is possible (no check can see it);
- ``not assessed``: a seed control maps to the requirement but gave no result in this scan
  (service out of scope, no such resources, or the read failed);
- ``not covered``: no AWS control of the standard maps to the requirement (organisational,
  physical or people controls): out of scope for this standard, not a gap the scan found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import ISO27001_2022, SOC2_2017, Control, Remediation
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import ACCEPTED, SEVERITY_ORDER, exception_note

FRAMEWORKS = ("iso27001", "soc2", "seed")
_PASSING = frozenset({Status.PASS.value, *(s.value for s in ACCEPTED)})
FRAMEWORK_KEYS = {"iso27001": ISO27001_2022, "soc2": SOC2_2017}
FRAMEWORK_NAMES = {
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "soc2": "SOC 2 Trust Services Criteria (2017, revised points of focus 2022)",
    "seed": "AWS security controls standard",
}
REQUIREMENT_STATUSES = ("non-compliant", "partially", "compliant", "manual", "not assessed", "not covered")
NOT_COVERED = "not covered"


@dataclass
class Evidence:
    """One resource's verdict behind a requirement."""

    control_id: str
    status: str
    resource_id: str
    resource_name: str
    account_id: str | None
    region: str | None
    reason: str
    exception: str = ""  # an accepted deviation: which exception, who approved it, until when

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ControlState:
    control_id: str
    title: str
    severity: str
    status: str
    counts: dict[str, int]


@dataclass
class RequirementRow:
    id: str
    title: str
    group: str
    status: str
    controls: list[ControlState] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """Passing verdicts (approved exceptions and suppressions count as passing)."""
        return sum(1 for e in self.evidence if e.status in _PASSING)

    @property
    def failed(self) -> int:
        return sum(1 for e in self.evidence if e.status == Status.FAIL.value)

    @property
    def tally(self) -> str:
        """``3 fail / 40 pass`` for a row's status cell ("" when nothing was decided)."""
        return f"{self.failed} fail / {self.passed} pass" if (self.passed or self.failed) else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "group": self.group,
            "status": self.status,
            "passed": self.passed,
            "failed": self.failed,
            "controls": [c.__dict__ for c in self.controls],
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass
class FrameworkView:
    framework: str
    name: str
    rows: list[RequirementRow]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(REQUIREMENT_STATUSES, 0)
        for row in self.rows:
            out[row.status] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "name": self.name,
            "counts": self.counts(),
            "requirements": [r.to_json() for r in self.rows],
        }


def status_of(findings: Iterable[Finding]) -> str:
    """Pool verdicts into one of REQUIREMENT_STATUSES (see the module docstring)."""
    statuses = [f.status for f in findings]
    fails = statuses.count(Status.FAIL)
    passes = statuses.count(Status.PASS) + sum(1 for s in statuses if s in ACCEPTED)
    open_ = sum(1 for s in statuses if s in (Status.UNKNOWN, Status.ERROR))
    manual = statuses.count(Status.MANUAL)
    if fails:
        return "non-compliant"
    if passes:
        return "partially" if (open_ or manual) else "compliant"
    if manual:
        return "manual"
    return "not assessed"


def normalize_framework(name: str) -> str:
    key = name.strip().lower().replace("-", "").replace(" ", "").replace("/", "")
    aliases = {"iso": "iso27001", "iso27001": "iso27001", "iso270012022": "iso27001", "soc2": "soc2"}
    key = aliases.get(key, key)
    if key not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}; choose one of: {', '.join(FRAMEWORKS)}")
    return key


def framework_view(result: ScanResult, framework: str, catalog: Catalog | None = None) -> FrameworkView:
    """Every requirement of ``framework`` with its status, seed controls and evidence."""
    fw = normalize_framework(framework)
    by_control: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_control.setdefault(finding.control_id, []).append(finding)
    controls = _controls(result, catalog)
    if fw == "seed":
        rows = [
            _row(c.id, c.title, c.service, [c], by_control)
            for c in sorted(controls.values(), key=lambda c: _seed_order(c, controls))
        ]
        return FrameworkView(fw, FRAMEWORK_NAMES[fw], rows)
    fw_key = FRAMEWORK_KEYS[fw]
    mapped: dict[str, list[Control]] = {}
    for control in controls.values():
        for req in control.references.get(fw_key, []):
            mapped.setdefault(req, []).append(control)
    requirements: list[tuple[str, str, str]] = []
    definition = catalog.frameworks.get(fw_key) if catalog is not None else None
    if definition is not None:
        requirements = [(r.id, r.title, r.group) for r in definition.requirements]
    known = {r[0] for r in requirements}
    # A reference the framework file does not list still shows up, so no evidence is lost.
    requirements += [(req, "", "") for req in sorted(mapped, key=_natural) if req not in known]
    rows = [_row(rid, title, group, mapped.get(rid, []), by_control) for rid, title, group in requirements]
    return FrameworkView(fw, FRAMEWORK_NAMES[fw], rows)


def _controls(result: ScanResult, catalog: Catalog | None) -> dict[str, Control]:
    """The catalog's controls, plus any control a finding names that the catalog lacks."""
    controls: dict[str, Control] = dict(catalog.controls) if catalog is not None else {}
    for finding in result.findings:
        if finding.control_id not in controls:
            controls[finding.control_id] = _control_from_finding(finding)
    return controls


def _control_from_finding(finding: Finding) -> Control:
    return Control.model_construct(
        id=finding.control_id,
        service=finding.service,
        title=finding.title,
        severity=finding.severity,
        description="",
        rationale="",
        references={ISO27001_2022: list(finding.iso27001), SOC2_2017: list(finding.soc2)},
        remediation=Remediation(summary=finding.remediation),
        checks=[],
    )


def _seed_order(control: Control, controls: dict[str, Control]) -> tuple[int, Any]:
    return (SEVERITY_ORDER.index(control.severity), _natural(control.id))


def _natural(text: str) -> Any:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _row(
    rid: str, title: str, group: str, controls: Sequence[Control], by_control: dict[str, list[Finding]]
) -> RequirementRow:
    pooled: list[Finding] = []
    states = []
    for control in controls:
        findings = by_control.get(control.id, [])
        pooled += findings
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.status.value] = counts.get(f.status.value, 0) + 1
        states.append(
            ControlState(control.id, control.title, control.severity.value, status_of(findings), counts)
        )
    evidence = [
        Evidence(
            f.control_id,
            f.status.value,
            f.resource_id,
            f.resource_name,
            f.account_id,
            f.region,
            f.reason,
            exception_note(f),
        )
        for f in pooled
        if f.status is not Status.NOT_APPLICABLE
    ]
    status = status_of(pooled) if controls else NOT_COVERED
    if status == "compliant" and any(state.status == "not assessed" and not state.counts for state in states):
        # A seed control behind the requirement was not evaluated at all (its service or control
        # left out of the scan): the passes seen do not make the requirement compliant.
        status = "partially"
    return RequirementRow(rid, title, group, status, states, evidence)
