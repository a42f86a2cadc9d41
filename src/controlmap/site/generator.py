"""Render the site: every page, the search index and the static assets, into one directory.

Jinja2 autoescapes every template (``autoescape=True``, not by file extension), and no template
uses ``|safe``: catalog text and scan data (resource names, tags, reasons) are always text.
Links are relative to the page, so the output works from disk and under any path of any host.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

import controlmap
from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import TierWindow
from controlmap.catalog.plan import build_plan
from controlmap.checks.registry import CheckSpec
from controlmap.findings.model import ScanResult
from controlmap.outputs.common import is_overdue
from controlmap.settings import PlanSettings
from controlmap.site import urls
from controlmap.site.chart import trend_chart
from controlmap.site.dashboard import (
    AccountDashboard,
    build_dashboards,
    failing_by_control,
    failing_by_type,
)
from controlmap.site.search import search_index_js
from controlmap.site.views import Coverage, SiteModel, build_model

STATIC_DIR = "assets"
MANIFEST = ".controlmap-site.json"  # what the previous build wrote: the only files a rebuild may delete
MAX_FINDING_ROWS = 500  # per table: a page must stay usable with thousands of failing resources
EN_DASH = "\u2013"
# Scripts and styles from the site's own files only: no inline script, no inline style, no CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)
DEFAULT_TITLE = "AWS Security Standard"


class SiteError(Exception):
    """The site cannot be written where asked (the message says why)."""


@dataclass
class SiteInput:
    catalog: Catalog
    plan: PlanSettings
    checks: Mapping[str, CheckSpec]
    scans: Sequence[ScanResult] = ()
    title: str = DEFAULT_TITLE
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class BuildReport:
    out_dir: Path
    pages: list[str]
    accounts: int
    failing_resources: int

    @property
    def page_count(self) -> int:
        return len(self.pages)


def window_label(window: TierWindow) -> str:
    return f"{window.start_days}{EN_DASH}{window.end_days} days"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("controlmap.site", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["window"] = window_label
    env.filters["percent"] = percent
    env.filters["slug"] = urls.slug
    env.filters["anchor"] = urls.anchor
    env.globals["urls"] = urls
    env.globals["Coverage"] = Coverage
    env.globals["csp"] = CONTENT_SECURITY_POLICY
    return env


class _Renderer:
    """Renders every page into memory first: a template error or a path clash then stops the
    build before anything is written, so OUT_DIR keeps the previous build whole (or stays empty)."""

    def __init__(self, site: SiteInput, model: SiteModel, dashboards: list[AccountDashboard]):
        self.env = _environment()
        self.rendered: dict[str, str] = {}
        self.common: dict[str, Any] = {
            "site_title": site.title,
            "model": model,
            "dashboards": dashboards,
            "generated_at": site.now,
            "today": site.now.date(),
            "version": controlmap.__version__,
            "framework_keys": model.framework_keys(),
            "control_ids": model.control_ids(),
            "service_names": {s.key: s.name for s in model.services},
            "is_overdue": is_overdue,
            "max_rows": MAX_FINDING_ROWS,
        }

    def render(self, template: str, path: str, title: str, **context: Any) -> None:
        root = urls.relative_root(path)

        def url(target: str) -> str:
            return root + target

        html = self.env.get_template(template).render(
            **self.common, **context, page_title=title, path=path, root=root, url=url
        )
        if path in self.rendered:
            raise SiteError(f"two pages would be written to {path}; rename one of the identifiers")
        self.rendered[path] = html

    @property
    def pages(self) -> list[str]:
        return list(self.rendered)

    def write(self, out_dir: Path) -> None:
        for path, html in self.rendered.items():
            target = out_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")


def build_site(out_dir: Path, site: SiteInput) -> BuildReport:
    """Write the whole site into ``out_dir``: a new or empty directory, or a previous build to replace.

    A directory holding anything else is refused: a rebuild deletes the pages it no longer
    writes, and it must never delete a file it did not write itself. A directory that cannot be
    created or written (read-only disk, /proc, no permission) is a SiteError naming it.
    """
    try:
        return _build_site(out_dir, site)
    except OSError as exc:
        where = exc.filename or out_dir
        raise SiteError(f"cannot write {where}: {exc.strerror or exc}") from None


def _build_site(out_dir: Path, site: SiteInput) -> BuildReport:
    model = build_model(site.catalog, site.plan, site.checks)
    dashboards = build_dashboards(site.scans, site.now.date())
    failing_types = failing_by_type(dashboards)
    failing_controls = failing_by_control(dashboards)
    previous = _previous_build(out_dir)
    r = _Renderer(site, model, dashboards)

    r.render("home.html.j2", urls.HOME, site.title)
    r.render("types_index.html.j2", urls.TYPES_INDEX, "Resource types")
    for tview in model.types:
        r.render(
            "type.html.j2",
            urls.resource_type(tview.rtype.id),
            f"{tview.rtype.title} ({tview.rtype.id})",
            tview=tview,
            failing=failing_types.get(tview.rtype.id, []),
        )
    for alias, targets in _aliases(model).items():
        r.render("alias.html.j2", urls.name_alias(alias), alias, alias=alias, targets=targets)
    r.render("controls_index.html.j2", urls.CONTROLS_INDEX, "All controls")
    for cview in model.controls:
        r.render(
            "control.html.j2",
            urls.control(cview.id),
            f"{cview.id} {cview.control.title}",
            cview=cview,
            failing=failing_controls.get(cview.id, []),
        )
    r.render("services_index.html.j2", urls.SERVICES_INDEX, "Services")
    for service in model.services:
        r.render("service.html.j2", urls.service(service.key), service.name, service=service)
    r.render("frameworks_index.html.j2", urls.FRAMEWORKS_INDEX, "Frameworks")
    for fview in model.frameworks:
        r.render("framework.html.j2", urls.framework(fview.framework.key), fview.framework.name, fview=fview)
    r.render("plan.html.j2", urls.PLAN, "Remediation plan", plan=_plan_rows(site.catalog, site.plan, model))
    r.render("search.html.j2", urls.SEARCH, "Search")
    if dashboards:
        r.render("accounts_index.html.j2", urls.ACCOUNTS_INDEX, "Account dashboards")
        for board in dashboards:
            r.render(
                "account.html.j2",
                urls.account(board.account_id),
                f"Account {board.account_id}",
                board=board,
                chart=trend_chart(board.trend),
            )

    search_index = search_index_js(model)
    r.write(out_dir)
    (out_dir / urls.SEARCH_INDEX_JS).write_text(search_index, encoding="utf-8")
    files = {*r.pages, urls.SEARCH_INDEX_JS, *_copy_static(out_dir)}
    _remove_stale(out_dir, previous - files)
    manifest = {"generator": f"controlmap {controlmap.__version__}", "files": sorted(files)}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return BuildReport(
        out_dir=out_dir,
        pages=r.pages,
        accounts=len(dashboards),
        failing_resources=sum(len(v) for v in failing_types.values()),
    )


def _aliases(model: SiteModel) -> dict[str, list[Any]]:
    """Every CloudFormation, Terraform and AWS Config name -> the resource types it names."""
    by_slug: dict[str, tuple[str, list[Any]]] = {}
    for tview in model.types:
        for name in tview.rtype.names():
            _, targets = by_slug.setdefault(urls.slug(name), (name, []))
            if tview not in targets:
                targets.append(tview)
    return {alias: targets for alias, targets in by_slug.values()}


def _plan_rows(catalog: Catalog, plan: PlanSettings, model: SiteModel) -> list[tuple[Any, list[Any]]]:
    """The catalog's plan (``build_plan``) as [(tier, [(service name, window, control views)])]."""
    order = {service.key: index for index, service in enumerate(model.services)}
    views = {view.id: view for view in model.controls}
    names = {service.key: service.name for service in model.services}
    rows = []
    for tier in model.tiers:
        entries = [e for e in build_plan(catalog, plan) if e.severity is tier.severity]
        entries.sort(key=lambda e: order.get(e.service, len(order)))
        groups = [
            (names.get(e.service, e.service), e.window, [views[c.id] for c in e.controls]) for e in entries
        ]
        if groups:
            rows.append((tier, groups))
    return rows


def _copy_static(out_dir: Path) -> list[str]:
    target = out_dir / STATIC_DIR
    target.mkdir(parents=True, exist_ok=True)
    source = resources.files("controlmap.site") / "static"
    written = []
    for item in source.iterdir():
        if item.is_file() and item.name.endswith((".css", ".js", ".svg")):
            (target / item.name).write_bytes(item.read_bytes())
            written.append(f"{STATIC_DIR}/{item.name}")
    return written


def _previous_build(out_dir: Path) -> set[str]:
    """The files of the build already in ``out_dir`` (empty for a new directory)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SiteError(f"{out_dir} exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SiteError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        if any(out_dir.iterdir()):
            raise SiteError(
                f"{out_dir} is not empty and holds no site built by controlmap; "
                "choose a new or empty directory (a rebuild replaces only what it wrote)"
            )
        return set()
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()  # a damaged manifest: keep every file rather than guess
    return {f for f in files if isinstance(f, str)}


def _remove_stale(out_dir: Path, stale: set[str]) -> None:
    root = out_dir.resolve()
    for name in sorted(stale):
        path = (out_dir / name).resolve()
        if root not in path.parents or not path.is_file():
            continue  # only plain files inside the site, whatever the manifest says
        path.unlink()
        parent = path.parent
        while parent != root and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
