"""``controlmap scans``, ``controlmap diff`` and ``controlmap findings``: the scan history.

Also holds the options and loaders the report and exceptions commands share (``--db``,
``--settings``), so every history command opens the store the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from controlmap.catalog.catalog import load_catalog
from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    OutputFormat,
    console,
    emit,
    fail_on_file_error,
    print_error,
    print_warning,
    render_rows,
)
from controlmap.findings.model import Finding
from controlmap.outputs.common import exception_note, location, md_code, md_text, ordered
from controlmap.settings import Settings, load_settings
from controlmap.store import Store, StoreEmpty, StoreError, describe_url, open_store, resolve_url
from controlmap.store.db import database_error
from controlmap.store.diff import Diff, diff_scans
from controlmap.store.models import ScanRow
from controlmap.store.queries import latest_findings, list_scans
from controlmap.store.recorder import aware
from controlmap.yamlfile import FileError

ORDER = 40

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///path or postgresql+psycopg://user@host/db). "
        "Default: $CONTROLMAP_DB, the settings file's `db:`, else a file in the user data directory.",
        show_default=False,
    ),
]
SettingsOpt = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="Settings file (default: $CONTROLMAP_SETTINGS or ./controlmap.yaml).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


def cli_settings(path: Path | None) -> Settings:
    try:
        return load_settings(path)
    except FileError as exc:
        fail_on_file_error(exc)
        raise  # unreachable


def warn_if_partial(row: ScanRow) -> None:
    """A scan that did not finish did not look at everything: what it lacks is not resolved."""
    if row.state != "complete":
        state = "running or killed" if row.state == "running" else row.state
        print_warning(f"scan {row.id} is {state} ({row.note or 'no note'}): its findings are partial")


class _NoScansYet(Exception):
    """The database exists but holds no controlmap tables (``scans`` lists nothing, exit 0)."""

    def __init__(self, where: str):
        super().__init__(where)
        self.where = where


@contextmanager
def cli_store(db: str | None, settings: Settings, *, allow_empty: bool = False) -> Iterator[Store]:
    """Open the store read-only or exit 2 with a message naming the database (password hidden).

    History commands never create a database: a missing SQLite file or an empty database is an
    error telling the user to scan first or check ``--db``.
    """
    try:
        store = open_store(db, settings, create=False)
    except StoreEmpty as exc:
        if allow_empty:
            raise _NoScansYet(describe_url(resolve_url(db, settings))) from None
        print_error(f"{exc}; run a scan first or check --db")
        raise typer.Exit(EXIT_USAGE) from None
    except StoreError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    try:
        yield store
    except StoreError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except SQLAlchemyError as exc:  # a damaged file whose schema pages still read
        print_error(str(database_error(store.url, exc)))
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    app.command("scans", help="List recorded scans, newest first.")(scans_command)
    app.command("diff", help="New, resolved and still-failing findings between two scans.")(diff_command)
    app.command("findings", help="The latest state of every finding, filtered.")(findings_command)


# ---- scans ---------------------------------------------------------------------------------------


def _scan_row(row: ScanRow) -> dict[str, Any]:
    decided = row.pass_count + row.fail_count
    duration = (aware(row.finished_at) - aware(row.started_at)).total_seconds() if row.finished_at else None
    return {
        "scan": row.id,
        "started": aware(row.started_at).strftime("%Y-%m-%d %H:%M:%S"),
        "kind": row.kind,
        "state": row.state if row.state != "running" else "running/interrupted",
        "scope": ", ".join(row.accounts or row.sources) or "-",
        "regions": ", ".join(row.regions or []),
        "services": ", ".join(row.services or []),
        "findings": row.finding_count,
        "fail": row.fail_count,
        "pass_rate": f"{100.0 * row.pass_count / decided:.1f}%" if decided else "-",
        "duration_s": round(duration, 1) if duration is not None and duration >= 0 else None,
        "api_calls": sum(int(v) for v in (row.api_calls or {}).values()),
        "errors": len(row.errors or []),
        "note": row.note,
    }


SCAN_KINDS = ("aws", "iac", "aws-config")
TABLE_COLUMNS = ("scan", "started", "kind", "state", "scope", "findings", "fail", "pass_rate", "duration_s")


def scans_command(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many scans to list.", min=1)] = 20,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only scans of this kind: aws, iac, aws-config.")
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
    db: DbOpt = None,
    settings_file: SettingsOpt = None,
) -> None:
    settings = cli_settings(settings_file)
    if kind is not None and kind not in SCAN_KINDS:
        print_error(f"unknown --kind {kind!r}; choose one of: {', '.join(SCAN_KINDS)}")
        raise typer.Exit(EXIT_USAGE)
    try:
        with cli_store(db, settings, allow_empty=True) as store:
            rows = [_scan_row(r) for r in list_scans(store, limit=limit, kind=kind)]
        where = describe_url(store.url)
    except _NoScansYet as empty:
        rows, where = [], empty.where
    if not rows and fmt is OutputFormat.TABLE:
        what = f"No {kind} scans" if kind else "No scans"
        console.print(f"{what} recorded in {where} yet.", highlight=False)
        return
    if fmt is OutputFormat.TABLE:
        if console.width < NARROW:
            _print_scans(rows)
        else:
            console.print(_scans_table(rows))
        return
    emit(render_rows(rows, fmt, title="Scans"))  # machine formats get every column, IDs whole


NARROW = 120  # below this (80-column CI logs) nine columns fold to a few letters each


def _print_scans(rows: Sequence[dict[str, Any]]) -> None:
    """One scan per block: ID, time, kind, state and counts on the head line, what was scanned
    below it; the scan ID (what `diff` and `report` take) is never cut."""
    console.print(Text("Scans", style="bold"))
    for r in rows:
        head = Text(f"{r['scan']}  {r['started']}  {r['kind']}  ")
        head.append(str(r["state"]), style="green" if r["state"] == "complete" else "bold red")
        head.append(f"  {r['findings']} findings, {r['fail']} fail, pass rate {r['pass_rate']}")
        if r["duration_s"] is not None:
            head.append(f", {r['duration_s']} s")
        console.print(head, soft_wrap=True, highlight=False)
        scope = " · ".join(str(r[k]) for k in ("scope", "regions", "services") if r[k])
        details = [scope] + ([str(r["note"])] if r["note"] else [])
        console.print(Text("    " + " · ".join(details), style="dim"), soft_wrap=True, highlight=False)


def _scans_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The terminal table keeps what fits; the scan ID (what `diff` and `report` take) never folds
    or truncates, whatever the width: the other columns wrap instead."""
    table = Table(title="Scans", title_justify="left", header_style="bold")
    for column in TABLE_COLUMNS:
        if column in ("scan", "started"):
            table.add_column(column, no_wrap=True, overflow="ignore")
        elif column in ("findings", "fail", "pass_rate", "duration_s"):
            table.add_column(column, justify="right")
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if row[c] is None else str(row[c])) for c in TABLE_COLUMNS))
    return table


# ---- diff ----------------------------------------------------------------------------------------


class DiffFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


def _now(diff: Diff, finding: Finding, reopened: set[str]) -> str:
    """What became of a finding, in a word: the NEW status, ``gone``, or ``reopened``."""
    if finding.key in diff.gone:
        return "gone"
    if finding.key in reopened:
        return "reopened"
    note = exception_note(finding)
    return f"{finding.status.value} ({note})" if note else finding.status.value


def _diff_sections(diff: Diff) -> list[tuple[str, list[Finding], str]]:
    return [
        ("New failures", diff.new_failures, "bold red"),
        ("Resolved", diff.resolved, "bold green"),
        ("Accepted (now excepted, not fixed)", diff.accepted, "cyan"),
        ("Undetermined (no verdict in the newer scan)", diff.undetermined, "magenta"),
        ("Still failing", diff.still_failing, "yellow"),
    ]


def _diff_summary(diff: Diff) -> str:
    parts = [
        f"{len(diff.new_failures)} new" + (f" ({len(diff.reopened)} reopened)" if diff.reopened else ""),
        f"{len(diff.resolved)} resolved",
        f"{len(diff.still_failing)} still failing",
    ]
    parts += [
        f"{len(found)} {label}"
        for label, found in (
            ("accepted", diff.accepted),
            ("undetermined", diff.undetermined),
            ("not compared", diff.not_compared),
        )
        if found
    ]
    return ", ".join(parts)


def _diff_table(title: str, findings: Sequence[Finding], style: str, diff: Diff, reopened: set[str]) -> Table:
    table = Table(
        title=f"{title} ({len(findings)})", title_justify="left", title_style=style, header_style="bold"
    )
    for column in ("Severity", "Control", "Resource", "Where", "Now", "Reason"):
        table.add_column(column, overflow="fold")
    for f in ordered(findings):
        table.add_row(
            Text(f.severity.label),
            Text(f.control_id),
            Text(f.resource_name),
            Text(location(f)),
            Text(_now(diff, f, reopened)),
            Text(f.reason),
        )
    return table


def _diff_markdown(diff: Diff) -> str:
    lines = [f"### controlmap diff: {diff.old.id} → {diff.new.id}", "", f"**{_diff_summary(diff)}**."]
    note = diff.scope_note()
    if note:
        lines += ["", f"> {md_text(note)}"]
    reopened = {f.key for f in diff.reopened}
    for title, findings, _style in _diff_sections(diff)[:4]:
        if findings:
            lines += [
                "",
                f"#### {title}",
                "",
                "| Severity | Control | Resource | Now | Reason |",
                "|---|---|---|---|---|",
            ]
            for f in ordered(findings):
                lines.append(
                    f"| {f.severity.label} | {md_text(f.control_id)} | {md_code(f.resource_name)} "
                    f"| {md_text(_now(diff, f, reopened))} | {md_text(f.reason)} |"
                )
    return "\n".join(lines) + "\n"


def diff_command(
    old: Annotated[
        str | None, typer.Argument(help="Older scan ID (default: the scan before NEW of the same scope).")
    ] = None,
    new: Annotated[
        str | None, typer.Argument(help="Newer scan ID (default: the latest complete scan).")
    ] = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", case_sensitive=False)] = DiffFormat.TABLE,
    fail_on_new: Annotated[
        bool, typer.Option("--fail-on-new", help="Exit 1 when NEW has failures OLD did not.")
    ] = False,
    db: DbOpt = None,
    settings_file: SettingsOpt = None,
) -> None:
    settings = cli_settings(settings_file)
    with cli_store(db, settings) as store:
        diff = diff_scans(store, old, new)
    if diff.swapped:
        print_warning(
            f"scan {diff.new.id} is newer than {diff.old.id}: comparing {diff.old.id} → {diff.new.id} "
            "(usage: controlmap diff OLD NEW)"
        )
    for row in (diff.old, diff.new):
        warn_if_partial(row)
    note = diff.scope_note()
    if note and fmt is not DiffFormat.MARKDOWN:
        print_warning(note)
    if fmt is DiffFormat.JSON:
        emit(json.dumps(diff.to_json(), indent=2, ensure_ascii=False))
    elif fmt is DiffFormat.MARKDOWN:
        emit(_diff_markdown(diff))
    else:
        console.print(
            Text(
                f"{diff.old.id} ({aware(diff.old.started_at):%Y-%m-%d %H:%M}) → "
                f"{diff.new.id} ({aware(diff.new.started_at):%Y-%m-%d %H:%M}): {_diff_summary(diff)}",
                style="bold",
            )
        )
        reopened = {f.key for f in diff.reopened}
        for title, findings, style in _diff_sections(diff):
            if findings:
                console.print(_diff_table(title, findings, style, diff, reopened))
    if fail_on_new and diff.new_failures:
        raise typer.Exit(EXIT_FINDINGS)


# ---- findings ------------------------------------------------------------------------------------

FINDING_COLUMNS = (
    "status",
    "severity",
    "control",
    "resource",
    "where",
    "first_seen",
    "due",
    "overdue",
    "reopened",
    "scan",
    "exception",
    "approved_by",
    "expires",
)


def _check_known(services: Sequence[str], controls: Sequence[str]) -> None:
    """A mistyped --service or --control is an error naming the known values, not an empty list."""
    if not services and not controls:
        return
    try:
        catalog = load_catalog()
    except FileError:
        return  # the catalog's own problems are `controlmap catalog lint`'s business
    known_services = {s.lower() for s in catalog.services} | {
        c.service.lower() for c in catalog.controls.values()
    }
    bad = sorted({s for s in services if s.lower() not in known_services})
    if bad:
        print_error(f"unknown service {', '.join(bad)}; known: {', '.join(sorted(known_services))}")
        raise typer.Exit(EXIT_USAGE)
    known_controls = {c.upper() for c in catalog.controls}
    bad = sorted({c for c in controls if c.upper() not in known_controls})
    if bad:
        print_error(f"unknown control {', '.join(bad)}; known: {', '.join(sorted(known_controls))}")
        raise typer.Exit(EXIT_USAGE)


def findings_command(
    severity: Annotated[
        list[Severity] | None, typer.Option("--severity", help="Severity (repeatable).", case_sensitive=False)
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Service key, e.g. s3 (repeatable).")
    ] = None,
    control: Annotated[
        list[str] | None, typer.Option("--control", "-c", help="Control ID (repeatable).")
    ] = None,
    status: Annotated[
        list[Status] | None,
        typer.Option("--status", help="Status (repeatable). Default: FAIL.", case_sensitive=False),
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="AWS account ID (repeatable).")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only failing findings past their due date.")
    ] = False,
    all_statuses: Annotated[bool, typer.Option("--all", help="Every status, not just FAIL.")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
    db: DbOpt = None,
    settings_file: SettingsOpt = None,
) -> None:
    settings = cli_settings(settings_file)
    _check_known(service or [], control or [])
    statuses = [s.value for s in status or []] or ([] if all_statuses else [Status.FAIL.value])
    with cli_store(db, settings) as store:
        states = latest_findings(
            store,
            severities=[s.value for s in severity or []],
            services=service or [],
            controls=control or [],
            statuses=statuses,
            accounts=account or [],
            overdue=overdue,
        )
    states.sort(key=lambda s: (s.finding.due_date is None, s.finding.due_date, -s.finding.severity.rank))
    if fmt is OutputFormat.JSON:
        emit(json.dumps([s.to_json() for s in states], indent=2, ensure_ascii=False))
        return
    table = fmt is OutputFormat.TABLE
    rows = [
        {
            "status": s.finding.status.value,
            "severity": s.finding.severity.value,
            "control": s.finding.control_id,
            "resource": s.finding.resource_name,
            "resource_id": s.finding.resource_id,
            "where": location(s.finding),
            "first_seen": s.finding.first_seen.date().isoformat() if s.finding.first_seen else "",
            "due": s.finding.due_date.isoformat() if s.finding.due_date else "",
            # Words for people, booleans and counts for YAML/CSV/Markdown readers.
            "overdue": ("OVERDUE" if s.finding.overdue else "") if table else bool(s.finding.overdue),
            "reopened": (s.reopened or "") if table else s.reopened,
            "scan": s.scan_id,
            **_approval(s.finding),
            "reason": s.finding.reason,
        }
        for s in states
    ]
    if not rows and table:
        console.print("No findings match.", highlight=False)
        return
    if table:
        _print_findings(rows)
        return
    # A work list needs the ARN (every VPC's security group is called "default") and the reason.
    columns = (*FINDING_COLUMNS, "reason") + (("resource_id",) if fmt is OutputFormat.CSV else ())
    emit(render_rows(rows, fmt, columns=columns, title=f"Findings ({len(rows)})"))


def _print_findings(rows: Sequence[dict[str, Any]]) -> None:
    """One finding per block: a head line, then where, the approval and the scan indented below.

    A thirteen-column table is unreadable at 80 columns (CI logs have no TTY): every cell folds
    to a word or an ellipsis. Lines that wrap whole stay readable at any width.
    """
    console.print(Text(f"Findings ({len(rows)})", style="bold"))
    for r in rows:
        head = Text()
        head.append(f"{r['status']:<9}", style=_STATUS_STYLE.get(r["status"], ""))
        head.append(f" {r['severity']:<8} {r['control']:<10} ")
        head.append(str(r["resource"]))
        if r["due"]:
            head.append(f"  due {r['due']}")
        if r["overdue"]:
            head.append(" OVERDUE", style="bold red")
        console.print(head, soft_wrap=True, highlight=False)
        details = [str(r["where"])] if r["where"] else []
        if r["exception"]:
            approval = str(r["exception"])
            if r["approved_by"]:
                approval += f" approved by {r['approved_by']}, expires {r['expires']}"
            details.append(approval)
        if r["reopened"]:
            details.append(f"reopened {r['reopened']}x")
        details.append(f"first seen {r['first_seen'] or '-'} · scan {r['scan']}")
        console.print(Text("    " + " · ".join(details), style="dim"), soft_wrap=True, highlight=False)


_STATUS_STYLE = {
    "FAIL": "bold red",
    "PASS": "green",
    "EXCEPTED": "cyan",
    "SUPPRESSED": "cyan",
    "ERROR": "magenta",
}


def _approval(finding: Finding) -> dict[str, str]:
    """Which exception accepted the finding, who approved it and until when (docs/exceptions.md)."""
    approval = finding.exception or {}
    if approval.get("kind") == "approved":
        name = approval.get("id") or approval.get("control") or approval.get("check") or "exception"
        return {
            "exception": str(name),
            "approved_by": str(approval.get("approved_by") or ""),
            "expires": str(approval.get("expires") or ""),
        }
    if approval.get("kind") == "inline":
        return {"exception": "inline suppression", "approved_by": "", "expires": ""}
    return {"exception": str(approval.get("kind") or ""), "approved_by": "", "expires": ""}
