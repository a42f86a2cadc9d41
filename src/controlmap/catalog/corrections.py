"""Render every correction the catalog makes to the seed, as Markdown an auditor can trace.

``docs/catalog-corrections.md`` is this module's output for the built-in catalog; a test keeps
it up to date. Everything comes from the catalog data (``as_published``, ``references``,
``corrections``, ``severity``), so a correction is written once, beside the control it fixes.
"""

from __future__ import annotations

import re

from controlmap.catalog.catalog import Catalog
from controlmap.catalog.correspondence import Correspondence
from controlmap.catalog.models import ISO27001_2022, SOC2_2017, Control
from controlmap.catalog.seed import SERVICE_BY_PREFIX
from controlmap.settings import PlanSettings

_CATEGORY_WORDS = {"security", "confidentiality", "availability", "processing integrity", "privacy"}


def _seed_position(control: Control) -> int:
    """Seed order of services (S3, EC2, RDS, IAM, ...), then the organisation's own; stable within."""
    order = list(SERVICE_BY_PREFIX.values())
    return order.index(control.service) if control.service in order else len(order)


def _md(text: str) -> str:
    """Escape text for a Markdown table cell or list item: no HTML, no table breaks."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\s*[\r\n]+\s*", " ", out).strip()


def _split(citation: str | None) -> list[str]:
    return [p.strip() for p in (citation or "").split(",") if p.strip()]


def _window(plan: PlanSettings, control: Control) -> str:
    window = plan.window(control.severity, control.service)
    return f"{window.start_days}-{window.end_days} days"


def _summary_faults(controls: list[Control], plan: PlanSettings) -> list[str]:
    lines = [
        "## The seed's summary tables",
        "",
        "The seed's per-control severity (its detail tables) wins; the plan is derived from it. "
        "Where the seed's priority summary tables disagree, the catalog records the summary tier "
        "in `as_published.summary_tier` and says so below.",
        "",
        "| Control | Severity (detail table) | Seed summary table | Plan window (derived) |",
        "|---|---|---|---|",
    ]
    faults = 0
    for control in controls:
        published = control.as_published
        if published is None:
            continue
        tier = published.summary_tier
        if tier is not None and tier.strip().lower() == control.severity.value:
            continue
        shown = f"listed under {tier}" if tier else "missing from every summary table"
        lines.append(
            f"| {_md(control.id)} {_md(control.title)} | {control.severity.label} | {_md(shown)} | "
            f"{control.severity.label}, {_window(plan, control)} |"
        )
        faults += 1
    if not faults:
        lines.append("| (none) | | | |")
    severity_changes = [
        c
        for c in controls
        if c.as_published and c.as_published.severity and c.as_published.severity.lower() != c.severity.value
    ]
    if severity_changes:
        lines += ["", "Severities changed from the seed's detail tables:", ""]
        for c in severity_changes:
            published_severity = c.as_published.severity if c.as_published else ""
            lines.append(f"- **{_md(c.id)}**: {_md(published_severity or '')} -> {c.severity.label}")
    return [*lines, ""]


def _control_block(control: Control) -> list[str]:
    published = control.as_published
    lines = [f"#### {_md(control.id)} {_md(control.title)}", ""]
    lines += ["| | As published | Corrected |", "|---|---|---|"]
    iso_published = published.iso27001 if published else None
    soc2_published = published.soc2 if published else None
    lines.append(f"| ISO/IEC 27001:2022 | {_md(iso_published or '')} | {_md(', '.join(control.iso27001))} |")
    lines.append(f"| SOC 2 (TSC 2017) | {_md(soc2_published or '')} | {_md(', '.join(control.soc2))} |")
    lines.append("")
    for correction in control.corrections:
        lines.append(f"- {_md(correction)}")
    if control.corrections:
        lines.append("")
    return lines


def _changed(control: Control) -> bool:
    published = control.as_published
    if control.corrections:
        return True
    if published is None:
        return False
    return _split(published.iso27001) != control.iso27001 or _split(published.soc2) != control.soc2


def _totals(controls: list[Control], correspondence: Correspondence | None, iso_ids: set[str]) -> list[str]:
    seeded = [c for c in controls if c.as_published is not None]
    changed = [c for c in seeded if _changed(c)]
    cited_2013 = 0
    ambiguous = 0
    bare_words = 0
    ambiguous_ids = correspondence.ambiguous(iso_ids) if correspondence else set()
    for control in seeded:
        published = control.as_published
        assert published is not None
        for ident in _split(published.iso27001):
            if ident not in iso_ids:
                cited_2013 += 1
            elif ident in ambiguous_ids:
                ambiguous += 1
        bare_words += sum(1 for w in _split(published.soc2) if w.lower() in _CATEGORY_WORDS)
    return [
        "## In numbers",
        "",
        f"- Controls taken from the seed: {len(seeded)}; "
        f"controls whose references were corrected: {len(changed)}.",
        f"- ISO citations that are not ISO/IEC 27001:2022 IDs (2013 numbers): {cited_2013}.",
        f"- ISO citations of IDs that mean something else in 2013 (A.5.1-A.8.3 clauses): {ambiguous}.",
        f"- SOC 2 citations that are a bare category word instead of a criterion: {bare_words}.",
        "",
    ]


def render_corrections(
    catalog: Catalog,
    plan: PlanSettings,
    correspondence: Correspondence | None = None,
) -> str:
    controls = sorted(catalog.ordered(), key=_seed_position)
    iso = catalog.frameworks.get(ISO27001_2022)
    iso_ids = iso.ids() if iso else set()
    lines = [
        "# Catalog corrections",
        "",
        "<!-- Generated by `controlmap catalog corrections -o docs/catalog-corrections.md`; "
        "do not edit by hand. -->",
        "",
        "The seed standard (`aws-security-controls-map.md`) cites ISO/IEC 27001:2013 numbers under an "
        "ISO 27001:2022 heading, writes bare SOC 2 category words where the Trust Services Criteria "
        "have IDs, maps some controls to requirements that do not fit, and its priority summary "
        "tables disagree with its own per-control severities. The catalog keeps each control's "
        "original citation (`as_published`) beside the corrected references, and one line per "
        "change saying why. This page lists them all.",
        "",
        f"References use the framework keys `{ISO27001_2022}` (Annex A) and `{SOC2_2017}` "
        "(Trust Services Criteria, revised points of focus 2022).",
        "",
    ]
    lines += _totals(controls, correspondence, iso_ids)
    lines += _summary_faults(controls, plan)
    lines += ["## Reference corrections by control", ""]
    seed_order = list(SERVICE_BY_PREFIX.values())
    services = sorted(
        dict.fromkeys(c.service for c in controls),
        key=lambda s: seed_order.index(s) if s in seed_order else len(seed_order),
    )
    for service in services:
        service_controls = [c for c in controls if c.service == service and _changed(c)]
        if not service_controls:
            continue
        lines += [f"### {_md(catalog.services.get(service, service))}", ""]
        for control in service_controls:
            lines += _control_block(control)
    return "\n".join(lines).rstrip("\n") + "\n"
