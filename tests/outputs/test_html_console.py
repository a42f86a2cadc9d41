"""The HTML report (parsed, checked for sections and for escaping) and the Rich console summary."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from rich.console import Console

from controlmap.findings.model import ScanResult
from controlmap.outputs import TrendPoint, render, render_console
from controlmap.outputs.html import json_for_script

from .factories import XSS_NAME, XSS_TAG, finding


class ReportParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}
        self._buffer: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(attributes["id"] or "")
        if tag in ("script", "style"):
            self._in, self._attrs, self._buffer = tag, attributes, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            content = "".join(self._buffer)
            if tag == "script":
                self.scripts.append((self._attrs, content))
            else:
                self.styles.append(content)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buffer.append(data)
        else:
            self.text.append(data)


def parse(text: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(text)
    parser.close()
    return parser


def test_html_sections_and_data(result: ScanResult, catalog) -> None:
    html = render(result, "html", catalog=catalog)
    page = parse(html)
    assert {"summary", "plan", "attestations", "findings", "trend", "frameworks", "scan"} <= page.ids
    assert {"findings-data", "findings-body", "f-text", "f-status", "f-severity", "f-overdue"} <= page.ids
    data_blocks = [c for a, c in page.scripts if a.get("type") == "application/json"]
    rows = json.loads(data_blocks[0])
    assert len(rows) == len(result.findings)
    assert {r["resource"] for r in rows} >= {XSS_NAME, "logs"}
    text = " ".join(page.text)
    assert "ISO/IEC 27001:2022 Annex A" in text and "SOC 2 Trust Services Criteria" in text
    assert "open Critical" in text and "overdue" in text
    assert "Turn on all four S3 Block Public Access settings." in text  # the plan's next step
    assert "Attest that access is reviewed every quarter" in text  # the MANUAL finding's attestation


def test_html_escapes_names_and_tags(result: ScanResult, catalog) -> None:
    html = render(result, "html", catalog=catalog)
    assert XSS_NAME not in html
    assert XSS_TAG not in html
    assert "<img" not in html
    page = parse(html)
    assert not any(tag == "img" for tag, _ in page.tags)
    executable = [(a, c) for a, c in page.scripts if a.get("type") != "application/json"]
    assert len(executable) == 1  # only the report's own script
    assert "alert(1)" not in executable[0][1]
    # The name still reads correctly to a person: escaped in the text, intact in the JSON data.
    assert any(XSS_NAME in t for t in page.text)
    rows = json.loads(next(c for a, c in page.scripts if a.get("type") == "application/json"))
    assert f"Owner={XSS_TAG}" in next(r["tags"] for r in rows if r["resource"] == XSS_NAME)


def test_html_script_breakout_is_impossible() -> None:
    evil = finding(resource_name="</script><script>alert(1)</script>", reason="\u2028 & <!--")
    html = render(ScanResult(kind="aws", started_at=evil.first_seen, findings=[evil]), "html")
    page = parse(html)
    assert len(page.scripts) == 2
    data = json.loads(next(c for a, c in page.scripts if a.get("type") == "application/json"))
    assert data[0]["resource"] == "</script><script>alert(1)</script>"
    assert "</script><script>" not in json_for_script(data)


def test_html_is_self_contained_with_a_strict_csp(result: ScanResult) -> None:
    html = render(result, "html")
    page = parse(html)
    csp = next(
        a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp and "unsafe-inline" not in csp
    script = next(c for a, c in page.scripts if a.get("type") != "application/json")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    style_digest = base64.b64encode(hashlib.sha256(page.styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{style_digest}'" in csp
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"^(https?:)?//", value), (tag, value)
        assert tag not in ("link", "iframe", "object", "embed")
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)


def test_html_trend_and_framework_choice(result: ScanResult, catalog) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    history = [TrendPoint(f"s{i}", start + timedelta(days=7 * i), 50.0 + 5 * i, 10 - i) for i in range(4)]
    html = render(result, "html", catalog=catalog, history=history, framework="seed")
    page = parse(html)
    assert any(tag == "polyline" for tag, _ in page.tags)
    assert sum(1 for tag, _ in page.tags if tag == "circle") == 5  # 4 past scans + this one
    frameworks = [a.get("data-framework") for t, a in page.tags if t == "table" and "data-framework" in a]
    assert frameworks == ["seed"]


def test_html_single_scan_explains_missing_trend(result: ScanResult) -> None:
    page = parse(render(result, "html"))
    assert any("Only one scan so far" in t for t in page.text)


def test_console_summary_prints_names_literally(result: ScanResult) -> None:
    result.findings[0].resource_name = "[bold red]owned[/] \x1b[2J"
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=False, color_system=None)
    render_console(result, console)
    out = buffer.getvalue()
    assert "[bold red]owned[/]" in out
    assert "\x1b" not in out
    for heading in (
        "By severity",
        "By service",
        "API calls",
        "Critical: 2 failing",
        "1 error(s) during the scan",
    ):
        assert heading in out
    assert "OVERDUE 2026-10-01" in out
    assert "assets" not in out  # passing findings only with show_passed
    buffer.truncate(0)
    render_console(result, console, show_passed=True)
    assert "assets" in buffer.getvalue()


def test_excepted_findings_show_approver_and_expiry_in_console_and_markdown(result: ScanResult) -> None:
    excepted = [f for f in result.findings if f.exception and f.exception.get("kind") == "approved"]
    assert excepted, "the sample scan has an approved exception"
    approval = excepted[0].exception or {}
    console = Console(file=io.StringIO(), width=160, force_terminal=False, color_system=None)
    render_console(result, console)
    out = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert f"approved by {approval['approved_by']}, expires {approval['expires']}" in out
    markdown = render(result, "markdown")
    assert "#### Excepted findings" in markdown
    assert f"expires {approval['expires']}" in markdown.replace("\\-", "-")


def test_html_keeps_account_and_region_on_one_line(result: ScanResult) -> None:
    html = render(result, "html")
    assert re.search(r'<td class="mono nowrap">111122223333/[a-z0-9-]+</td>', html)
    assert 'cell(tr, r.where, r.account ? "mono nowrap" : "mono")' in html  # the interactive table too


def test_console_in_80_columns_puts_reasons_on_their_own_line(result: ScanResult) -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=False, color_system=None)
    render_console(result, console)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    failing = [f for f in result.findings if f.status.value == "FAIL"]
    reason = failing[0].reason
    assert any(line.strip().startswith(reason[:40]) for line in lines), "\n".join(lines)
    assert all(len(line) <= 80 for line in lines if "│" in line)


def test_resources_sharing_a_name_show_their_id(result: ScanResult) -> None:
    template = next(f for f in result.findings if f.status.value == "FAIL")
    twins = [
        template.model_copy(
            update={"resource_name": "default", "resource_id": f"sg-0abc{i}", "region": "eu-west-1"}
        )
        for i in (1, 2)
    ]
    doubled = result.model_copy(update={"findings": [*result.findings, *twins]})
    markdown = render(doubled, "markdown")
    assert "`default (sg-0abc1)`" in markdown and "`default (sg-0abc2)`" in markdown
    console = Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None)
    render_console(doubled, console)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "default (sg-0abc1)" in out and "default (sg-0abc2)" in out


def test_html_names_the_exception_with_its_approver_and_expiry(result: ScanResult) -> None:
    """The findings table says which exception accepted a finding, as the console and Markdown do."""
    page = parse(render(result, "html"))
    rows = json.loads(next(c for a, c in page.scripts if a.get("type") == "application/json"))
    excepted = next(r for r in rows if r["status"] == "EXCEPTED")
    assert (
        excepted["exception"]
        == "EX-1: approved by ciso@example.com, expires 2027-01-31; break-glass user in a vault (https://jira.example.com/browse/SEC-7)"
    )
