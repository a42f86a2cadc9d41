"""``controlmap report``: render a recorded scan (or a scan JSON file) in any output format."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from controlmap.catalog.catalog import Catalog, load_catalog
from controlmap.checks.registry import Status
from controlmap.cli.common import EXIT_USAGE, emit, err_console, print_error, print_warning
from controlmap.cli.history import DbOpt, SettingsOpt, cli_settings, cli_store, warn_if_partial
from controlmap.exceptions import (
    expired_matching,
    expired_summary,
    find_exceptions_file,
    load_exceptions,
    noticed,
)
from controlmap.findings.model import ScanResult
from controlmap.outputs import EXTENSIONS, AsffError, render
from controlmap.settings import Settings
from controlmap.store.queries import find_scan, latest_scans, load_result, trend
from controlmap.yamlfile import FileError

ORDER = 45


class ReportFormat(str, Enum):
    HTML = "html"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    SARIF = "sarif"
    ASFF = "asff"
    OCSF = "ocsf"


class FrameworkChoice(str, Enum):
    ISO27001 = "iso27001"
    SOC2 = "soc2"
    SEED = "seed"


def register(app: typer.Typer) -> None:
    app.command(
        "report",
        help="Render the latest (or a chosen) scan: HTML, JSON, CSV, Markdown, JUnit, SARIF, ASFF, OCSF.",
    )(report_command)


def _catalog(settings: Settings) -> Catalog | None:
    """The catalog gives framework titles and not-assessed requirements; the report works without it."""
    base = Path(settings.source_path).parent if settings.source_path else Path.cwd()
    extra = [p if p.is_absolute() else base / p for p in (Path(x) for x in settings.catalog)]
    try:
        return load_catalog(extra)
    except FileError as exc:
        for problem in exc.problems[:5]:
            print_warning(f"catalog not loaded, framework view shows mapped requirements only: {problem}")
        return None


def _read_json(path: Path) -> ScanResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print_error(f"{path}: cannot read scan JSON: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if not isinstance(data, dict):
        print_error(f"{path}: not a controlmap scan (expected a JSON object)")
        raise typer.Exit(EXIT_USAGE)
    data.pop("duration_seconds", None)
    data.pop("framework_view", None)
    for finding in data.get("findings") or []:
        if isinstance(finding, dict):
            finding.pop("finding_id", None)
    try:
        return ScanResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        print_error(
            f"{path}: not a controlmap scan: {where}: {first.get('msg')} ({exc.error_count()} problem(s))"
        )
        raise typer.Exit(EXIT_USAGE) from None


def _as_of(result: ScanResult, today: date) -> ScanResult:
    """Overdue judged on ``today`` (the latest scan of a scope is the current state)."""
    findings = [
        f.model_copy(
            update={"overdue": f.status is Status.FAIL and f.due_date is not None and today > f.due_date}
        )
        for f in result.findings
    ]
    return result.model_copy(update={"findings": findings})


def report_command(
    scan_id: Annotated[
        str | None, typer.Argument(help="Scan ID or unique prefix (default: the latest complete scan).")
    ] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = ReportFormat.HTML,
    framework: Annotated[
        FrameworkChoice | None,
        typer.Option("--framework", help="Framework view (html, json, csv, markdown).", case_sensitive=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            "--output-file",  # the scan commands' name for the same thing
            help="Write here. Default: stdout; HTML goes to controlmap-report-<scan>.html.",
        ),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", help="Render a scan JSON file (from --output json) instead of the store."
        ),
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="ASFF: account for findings without one (IaC).")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="ASFF: the Security Hub region to import into.")
    ] = None,
    include_passed: Annotated[
        bool, typer.Option("--include-passed", help="SARIF: list passing results too.")
    ] = False,
    db: DbOpt = None,
    settings_file: SettingsOpt = None,
) -> None:
    if output is not None and output.name.lower() in {f.value for f in ReportFormat} and not output.exists():
        # `scan ... --output json` names a format; here --output is a path, and a file named
        # "json" holding HTML is never what was meant.
        print_error(f"--output takes a file path; for the format use --format {output.name.lower()}")
        raise typer.Exit(EXIT_USAGE)
    settings = cli_settings(settings_file)
    options: dict[str, Any] = {"include_passed": include_passed, "account_id": account, "region": region}
    if framework is not None:
        options["framework"] = framework.value
    today = datetime.now(UTC).date()
    if input_file is not None:
        result = _read_json(input_file)
    else:
        with cli_store(db, settings) as store:
            row = find_scan(store, scan_id)
            warn_if_partial(row)
            result = load_result(store, row)
            if any(latest.id == row.id for latest in latest_scans(store)):
                result = _as_of(result, today)
            if fmt is ReportFormat.HTML:
                options["history"] = trend(store, row)
    if fmt is ReportFormat.HTML or framework is not None:
        options["catalog"] = _catalog(settings)
    if fmt is ReportFormat.HTML:
        options["expired_exceptions"] = _expired(result, settings, today)
    try:
        text = render(result, fmt.value, **options)
    except AsffError as exc:
        print_error(f"{exc} with --account")
        raise typer.Exit(EXIT_USAGE) from None
    except ValueError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    if output is None and fmt is ReportFormat.HTML:
        output = Path(f"controlmap-report-{result.scan_id or 'scan'}{EXTENSIONS['html']}")
    if output is None:
        emit(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print_error(f"cannot write {output}: {exc.strerror}")
        raise typer.Exit(EXIT_USAGE) from None
    err_console.print(
        f"wrote {output} ({fmt.value}, {len(result.findings)} findings)", highlight=False, markup=False
    )


def _expired(result: ScanResult, settings: Settings, today: date) -> list[dict[str, str]]:
    path = find_exceptions_file(None, settings)
    if path is None or not path.is_file():
        return []
    try:
        entries = load_exceptions(path)
    except FileError as exc:
        print_warning(f"exceptions file not used: {exc.problems[0]}")
        return []
    # The scan already reported the approvals that had lapsed when it ran (Scan details lists
    # them); list here only those that lapsed since, or the report names each one twice.
    lapsed = [e for e in expired_matching(result, entries, today) if not noticed(e, result)]
    return expired_summary(lapsed)
