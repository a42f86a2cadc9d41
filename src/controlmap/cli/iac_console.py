"""The console view of an IaC scan: findings grouped by file, each with its line, resource,
control, reason and the fix in the template's own language.

Everything shown comes from the scanned files (names, addresses, reasons quoting values) and is
printed as plain ``Text``, never as Rich markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from controlmap.catalog.catalog import Catalog
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.resources.base import SourceKind

SHOWN = (Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.SUPPRESSED, Status.EXCEPTED)
STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.UNKNOWN: "yellow",
    Status.SUPPRESSED: "cyan",
    Status.EXCEPTED: "cyan",
    Status.PASS: "green",
    Status.NOT_APPLICABLE: "dim",
    Status.MANUAL: "blue",
}
SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "blue",
    "informational": "dim",
}
_ORDER = {
    s: i
    for i, s in enumerate(
        [
            Status.FAIL,
            Status.ERROR,
            Status.UNKNOWN,
            Status.SUPPRESSED,
            Status.EXCEPTED,
            Status.PASS,
            Status.NOT_APPLICABLE,
            Status.MANUAL,
        ]
    )
}


def _clean(text: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\n" else "?" for ch in text)


def render_iac_console(
    result: ScanResult,
    console: Console,
    catalog: Catalog | None,
    *,
    show_passed: bool = False,
    snippets: bool = True,
) -> None:
    counts = Counter(f.status for f in result.findings)
    header = Text("controlmap scan iac", style="bold")
    parts = [
        f"{len(result.sources)} unit(s)",
        f"{result.resource_count} resources",
        f"{counts[Status.FAIL]} failed",
        f"{counts[Status.PASS]} passed",
    ]
    for status in (Status.UNKNOWN, Status.SUPPRESSED, Status.EXCEPTED):
        if counts[status]:
            parts.append(f"{counts[status]} {status.value.lower()}")
    if result.errors:
        parts.append(f"{len(result.errors)} file error(s)")
    if result.duration_seconds is not None:
        parts.append(f"{result.duration_seconds:.2f}s")
    header.append("  " + " · ".join(parts), style="dim")
    console.print(header)
    wanted = set(SHOWN) | ({Status.PASS, Status.NOT_APPLICABLE} if show_passed else set())
    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        if finding.status in wanted:
            by_file.setdefault(
                finding.source.file if finding.source and finding.source.file else "(no file)", []
            ).append(finding)
    for file in sorted(by_file):
        console.print()
        console.print(Text(_clean(file), style="bold underline"))
        shown_fix: set[str] = set()
        seen: set[tuple[str, str, Status, str]] = set()
        for finding in sorted(by_file[file], key=_sort_key):
            # Two checks of one control can say the same thing (EC2-06: SSM registration and
            # patch state, both known only in the account): one line says it.
            said = (finding.control_id, finding.resource_id, finding.status, finding.reason)
            if said in seen:
                continue
            seen.add(said)
            _finding(console, finding, catalog, shown_fix, snippets)
    if result.errors:
        console.print()
        console.print(
            Text("Errors (what they name was not scanned, or the skip was ignored)", style="bold magenta")
        )
        for error in result.errors:
            where = f"{error.source}:{error.line}" if error.line else error.source
            line = Text("  ")
            line.append(_clean(where), style="bold")
            line.append(f"  {_clean(error.message)}")
            console.print(line)
    if not any(by_file.values()) and not result.errors:
        console.print(Text("No failing, unknown or suppressed findings.", style="green"))


def _sort_key(finding: Finding) -> tuple[int, int, int, str]:
    line = finding.source.line_start if finding.source and finding.source.line_start else 0
    return (line, _ORDER.get(finding.status, 9), -finding.severity.rank, finding.control_id)


def _finding(
    console: Console, finding: Finding, catalog: Catalog | None, shown_fix: set[str], snippets: bool
) -> None:
    source = finding.source
    lines = ""
    if source and source.line_start:
        lines = f"{source.line_start}" + (
            f"-{source.line_end}" if source.line_end and source.line_end != source.line_start else ""
        )
    head = Text("  ")
    head.append(f"{finding.status.value:<10} ", style=STATUS_STYLE.get(finding.status, ""))
    head.append(f"{finding.severity.value:<9}", style=SEVERITY_STYLE.get(finding.severity.value, ""))
    head.append(f"{finding.control_id:<10}", style="bold")
    head.append(_clean(finding.resource_name))
    if lines:
        head.append(f"  line {lines}", style="dim")
    console.print(head)
    body = Text("      ")
    body.append(_clean(finding.reason))
    console.print(body)
    if finding.exception:
        note = Text("      ")
        kind = finding.exception.get("kind", "exception")
        note.append(f"{kind}: {_clean(str(finding.exception.get('reason', '')))}", style="cyan")
        console.print(note)
    if finding.status is not Status.FAIL or catalog is None or not snippets:
        return
    control = catalog.get(finding.control_id)
    if control is None:
        return
    kind = source.kind if source else None
    snippet = (
        control.remediation.cloudformation
        if kind is SourceKind.CLOUDFORMATION
        else control.remediation.terraform
    )
    if finding.control_id in shown_fix:
        console.print(Text("      fix: as above", style="dim"))
        return
    shown_fix.add(finding.control_id)
    fix = Text("      fix: ", style="bold green")
    fix.append(_clean(control.remediation.summary), style="green")
    console.print(fix)
    if snippet:
        # Plain, indented text: copy-paste friendly, no background padding.
        for line in snippet.rstrip().splitlines():
            console.print(Text("        " + _clean(line), style="cyan"), soft_wrap=True)


def failing(findings: Iterable[Finding]) -> int:
    return sum(1 for f in findings if f.status is Status.FAIL)
