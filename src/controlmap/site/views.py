"""The catalog seen from the site: controls, resource types, services and framework coverage.

Everything here is plain data derived once from the catalog, the plan and the check registry;
templates only lay it out. "Coverage" is what controlmap can actually decide today: a control
whose checks are not registered in this version is shown as manual, whatever the catalog hopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from controlmap.catalog.catalog import Catalog, load_service_file
from controlmap.catalog.models import (
    Automation,
    Control,
    Framework,
    FrameworkRequirement,
    ResourceType,
    Severity,
    TierWindow,
)
from controlmap.checks.registry import CheckSpec
from controlmap.settings import PlanSettings
from controlmap.yamlfile import FileError

SEVERITY_ORDER = sorted(Severity, key=lambda s: -s.rank)


class Coverage(str, Enum):
    AUTOMATED = "automated"
    PARTIAL = "partial"
    MANUAL = "manual"
    NONE = "none"  # a framework requirement no control covers

    @property
    def label(self) -> str:
        return _COVERAGE_LABELS[self]

    @property
    def rank(self) -> int:
        return _COVERAGE_RANK[self]


_COVERAGE_LABELS = {
    Coverage.AUTOMATED: "Automated",
    Coverage.PARTIAL: "Partly automated",
    Coverage.MANUAL: "Manual",
    Coverage.NONE: "Not covered",
}
_COVERAGE_RANK = {Coverage.NONE: 0, Coverage.MANUAL: 1, Coverage.PARTIAL: 2, Coverage.AUTOMATED: 3}


@dataclass(frozen=True)
class CheckRef:
    id: str
    title: str
    registered: bool  # False: the catalog names a check this version of controlmap does not have


@dataclass
class ControlView:
    control: Control
    service_name: str
    checks: list[CheckRef]
    coverage: Coverage
    types: list[ResourceType]
    unknown_types: list[str]  # resource type IDs the catalog names but resource-types.yaml lacks
    window: TierWindow
    origin: str | None = None  # file name of a custom control's catalog file

    @property
    def id(self) -> str:
        return self.control.id


@dataclass
class TypeView:
    rtype: ResourceType
    service_name: str
    controls: list[ControlView]

    @property
    def top_severity(self) -> Severity | None:
        return self.controls[0].control.severity if self.controls else None


@dataclass
class ServiceView:
    key: str
    name: str
    description: str
    controls: list[ControlView]
    types: list[TypeView]


@dataclass
class RequirementView:
    requirement: FrameworkRequirement
    controls: list[ControlView]

    @property
    def coverage(self) -> Coverage:
        return max((c.coverage for c in self.controls), key=lambda c: c.rank, default=Coverage.NONE)


@dataclass
class FrameworkView:
    framework: Framework
    groups: list[tuple[str, list[RequirementView]]]
    # References the catalog makes that the framework file does not list (kept visible, not dropped).
    unlisted: list[RequirementView] = field(default_factory=list)

    @property
    def requirements(self) -> list[RequirementView]:
        return [r for _, reqs in self.groups for r in reqs]

    def counts(self) -> dict[Coverage, int]:
        counts = dict.fromkeys(Coverage, 0)
        for req in self.requirements:
            counts[req.coverage] += 1
        return counts


@dataclass
class TierView:
    severity: Severity
    window: TierWindow
    service_windows: list[tuple[str, TierWindow]]  # (service display name, window) exceptions
    control_count: int


@dataclass
class SiteModel:
    controls: list[ControlView]
    types: list[TypeView]
    services: list[ServiceView]
    frameworks: list[FrameworkView]
    tiers: list[TierView]

    def control(self, control_id: str) -> ControlView | None:
        return next((c for c in self.controls if c.id == control_id), None)

    def control_ids(self) -> set[str]:
        """Controls that have a page. A scan may name others: run with a custom catalog this
        build was not given, or with a control a later catalog dropped."""
        return {c.id for c in self.controls}

    def type_view(self, type_id: str) -> TypeView | None:
        return next((t for t in self.types if t.rtype.id == type_id), None)

    def resource_type_ids(self) -> set[str]:
        return {t.rtype.id for t in self.types}

    def framework_keys(self) -> set[str]:
        return {f.framework.key for f in self.frameworks}

    def requirement_ids(self, framework_key: str) -> set[str]:
        for fw in self.frameworks:
            if fw.framework.key == framework_key:
                return {r.requirement.id for r in fw.requirements} | {r.requirement.id for r in fw.unlisted}
        return set()


def coverage_of(control: Control, checks: list[CheckRef]) -> Coverage:
    if not any(c.registered for c in checks):
        return Coverage.MANUAL
    if control.automation is Automation.FULL and all(c.registered for c in checks):
        return Coverage.AUTOMATED
    return Coverage.PARTIAL


def build_model(catalog: Catalog, plan: PlanSettings, checks: Mapping[str, CheckSpec]) -> SiteModel:
    service_names = dict(catalog.services)
    for rtype in catalog.resource_types.values():
        service_names.setdefault(rtype.service, _service_fallback_name(rtype.service))

    control_views = [_control_view(c, catalog, plan, checks, service_names) for c in catalog.ordered()]
    by_severity = sorted(control_views, key=lambda v: (-v.control.severity.rank, _id_key(v.id)))

    types = [
        TypeView(
            rtype,
            service_names[rtype.service],
            [v for v in by_severity if rtype.id in v.control.resource_types],
        )
        for rtype in catalog.resource_types.values()
    ]
    service_order = _service_order(catalog)
    descriptions = _service_descriptions(catalog)
    services = [
        ServiceView(
            key=key,
            name=service_names[key],
            description=descriptions.get(key, ""),
            controls=[v for v in control_views if v.control.service == key],
            types=[t for t in types if t.rtype.service == key],
        )
        for key in service_order
    ]
    frameworks = [_framework_view(fw, control_views) for fw in catalog.frameworks.values()]
    return SiteModel(control_views, types, services, frameworks, _tiers(plan, catalog, service_names))


def _control_view(
    control: Control,
    catalog: Catalog,
    plan: PlanSettings,
    checks: Mapping[str, CheckSpec],
    service_names: dict[str, str],
) -> ControlView:
    refs = [
        CheckRef(cid, checks[cid].title, True) if cid in checks else CheckRef(cid, "", False)
        for cid in control.checks
    ]
    types = [catalog.resource_types[t] for t in control.resource_types if t in catalog.resource_types]
    unknown = [t for t in control.resource_types if t not in catalog.resource_types]
    origin = catalog.origins.get(control.id)
    return ControlView(
        control=control,
        service_name=service_names.get(control.service, _service_fallback_name(control.service)),
        checks=refs,
        coverage=coverage_of(control, refs),
        types=types,
        unknown_types=unknown,
        window=plan.window(control.severity, control.service),
        origin=Path(origin.path).name if origin is not None and control.custom else None,
    )


def _framework_view(framework: Framework, controls: list[ControlView]) -> FrameworkView:
    covering: dict[str, list[ControlView]] = {}
    for view in controls:
        for ref in view.control.references.get(framework.key, []):
            covering.setdefault(ref, []).append(view)
    groups: dict[str, list[RequirementView]] = {}
    for req in framework.requirements:
        groups.setdefault(req.group or framework.name, []).append(
            RequirementView(req, covering.get(req.id, []))
        )
    listed = framework.ids()
    unlisted = [
        RequirementView(FrameworkRequirement(id=ref, title="(not in the framework file)"), views)
        for ref, views in sorted(covering.items())
        if ref not in listed
    ]
    return FrameworkView(framework, list(groups.items()), unlisted)


def _tiers(plan: PlanSettings, catalog: Catalog, service_names: dict[str, str]) -> list[TierView]:
    tiers = []
    for severity in SEVERITY_ORDER:
        count = sum(1 for c in catalog.ordered() if c.severity is severity)
        if not count:
            continue  # a tier no control uses would only be noise
        exceptions = [
            (service_names.get(svc, _service_fallback_name(svc)), window)
            for svc, window in plan.service_windows.get(severity, {}).items()
        ]
        window = plan.tiers.get(severity, TierWindow(start_days=0, end_days=365))
        tiers.append(TierView(severity, window, exceptions, count))
    return tiers


def _service_descriptions(catalog: Catalog) -> dict[str, str]:
    """The catalog keeps service names only; the description lives in each service file."""
    out: dict[str, str] = {}
    for path in dict.fromkeys(o.path for o in catalog.origins.values()):
        try:
            service_file, _ = load_service_file(Path(path))
        except (FileError, OSError):
            continue
        if service_file.description:
            out.setdefault(service_file.service, service_file.description)
    return out


_SERVICE_NAMES = {
    "s3": "Amazon S3",
    "ec2": "Amazon EC2 & VPC",
    "rds": "Amazon RDS",
    "iam": "AWS IAM",
    "cloudtrail": "AWS CloudTrail",
    "lambda": "AWS Lambda",
    "cloudfront": "Amazon CloudFront",
    "kms": "AWS KMS",
    "apigateway": "Amazon API Gateway",
    "dynamodb": "Amazon DynamoDB",
    "ssm": "AWS Systems Manager",
    "wafv2": "AWS WAF",
    "account": "Account and Region settings",
}


def _service_fallback_name(key: str) -> str:
    """A name for a service no catalog file names (resource types of services without controls)."""
    return _SERVICE_NAMES.get(key, key.upper())


def _service_order(catalog: Catalog) -> list[str]:
    """The curated order of resource-types.yaml (S3, EC2, RDS, ...), account settings last."""
    order = list(dict.fromkeys([*(t.service for t in catalog.resource_types.values()), *catalog.services]))
    return [k for k in order if k != "account"] + [k for k in order if k == "account"]


def _id_key(control_id: str) -> tuple[str, int, str]:
    """'S3-10' after 'S3-9': sort the numeric part as a number."""
    head, _, tail = control_id.rpartition("-")
    return (head, int(tail), "") if tail.isdigit() else (head, 0, tail)
