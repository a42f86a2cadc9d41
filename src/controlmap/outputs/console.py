"""The terminal summary of a scan (Rich): verdicts by severity and service, API calls, errors and
the failing findings grouped by severity.

Every value from the scan goes into a ``Text`` object, never into markup, so a bucket named
``[bold red]`` or with ANSI escapes prints as itself.
"""

from __future__ import annotations

import re
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import (
    SEVERITY_ORDER,
    Tally,
    exception_note,
    expiry_notices,
    location,
    one_line,
    ordered,
    read_errors,
    resource_label,
    scan_title,
    shared_names,
    summarize,
)

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFORMATIONAL: "dim",
}
STATUS_STYLE = {
    Status.FAIL: "red",
    Status.PASS: "green",
    Status.ERROR: "magenta",
    Status.UNKNOWN: "yellow",
    Status.MANUAL: "blue",
    Status.EXCEPTED: "cyan",
    Status.SUPPRESSED: "cyan",
    Status.NOT_APPLICABLE: "dim",
}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_ERRORS_SHOWN = 20


def plain(value: object) -> Text:
    """A cell from scan data: control characters (ANSI escapes included) removed, no markup."""
    return Text(_CONTROL_CHARS.sub("?", "" if value is None else str(value)))


def _rate(tally: Tally) -> str:
    rate = tally.pass_rate
    return "-" if rate is None else f"{rate:.0f}%"


def _counts_row(label: Text, tally: Tally) -> list[Text]:
    cells = [label]
    for status in (Status.FAIL, Status.PASS, Status.MANUAL, Status.UNKNOWN, Status.ERROR):
        n = tally.count(status)
        cells.append(Text(str(n), style=STATUS_STYLE[status] if n else "dim"))
    accepted = tally.count(Status.EXCEPTED) + tally.count(Status.SUPPRESSED)
    cells.append(Text(str(accepted), style="cyan" if accepted else "dim"))
    cells.append(Text(_rate(tally)))
    return cells


def _counts_table(title: str, first: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column(first)
    for name in ("Fail", "Pass", "Manual", "Unknown", "Error", "Excepted", "Pass rate"):
        table.add_column(name, justify="right")
    return table


def render_console(result: ScanResult, console: Console, *, show_passed: bool = False) -> None:
    summary = summarize(result.findings)
    header = Text(scan_title(result), style="bold")
    details = []
    if result.accounts:
        details.append(f"accounts {', '.join(result.accounts)}")
    if result.regions:
        details.append(f"{len(result.regions)} region(s)")
    details.append(f"{result.resource_count} resources")
    details.append(f"{summary.total.total} findings")
    if result.duration_seconds is not None:
        details.append(f"{result.duration_seconds:.1f}s")
    if not result.complete:
        details.append("INCOMPLETE")
    header.append("  " + " · ".join(_CONTROL_CHARS.sub("?", d) for d in details), style="dim")
    console.print(header)

    by_severity = _counts_table("By severity", "Severity")
    for severity in SEVERITY_ORDER:
        tally = summary.by_severity[severity]
        if tally.total:
            by_severity.add_row(*_counts_row(Text(severity.label, style=SEVERITY_STYLE[severity]), tally))
    console.print(by_severity)

    by_service = _counts_table("By service", "Service")
    for service, tally in summary.by_service.items():
        by_service.add_row(*_counts_row(plain(service), tally))
    console.print(by_service)

    if result.api_calls:
        calls: Counter[str] = Counter()
        for operation, count in result.api_calls.items():
            calls[operation.partition(":")[0]] += count
        table = Table(title="API calls", title_justify="left", header_style="bold")
        table.add_column("Service")
        table.add_column("Calls", justify="right")
        for service, count in sorted(calls.items()):
            table.add_row(plain(service), Text(str(count)))
        table.add_row(Text("total", style="bold"), Text(str(sum(calls.values())), style="bold"))
        console.print(table)

    for notice in expiry_notices(result):
        console.print(plain(f"Expired: {one_line(notice.message, 300)}"), style="yellow")
    errors = read_errors(result)
    if errors:
        console.print(Text(f"{len(errors)} error(s) during the scan:", style="bold magenta"))
        for error in errors[:MAX_ERRORS_SHOWN]:
            where = " ".join(x for x in (error.account_id, error.region) if x)
            line = f"  {error.source}" + (f":{error.line}" if error.line else "") + f" {error.code}"
            if where:
                line += f" ({where})"
            if error.message:
                line += f": {one_line(error.message, 200)}"
            console.print(plain(line))
        if len(errors) > MAX_ERRORS_SHOWN:
            console.print(Text(f"  … and {len(errors) - MAX_ERRORS_SHOWN} more", style="dim"))

    wanted = {Status.FAIL} | ({Status.PASS} if show_passed else set())
    shown = [f for f in ordered(result.findings) if f.status in wanted]
    for severity in SEVERITY_ORDER:
        group = [f for f in shown if f.severity is severity]
        if group and console.width < NARROW:
            _print_findings_list(console, severity, group)
        elif group:
            console.print(_findings_table(severity, group))
    accepted = [f for f in ordered(result.findings) if f.status in (Status.EXCEPTED, Status.SUPPRESSED)]
    if accepted:
        console.print(_accepted_table(accepted))
    if not any(f.status is Status.FAIL for f in result.findings):
        console.print(Text("No failing findings.", style="bold green"))


def _accepted_table(findings: list[Finding]) -> Table:
    shared = shared_names(findings)
    """Excepted and suppressed findings with who approved them and until when (docs/exceptions.md)."""
    table = Table(
        title=f"Excepted: {len(findings)}", title_justify="left", title_style="cyan", header_style="bold"
    )
    table.add_column("Status")
    table.add_column("Control", no_wrap=True)
    table.add_column("Resource", overflow="fold")
    table.add_column("Approval", overflow="fold")
    for f in findings:
        table.add_row(
            Text(f.status.value, style=STATUS_STYLE[f.status]),
            plain(f.control_id),
            plain(one_line(resource_label(f, shared), 120)),
            plain(one_line(exception_note(f), 200)),
        )
    return table


NARROW = 120  # below this (80-column CI logs) a six-column table folds reasons one word per line


def _print_findings_list(console: Console, severity: Severity, findings: list[Finding]) -> None:
    shared = shared_names(findings)
    """Narrow terminals: one head line per finding, where and reason on their own lines below."""
    failing = sum(1 for f in findings if f.status is Status.FAIL)
    console.print(Text(f"{severity.label}: {failing} failing", style=SEVERITY_STYLE[severity]))
    for f in findings:
        head = Text()
        head.append(f.status.value, style=STATUS_STYLE[f.status])
        head.append(f"  {f.control_id}  {one_line(resource_label(f, shared), 120)}")
        if f.due_date:
            head.append(f"  due {f.due_date.isoformat()}")
        if f.overdue:
            head.append(" OVERDUE", style="bold red")
        console.print(head, soft_wrap=True, highlight=False)
        console.print(Text(f"    {location(f)}", style="dim"), soft_wrap=True, highlight=False)
        console.print(Text(f"    {one_line(f.reason, 300)}"), highlight=False)


def _findings_table(severity: Severity, findings: list[Finding]) -> Table:
    shared = shared_names(findings)
    failing = sum(1 for f in findings if f.status is Status.FAIL)
    table = Table(
        title=f"{severity.label}: {failing} failing",
        title_justify="left",
        title_style=SEVERITY_STYLE[severity],
        header_style="bold",
        show_lines=False,
    )
    table.add_column("Status")
    table.add_column("Control")
    table.add_column("Resource", overflow="fold")
    table.add_column("Where", overflow="fold")
    table.add_column("Reason", overflow="fold")
    table.add_column("Due")
    for f in findings:
        due = Text(f.due_date.isoformat() if f.due_date else "")
        if f.overdue:
            due = Text(f"OVERDUE {due.plain}", style="bold red")
        table.add_row(
            Text(f.status.value, style=STATUS_STYLE[f.status]),
            plain(f.control_id),
            plain(one_line(resource_label(f, shared), 120)),
            plain(location(f)),
            plain(one_line(f.reason, 300)),
            due,
        )
    return table
