"""Read the seed standard (the Markdown controls map) and write it out as catalog YAML, as published.

The output keeps the seed's own references, uncorrected, under the 2022 / TSC keys the seed
claims for them, so ``controlmap catalog lint`` on it reports each 2013-numbered citation with
its 2022 successors and each bare SOC 2 category word. It is a tool to audit the seed, not a
catalog to ship: the shipped catalog carries the corrected references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from controlmap.catalog.models import ISO27001_2022, SOC2_2017, Severity

IMPORTED_ATTESTATION = "Imported from the seed; not yet reviewed (the seed names no checks)."

SERVICE_BY_PREFIX = {
    "S3": "s3",
    "EC2": "ec2",
    "RDS": "rds",
    "IAM": "iam",
    "CT": "cloudtrail",
    "LAMBDA": "lambda",
    "CF": "cloudfront",
    "KMS": "kms",
    "APIGW": "apigateway",
    "DDB": "dynamodb",
}

_TIER_HEADING = re.compile(r"^###\s+(Critical|High|Medium|Low)\b", re.IGNORECASE)


class SeedError(ValueError):
    """The Markdown does not look like the seed's controls map."""


@dataclass
class SeedControl:
    id: str
    severity: str
    title: str
    description: str
    iso27001: str
    soc2: str
    line: int
    summary_tiers: list[str] = field(default_factory=list)

    @property
    def service(self) -> str:
        return SERVICE_BY_PREFIX.get(self.id.split("-")[0], self.id.split("-")[0].lower())


@dataclass
class SeedSection:
    name: str
    description: str = ""


@dataclass
class SeedSummaryRow:
    tier: str
    service_label: str
    control_ids: list[str]
    timeline: str
    line: int


@dataclass
class Seed:
    controls: list[SeedControl] = field(default_factory=list)
    sections: dict[str, SeedSection] = field(default_factory=dict)  # service key -> heading
    summary: list[SeedSummaryRow] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_seed(text: str) -> Seed:
    """Parse the seed's per-service detail tables and its priority summary tables."""
    seed = Seed()
    heading = ""
    intro = ""
    tier: str | None = None
    header: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("## "):
            heading, intro, tier, header = line[3:].strip(), "", None, None
            continue
        tier_match = _TIER_HEADING.match(line)
        if tier_match:
            tier, header = tier_match.group(1).capitalize(), None
            continue
        if not line.startswith("|"):
            if line and not line.startswith("#") and not intro and header is None:
                intro = line
            header = None if not line else header
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set(":- ") for c in cells):
            continue  # the alignment row
        if header[:1] == ["control id"]:
            seed.controls.append(_detail_row(cells, number))
            service = seed.controls[-1].service
            seed.sections.setdefault(service, SeedSection(heading, intro))
        elif "control ids" in header and tier is not None:
            ids = [i.strip() for i in cells[header.index("control ids")].split(",") if i.strip()]
            timeline = cells[-1] if "implementation timeline" in header else ""
            seed.summary.append(SeedSummaryRow(tier, cells[0], ids, timeline, number))
    if not seed.controls:
        raise SeedError("no control table found (expected a table whose first column is 'Control ID')")
    by_id: dict[str, SeedControl] = {}
    for control in seed.controls:
        first = by_id.get(control.id)
        if first is not None:
            raise SeedError(
                f"line {control.line}: duplicate control id {control.id} (first at line {first.line})"
            )
        by_id[control.id] = control
    for row in seed.summary:
        for ident in row.control_ids:
            if ident in by_id:
                by_id[ident].summary_tiers.append(row.tier)
    return seed


_DETAIL_COLUMNS = 6  # Control ID | Severity | Control | Description | ISO 27001 | SOC 2


def _detail_row(cells: list[str], number: int) -> SeedControl:
    if len(cells) != _DETAIL_COLUMNS:
        raise SeedError(f"line {number}: a control row needs {_DETAIL_COLUMNS} columns, found {len(cells)}")
    ident, severity, title, description, iso, soc2 = cells
    if severity.lower() not in {s.value for s in Severity}:
        known = ", ".join(s.label for s in Severity)
        raise SeedError(f"line {number}: {ident}: severity {severity!r} is not one of {known}")
    return SeedControl(ident, severity, title, description, iso, soc2, number)


def _split(citation: str) -> list[str]:
    return [part.strip() for part in citation.split(",") if part.strip()]


def _flow(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def control_document(control: SeedControl) -> CommentedMap:
    """One control as catalog YAML, with the seed's citations as its references."""
    doc = CommentedMap()
    doc["id"] = control.id
    doc["service"] = control.service
    doc["title"] = control.title
    doc["severity"] = control.severity.lower()
    doc["description"] = control.description
    doc["rationale"] = "Not stated in the seed."
    doc["references"] = CommentedMap(
        [(ISO27001_2022, _flow(_split(control.iso27001))), (SOC2_2017, _flow(_split(control.soc2)))]
    )
    published = CommentedMap(
        [("severity", control.severity), ("iso27001", control.iso27001), ("soc2", control.soc2)]
    )
    if control.summary_tiers:
        published["summary_tier"] = ", ".join(control.summary_tiers)
    doc["as_published"] = published
    doc["remediation"] = CommentedMap([("summary", control.description)])
    # The seed names no checks. Marking each control manual with this attestation keeps the lint
    # of the import about the seed's citations, not 64 "not yet automated" warnings.
    doc["automation"] = "manual"
    doc["attestation"] = IMPORTED_ATTESTATION
    return doc


def service_documents(seed: Seed) -> dict[str, CommentedMap]:
    """One catalog document per service, in seed order."""
    out: dict[str, CommentedMap] = {}
    for control in seed.controls:
        service = control.service
        if service not in out:
            section = seed.sections.get(service, SeedSection(service))
            out[service] = CommentedMap(
                [
                    ("service", service),
                    ("name", section.name),
                    ("description", section.description),
                    ("controls", []),
                ]
            )
        out[service]["controls"].append(control_document(control))
    return out


def write_seed_catalog(seed: Seed, target: Path) -> list[Path]:
    """Write one file (target ends in .yaml/.yml) or one file per service into a directory."""
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    header = (
        "# The seed standard as published (references uncorrected).\n"
        "# Written by `controlmap catalog import-seed`; lint it with `controlmap catalog lint`.\n"
    )
    documents = service_documents(seed)
    if target.suffix in (".yaml", ".yml"):
        merged: dict[str, Any] = CommentedMap(
            [
                ("service", "seed"),
                ("name", "AWS Security Controls Map (as published)"),
                ("controls", [c for doc in documents.values() for c in doc["controls"]]),
            ]
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            handle.write(header)
            yaml.dump(merged, handle)
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for service, document in documents.items():
        path = target / f"{service}.yaml"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(header)
            yaml.dump(document, handle)
        written.append(path)
    return written
