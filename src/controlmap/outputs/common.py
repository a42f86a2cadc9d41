"""What several renderers share: ordering, summaries and escaping of attacker-controlled text.

Resource names, tags and even reasons (which quote policy documents) come from the scanned
account or template, so every renderer treats them as hostile: Markdown gets its punctuation
escaped, CSV cells cannot start a formula, and HTML relies on Jinja2 autoescaping.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanError, ScanResult

# ScanError.code that apply_exceptions gives a lapsed approval (kept here to avoid an import cycle).
EXCEPTION_EXPIRED = "ExceptionExpired"

SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFORMATIONAL,
)
STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.ERROR,
    Status.UNKNOWN,
    Status.MANUAL,
    Status.EXCEPTED,
    Status.SUPPRESSED,
    Status.PASS,
    Status.NOT_APPLICABLE,
)
# Findings that count towards a pass rate: a decided verdict about a real resource.
DECIDED = frozenset({Status.PASS, Status.FAIL, Status.EXCEPTED, Status.SUPPRESSED})
ACCEPTED = frozenset({Status.EXCEPTED, Status.SUPPRESSED})


def sort_key(finding: Finding) -> tuple[int, int, str, str, str]:
    """Most urgent first: status, then severity, then control and resource."""
    return (
        STATUS_ORDER.index(finding.status),
        -finding.severity.rank,
        finding.control_id,
        finding.resource_id,
        finding.detail_id or "",
    )


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=sort_key)


@dataclass
class Tally:
    """Counts of one slice of a scan (a service, a severity, or the whole scan)."""

    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, status: Status) -> None:
        self.statuses[status.value] += 1

    def count(self, status: Status) -> int:
        return self.statuses.get(status.value, 0)

    @property
    def passed(self) -> int:
        return self.count(Status.PASS) + sum(self.count(s) for s in ACCEPTED)

    @property
    def failed(self) -> int:
        return self.count(Status.FAIL)

    @property
    def decided(self) -> int:
        return self.passed + self.failed

    @property
    def pass_rate(self) -> float | None:
        """Share of decided verdicts that pass (excepted ones count as passing); None if none."""
        return round(100.0 * self.passed / self.decided, 1) if self.decided else None

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


@dataclass
class Summary:
    total: Tally
    by_severity: dict[Severity, Tally]
    by_service: dict[str, Tally]
    open_critical: int
    overdue: int

    @property
    def failing(self) -> int:
        return self.total.failed


def summarize(findings: Sequence[Finding]) -> Summary:
    total = Tally()
    by_severity: dict[Severity, Tally] = {s: Tally() for s in SEVERITY_ORDER}
    by_service: dict[str, Tally] = {}
    for finding in findings:
        total.add(finding.status)
        by_severity[finding.severity].add(finding.status)
        by_service.setdefault(finding.service, Tally()).add(finding.status)
    open_critical = sum(1 for f in findings if f.severity is Severity.CRITICAL and f.status is Status.FAIL)
    overdue = sum(1 for f in findings if is_overdue(f))
    return Summary(total, by_severity, dict(sorted(by_service.items())), open_critical, overdue)


def is_overdue(finding: Finding, today: date | None = None) -> bool:
    """The one overdue rule (store, reports, site): an open FAIL past its due date.

    EXCEPTED and SUPPRESSED findings are never overdue, nor are ERROR/UNKNOWN ones (a failed
    read is not a missed deadline). Without ``today`` (or a due date) the store's flag is used.
    """
    if finding.status is not Status.FAIL:
        return False
    if today is None or finding.due_date is None:
        return finding.overdue  # as recorded when the scan was stored
    return today > finding.due_date


def shared_names(findings: Iterable[Finding]) -> set[str]:
    """Resource names that more than one resource carries (every VPC's security group "default")."""
    ids: dict[str, set[str]] = {}
    for f in findings:
        ids.setdefault(f.resource_name, set()).add(f.resource_id)
    return {name for name, found in ids.items() if len(found) > 1}


def resource_label(finding: Finding, shared: set[str]) -> str:
    """The name, plus the ID when the name alone does not say which resource: ``default (sg-0abc…)``."""
    name = finding.resource_name
    if name in shared and finding.resource_id and finding.resource_id != name:
        return f"{name} ({finding.resource_id})"
    return name


def exception_note(finding: Finding) -> str:
    """Who accepted an EXCEPTED/SUPPRESSED finding, until when and why, for people ("" if none)."""
    approval = finding.exception or {}
    if approval.get("kind") == "approved":
        name = approval.get("id") or approval.get("control") or approval.get("check") or "exception"
        note = f"{name}: approved by {approval.get('approved_by')}, expires {approval.get('expires')}"
        # An auditor asks why and where it was decided, not only who signed: justification, ticket.
        if approval.get("justification"):
            note += f"; {approval['justification']}"
        if approval.get("ticket"):
            note += f" ({approval['ticket']})"
        return note
    if approval.get("kind") == "inline":
        return f"suppressed inline: {approval.get('reason') or 'no reason given'}"
    if approval:
        return str(approval.get("kind") or "accepted")
    return ""


def read_errors(result: ScanResult) -> list[ScanError]:
    """Reads that failed during the scan: what makes checks report ERROR and a scan incomplete."""
    return [e for e in result.errors if e.code != EXCEPTION_EXPIRED]


def expiry_notices(result: ScanResult) -> list[ScanError]:
    """Approved exceptions that lapsed: their findings fail again. Not read errors."""
    return [e for e in result.errors if e.code == EXCEPTION_EXPIRED]


def location(finding: Finding) -> str:
    """Where to look: file and line for IaC, else account/region."""
    if finding.source is not None and finding.source.file:
        return finding.source.location()
    parts = [p for p in (finding.account_id, finding.region) if p]
    return "/".join(parts) or "-"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def md_text(value: object) -> str:
    """Escape a value for Markdown (GitHub flavour), table cells included.

    Punctuation is backslash-escaped so names cannot create links, images or emphasis; ``<``,
    ``>`` and ``&`` become entities so no HTML passes; ``@`` becomes an entity so a resource
    named ``@org/team`` does not notify anyone; line breaks cannot end a table row.
    """
    text = "" if value is None else str(value)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")
    return re.sub(r"[\r\n\t]+", " ", text)


def md_code(value: object) -> str:
    """Inline code span that cannot be closed early by backticks in the value.

    Code spans show their content literally (no HTML, no links), so only the table's pipe needs
    escaping; GitHub reads ``\\|`` as a pipe even inside a code span in a table.
    """
    text = re.sub(r"[\r\n]+", " ", "" if value is None else str(value)).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: object) -> str:
    """A spreadsheet-safe cell: text that a spreadsheet would read as a formula gets a leading quote.

    Spreadsheets trim leading spaces before deciding, so the check looks past them too.
    """
    text = "" if value is None else str(value)
    stripped = text.lstrip(" ")
    if stripped and (stripped[0] in _FORMULA_START or text[0] in _FORMULA_START):
        return "'" + text
    return text


def one_line(text: str, limit: int) -> str:
    """Collapse whitespace and cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def scan_title(result: ScanResult) -> str:
    what = {"aws": "AWS account scan", "iac": "Infrastructure-as-code scan", "aws-config": "AWS Config scan"}
    return what.get(result.kind, f"{result.kind} scan")


def utc_iso(moment: datetime | None, *, millis: bool = False) -> str | None:
    """An ISO 8601 UTC timestamp ending in Z (naive datetimes are taken as UTC)."""
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    text = moment.isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def json_lines_array(items: Sequence[object]) -> str:
    """A JSON array with one compact item per line: valid JSON, greppable, and encoded by the C
    encoder (``indent`` switches json to its pure-Python encoder, 5x slower on 10,000 findings)."""
    if not items:
        return "[]\n"
    body = ",\n".join(json.dumps(item, ensure_ascii=False, default=str) for item in items)
    return "[\n" + body + "\n]\n"
