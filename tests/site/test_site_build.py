"""The generator: pages exist, links resolve, scan data is escaped, coverage and dashboards add up."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from linkcheck import check_site
from sitekit import XSS, XSS_SCRIPT, fake_checks, finding, fixture_input, fixture_plan, load_fixture_catalog

from controlmap.site import urls
from controlmap.site.generator import CONTENT_SECURITY_POLICY, SiteError, build_site
from controlmap.site.search import search_entries
from controlmap.site.views import Coverage, build_model

DASH = "\u2013"


def read(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


def text_of(html: str) -> str:
    """Visible text with tags dropped and entities decoded, whitespace collapsed."""

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


# ---- pages and links --------------------------------------------------------------------------


def test_every_catalog_object_has_its_page(built_site: Path) -> None:
    catalog = load_fixture_catalog()
    for rtype in catalog.resource_types.values():
        assert (built_site / urls.resource_type(rtype.id)).is_file(), rtype.id
        for name in rtype.names():
            assert (built_site / urls.name_alias(name)).is_file(), name
    for control in catalog.controls.values():
        assert (built_site / urls.control(control.id)).is_file(), control.id
    for key in ("s3", "ec2", "account"):
        assert (built_site / urls.service(key)).is_file()
    for key in catalog.frameworks:
        assert (built_site / urls.framework(key)).is_file()
    for page in (
        urls.HOME,
        urls.PLAN,
        urls.SEARCH,
        urls.TYPES_INDEX,
        urls.CONTROLS_INDEX,
        urls.ACCOUNTS_INDEX,
    ):
        assert (built_site / page).is_file(), page
    assert (built_site / urls.account("111122223333")).is_file()
    assert (built_site / "assets" / "site.css").is_file() and (built_site / "assets" / "site.js").is_file()


def test_links_resolve_and_nothing_loads_from_outside(built_site: Path) -> None:
    assert check_site(built_site) == []


def test_link_checker_catches_breakage(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<a href="b.html#nope">x</a><a href="missing.html">y</a>'
        '<script src="https://cdn.example.com/x.js"></script><a href="/abs.html">z</a>'
        '<a href="../outside.html">o</a><a href="#here">ok</a><p id="here"></p>'
    )
    (tmp_path / "b.html").write_text('<p id="yes"></p>')
    problems = check_site(tmp_path)
    assert any("missing anchor: b.html#nope" in p for p in problems)
    assert any("broken: missing.html" in p for p in problems)
    assert any("leaves the site" in p for p in problems)
    assert any("root-absolute" in p for p in problems)
    assert any("outside the site" in p for p in problems)
    assert len(problems) == 5


def test_every_page_has_csp_title_skip_link_and_relative_assets(built_site: Path) -> None:
    for path in built_site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        rel = path.relative_to(built_site).as_posix()
        tags = tags_of(html)
        csp = [
            a.get("content") or ""
            for t, a in tags
            if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
        ]
        assert csp == [CONTENT_SECURITY_POLICY], rel
        assert re.search(r"<title>[^<]+</title>", html), rel
        assert 'href="#main"' in html, rel
        assert '<html lang="en"' in html, rel
        # No inline script or style anywhere: the CSP would block them, and they are an XSS risk.
        assert all(attrs.get("src") for tag, attrs in tags if tag == "script"), rel
        assert not any("style" in attrs for _, attrs in tags), rel
        assert not any(k.startswith("on") for _, attrs in tags for k in attrs), rel


def test_policy_allows_only_own_scripts_and_styles() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_titles_name_the_page(built_site: Path) -> None:
    assert "<title>S3 bucket (AWS::S3::Bucket) · AWS Security Standard</title>" in read(
        built_site, "types/aws-s3-bucket.html"
    )
    assert "<title>S3-01 Block Public Access · AWS Security Standard</title>" in read(
        built_site, "controls/s3-01.html"
    )
    assert "<title>AWS Security Standard</title>" in read(built_site, "index.html")


def test_home_lists_resource_types_and_tier_deadlines(built_site: Path) -> None:
    html = read(built_site, "index.html")
    assert 'href="types/aws-s3-bucket.html"' in html
    text = text_of(html)
    assert f"Critical 0{DASH}30 days" in text
    assert f"High 30{DASH}90 days" in text and f"Amazon S3: 30{DASH}60 days" in text


def test_resource_type_page_has_every_control_with_snippets(built_site: Path) -> None:
    html = read(built_site, "types/aws-s3-bucket.html")
    text = text_of(html)
    for cid in ("S3-01", "S3-05", "ORG-S3-10"):
        assert f'id="{cid}"' in html
        assert f'href="../controls/{cid.lower()}.html"' in html
    assert "EC2-01" not in text
    # Most severe first.
    assert text.index("S3-01 Block Public Access") < text.index("S3-05 Versioning") < text.index("ORG-S3-10")
    assert 'resource "aws_s3_bucket_public_access_block" "this"' in text_of(html)
    assert "PublicAccessBlockConfiguration:" in text
    assert "aws s3control put-public-access-block" in text
    assert "Block Public Access settings for this account" in text
    assert "fixture_bucket_public_access_blocked — Bucket blocks public access" in text
    assert 'href="../frameworks/iso27001-2022.html#A.8.3"' in html
    assert "aws_s3_bucket_versioning" in text  # all its Terraform names are listed


def test_resource_type_page_puts_the_requirements_before_the_failing_resources(built_site: Path) -> None:
    """However many resources fail, a developer reaches the first snippet without scrolling past them."""
    html = read(built_site, "types/aws-s3-bucket.html")
    assert html.index('<article class="control-card" id="S3-01"') < html.index('id="failing-heading"')
    assert html.index('href="#failing-heading"') < html.index('<article class="control-card"')
    assert "2 failing resources in the latest scans, listed after the controls." in text_of(html)


def test_control_page_shows_audit_trail_equivalents_and_coverage(built_site: Path) -> None:
    text = text_of(read(built_site, "controls/s3-05.html"))
    assert "Partly automated" in text
    assert "fixture_not_registered (not available in this version of controlmap)" in text
    assert "Attest: MFA Delete is enabled" in text
    s301 = text_of(read(built_site, "controls/s3-01.html"))
    assert "Security Hub CSPM S3.1 S3.8" in s301
    assert f"Fix within 0{DASH}30 days" in s301


def test_catalog_text_is_escaped(built_site: Path) -> None:
    html = read(built_site, "controls/ec2-09.html")
    assert "Snapshot sharing &lt;review&gt;" in html
    assert "<review>" not in html
    assert "publicly &amp; review" in html


def test_custom_controls_appear_like_builtin_ones(built_site: Path) -> None:
    page = read(built_site, "controls/org-s3-10.html")
    assert "Custom" in text_of(page) and "from org.yaml" in text_of(page)
    assert 'id="ORG-S3-10"' in read(built_site, "types/aws-s3-bucket.html")
    assert 'href="../controls/org-s3-10.html"' in read(built_site, "frameworks/iso27001-2022.html")
    assert "ORG-S3-10" in text_of(read(built_site, "plan.html"))


def test_unknown_resource_types_and_unlisted_references_stay_visible(built_site: Path) -> None:
    assert "AWS::EC2::Unheard (not in the resource type list)" in text_of(
        read(built_site, "controls/ec2-09.html")
    )
    framework = read(built_site, "frameworks/iso27001-2022.html")
    assert 'id="A.8.99"' in framework  # cited by EC2-01, not in the framework file


def test_alias_pages_lead_to_the_resource_type(built_site: Path) -> None:
    html = read(built_site, "names/aws-s3-bucket-versioning.html")
    assert 'content="0; url=../types/aws-s3-bucket.html"' in html


def test_alias_collisions_become_a_choice(tmp_path: Path) -> None:
    site = fixture_input(scans=False)
    bucket = site.catalog.resource_types["AWS::S3::Bucket"]
    sg = site.catalog.resource_types["AWS::EC2::SecurityGroup"]
    site.catalog.resource_types[sg.id] = sg.model_copy(update={"terraform": [*sg.terraform, "aws_s3_bucket"]})
    build_site(tmp_path, site)
    html = read(tmp_path, "names/aws-s3-bucket.html")
    assert "refresh" not in html
    assert bucket.title in html and sg.title in html


# ---- coverage ------------------------------------------------------------------------------


def test_coverage_reflects_registered_checks() -> None:
    model = build_model(load_fixture_catalog(), fixture_plan(), fake_checks())
    cov = {c.id: c.coverage for c in model.controls}
    assert cov == {
        "S3-01": Coverage.AUTOMATED,
        "S3-05": Coverage.PARTIAL,  # one of its checks is not registered
        "EC2-01": Coverage.AUTOMATED,
        "EC2-09": Coverage.MANUAL,
        "ORG-S3-10": Coverage.MANUAL,
    }
    unregistered = build_model(load_fixture_catalog(), fixture_plan(), {})
    assert {c.coverage for c in unregistered.controls} == {Coverage.MANUAL}


def test_framework_coverage_per_requirement() -> None:
    model = build_model(load_fixture_catalog(), fixture_plan(), fake_checks())
    iso = next(f for f in model.frameworks if f.framework.key == "iso27001:2022")
    by_id = {r.requirement.id: r for r in iso.requirements}
    assert by_id["A.8.3"].coverage is Coverage.AUTOMATED
    assert [c.id for c in by_id["A.8.3"].controls] == ["EC2-09", "S3-01"]  # catalog order
    assert by_id["A.5.37"].coverage is Coverage.MANUAL
    assert by_id["A.8.24"].coverage is Coverage.NONE
    assert [r.requirement.id for r in iso.unlisted] == ["A.8.99"]


def test_framework_counts_add_up(built_site: Path) -> None:
    model = build_model(load_fixture_catalog(), fixture_plan(), fake_checks())
    iso = next(f for f in model.frameworks if f.framework.key == "iso27001:2022")
    counts = iso.counts()
    assert sum(counts.values()) == len(iso.framework.requirements) == 6
    assert counts[Coverage.NONE] == 1  # A.8.24
    assert counts[Coverage.MANUAL] == 1  # A.5.37
    assert counts[Coverage.PARTIAL] == 1  # A.8.13 (S3-05)
    assert counts[Coverage.AUTOMATED] == 3  # A.5.15, A.8.3, A.8.20
    text = text_of(read(built_site, "frameworks/iso27001-2022.html"))
    assert "A.8.24 Use of cryptography Not covered" in text
    assert "A.8.3 Information access restriction Automated 1 of 2 automated" in text


# ---- search index ------------------------------------------------------------------------------


def test_search_index_is_loadable_js_with_every_name(built_site: Path) -> None:
    js = read(built_site, urls.SEARCH_INDEX_JS)
    prefix = "window.CONTROLMAP_SEARCH = "
    assert js.startswith(prefix) and js.rstrip().endswith(";")
    entries = json.loads(js[len(prefix) :].rstrip().rstrip(";"))
    names = {n: e["url"] for e in entries for n in e["names"]}
    assert names["aws_s3_bucket"] == "types/aws-s3-bucket.html"
    assert names["AWS::S3::Bucket"] == "types/aws-s3-bucket.html"
    assert names["aws_vpc_security_group_ingress_rule"] == "types/aws-ec2-securitygroup.html"
    assert names["S3-01"] == "controls/s3-01.html"
    assert names["S3.8"] == names["s3-bucket-level-public-access-prohibited"] == "controls/s3-01.html"
    assert names["fixture_bucket_versioning"] == "controls/s3-05.html"
    assert names["A.8.24"] == "frameworks/iso27001-2022.html#A.8.24"
    assert names["CC6.1"] == "frameworks/soc2-2017.html#CC6.1"
    assert js.isascii()


def test_every_search_result_leads_to_an_existing_page_and_anchor(built_site: Path) -> None:
    js = read(built_site, urls.SEARCH_INDEX_JS)
    entries = json.loads(js[len("window.CONTROLMAP_SEARCH = ") :].rstrip().rstrip(";"))
    probe = built_site / "search-probe.html"
    probe.write_text("".join(f'<a href="{e["url"]}">x</a>' for e in entries), encoding="utf-8")
    try:
        assert check_site(built_site) == []
    finally:
        probe.unlink()


def test_search_index_holds_no_scan_data(built_site: Path) -> None:
    js = read(built_site, urls.SEARCH_INDEX_JS)
    assert "onerror" not in js and "111122223333" not in js and "arn:aws:s3:::logs" not in js


def test_search_entries_cover_controls_types_services_frameworks() -> None:
    model = build_model(load_fixture_catalog(), fixture_plan(), fake_checks())
    kinds = {e["kind"] for e in search_entries(model)}
    assert {
        "Resource type",
        "Control",
        "Service",
        "ISO 27001:2022",
        "SOC 2",
    } <= kinds


# ---- scan data is attacker-controlled ---------------------------------------------------------------


def test_scan_data_is_escaped_everywhere(built_site: Path) -> None:
    escaped = "&lt;img src=x onerror=window.__pwned=1&gt;"
    for path in built_site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert XSS not in html and XSS_SCRIPT not in html, path
        assert not any(tag == "img" for tag, _ in tags_of(html)), path
        assert [tag for tag, _ in tags_of(html)].count("script") == 2, path  # the site's own two
    type_page = read(built_site, "types/aws-s3-bucket.html")
    assert escaped in type_page
    assert XSS in text_of(type_page)  # shown as text, tags and evidence included
    assert f"Name={XSS} is public (owner {XSS_SCRIPT})" in text_of(type_page)
    assert "&#34;&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;!--" in type_page
    assert escaped in read(built_site, "accounts/111122223333.html")


def test_account_ids_cannot_choose_file_paths(tmp_path: Path) -> None:
    site = fixture_input()
    evil = "../../../etc/passwd"
    for scan in site.scans:
        for f in scan.findings:
            if f.account_id:
                f.account_id = evil
        scan.accounts = [evil] if scan.accounts else []
    out = tmp_path / "out"
    build_site(out, site)
    page = urls.account(evil)
    assert re.fullmatch(r"accounts/etc-passwd-[0-9a-f]{8}\.html", page)
    assert (out / page).is_file()
    assert not (tmp_path / "etc").exists()
    assert check_site(out) == []


def test_account_ids_sharing_a_slug_each_get_their_page(tmp_path: Path) -> None:
    site = fixture_input()
    latest = site.scans[0]
    for account in ("1111-2222", "1111_2222"):
        latest.findings.append(finding(account_id=account, resource_name=f"bucket-of-{account}"))
        latest.accounts.append(account)
    build_site(tmp_path, site)
    assert urls.account("111122223333") == "accounts/111122223333.html"
    assert urls.account("1111-2222") != urls.account("1111_2222")
    for account in ("1111-2222", "1111_2222"):
        assert f"Account {account}" in text_of(read(tmp_path, urls.account(account)))
    assert check_site(tmp_path) == []


def test_findings_of_controls_missing_from_the_catalog_are_listed_without_a_dead_link(tmp_path: Path) -> None:
    """A scan run with an organisation's catalog, built into a site without it: nothing links nowhere."""
    site = fixture_input()
    site.scans[0].findings.append(
        finding(control_id="ACME-S3-01", resource_name="orphan", resource_id="arn:aws:s3:::orphan")
    )
    out = tmp_path / "out"
    build_site(out, site)
    assert check_site(out) == []
    for page in ("types/aws-s3-bucket.html", "accounts/111122223333.html"):
        text = text_of(read(out, page))
        assert "ACME-S3-01 not in this catalog orphan" in text, page
    assert not (out / urls.control("ACME-S3-01")).exists()


# ---- the real catalog ----------------------------------------------------------------------------


def test_builtin_catalog_builds_whole(tmp_path: Path) -> None:
    """The shipped catalog (however much of it exists) renders with every link resolving."""
    from controlmap.catalog.catalog import load_catalog
    from controlmap.catalog.plan import builtin_plan_settings
    from controlmap.checks.registry import registry
    from controlmap.site.generator import SiteInput

    catalog = load_catalog()
    report = build_site(tmp_path, SiteInput(catalog, builtin_plan_settings(), registry()))
    assert check_site(tmp_path) == []
    expected = 1 + len(catalog.resource_types) + len(catalog.controls) + len(catalog.frameworks)
    assert report.page_count > expected
    bucket = text_of(read(tmp_path, urls.resource_type("AWS::S3::Bucket")))
    for control in catalog.controls_for_type("aws_s3_bucket"):
        assert f"{control.id} {control.title}" in bucket


def test_long_finding_tables_are_capped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("controlmap.site.generator.MAX_FINDING_ROWS", 1)
    build_site(tmp_path, fixture_input())
    page = text_of(read(tmp_path, "types/aws-s3-bucket.html"))
    assert "Showing the 1 most severe of 2" in page
    assert "versioning is Suspended" not in page  # the High one is cut, the Critical one stays
    assert f"Name={XSS} is public" in page


def test_home_shows_where_each_account_stands(built_site: Path) -> None:
    html = read(built_site, "index.html")
    assert 'href="accounts/111122223333.html"' in html
    assert "account 111122223333 · 2 open Critical · 1 overdue" in text_of(html)  # FAIL past due only


def test_without_scans_there_are_no_dashboards(tmp_path: Path) -> None:
    build_site(tmp_path, fixture_input(scans=False))
    assert not (tmp_path / "accounts").exists()
    assert "Dashboards" not in read(tmp_path, "index.html")
    assert "Failing resources" not in read(tmp_path, "types/aws-s3-bucket.html")
    assert check_site(tmp_path) == []


def test_rebuild_removes_pages_of_deleted_controls(tmp_path: Path) -> None:
    site = fixture_input()
    build_site(tmp_path, site)
    assert (tmp_path / "controls" / "org-s3-10.html").is_file()
    del site.catalog.controls["ORG-S3-10"]
    build_site(tmp_path, site)
    assert not (tmp_path / "controls" / "org-s3-10.html").exists()
    assert check_site(tmp_path) == []


def test_plan_page_follows_the_plan_windows_and_service_order(built_site: Path) -> None:
    text = text_of(read(built_site, "plan.html"))
    critical = text[text.index(f"Critical Fix within 0{DASH}30 days") : text.index("High Fix within")]
    assert critical.index("S3-01") < critical.index("EC2-01")  # resource-types.yaml order: S3 before EC2
    assert f"Amazon S3 · 30{DASH}60 days S3-05" in text  # the service window inside the High tier


def test_refuses_to_write_into_a_directory_it_did_not_build(tmp_path: Path) -> None:
    (tmp_path / "controls").mkdir()
    mine = tmp_path / "controls" / "my-org-controls.yaml"
    mine.write_text("precious", encoding="utf-8")
    with pytest.raises(SiteError, match="not empty and holds no site built by controlmap"):
        build_site(tmp_path, fixture_input())
    assert mine.read_text(encoding="utf-8") == "precious"
    assert not (tmp_path / "index.html").exists()


def test_rebuild_keeps_files_it_did_not_write(tmp_path: Path) -> None:
    build_site(tmp_path, fixture_input())
    extra = tmp_path / "controls" / "README.txt"
    extra.write_text("added by hand", encoding="utf-8")
    manifest = tmp_path / ".controlmap-site.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("not the site's", encoding="utf-8")
    data["files"] += [f"../{outside.name}", "controls/README.txt/../../../etc"]  # a tampered manifest
    manifest.write_text(json.dumps(data), encoding="utf-8")
    build_site(tmp_path, fixture_input(scans=False))
    assert extra.is_file() and outside.is_file()
    assert not (tmp_path / "accounts").exists()  # its own stale pages are gone
    outside.unlink()


def test_two_pages_on_one_path_is_an_error(tmp_path: Path) -> None:
    site = fixture_input(scans=False)
    bucket = site.catalog.resource_types["AWS::S3::Bucket"]
    site.catalog.resource_types["AWS::S3::BUCKET"] = bucket.model_copy(update={"id": "AWS::S3::BUCKET"})
    with pytest.raises(SiteError, match=r"two pages would be written to types/aws-s3-bucket\.html"):
        build_site(tmp_path, site)
    assert list(tmp_path.iterdir()) == []  # nothing half-written: the next build is not refused


def test_a_failed_rebuild_leaves_the_previous_build_whole(tmp_path: Path) -> None:
    build_site(tmp_path, fixture_input())
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    site = fixture_input(scans=False)
    bucket = site.catalog.resource_types["AWS::S3::Bucket"]
    site.catalog.resource_types["AWS::S3::BUCKET"] = bucket.model_copy(update={"id": "AWS::S3::BUCKET"})
    with pytest.raises(SiteError):
        build_site(tmp_path, site)
    after = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    build_site(tmp_path, fixture_input(scans=False))  # and the next good build replaces it
    assert not (tmp_path / "accounts").exists()


def test_no_page_repeats_an_id(built_site: Path) -> None:
    for path in built_site.rglob("*.html"):
        ids = [attrs["id"] for _, attrs in tags_of(path.read_text(encoding="utf-8")) if attrs.get("id")]
        duplicates = {i for i in ids if ids.count(i) > 1}
        assert not duplicates, (path.relative_to(built_site).as_posix(), duplicates)


def test_templates_never_switch_escaping_off() -> None:
    from importlib import resources

    templates = resources.files("controlmap.site") / "templates"
    for item in templates.iterdir():
        source = item.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", ""), item.name
        assert "autoescape" not in source, item.name
    script = (resources.files("controlmap.site") / "static" / "site.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


def test_unwritable_output_directory_is_a_site_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(SiteError, match=r"cannot create .*a-file/site: "):
        build_site(blocker / "site", fixture_input(scans=False))


def test_cli_reports_unwritable_directory_without_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from controlmap.cli.app import app

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, ["site", "build", str(blocker / "site"), "--no-store"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "error: cannot create" in result.output


def test_due_dates_are_marked_for_the_layout(built_site: Path) -> None:
    """The browser test (test_finding_tables_fit_a_desktop_window) checks the layout itself."""
    account = read(built_site, "accounts/111122223333.html")
    assert '<th scope="col" class="due">Due</th>' in account
    due = '<td class="due"><span class="date">2026-11-20</span> <span class="badge overdue">Overdue</span>'
    assert due in account
