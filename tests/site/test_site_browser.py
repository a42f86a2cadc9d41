"""The built site in a real headless Chromium (Debian's package, driven by Playwright).

Needs /usr/bin/chromium (``apt-get install -y chromium``); Playwright's own browser download is
never used. Pages load from file:// (how people open a downloaded site) and from a loopback
HTTP server (how a static host serves it).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sitekit import XSS, XSS_SCRIPT, finding, fixture_input

from controlmap.site.generator import build_site
from controlmap.site.serve import make_server

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CONTROLMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CONTROLMAP_ARTIFACTS", Path(__file__).parent / "artifacts"))


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where .ci/run installs Chromium, so that a
    broken install cannot turn the browser tests into a green run that tested nothing."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Chromium)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright import sync_api
except ImportError:
    _unavailable("playwright is not installed (pip install -e '.[test]')")
if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
    _unavailable(f"{CHROMIUM} not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def http_root(built_site: Path) -> Iterator[str]:
    server = make_server(built_site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


class Watched:
    """A page that records console errors, CSP violations and uncaught exceptions."""

    def __init__(self, page: Any):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
def page(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    yield watched
    context.close()


def file_url(site: Path, path: str) -> str:
    return (site / path).as_uri()


def test_search_for_a_resource_type_open_it_and_follow_a_control(page: Watched, built_site: Path) -> None:
    p = page.page
    p.goto(file_url(built_site, "index.html"))
    assert p.title() == "AWS Security Standard"
    p.keyboard.press("/")  # the shortcut focuses the search box
    assert p.evaluate("document.activeElement.id") == "site-search"
    p.keyboard.type("aws_s3_bucket")
    first = p.locator("#site-search-results [role=option]").first
    first.wait_for()
    assert "S3 bucket" in first.inner_text()
    assert p.get_attribute("#site-search", "aria-expanded") == "true"
    p.keyboard.press("Escape")  # closes the list, keeps the query
    assert p.locator("#site-search-results").is_hidden()
    assert p.get_attribute("#site-search", "aria-expanded") == "false"
    p.keyboard.press("ArrowDown")  # reopens it and selects the first result
    assert p.get_attribute("#site-search", "aria-activedescendant") == "sr-0"
    p.keyboard.press("Enter")
    p.wait_for_url("**/types/aws-s3-bucket.html")
    assert p.locator("h1").inner_text() == "S3 bucket"
    assert p.title().startswith("S3 bucket (AWS::S3::Bucket)")
    # Snippets became tabs, Terraform first; the other panels are hidden until chosen.
    card = p.locator("article#S3-01")
    assert card.locator("[role=tab][aria-selected=true]").inner_text() == "Terraform"
    assert card.locator("#S3-01-terraform").is_visible()
    assert not card.locator("#S3-01-cloudformation").is_visible()
    card.locator("[role=tab]", has_text="CloudFormation").click()
    assert card.locator("#S3-01-cloudformation").is_visible()
    p.keyboard.press("ArrowRight")  # keyboard moves between tabs
    assert card.locator("#S3-01-cli").is_visible()
    assert p.evaluate("document.activeElement.getAttribute('role')") == "tab"

    card.locator("a.control-link").click()
    p.wait_for_url("**/controls/s3-01.html")
    assert p.locator("h1").inner_text() == "Block Public Access"
    assert "Automated" in p.locator(".page-head").inner_text()
    # The language chosen on the previous page is remembered.
    assert p.locator("[role=tab][aria-selected=true]").inner_text() == "AWS CLI"
    assert page.errors == []


def test_search_finds_framework_ids_and_terraform_names_from_any_depth(
    page: Watched, built_site: Path
) -> None:
    p = page.page
    p.goto(file_url(built_site, "controls/s3-05.html"))
    p.fill("#site-search", "A.8.24")
    p.locator("#site-search-results [role=option]").first.wait_for()
    assert (
        p.locator("#site-search-results [role=option]").first.inner_text().find("A.8.24 Use of cryptography")
        >= 0
    )
    p.fill("#site-search", "aws_vpc_security_group_ingress_rule")
    p.locator("#site-search-results [role=option]", has_text="Security group").first.click()
    p.wait_for_url("**/types/aws-ec2-securitygroup.html")
    p.fill("#site-search", "zzzz-nothing")
    assert "No match" in p.locator("#site-search-results").inner_text()
    p.keyboard.press("Enter")  # no hit: the search page takes the query
    p.wait_for_url("**/search.html?q=zzzz-nothing")
    assert "0 results" in p.locator("[data-search-status]").inner_text()
    p.fill("[data-search-page-input]", "bucket")
    assert p.locator("[data-search-page-results] li").count() >= 3
    p.fill("[data-search-page-input]", "A.8.")  # numbers in numeric order: A.8.2 before A.8.10
    titles = p.locator("[data-search-page-results] li").all_inner_texts()
    ids = [re.search(r"A\.8\.\d+", t).group(0) for t in titles if re.search(r"A\.8\.\d+", t)]
    assert len(ids) >= 3 and ids == sorted(ids, key=lambda i: int(i.rsplit(".", 1)[1])), ids
    assert page.errors == []


@pytest.fixture(scope="module")
def builtin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped catalog: what a developer actually searches."""
    from controlmap.catalog.catalog import load_catalog
    from controlmap.catalog.plan import builtin_plan_settings
    from controlmap.checks.registry import registry
    from controlmap.site.generator import SiteInput

    out = tmp_path_factory.mktemp("builtin")
    build_site(out, SiteInput(load_catalog(), builtin_plan_settings(), registry()))
    return out


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rds instance", "RDS DB instance"),  # check IDs (rds_instance_...) must not outrank it
        ("db instance", "RDS DB instance"),
        ("lambda function", "Lambda function"),
        ("security group", "Security group"),
        ("s3 bucket", "S3 bucket"),
        ("aws_db_instance", "RDS DB instance"),
        ("AWS::RDS::DBInstance", "RDS DB instance"),
        ("aws-db-instance", "RDS DB instance"),  # punctuation does not matter in a single name
        ("CC6.7", "CC6.7 "),
        ("SOC2 CC6.1", "CC6.1 "),  # how auditors write it
        ("iso27001 A.8.24", "A.8.24 "),
        ("RDS-03", "RDS-03 Public Accessibility"),
    ],
)
def test_the_first_result_is_what_a_developer_means(
    page: Watched, builtin_site: Path, query: str, expected: str
) -> None:
    p = page.page
    p.goto(file_url(builtin_site, "index.html"))
    p.fill("#site-search", query)
    first = p.locator("#site-search-results [role=option] .sr-title").first
    first.wait_for()
    assert first.inner_text().startswith(expected), p.locator("#site-search-results").inner_text()


def test_framework_page_shows_coverage_per_requirement(page: Watched, http_root: str) -> None:
    p = page.page
    p.goto(http_root + "frameworks/iso27001-2022.html#A.8.3")
    row = p.locator("tr#A\\.8\\.3")
    assert "Automated" in row.inner_text()
    assert row.locator("a", has_text="S3-01").count() == 1
    assert "Not covered" in p.locator("tr#A\\.8\\.24").inner_text()
    assert "Manual" in p.locator("tr#A\\.5\\.37").inner_text()
    row.locator("a", has_text="S3-01").click()
    p.wait_for_url("**/controls/s3-01.html")
    assert page.errors == []


def test_markup_in_scan_results_is_text_and_runs_no_script(
    page: Watched, built_site: Path, http_root: str
) -> None:
    p = page.page
    for url in (
        file_url(built_site, "types/aws-s3-bucket.html"),
        http_root + "types/aws-s3-bucket.html",
        http_root + "accounts/111122223333.html",
        http_root + "controls/s3-01.html",
    ):
        p.goto(url)
        p.wait_for_load_state("load")
        assert p.evaluate("window.__pwned") is None, url
        assert p.locator("img").count() == 0, url
        own_scripts = p.evaluate("[...document.scripts].map(s => s.getAttribute('src'))")
        assert [src.rsplit("/", 1)[-1] for src in own_scripts] == ["search-index.js", "site.js"], url
        names = p.locator(".resource-name").all_inner_texts()
        assert XSS in names, url
        assert any(XSS_SCRIPT in text for text in p.locator("td.reason").all_inner_texts()), url
    p.goto(http_root + "types/aws-s3-bucket.html")
    p.locator("details.evidence summary").first.click()
    evidence = p.locator("details.evidence").first.inner_text()
    assert XSS in evidence and XSS_SCRIPT in evidence  # the tag values, as text
    assert p.evaluate("window.__pwned") is None
    assert page.errors == []


def test_copy_button_copies_the_snippet(browser: Any, http_root: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        p = context.new_page()
        p.goto(http_root + "types/aws-s3-bucket.html")
        button = p.locator("article#S3-01 button.copy").first
        button.click()
        p.wait_for_function("document.querySelector('article#S3-01 button.copy').textContent === 'Copied'")
        copied = p.evaluate("navigator.clipboard.readText()")
        assert copied.startswith('resource "aws_s3_bucket_public_access_block" "this"')
    finally:
        context.close()


def test_skip_link_is_first_and_moves_focus_to_content(page: Watched, built_site: Path) -> None:
    p = page.page
    p.goto(file_url(built_site, "types/aws-s3-bucket.html"))
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.textContent") == "Skip to content"
    assert p.locator(".skip-link").is_visible()  # visible when focused
    p.keyboard.press("Enter")
    assert p.evaluate("document.activeElement.id") == "main"


def test_print_layout_shows_every_snippet(page: Watched, built_site: Path) -> None:
    p = page.page
    p.goto(file_url(built_site, "types/aws-s3-bucket.html"))
    p.emulate_media(media="print")
    assert p.locator("#S3-01-cloudformation").is_visible()
    assert not p.locator(".site-header").is_visible()
    p.set_viewport_size({"width": 720, "height": 1000})  # roughly an A4 page: tables must fit it
    assert p.evaluate("document.documentElement.scrollWidth") <= 720
    pdf = p.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_phone_layout_does_not_scroll_sideways(browser: Any, built_site: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        p = context.new_page()
        for path in ("index.html", "types/aws-s3-bucket.html", "controls/s3-01.html"):
            p.goto(file_url(built_site, path))
            width = p.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
            # Every main navigation link is on screen, none hidden off the right edge.
            rights = p.evaluate(
                "[...document.querySelectorAll('.site-nav a')].map(a => a.getBoundingClientRect().right)"
            )
            assert rights and max(rights) <= 390, (path, rights)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        p.goto(file_url(built_site, "types/aws-s3-bucket.html"))
        p.screenshot(path=str(ARTIFACTS / "resource-type-phone.png"))
    finally:
        context.close()


@pytest.fixture(scope="module")
def wide_findings_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Findings as real scans write them: long resource types and reasons quoting ARNs."""
    site = fixture_input()
    arn = "arn:aws:iam::111122223333:policy/service-role/AWSLambdaBasicExecutionRole-0a1b2c3d4e5f"
    site.scans[0].findings += [
        finding(
            resource_type=rtype,
            resource_id=f"arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:{name}",
            resource_name=name,
            reason=f"managed policy {arn} statement 1 allows *; grant only the actions on {arn}",
            due_date=date(2026, 11, 1),
        )
        for rtype, name in (
            ("AWS::RDS::DBClusterSnapshot", "analytics-share"),
            ("AWS::S3::Bucket", "analytics-exports"),
        )
    ]
    out = tmp_path_factory.mktemp("wide")
    build_site(out, site)
    return out


def test_no_page_scrolls_sideways_on_a_phone_even_with_long_names(browser: Any, tmp_path: Path) -> None:
    site = fixture_input()
    # Organisations name controls with long identifiers; scan files carry any account string.
    custom = site.catalog.controls["ORG-S3-10"]
    title = "Tag aws_s3_bucket_server_side_encryption_configuration.owner_team_distribution_list"
    site.catalog.controls["ORG-S3-10"] = custom.model_copy(update={"title": title})
    account = "arn:aws:organizations::111122223333:account/o-a1b2c3d4e5/444455556666"
    site.scans[0].findings.append(finding(account_id=account))
    build_site(tmp_path, site)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        p = context.new_page()
        pages = [f for f in sorted(tmp_path.rglob("*.html")) if f.parent.name != "names"]
        assert len(pages) > 20
        for path in pages:
            p.goto(path.as_uri())
            width = p.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path.relative_to(tmp_path).as_posix(), width)
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 1024])
def test_finding_tables_fit_a_desktop_window(browser: Any, wide_findings_site: Path, width: int) -> None:
    """No sideways scrolling inside a finding table on a desktop: the Due column stays in view."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        p = context.new_page()
        for path in ("accounts/111122223333.html", "types/aws-s3-bucket.html", "controls/s3-01.html"):
            p.goto(file_url(wide_findings_site, path))
            widths = p.evaluate(
                "[...document.querySelectorAll('.table-wrap')].map(w => [w.scrollWidth, w.clientWidth])"
            )
            assert widths, path
            assert all(scroll <= client for scroll, client in widths), (path, widths)
            due = p.locator("table.findings td.due").first.bounding_box()
            assert due is not None and due["x"] + due["width"] <= width, (path, due)
    finally:
        context.close()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshot_of_the_resource_type_page(page: Watched, built_site: Path) -> None:
    p = page.page
    p.goto(file_url(built_site, "types/aws-s3-bucket.html"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "resource-type.png"
    p.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 1280 and height > 1500  # the whole page: header, three controls, failing resources
    assert shot.stat().st_size > 60_000  # a real rendering, not a blank page
    # The stylesheet applied: cards have a border and severity badges their colour.
    badge_color = p.evaluate("getComputedStyle(document.querySelector('.sev-critical')).color")
    assert badge_color not in ("rgb(0, 0, 0)", "")
    assert page.errors == []


def test_terraform_name_links_redirect_to_the_resource_type(page: Watched, built_site: Path) -> None:
    p = page.page
    p.goto(file_url(built_site, "names/aws-s3-bucket-versioning.html"))
    p.wait_for_url("**/types/aws-s3-bucket.html")
    assert p.locator("h1").inner_text() == "S3 bucket"


def test_without_javascript_every_snippet_is_still_readable(browser: Any, built_site: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        p = context.new_page()
        p.goto(file_url(built_site, "types/aws-s3-bucket.html"))
        for lang in ("terraform", "cloudformation", "cli", "console"):
            assert p.locator(f"#S3-01-{lang}").is_visible(), lang
        assert p.locator("[role=tab]").count() == 0
    finally:
        context.close()
