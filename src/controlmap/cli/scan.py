"""``controlmap scan``: the scan commands. ``scan aws`` reads a live account, read-only.

Every scan command ends the same way (:func:`finish_scan`): apply approved exceptions, record
the scan in the history store, render it, and turn it into an exit code. Other modules add their
own subcommands to :data:`scan_app` (``scan iac``, ``scan config``) and reuse that function.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import controlmap
from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import Control, Severity
from controlmap.checks.registry import Inventory, Status
from controlmap.cli.catalog import load_cli_catalog
from controlmap.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    console,
    err_console,
    fail_on_file_error,
    print_error,
    print_settings_source,
    print_warning,
)
from controlmap.findings.evaluate import evaluate
from controlmap.findings.model import ScanError, ScanResult
from controlmap.interrupts import stop_on_termination
from controlmap.resources.base import CollectionError
from controlmap.settings import Settings
from controlmap.yamlfile import FileError

T = TypeVar("T")

if TYPE_CHECKING:  # the live-scan modules pull in boto3: imported where used, so `scan iac` starts fast
    from controlmap.sources.aws.scanner import AwsScanOptions
    from controlmap.store import ScanRecorder

ORDER = 20

scan_app = typer.Typer(
    name="scan",
    help="Scan a live AWS account (read-only), infrastructure as code, or AWS Config data.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(scan_app, name="scan")


class FailOn(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"
    NONE = "none"


CONSOLE = "console"
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


# ---- the shared end of every scan ----------------------------------------------------------------


@dataclass
class FinishOptions:
    output: str = CONSOLE  # "console" or a controlmap.outputs format
    output_file: Path | None = None
    fail_on: FailOn = FailOn.INFORMATIONAL
    show_passed: bool = False
    store: bool = True
    db: str | None = None
    exceptions_file: Path | None = None


def failing_at_or_above(result: ScanResult, fail_on: FailOn) -> int:
    """How many findings FAIL at or above the threshold (EXCEPTED and SUPPRESSED do not count)."""
    if fail_on is FailOn.NONE:
        return 0
    threshold = Severity(fail_on.value).rank
    return sum(1 for f in result.findings if f.status is Status.FAIL and f.severity.rank >= threshold)


def exit_code(result: ScanResult, fail_on: FailOn) -> int:
    return EXIT_FINDINGS if failing_at_or_above(result, fail_on) else EXIT_OK


def apply_approved_exceptions(result: ScanResult, settings: Settings, explicit: Path | None) -> ScanResult:
    from controlmap.exceptions import apply_exceptions, find_exceptions_file, load_exceptions

    path = find_exceptions_file(explicit, settings)
    if path is None:
        return result
    try:
        entries = load_exceptions(path)
    except FileError as exc:
        fail_on_file_error(exc)
        raise
    return apply_exceptions(result, entries, datetime.now(UTC).date())  # the day validate and report use


def record_in_store(
    result: ScanResult, settings: Settings, db: str | None, recorder: ScanRecorder | None = None
) -> ScanResult:
    from controlmap.store import StoreError, record_scan

    try:
        if recorder is not None:
            return recorder.record(result)
        return record_scan(result, db, settings)
    except StoreError as exc:
        print_warning(f"the scan was not recorded in the history store: {exc}")
        return result


@contextmanager
def recording(options: FinishOptions, settings: Settings, kind: str) -> Iterator[ScanRecorder | None]:
    """Open the scan's history record before collecting, so that Ctrl-C, SIGTERM/SIGHUP or a
    crash mid-scan leaves it marked incomplete (and every earlier scan intact). None when not
    storing."""
    if not options.store:
        yield None
        return
    from controlmap.store import StoreError, scan_session

    try:
        session = scan_session(options.db, settings, kind=kind)
        recorder = session.__enter__()
    except StoreError as exc:
        print_warning(f"the scan will not be recorded in the history store: {exc}")
        options.store = False  # said once; finish_scan must not try (and warn) again
        yield None
        return
    try:
        with stop_on_termination():  # `kill`, a CI cancel or timeout: recorded as incomplete too
            yield recorder
    except BaseException as exc:
        if not session.__exit__(*sys.exc_info()):
            if isinstance(exc, KeyboardInterrupt) and not recorder.recorded:
                # Typer turns Ctrl-C into a silent exit 130: say what became of the scan.
                print_error(
                    f"interrupted: scan {recorder.scan_id} is recorded as incomplete; earlier scans intact"
                )
            raise
    else:
        session.__exit__(None, None, None)


def write_output(result: ScanResult, options: FinishOptions, catalog: Catalog | None) -> None:
    from controlmap.outputs import render_console

    if options.output == CONSOLE:
        render_console(result, console, show_passed=options.show_passed)
        if options.output_file is not None:
            _write(options.output_file, _render(result, _format_for(options.output_file), catalog))
        return
    text = _render(result, options.output, catalog)
    if options.output_file is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    _write(options.output_file, text)
    failing = sum(1 for f in result.findings if f.status is Status.FAIL)
    err_console.print(
        f"wrote {len(result.findings)} findings ({failing} failing) to {options.output_file}",
        highlight=False,
        markup=False,
    )


def _render(result: ScanResult, fmt: str, catalog: Catalog | None) -> str:
    """Render a machine format; a format that cannot hold this scan is an input error, not a crash."""
    from controlmap.outputs import AsffError, render

    try:
        return render(result, fmt, catalog=catalog)
    except AsffError as exc:
        print_error(f"cannot write {fmt}: {exc}")
        raise typer.Exit(EXIT_USAGE) from None


def _format_for(path: Path) -> str:
    """With console output, --output-file takes its format from the file name (JSON by default)."""
    from controlmap.outputs import EXTENSIONS

    name = path.name.lower()
    for fmt, ext in sorted(EXTENSIONS.items(), key=lambda item: -len(item[1])):
        if name.endswith(ext):
            return fmt
    return "json"


def check_output_file(path: Path | None) -> None:
    """Refuse an --output-file that cannot be written *before* a long scan, not after it: a
    directory, or a place under a file or an unwritable directory (missing folders are made)."""
    if path is None:
        return
    if path.is_dir():
        raise _usage(f"cannot write {path}: it is a directory")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise _usage(f"cannot write {path}: {parent} is not a directory")
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        raise _usage(f"cannot write {path}: permission denied")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print_error(f"cannot write {path}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_USAGE) from None


def finish_scan(
    result: ScanResult,
    settings: Settings,
    options: FinishOptions,
    catalog: Catalog | None = None,
    recorder: ScanRecorder | None = None,
) -> int:
    """Exceptions -> store -> render -> exit code. Every scan command ends here."""
    result = apply_approved_exceptions(result, settings, options.exceptions_file)
    if options.store:
        result = record_in_store(result, settings, options.db, recorder)
    write_output(result, options, catalog)
    return exit_code(result, options.fail_on)


# ---- the live scan ------------------------------------------------------------------------------


def scan_errors(inventory: Inventory) -> list[ScanError]:
    """Every failed read: whole listings and single facts, each once."""
    seen: set[tuple[Any, ...]] = set()
    out: list[ScanError] = []
    errors: list[CollectionError] = list(inventory.errors)
    for resource in inventory.all():
        errors += list(resource.errors.values())
    for error in errors:
        key = (error.service, error.operation, error.code, error.region, error.resource_id)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            ScanError(
                source=f"{error.service}:{error.operation}",
                code=error.code,
                message=error.message.splitlines()[0][:300] if error.message else "",
                region=error.region,
                account_id=error.account_id,
                resource_id=error.resource_id,
            )
        )
    return out


def run_live_scan(
    options: AwsScanOptions,
    controls: Sequence[Control],
    catalog: Catalog,
    settings: Settings,
    progress: Callable[[str, int, int], None] | None = None,
) -> ScanResult:
    """Collect, evaluate and wrap a live scan in a ScanResult (no exceptions, store or output yet)."""
    from controlmap.sources.aws.scanner import run_aws_scan

    started = datetime.now(UTC)
    outcome = run_aws_scan(options, controls, settings, progress)
    findings = evaluate(catalog, outcome.inventory, settings, controls=controls)
    return ScanResult(
        tool_version=controlmap.__version__,
        kind="aws",
        started_at=started,
        finished_at=datetime.now(UTC),
        accounts=[outcome.account_id],
        regions=outcome.regions,
        services=sorted({c.service for c in controls}),
        sources=["aws"],
        api_calls=outcome.factory.counter.snapshot(),
        errors=scan_errors(outcome.inventory),
        resource_count=len(outcome.inventory),
        findings=findings,
    )


def collect_with_progress(run: Callable[[Callable[[str, int, int], None] | None], T]) -> T:
    """Run a scan (or a collection) showing a Rich progress bar on stderr (when it is a terminal)."""
    if not err_console.is_terminal:
        return run(None)
    with Progress(
        TextColumn("[bold]collecting[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def update(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        return run(update)


def select_controls(catalog: Catalog, services: Sequence[str], control_ids: Sequence[str]) -> list[Control]:
    known_services = {c.service for c in catalog.ordered()}
    unknown_services = [s for s in services if s.lower() not in known_services]
    if unknown_services:
        raise _usage(
            f"unknown service(s): {', '.join(unknown_services)} (known: {', '.join(sorted(known_services))})"
        )
    unknown_ids = [i for i in control_ids if catalog.get(i) is None]
    if unknown_ids:
        raise _usage(f"unknown control ID(s): {', '.join(unknown_ids)} (see `controlmap catalog list`)")
    controls = catalog.filter(services=services, ids=control_ids)
    if not controls:
        raise _usage("no control matches --services and --controls together")
    return controls


def _usage(message: str) -> typer.Exit:
    print_error(message)
    return typer.Exit(EXIT_USAGE)


def split_list(values: Sequence[str] | None) -> list[str]:
    """Options given as comma lists, repeated, or both."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def refuse_empty_lists(**options: Sequence[str] | None) -> None:
    """``--regions ""`` (an unset shell variable) is a mistake, not a request for the default:
    scanning every region or control instead would be a surprise."""
    for name, values in options.items():
        if values is not None and not split_list(values):
            raise _usage(f"--{name} is empty; leave it out for the default or name at least one")


def parse_regions(values: Sequence[str] | None) -> list[str] | None:
    regions = split_list(values)
    if not regions or any(r.lower() == "all" for r in regions):
        return None
    bad = [r for r in regions if not REGION_RE.fullmatch(r)]
    if bad:
        raise _usage(f"not a region name: {', '.join(bad)} (e.g. us-east-1,eu-west-1 or all)")
    return regions


def output_format(value: str) -> str:
    from controlmap.outputs import FORMATS

    fmt = value.lower()
    if fmt != CONSOLE and fmt not in FORMATS:
        raise _usage(f"unknown --output {value!r}; choose console or one of: {', '.join(FORMATS)}")
    return fmt


@scan_app.command("aws")
def scan_aws(
    profile: str | None = typer.Option(None, "--profile", help="AWS profile (SSO profiles included)."),
    role_arn: str | None = typer.Option(None, "--role-arn", help="Assume this role for the scan."),
    external_id: str | None = typer.Option(None, "--external-id", help="External ID for --role-arn."),
    regions: list[str] | None = typer.Option(
        None, "--regions", help="Comma list of regions, or 'all' (default: the account's enabled regions)."
    ),
    services: list[str] | None = typer.Option(None, "--services", help="Only these services (comma list)."),
    controls: list[str] | None = typer.Option(
        None, "--controls", help="Only these control IDs (comma list)."
    ),
    output: str = typer.Option(
        CONSOLE, "--output", "-o", help="console, json, csv, sarif, junit, markdown, asff, ocsf, html."
    ),
    output_file: Path | None = typer.Option(
        None, "--output-file", help="Write the output here instead of stdout."
    ),
    fail_on: FailOn = typer.Option(
        FailOn.INFORMATIONAL,
        "--fail-on",
        help="Exit 1 if a finding of this severity or higher fails ('none': never).",
    ),
    show_passed: bool = typer.Option(False, "--show-passed", help="List passing findings too (console)."),
    catalog_dirs: list[Path] | None = typer.Option(
        None, "--catalog", help="Extra catalog files or directories."
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", help="Settings file (default ./controlmap.yaml)."
    ),
    db: str | None = typer.Option(
        None, "--db", help="History database URL (default: the user data directory)."
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the scan in the history store."),
    exceptions_file: Path | None = typer.Option(None, "--exceptions", help="Approved exceptions file."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, max=64, help="Collectors running at once."),
) -> None:
    """Scan a live AWS account, read-only, against the catalog's controls."""
    fmt = output_format(output)
    check_output_file(output_file)
    refuse_empty_lists(regions=regions, services=services, controls=controls)
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    print_settings_source(settings_file, settings.source_path)
    selected = select_controls(catalog, split_list(services), split_list(controls))
    from controlmap.sources.aws.scanner import AwsScanOptions
    from controlmap.sources.aws.session import SessionOptions

    options = AwsScanOptions(
        session=SessionOptions(profile=profile, role_arn=role_arn, external_id=external_id),
        regions=parse_regions(regions),
        concurrency=concurrency,
        detail_concurrency=max(4, concurrency * 2),
    )
    finish = FinishOptions(
        output=fmt,
        output_file=output_file,
        fail_on=fail_on,
        show_passed=show_passed,
        store=not no_store,
        db=db,
        exceptions_file=exceptions_file,
    )
    with recording(finish, settings, "aws") as recorder:
        result = live_scan_or_exit(options, selected, catalog, settings)
        code = finish_scan(result, settings, finish, catalog, recorder)
    raise typer.Exit(code)


def live_scan_or_exit(
    options: AwsScanOptions, controls: Sequence[Control], catalog: Catalog, settings: Settings
) -> ScanResult:
    """Run the live scan; credential and input problems exit 2 with a message, never a traceback."""
    from controlmap.sources.aws.clients import EndpointConfigError, ReadOnlyViolation
    from controlmap.sources.aws.session import SessionError

    try:
        return collect_with_progress(
            lambda progress: run_live_scan(options, controls, catalog, settings, progress)
        )
    except (SessionError, EndpointConfigError) as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except ReadOnlyViolation as exc:  # a bug in a collector: refuse loudly, change nothing
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
