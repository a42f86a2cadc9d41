"""What AWS Config data can and cannot show, applied to the findings of the shared checks.

The engine knows nothing of AWS Config: it reports "no resource of this type" as NOT_APPLICABLE
once per account when the inventory holds none at all. For Config data that needs three
corrections, all made here:

* "none" holds only where the data could have shown one (``Coverage``); otherwise the finding is
  UNKNOWN with the reason, or ERROR when the read of that type failed;
* data of several accounts (an aggregator, an organisation's snapshots) gets the verdict per
  account: an account with no RDS instance is told so even when another account has some;
* an item that could not be read, or a listing that failed, is an ERROR finding on each check of
  its type, naming the item, so the resource is never silently missing from the results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from controlmap.catalog.models import Control
from controlmap.checks.registry import CheckSpec, Inventory, Status, registry
from controlmap.findings.model import Finding
from controlmap.sources.config.build import MODEL_SOURCES, RECORDED_NOT_MAPPED
from controlmap.sources.config.coverage import Coverage
from controlmap.sources.config.items import ItemProblem

ACCOUNT_TYPES = frozenset({"AWS::::Account", "AWS::::Region"})
ACCOUNT = "AWS::::Account"
Templates = dict[tuple[str, str], Finding]  # (control, check) -> a finding to copy control fields from
# Model types per AWS Config type (the inverse of MODEL_SOURCES).
MODELS_OF: dict[str, list[str]] = {}
for _model, _config in MODEL_SOURCES.items():
    MODELS_OF.setdefault(_config, []).append(_model)


def apply(
    findings: list[Finding],
    controls: Sequence[Control],
    inventory: Inventory,
    coverage: Coverage,
    problems: Iterable[ItemProblem],
) -> list[Finding]:
    specs = _specs(controls)
    templates: Templates = {(f.control_id, f.check_id): f for f in findings if f.check_id is not None}
    unread = _unread(specs, templates, problems)
    # Where an ERROR finding names what could not be read, "none in the account" is not said at all.
    covered = {(f.control_id, f.check_id, f.account_id) for f in unread}
    nones = [f for f in findings if _says_none(f)] + _per_account_absence(specs, templates, inventory)
    out = [f for f in findings if not _says_none(f)]
    out += [
        visible(f, coverage)
        for f in nones
        if not {(f.control_id, f.check_id, f.account_id), (f.control_id, f.check_id, None)} & covered
    ]
    return out + unread


def _says_none(finding: Finding) -> bool:
    """The engine's "no resource of this type found" finding for an account."""
    if finding.status is not Status.NOT_APPLICABLE or finding.check_id is None:
        return False
    spec = registry().get(finding.check_id)
    return spec is not None and finding.resource_type == ACCOUNT and finding.reason.startswith("no ")


def _specs(controls: Sequence[Control]) -> list[tuple[Control, CheckSpec]]:
    checks = registry()
    return [(c, checks[i]) for c in controls for i in c.checks if i in checks]


def _as_account(template: Finding, account: str | None, status: Status, reason: str) -> Finding:
    name = account or "?"
    return template.model_copy(
        update={
            "status": status,
            "resource_id": f"arn:aws:::account/{name}",
            "resource_type": ACCOUNT,
            "resource_name": name,
            "account_id": account,
            "region": None,
            "tags": {},
            "reason": reason,
            "evidence": {},
            "detail_id": None,
            "error_code": None,
            "source": None,
            "exception": None,
        }
    )


def _per_account_absence(
    specs: list[tuple[Control, CheckSpec]],
    templates: Templates,
    inventory: Inventory,
) -> list[Finding]:
    """The engine's "none found" for accounts that have none of a type while others have some."""
    out = []
    for control, spec in specs:
        template = templates.get((control.id, spec.id))
        if spec.resource_type == ACCOUNT or template is None:
            continue  # every account of the data has its account resource
        having = {r.account_id for r in inventory.of_type(spec.model)}
        if not having:
            continue  # the engine already said so for every account
        for account in sorted(set(inventory.accounts) - having):
            reason = f"no {spec.resource_type} found in the scanned scope"
            out.append(_as_account(template, account, Status.NOT_APPLICABLE, reason))
    return out


def _unread(
    specs: list[tuple[Control, CheckSpec]],
    templates: Templates,
    problems: Iterable[ItemProblem],
) -> list[Finding]:
    """One ERROR finding per check of the type an unreadable item (or a failed listing) leaves unseen."""
    out = []
    for problem in problems:
        models = MODELS_OF.get(problem.resource_type or "", [])
        for control, spec in specs:
            template = templates.get((control.id, spec.id))
            if spec.resource_type not in models or template is None:
                continue
            where = (
                f"{problem.account_id}/{problem.region or 'global'}"
                if problem.account_id
                else "the aggregated accounts"
            )
            resource = problem.resource_id or f"{problem.resource_type} in {where}"
            reason = (
                f"the configuration item could not be read ({problem.describe()})"
                if problem.resource_id
                else f"the {problem.resource_type} items of {where} could not be read: {problem.message}"
            )
            finding = _as_account(template, problem.account_id, Status.ERROR, reason)
            out.append(
                finding.model_copy(
                    update={
                        "resource_id": resource,
                        "resource_type": spec.resource_type,
                        "resource_name": problem.resource_id or f"all {problem.resource_type} in {where}",
                        "region": problem.region,
                        "error_code": problem.code,
                    }
                )
            )
    return out


def visible(finding: Finding, coverage: Coverage) -> Finding:
    """ "No resource of this type" is only true if the data could have shown one."""
    spec = registry().get(finding.check_id or "")
    if spec is None or not _says_none(finding):
        return finding
    if spec.resource_type == "AWS::::Region":
        reason = (
            f"the data holds no regional configuration items for account {finding.account_id}, so "
            "region-level settings cannot be judged; include the regions' snapshots"
        )
        return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
    if spec.resource_type in ACCOUNT_TYPES:
        return finding
    config_type = MODEL_SOURCES.get(spec.resource_type)
    if config_type is None and spec.resource_type in RECORDED_NOT_MAPPED:
        reason = (
            f"controlmap does not read AWS Config's {spec.resource_type} items yet; "
            f"run `controlmap scan aws` for {finding.control_id}"
        )
        return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
    if config_type is None:
        reason = (
            f"AWS Config does not record {spec.resource_type}; "
            f"run `controlmap scan aws` for {finding.control_id}"
        )
        return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
    failed = coverage.failure(config_type, finding.account_id)
    if failed is not None:
        reason = f"{config_type} could not be read for account {finding.account_id}: {failed[1]}"
        return finding.model_copy(update={"status": Status.ERROR, "reason": reason, "error_code": failed[0]})
    if coverage.knows_absence_in_account(config_type, finding.account_id):
        reason = f"no {config_type} configuration items for account {finding.account_id} in the data"
        return finding.model_copy(update={"reason": reason})
    reason = coverage.why_unknown_in_account(config_type, finding.account_id)
    return finding.model_copy(update={"status": Status.UNKNOWN, "reason": reason})
