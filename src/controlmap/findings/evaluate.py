"""Run the catalog's checks over an inventory and turn every outcome into a finding.

The engine is the one place that knows about controls, checks and resources at once. It is
source-agnostic: a live scan, an IaC scan and AWS Config data all hand it an ``Inventory``.
One misbehaving check never stops the others: its crash becomes an ERROR finding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import Automation, Control
from controlmap.checks.registry import (
    CheckContext,
    CheckSpec,
    FactUnavailable,
    Inventory,
    Outcome,
    Status,
    registry,
)
from controlmap.findings.model import Finding
from controlmap.resources.base import CollectionError, Resource, SourceKind
from controlmap.settings import PlanSettings, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationOptions:
    # Live scans report controls nobody can automate as MANUAL (one per account) and controls
    # with no resource in scope as NOT_APPLICABLE; an IaC scan would only add noise with those.
    manual_findings: bool = True
    not_applicable_findings: bool = True


def evaluate(
    catalog: Catalog,
    inventory: Inventory,
    settings: Settings,
    *,
    controls: Sequence[Control] | None = None,
    options: EvaluationOptions = EvaluationOptions(),
    now: datetime | None = None,
) -> list[Finding]:
    now = now or datetime.now(UTC)
    checks = registry()
    ctx = CheckContext(inventory=inventory, settings=settings, now=now)
    plan = settings.resolved_plan()
    findings: list[Finding] = []
    for control in controls if controls is not None else catalog.ordered():
        builder = _FindingBuilder(control, plan, now)
        specs = [checks[c] for c in control.checks if c in checks]
        for spec in specs:
            findings.extend(_run_check(spec, inventory, ctx, builder, options))
        if options.manual_findings and (not specs or control.automation is not Automation.FULL):
            findings.extend(_manual_findings(control, inventory, builder, automated=bool(specs)))
    return findings


def _run_check(
    spec: CheckSpec,
    inventory: Inventory,
    ctx: CheckContext,
    builder: _FindingBuilder,
    options: EvaluationOptions,
) -> Iterable[Finding]:
    resources = inventory.of_type(spec.model)
    failed_listings = [e for e in inventory.errors if spec.resource_type in e.resource_types]
    for error in failed_listings:
        yield builder.for_listing_error(spec, error)
    for resource in resources:
        for outcome in _outcomes(spec, resource, ctx):
            yield builder.build(spec, resource, outcome)
    if not resources and not failed_listings and options.not_applicable_findings:
        for account in sorted(inventory.accounts):
            yield builder.not_applicable(spec, account)


def _outcomes(spec: CheckSpec, resource: Resource, ctx: CheckContext) -> list[Outcome]:
    try:
        result = spec.func(resource, ctx)
        outcomes = [result] if isinstance(result, Outcome) else list(result)
    except FactUnavailable as missing:
        outcomes = [missing.outcome]
    except Exception as exc:  # a bug in one check must not sink the scan
        log.debug("check %s crashed on %s", spec.id, resource.id, exc_info=True)  # not on the terminal
        outcomes = [
            Outcome(
                Status.ERROR,
                f"check {spec.id} failed: {type(exc).__name__}: {exc} (a controlmap bug: please report it)",
            )
        ]
    if not outcomes:
        outcomes = [Outcome(Status.NOT_APPLICABLE, "nothing to evaluate on this resource")]
    return outcomes


def _manual_findings(
    control: Control, inventory: Inventory, builder: _FindingBuilder, *, automated: bool
) -> Iterable[Finding]:
    attestation = control.attestation or f"Attest that the organisation meets: {control.description}"
    prefix = "Not fully visible to automated checks. " if automated else ""
    for account in sorted(inventory.accounts):
        yield builder.plain(
            check_id=None,
            status=Status.MANUAL,
            resource_id=f"arn:aws:::account/{account}",
            resource_type="AWS::::Account",
            resource_name=account,
            account_id=account,
            region=None,
            reason=prefix + attestation,
        )


class _FindingBuilder:
    def __init__(self, control: Control, plan: PlanSettings, now: datetime):
        self.control = control
        self.now = now
        self.window = plan.window(control.severity, control.service)

    def plain(self, **fields: object) -> Finding:
        control = self.control
        return Finding(
            control_id=control.id,
            severity=control.severity,
            service=control.service,
            title=control.title,
            iso27001=control.iso27001,
            soc2=control.soc2,
            remediation=control.remediation.summary,
            window_start_days=self.window.start_days,
            window_end_days=self.window.end_days,
            first_seen=self.now,
            due_date=(self.now + timedelta(days=self.window.end_days)).date(),
            **fields,
        )

    def build(self, spec: CheckSpec, resource: Resource, outcome: Outcome) -> Finding:
        status = outcome.status
        exception = None
        suppression = resource.suppressions.get(self.control.id) or resource.suppressions.get(spec.id)
        if suppression is not None and status in (Status.FAIL, Status.UNKNOWN):
            exception = {"kind": "inline", "reason": suppression, "original_status": status.value}
            status = Status.SUPPRESSED
        return self.plain(
            check_id=spec.id,
            status=status,
            resource_id=resource.id,
            resource_type=resource.type_name,
            resource_name=resource.display(),
            account_id=resource.account_id,
            region=resource.region,
            tags=dict(resource.tags),
            reason=outcome.reason,
            evidence=outcome.evidence,
            detail_id=outcome.detail_id,
            error_code=outcome.error_code,
            source=resource.source if resource.source.kind is not SourceKind.AWS else None,
            exception=exception,
        )

    def for_listing_error(self, spec: CheckSpec, error: CollectionError) -> Finding:
        where = error.region or "global"
        return self.plain(
            check_id=spec.id,
            status=Status.ERROR,
            resource_id=f"{spec.resource_type} in {error.account_id or '?'}/{where}",
            resource_type=spec.resource_type,
            resource_name=f"all {spec.resource_type} in {where}",
            account_id=error.account_id,
            region=error.region,
            reason=f"could not list resources: {error.describe()}",
            error_code=error.code,
        )

    def not_applicable(self, spec: CheckSpec, account: str) -> Finding:
        return self.plain(
            check_id=spec.id,
            status=Status.NOT_APPLICABLE,
            resource_id=f"arn:aws:::account/{account}",
            resource_type="AWS::::Account",
            resource_name=account,
            account_id=account,
            region=None,
            reason=f"no {spec.resource_type} found in the scanned scope",
        )
