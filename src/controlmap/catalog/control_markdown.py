"""One control as a Markdown page (``catalog show ID --format markdown``).

For a wiki or an internal page that tells developers what is expected of a resource, and for an
auditor's working papers. Every value is escaped: a custom control's text cannot inject HTML,
break a table or end a code block early.
"""

from __future__ import annotations

import re

from controlmap.catalog.catalog import Catalog, LoadedControl
from controlmap.catalog.models import Control, TierWindow

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")
_BLOCK_MARK = re.compile(r"^([#\-+>=])")  # would start a heading, list or quote
_NUMBERED = re.compile(r"^(\d+)([.)])")  # would start a numbered list


def _text(value: str) -> str:
    """Escape inline Markdown and HTML; line breaks become spaces (a list item stays one item)."""
    flat = re.sub(r"\s*[\r\n]+\s*", " ", _MD_SPECIAL.sub(r"\\\1", value)).strip()
    return _NUMBERED.sub(r"\1\\\2", _BLOCK_MARK.sub(r"\\\1", flat))


def _span(value: str) -> str:
    """An inline code span that no backtick or pipe inside it can end or split."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    ticks = "`" * (longest + 1)
    inner = value.replace("|", "\\|").replace("\n", " ")
    pad = " " if inner.startswith("`") or inner.endswith("`") else ""
    return f"{ticks}{pad}{inner}{pad}{ticks}"


def _code(value: str, language: str) -> list[str]:
    """A fenced block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", value.rstrip("\n"), fence]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def control_markdown(
    catalog: Catalog, control: Control, window: TierWindow, origin: LoadedControl | None
) -> str:
    title = f"# {_text(control.id)} {_text(control.title)}" + (" (custom)" if control.custom else "")
    lines = [title, "", _text(control.description), ""]
    facts = [
        ["Severity", control.severity.label],
        ["Plan window", f"{window.start_days}-{window.end_days} days"],
        ["Service", _text(catalog.services.get(control.service, control.service))],
        ["Scope", control.scope.value],
        ["Automation", control.automation.value],
        ["Checks", ", ".join(_span(c) for c in control.checks) or "none"],
    ]
    if control.attestation:
        facts.append(["Attestation", _text(control.attestation)])
    if origin is not None:
        facts.append(["Defined in", _text(f"{origin.path}:{origin.line}" if origin.line else origin.path)])
    lines += [*_table(["", ""], facts), "", "## Why", "", _text(control.rationale), ""]
    lines += _resource_types(catalog, control)

    lines += ["## Framework references", ""]
    rows = []
    for key, idents in control.references.items():
        framework = catalog.frameworks.get(key)
        titles = {r.id: r.title for r in framework.requirements} if framework else {}
        rows += [[_text(key), _text(i), _text(titles.get(i, "?"))] for i in idents]
    lines += [*_table(["Framework", "ID", "Title"], rows), ""]

    if (published := control.as_published) is not None:
        tier = published.summary_tier or ("none" if not control.custom else "-")
        lines += ["## As published in the seed", ""]
        lines += _table(
            ["Severity", "ISO 27001", "SOC 2", "Summary table"],
            [
                [
                    _text(published.severity or "-"),
                    _text(published.iso27001 or "-"),
                    _text(published.soc2 or "-"),
                    _text(tier),
                ]
            ],
        )
        lines.append("")
    if control.corrections:
        lines += ["## Corrections", ""] + [f"- {_text(c)}" for c in control.corrections] + [""]

    remediation = control.remediation
    lines += ["## Remediation", "", _text(remediation.summary), ""]
    lines += [f"1. {_text(step)}" for step in remediation.console]
    if remediation.console:
        lines.append("")
    for label, code, language in (
        ("AWS CLI", remediation.cli, "bash"),
        ("CloudFormation", remediation.cloudformation, "yaml"),
        ("Terraform", remediation.terraform, "hcl"),
    ):
        if code:
            lines += [f"### {label}", "", *_code(code, language), ""]

    eq = control.equivalents
    if eq.security_hub or eq.config_rules or eq.cis_aws_v3:
        lines += ["## Equivalents", ""]
        for label, values in (
            ("Security Hub CSPM", eq.security_hub),
            ("AWS Config managed rules", eq.config_rules),
            ("CIS AWS Foundations v3.0", eq.cis_aws_v3),
        ):
            if values:
                lines.append(f"- {label}: " + ", ".join(_span(v) for v in values))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _resource_types(catalog: Catalog, control: Control) -> list[str]:
    """What the control applies to, under every name a developer meets."""
    if not control.resource_types:
        return []
    rows = []
    for type_id in control.resource_types:
        rtype = catalog.resource_types.get(type_id)
        if rtype is None:
            rows.append([_span(type_id), "", "", ""])
            continue
        cloudformation = [rtype.cloudformation] if rtype.cloudformation else []
        rows.append(
            [
                _span(type_id) + (" (account or Region setting)" if rtype.pseudo else ""),
                ", ".join(_span(n) for n in [*cloudformation, *rtype.cloudformation_also]) or "-",
                ", ".join(_span(n) for n in rtype.terraform) or "-",
                _span(rtype.config) if rtype.config else "-",
            ]
        )
    return ["## Resource types", "", *_table(["Type", "CloudFormation", "Terraform", "AWS Config"], rows), ""]
