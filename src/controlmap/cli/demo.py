"""``controlmap demo``: a realistic AWS account on loopback, scanned by the very same live scan.

It starts moto in server mode inside the process (127.0.0.1, a free port, fake credentials),
seeds compliant and non-compliant resources for every implemented control, runs ``scan aws``'s
code path against it (regions us-east-1 and eu-west-1), and shows the result. The scan is
recorded in the history store like any other (``--no-store`` to skip), so ``controlmap report``
works right after; its account is moto's 123456789012, so it never mixes with a real account.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import typer

from controlmap.cli.catalog import load_cli_catalog
from controlmap.cli.common import EXIT_USAGE, err_console, print_error, print_settings_source
from controlmap.cli.scan import (
    CONSOLE,
    FailOn,
    FinishOptions,
    check_output_file,
    finish_scan,
    live_scan_or_exit,
    output_format,
    recording,
)
from controlmap.demo.fakes import demo_access_analyzer
from controlmap.demo.seed import demo_client_hooks, seed_demo_account
from controlmap.demo.server import DEMO_ACCOUNT_ID, DEMO_REGIONS, local_aws
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions

ORDER = 10
DEMO_RANDOM_SEED = 20261203

# The demo account's own policy choices, used when no controlmap.yaml is found: with an allowed
# list of key administrators, KMS-03 is decided automatically instead of left to an auditor.
DEMO_SETTINGS = {
    "kms": {"allowed_key_administrators": ["arn:aws:iam::*:role/demo-key-admin"]},
    "cloudfront": {"blocked_countries": ["KP", "IR", "SY", "CU"]},
}


def demo_settings(settings: Settings) -> Settings:
    """The user's settings if they have a file, else the demo's."""
    if settings.source_path is not None:
        return settings
    return Settings.model_validate(DEMO_SETTINGS)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@contextmanager
def _quiet_local_server() -> Iterator[None]:
    """The local server logs every request and moto loads AWS managed policies only on request."""
    saved = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # AdministratorAccess & co. exist, as in AWS
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        werkzeug.setLevel(level)
        if saved is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved


def demo(
    output: str = typer.Option(
        CONSOLE, "--output", "-o", help="console, json, csv, sarif, junit, markdown, html…"
    ),
    output_file: Path | None = typer.Option(
        None, "--output-file", help="Write the output here instead of stdout."
    ),
    show_passed: bool = typer.Option(False, "--show-passed", help="List passing findings too (console)."),
    no_store: bool = typer.Option(
        False, "--no-store", help="Do not record the demo scan in the history store."
    ),
    db: str | None = typer.Option(
        None, "--db", help="History database URL (default: the user data directory)."
    ),
) -> None:
    """Scan a demo AWS account (local, in-process, no AWS credentials needed)."""
    fmt = output_format(output)
    check_output_file(output_file)
    catalog, settings = load_cli_catalog(None, None)
    print_settings_source(None, settings.source_path)
    settings = demo_settings(settings)
    finish = FinishOptions(
        output=fmt,
        output_file=output_file,
        fail_on=FailOn.NONE,  # failing findings are the point of the demo
        show_passed=show_passed,
        store=not no_store,
        db=db,
    )
    with _quiet_local_server(), local_aws() as server, recording(finish, settings, "aws") as recorder:
        # Same IDs on every run (instances, groups, keys…), so two demo scans diff cleanly.
        server.seed_ids(DEMO_RANDOM_SEED)
        try:
            with err_console.status("seeding the demo account (local moto server on 127.0.0.1)…"):
                seed_demo_account(boto3.Session(region_name=DEMO_REGIONS[0]), DEMO_REGIONS, DEMO_ACCOUNT_ID)
        except Exception as exc:  # the demo is broken, not the user's input: say so plainly
            print_error(f"could not seed the demo account: {type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_USAGE) from None
        options = AwsScanOptions(
            regions=list(DEMO_REGIONS),
            client_hooks=[demo_access_analyzer(DEMO_ACCOUNT_ID, DEMO_REGIONS).install, *demo_client_hooks()],
        )
        result = live_scan_or_exit(options, catalog.ordered(), catalog, settings)
        code = finish_scan(result, settings, finish, catalog, recorder)
    raise typer.Exit(code)
