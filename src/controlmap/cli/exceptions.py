"""``controlmap exceptions validate`` and ``controlmap exceptions list``: the approved exceptions file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from controlmap.catalog.catalog import load_catalog
from controlmap.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    OutputFormat,
    console,
    emit,
    err_console,
    print_error,
    render_rows,
)
from controlmap.cli.history import DbOpt, SettingsOpt, cli_settings
from controlmap.exceptions import (
    DEFAULT_FILE,
    ExceptionEntry,
    check_exceptions,
    find_exceptions_file,
    load_exceptions,
    review,
)
from controlmap.settings import Settings
from controlmap.store import StoreError, open_store
from controlmap.store.queries import latest_findings
from controlmap.yamlfile import FileError, FileProblem

ORDER = 50

exceptions_app = typer.Typer(
    name="exceptions",
    help="Check and list approved exceptions (exceptions.yaml).",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path | None,
    typer.Argument(
        help=f"Exceptions file (default: settings `exceptions_file:`, else ./{DEFAULT_FILE}).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(exceptions_app, name="exceptions")


def _locate(path: Path | None, settings: Settings) -> Path:
    found = find_exceptions_file(path, settings)
    if found is None:
        print_error(
            "no exceptions file: pass one, set `exceptions_file:` in controlmap.yaml, "
            f"or create ./{DEFAULT_FILE}"
        )
        raise typer.Exit(EXIT_USAGE)
    if not found.is_file():
        print_error(f"{found}: no such file")
        raise typer.Exit(EXIT_USAGE)
    return found


def _load(path: Path) -> list[ExceptionEntry]:
    try:
        return load_exceptions(path)
    except FileError as exc:
        for problem in exc.problems:
            _print_problem(problem)
        raise typer.Exit(EXIT_USAGE) from None


def _print_problem(problem: FileProblem) -> None:
    """``file:line: level: message`` on one line (editors and CI annotate from it), never wrapped."""
    style = {"error": "bold red", "warning": "yellow"}.get(problem.level, "dim")
    err_console.print(Text(str(problem), style=style), soft_wrap=True, highlight=False)


@exceptions_app.command("validate")
def validate_command(
    path: FileArg = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings (expired, over a year long) fail too.")
    ] = False,
    settings_file: SettingsOpt = None,
    db: DbOpt = None,
) -> None:
    """Check every entry: approver, dates, expiry, selector, known control (exit 1 on errors)."""
    settings = cli_settings(settings_file)
    found = _locate(path, settings)
    try:
        entries, schema_problems = check_exceptions(found)
    except FileError as exc:  # not YAML at all, or unreadable
        for problem in exc.problems:
            _print_problem(problem)
        raise typer.Exit(EXIT_FINDINGS) from None
    checks_of: dict[str, set[str]] | None
    try:
        checks_of = {c.id: set(c.checks) for c in load_catalog().controls.values()}
    except FileError:
        checks_of = None  # the catalog's own problems are `controlmap catalog lint`'s business
    today = datetime.now(UTC).date()
    known = set(checks_of) if checks_of else None
    problems = schema_problems + review(entries, today, known_controls=known, checks_of=checks_of or None)
    problems += _unmatched(entries, today, db, settings)
    problems.sort(key=lambda p: (p.line or 0, p.level != "error"))
    for problem in problems:
        _print_problem(problem)
    errors = [p for p in problems if p.level == "error"]
    warnings = [p for p in problems if p.level == "warning"]  # notes ("not checked") never fail
    if errors or (strict and warnings):
        raise typer.Exit(EXIT_FINDINGS)
    summary = f"{found}: {len(entries)} exception(s) valid" + (
        f", {len(warnings)} warning(s)" if warnings else ""
    )
    console.print(Text(summary), soft_wrap=True, highlight=False)


def _unmatched(
    entries: list[ExceptionEntry], today: date, db: str | None, settings: Settings
) -> list[FileProblem]:
    """Warn for active entries that cover no finding of the latest recorded scans (a stale entry or
    a typo in the selector); say so once when there is no history to check against."""
    active = [e for e in entries if not e.is_expired(today)]
    if not active:
        return []
    try:
        store = open_store(db, settings, create=False)
    except StoreError as exc:
        note = f"selectors not checked against a scan: {exc}"
        return [FileProblem(active[0].file or DEFAULT_FILE, None, note, "note", code="unchecked")]
    try:
        findings = [s.finding for s in latest_findings(store)]
    except (StoreError, SQLAlchemyError) as exc:
        note = f"selectors not checked against a scan: {exc}"
        return [FileProblem(active[0].file or DEFAULT_FILE, None, note, "note", code="unchecked")]
    finally:
        store.close()
    return [
        FileProblem(
            e.file or DEFAULT_FILE,
            e.line,
            f"{e.id or e.control or e.check}: matches no finding in the latest recorded scans "
            f"({len(findings)} findings); check the selector",
            "warning",
            code="unmatched",
        )
        for e in active
        if not any(e.covers(f) for f in findings)
    ]


@exceptions_app.command("list")
def list_command(
    path: FileArg = None,
    expired_only: Annotated[bool, typer.Option("--expired", help="Only expired entries.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", case_sensitive=False)] = OutputFormat.TABLE,
    settings_file: SettingsOpt = None,
) -> None:
    """Every exception with who approved it, until when, and whether it still applies."""
    settings = cli_settings(settings_file)
    entries = _load(_locate(path, settings))
    today = datetime.now(UTC).date()
    rows: list[dict[str, Any]] = []
    for e in entries:
        if expired_only and not e.is_expired(today):
            continue
        days = (e.expires - today).days
        state = (
            "expired" if e.is_expired(today) else (f"expires in {days} day(s)" if days <= 30 else "active")
        )
        selector = e.resources
        rows.append(
            {
                "id": e.id or "",
                "control": e.control or "",
                "check": e.check or "",
                "resources": "; ".join(
                    part
                    for part in (
                        f"arn={','.join(selector.arn)}" if selector.arn else "",
                        f"account={','.join(selector.account)}" if selector.account else "",
                        f"region={','.join(selector.region)}" if selector.region else "",
                        ",".join(f"tag:{k}={v}" for k, v in selector.tags.items()),
                    )
                    if part
                ),
                "approved_by": e.approved_by,
                "approved_on": e.approved_on.isoformat(),
                "expires": e.expires.isoformat(),
                "state": state,
                "ticket": e.ticket or "",
                "line": e.line,
            }
        )
    emit(render_rows(rows, fmt, title=f"Exceptions ({len(rows)})"))
