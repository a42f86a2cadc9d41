"""``controlmap scan iac PATH...``: check CloudFormation/SAM templates, Terraform and plans before deploy.

Exit codes: 0 nothing fails at or above ``--fail-on``; 1 something does; 2 usage errors or files
that could not be scanned (the other files are still scanned and reported). ``--soft-fail``
always exits 0 once the options (and paths) are valid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

import controlmap
from controlmap.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    console,
    err_console,
    print_error,
    print_settings_source,
)
from controlmap.cli.scan import (
    CONSOLE,
    FailOn,
    FinishOptions,
    apply_approved_exceptions,
    exit_code,
    output_format,
    record_in_store,
    scan_app,
    select_controls,
    split_list,
    write_output,
)
from controlmap.findings.model import ScanError, ScanResult
from controlmap.sources.iac.common import IacError

ORDER = 21
IAC_FORMATS = ("console", "json", "sarif", "junit", "markdown", "csv", "html")


def register(app: typer.Typer) -> None:
    """``scan iac`` lives on the ``scan`` group that cli/scan.py registers."""


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            print_error(f"{option} expects KEY=VALUE, got {value!r}")
            raise typer.Exit(EXIT_USAGE)
        out[key.strip()] = rest
    return out


@scan_app.command("iac")
def scan_iac_command(
    paths: list[Path] = typer.Argument(
        ..., help="Templates, Terraform directories, plan files or directory trees."
    ),
    framework: str | None = typer.Option(
        None, "--framework", help="Only this kind: cloudformation, terraform or terraform-plan."
    ),
    parameter: list[str] | None = typer.Option(
        None, "--parameter", "-p", help="CloudFormation parameter KEY=VALUE (repeatable; AWS::Region too)."
    ),
    parameters_file: Path | None = typer.Option(
        None,
        "--parameters-file",
        help="CloudFormation parameters: JSON list, {Parameters: {...}}, a YAML mapping or KEY=VALUE lines.",
    ),
    var_file: list[Path] | None = typer.Option(
        None, "--var-file", help="Terraform variables file (repeatable)."
    ),
    var: list[str] | None = typer.Option(None, "--var", help="Terraform variable NAME=VALUE (repeatable)."),
    output: str = typer.Option(
        CONSOLE, "--output", "-o", help="console, json, sarif, junit, markdown, csv or html."
    ),
    output_file: Path | None = typer.Option(
        None, "--output-file", help="Write the output here instead of stdout."
    ),
    fail_on: FailOn = typer.Option(
        FailOn.INFORMATIONAL,
        "--fail-on",
        help="Exit 1 if a finding of this severity or higher fails ('none': never).",
    ),
    soft_fail: bool = typer.Option(False, "--soft-fail", help="Report, but always exit 0."),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Report only failures not in this baseline."
    ),
    create_baseline: Path | None = typer.Option(
        None, "--create-baseline", help="Record today's failures here."
    ),
    controls: list[str] | None = typer.Option(
        None, "--controls", help="Only these control IDs (comma list)."
    ),
    services: list[str] | None = typer.Option(None, "--services", help="Only these services (comma list)."),
    show_passed: bool = typer.Option(False, "--show-passed", help="List passing findings too (console)."),
    no_fix: bool = typer.Option(False, "--no-fix", help="Console: do not print remediation snippets."),
    catalog_dirs: list[Path] | None = typer.Option(
        None, "--catalog", help="Extra catalog files or directories."
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", help="Settings file (default ./controlmap.yaml)."
    ),
    exceptions_file: Path | None = typer.Option(None, "--exceptions", help="Approved exceptions file."),
    store: bool = typer.Option(
        False,
        "--store/--no-store",
        help="Record the scan in the history store (off by default: pre-commit and CI runs keep no history).",
    ),
    db: str | None = typer.Option(None, "--db", help="History database URL (with --store)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64, help="Worker processes (default: automatic)."
    ),
) -> None:
    """Scan infrastructure as code against the catalog's controls, before anything is deployed."""
    from controlmap.cli.catalog import load_cli_catalog
    from controlmap.sources.iac.baseline import apply_baseline, read_baseline, write_baseline
    from controlmap.sources.iac.cloudformation.parameters import read_parameters_file
    from controlmap.sources.iac.discovery import Framework
    from controlmap.sources.iac.scan import IacOptions, scan_iac

    fmt = output_format(output)
    if fmt not in IAC_FORMATS:
        print_error(
            f"--output {output} is not available for IaC scans; choose one of: {', '.join(IAC_FORMATS)}"
        )
        raise typer.Exit(EXIT_USAGE)
    chosen: Framework | None = None
    if framework is not None:
        try:
            chosen = Framework(framework.lower())
        except ValueError:
            print_error(
                f"unknown --framework {framework!r}; choose cloudformation, terraform or terraform-plan"
            )
            raise typer.Exit(EXIT_USAGE) from None
    parameters: dict[str, str] = {}
    if parameters_file is not None:
        try:
            parameters.update(read_parameters_file(parameters_file))
        except IacError as exc:
            print_error(str(exc.problem(str(parameters_file))))
            raise typer.Exit(EXIT_USAGE) from None
    parameters.update(_pairs(parameter, "--parameter"))
    for path in var_file or []:
        if not path.is_file():
            print_error(f"--var-file {path}: no such file")
            raise typer.Exit(EXIT_USAGE)
    baseline_keys: set[str] | None = None
    if baseline is not None:
        try:
            baseline_keys = read_baseline(baseline)
        except IacError as exc:
            print_error(f"{baseline}: {exc.message}")
            raise typer.Exit(EXIT_USAGE) from None
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    print_settings_source(settings_file, settings.source_path)
    selected = select_controls(catalog, split_list(services), split_list(controls))
    options = IacOptions(
        framework=chosen,
        parameters=parameters,
        var_files=list(var_file or []),
        variables=_pairs(var, "--var"),
        workers=workers,
    )
    started = datetime.now(UTC)
    scan = scan_iac(paths, catalog, settings, controls=selected, options=options)
    if not scan.units and not scan.problems:
        err_console.print("no CloudFormation, SAM or Terraform found to scan", markup=False, highlight=False)
    result = ScanResult(
        tool_version=controlmap.__version__,
        kind="iac",
        started_at=started,
        finished_at=datetime.now(UTC),
        complete=not any(p.code != "suppression" for p in scan.problems),
        services=sorted({c.service for c in selected}),
        sources=scan.units,
        errors=[ScanError(source=p.file, code=p.code, message=p.message, line=p.line) for p in scan.problems],
        resource_count=scan.resource_count,
        findings=scan.findings,
    )
    if create_baseline is not None:
        try:
            count = write_baseline(create_baseline, result.findings)
        except IacError as exc:
            print_error(f"{create_baseline}: {exc.message}")
            raise typer.Exit(EXIT_USAGE) from None
        err_console.print(
            f"baseline: recorded {count} failing findings in {create_baseline}", markup=False, highlight=False
        )
    if baseline_keys is not None and baseline is not None:
        result = result.model_copy(
            update={"findings": apply_baseline(result.findings, baseline_keys, str(baseline))}
        )
    result = apply_approved_exceptions(result, settings, exceptions_file)
    if store:
        result = record_in_store(result, settings, db)
    if fmt == CONSOLE:
        from controlmap.cli.iac_console import render_iac_console

        render_iac_console(result, console, catalog, show_passed=show_passed, snippets=not no_fix)
        if output_file is not None:
            write_output(
                result, FinishOptions(output=_format_of(output_file), output_file=output_file), catalog
            )
    else:
        write_output(result, FinishOptions(output=fmt, output_file=output_file), catalog)
        # The machine format carries them too, but a CI log shows stderr: a missing path or an
        # unreadable file must be seen there, not only inside a JSON or SARIF file.
        for problem in scan.problems:
            print_error(str(problem))
    if any(p.code == "usage" for p in scan.problems):
        raise typer.Exit(EXIT_USAGE)  # a path that does not exist is a usage error, soft-fail or not
    if soft_fail:
        raise typer.Exit(EXIT_OK)
    code = exit_code(result, fail_on)
    if code == EXIT_OK and scan.problems:
        code = EXIT_USAGE
    raise typer.Exit(code)


def _format_of(path: Path) -> str:
    name = path.name.lower()
    for fmt, ext in (
        ("sarif", ".sarif"),
        ("junit", ".xml"),
        ("markdown", ".md"),
        ("csv", ".csv"),
        ("html", ".html"),
    ):
        if name.endswith(ext):
            return fmt
    return "json"
