"""``controlmap site``: build the internal static site, and preview it on localhost."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from controlmap.checks.registry import registry
from controlmap.cli.catalog import CatalogDirs, SettingsFile, load_cli_catalog
from controlmap.cli.common import EXIT_USAGE, console, fail_on_file_error, print_error, print_warning
from controlmap.findings.model import ScanResult
from controlmap.settings import Settings
from controlmap.site.generator import DEFAULT_TITLE, BuildReport, SiteError, SiteInput, build_site
from controlmap.site.scans import read_scan_files
from controlmap.site.serve import make_server, stop_on_termination
from controlmap.site.store import StoreUnavailable, read_store
from controlmap.yamlfile import FileError

ORDER = 80

site_app = typer.Typer(
    name="site",
    help="Build the internal static site: every resource type, control and framework, and scan dashboards.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="History store URL (sqlite:///path or postgresql://...); its scans feed the dashboards. "
        "Default: $CONTROLMAP_DB, the settings file's db, then the default store if it exists.",
        show_default=False,
    ),
]
NoStoreOpt = Annotated[
    bool,
    typer.Option("--no-store", help="Do not read the history store: catalog pages only (plus --scan files)."),
]
ScanOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--scan",
        metavar="FILE",
        help="A scan result written by `controlmap scan ... --output json` (repeatable); adds dashboards.",
        show_default=False,
    ),
]
TitleOpt = Annotated[
    str, typer.Option("--title", metavar="TEXT", help="Site title shown in the header and page titles.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(site_app, name="site")


def _collect_scans(
    settings: Settings, db: str | None, no_store: bool, scan_files: Sequence[Path]
) -> list[ScanResult]:
    scans: list[ScanResult] = []
    try:
        scans += read_scan_files(list(scan_files))
    except FileError as exc:
        fail_on_file_error(exc)
    if no_store:
        return scans
    try:
        scans += read_store(db, settings)
    except StoreUnavailable as exc:
        if db:  # asked for on the command line: a hard error; otherwise build without dashboards
            print_error(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
        print_warning(f"{exc}; building without dashboards")
    return scans


def _build(
    out_dir: Path,
    catalog_dirs: Sequence[Path] | None,
    settings_file: Path | None,
    db: str | None,
    no_store: bool,
    scan_files: Sequence[Path],
    title: str,
) -> BuildReport:
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    try:
        plan = settings.resolved_plan()
    except FileError as exc:
        fail_on_file_error(exc)
        raise
    scans = _collect_scans(settings, db, no_store, scan_files)
    site = SiteInput(
        catalog=catalog, plan=plan, checks=registry(), scans=scans, title=title, now=datetime.now(UTC)
    )
    try:
        return build_site(out_dir, site)
    except SiteError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None


@site_app.command("build")
def build_command(
    out_dir: Annotated[
        Path, typer.Argument(metavar="OUT_DIR", help="Directory to write the site into (created if needed).")
    ],
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
    db: DbOpt = None,
    no_store: NoStoreOpt = False,
    scan_files: ScanOpt = None,
    title: TitleOpt = DEFAULT_TITLE,
) -> None:
    """Build the static site into OUT_DIR; open OUT_DIR/index.html or publish it on any static host."""
    report = _build(out_dir, catalog_dirs, settings_file, db, no_store, list(scan_files or []), title)
    dashboards = (
        f", {report.accounts} account dashboard{'s' if report.accounts != 1 else ''}"
        if report.accounts
        else ""
    )
    console.print(
        f"Built {report.page_count} pages{dashboards} in {escape(str(out_dir))}. "
        f"Open {escape(str(out_dir / 'index.html'))}",
        highlight=False,
    )


@site_app.command("serve")
def serve_command(
    out_dir: Annotated[
        Path | None,
        typer.Argument(
            metavar="OUT_DIR",
            help="A built site to serve. Without it, the site is built into a temporary directory.",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", "-p", metavar="PORT", help="Port to listen on.", min=0, max=65535)
    ] = 8000,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to bind; loopback by default.")
    ] = "127.0.0.1",
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
    db: DbOpt = None,
    no_store: NoStoreOpt = False,
    scan_files: ScanOpt = None,
    title: TitleOpt = DEFAULT_TITLE,
) -> None:
    """Preview the site on http://127.0.0.1:PORT/ (Ctrl-C stops)."""
    with tempfile.TemporaryDirectory(prefix="controlmap-site-") as tmp:
        if out_dir is None:
            directory = Path(tmp)
            _build(directory, catalog_dirs, settings_file, db, no_store, list(scan_files or []), title)
        else:
            directory = out_dir
            if not (directory / "index.html").is_file():
                print_error(f"{out_dir} holds no built site; run: controlmap site build {out_dir}")
                raise typer.Exit(EXIT_USAGE)
        try:
            server = make_server(directory, host, port)
        except OSError as exc:
            print_error(f"cannot listen on {host}:{port}: {exc.strerror}")
            raise typer.Exit(EXIT_USAGE) from None
        console.print(
            f"Serving {escape(str(directory))} on http://{host}:{server.server_port}/ (Ctrl-C stops)"
        )
        try:
            with stop_on_termination():
                server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
