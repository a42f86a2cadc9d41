"""``controlmap scan config``: check AWS Config data (files or the Config API) against the catalog.

Same checks and outputs as ``scan aws``; only the source differs. Facts AWS Config does not record
are UNKNOWN with the reason and the live scan to run. Exit codes: 0 nothing fails at or above
``--fail-on``; 1 something does; 2 usage errors, or input that could not be read (the readable
rest is still scanned and reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controlmap.cli.common import EXIT_OK, EXIT_USAGE, print_error, print_settings_source, print_warning
from controlmap.cli.scan import (
    CONSOLE,
    FailOn,
    FinishOptions,
    collect_with_progress,
    finish_scan,
    output_format,
    parse_regions,
    scan_app,
    select_controls,
    split_list,
)
from controlmap.findings.model import ScanResult

if TYPE_CHECKING:  # the scan group registers every subcommand: `scan iac` must not import boto3
    from controlmap.sources.config.items import ItemProblem
    from controlmap.sources.config.scan import ConfigData

ORDER = 22


def register(app: typer.Typer) -> None:
    """``scan config`` lives on the ``scan`` group that cli/scan.py registers."""


@scan_app.command("config")
def scan_config_command(
    files: list[Path] | None = typer.Argument(
        None,
        help="AWS Config snapshot/history files, batch-get-resource-config, get-resource-config-history or "
        "select-resource-config output (JSON, .gz allowed), or directories of them.",
    ),
    from_aws: bool = typer.Option(False, "--from-aws", help="Read the items from AWS Config (read-only)."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile (with --from-aws)."),
    role_arn: str | None = typer.Option(None, "--role-arn", help="Assume this role (with --from-aws)."),
    external_id: str | None = typer.Option(None, "--external-id", help="External ID for --role-arn."),
    regions: list[str] | None = typer.Option(
        None, "--regions", help="Comma list of regions, or 'all' (with --from-aws; default: enabled regions)."
    ),
    aggregator: str | None = typer.Option(
        None, "--aggregator", help="Read every account and region through this configuration aggregator."
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
) -> None:
    """Check AWS Config configuration items against the catalog's controls."""
    from controlmap.cli.catalog import load_cli_catalog
    from controlmap.sources.config.scan import config_types, read_files, run_config_scan

    fmt = output_format(output)
    if not files and not from_aws:
        print_error("give AWS Config files or directories, or --from-aws to read from AWS Config")
        raise typer.Exit(EXIT_USAGE)
    if files and from_aws:
        print_error("give either files or --from-aws, not both")
        raise typer.Exit(EXIT_USAGE)
    if not from_aws and (profile or role_arn or external_id or regions or aggregator):
        print_error("--profile, --role-arn, --external-id, --regions and --aggregator need --from-aws")
        raise typer.Exit(EXIT_USAGE)
    if aggregator and regions:
        print_error("--aggregator reads every region it aggregates; leave out --regions")
        raise typer.Exit(EXIT_USAGE)
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    print_settings_source(settings_file, settings.source_path)
    selected = select_controls(catalog, split_list(services), split_list(controls))
    if from_aws:
        data = _read_from_aws(
            profile, role_arn, external_id, parse_regions(regions), aggregator, config_types(selected)
        )
    else:
        data = read_files(files or [])
    for line in warning_lines(data.problems):
        print_warning(line)
    if not data.items and not from_aws:
        print_error(
            "no AWS Config item could be read"
            + (
                ""
                if data.problems
                else f" (no configuration items in {', '.join(data.sources) or 'the given paths'})"
            )
        )
        raise typer.Exit(EXIT_USAGE)
    result, _built = run_config_scan(data, catalog, settings, selected)
    finish = FinishOptions(
        output=fmt,
        output_file=output_file,
        fail_on=fail_on,
        show_passed=show_passed,
        store=not no_store,
        db=db,
        exceptions_file=exceptions_file,
    )
    code = finish_scan(result, settings, finish, catalog)
    if code == EXIT_OK and _unreadable_input(result):
        code = EXIT_USAGE
    raise typer.Exit(code)


def warning_lines(problems: Sequence[ItemProblem], shown: int = 3) -> list[str]:
    """One line per problem; a failed AWS read repeated across types and regions (a permission
    missing from the role) is one line that names where, not hundreds."""
    lines: list[str] = []
    repeated: dict[tuple[str, str], list[ItemProblem]] = {}
    for problem in problems:
        if problem.index is None and problem.resource_id is None and problem.code != "config-data":
            repeated.setdefault((problem.code, problem.message), []).append(problem)
        else:
            lines.append(problem.describe())
    for (_code, message), group in repeated.items():
        if len(group) == 1:
            lines.append(group[0].describe())
            continue
        where = [f"{p.resource_type or 'reading'} in {p.region or p.source}" for p in group]
        more = f" and {len(where) - shown} more" if len(where) > shown else ""
        lines.append(f"{message}: {', '.join(where[:shown])}{more}")
    return lines


def _unreadable_input(result: ScanResult) -> bool:
    """A file or item that could not be read (AWS API failures are reported, but are not input errors)."""
    return any(e.code == "config-data" for e in result.errors)


def _read_from_aws(
    profile: str | None,
    role_arn: str | None,
    external_id: str | None,
    regions: list[str] | None,
    aggregator: str | None,
    resource_types: list[str],
) -> ConfigData:
    from controlmap.sources.aws.clients import EndpointConfigError, ReadOnlyViolation
    from controlmap.sources.aws.session import SessionError, SessionOptions
    from controlmap.sources.config.live import AggregatorNotFound, LiveConfigOptions, read_config

    options = LiveConfigOptions(
        session=SessionOptions(profile=profile, role_arn=role_arn, external_id=external_id),
        regions=regions,
        aggregator=aggregator,
        resource_types=resource_types,
    )
    try:
        return collect_with_progress(lambda progress: read_config(options, progress))
    except (SessionError, EndpointConfigError, ReadOnlyViolation, AggregatorNotFound) as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
