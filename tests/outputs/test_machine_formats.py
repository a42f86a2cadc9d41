"""JSON, CSV, Markdown and the render() entry point."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from controlmap.checks.registry import Status
from controlmap.findings.model import SCHEMA_VERSION, ScanResult
from controlmap.outputs import FORMATS, render
from controlmap.outputs.common import csv_cell, md_code, md_text

from .factories import XSS_NAME, XSS_TAG, finding


def test_formats_are_the_documented_set() -> None:
    assert set(FORMATS) == {"json", "csv", "markdown", "junit", "sarif", "asff", "ocsf", "html"}


def test_unknown_format_is_a_clear_error(result: ScanResult) -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render(result, "xml")


def test_framework_view_only_for_formats_that_show_it(result: ScanResult) -> None:
    with pytest.raises(ValueError, match="--framework works with"):
        render(result, "sarif", framework="iso27001")


def test_json_is_the_versioned_schema(result: ScanResult) -> None:
    data = json.loads(render(result, "json"))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["duration_seconds"] == 90.0
    assert len(data["findings"]) == len(result.findings)
    first = data["findings"][0]
    for key in ("control_id", "check_id", "status", "severity", "resource_id", "resource_type", "reason"):
        assert key in first
    assert {f["finding_id"] for f in data["findings"]} == {f.key for f in result.findings}
    assert "framework_view" not in data


def test_json_framework_view(result: ScanResult, catalog) -> None:
    data = json.loads(render(result, "json", framework="iso27001", catalog=catalog))
    view = data["framework_view"]
    assert view["framework"] == "iso27001"
    rows = {r["id"]: r for r in view["requirements"]}
    assert rows["A.8.13"]["status"] == "non-compliant"
    assert rows["A.8.99"]["status"] == "not covered"  # no control maps to it
    assert rows["A.8.20"]["status"] == "not assessed"  # EC2-01 maps to it, no result in this scan
    assert rows["A.8.13"]["failed"] >= 1
    assert sum(view["counts"].values()) == len(rows)


def test_csv_neutralises_formulas(result: ScanResult) -> None:
    text = render(result, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(result.findings)
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r", value
    iam = next(r for r in rows if r["control_id"] == "IAM-02")
    assert iam["resource_name"] == "'=cmd|' /C calc'!A0"
    assert iam["exception_approved_by"] == "ciso@example.com"
    # A reason containing =HYPERLINK in the middle stays as it is: only a leading formula is live.
    assert any("=HYPERLINK" in r["reason"] for r in rows)
    tagged = next(r for r in rows if r["tags"])
    assert json.loads(tagged["tags"]) == {"CostCenter": "=1+2", "Owner": XSS_TAG}
    iac = next(r for r in rows if r["control_id"] == "S3-05")
    assert (iac["file"], iac["line_start"], iac["line_end"]) == ("templates/data stack.yaml", "12", "30")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("  =1", "'  =1"),
        ("safe=1", "safe=1"),
        ("", ""),
    ],
)
def test_csv_cell(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


def test_csv_framework_rows(result: ScanResult, catalog) -> None:
    rows = list(csv.DictReader(io.StringIO(render(result, "csv", framework="soc2", catalog=catalog))))
    by_id = {r["requirement"]: r for r in rows}
    assert by_id["CC6.1"]["status"] == "non-compliant"  # S3-01 fails on some buckets
    assert "S3-01=non-compliant" in by_id["CC6.1"]["controls"]
    assert int(by_id["CC6.1"]["failed"]) >= 1 and int(by_id["CC6.1"]["passed"]) >= 1


def _table_cells(line: str) -> int:
    """Cells in a GFM table row: pipes that are not backslash-escaped."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_summary_and_failing_findings(result: ScanResult) -> None:
    text = render(result, "markdown")
    assert "**3 failing**" in text
    assert "#### Failing findings" in text
    assert "**overdue** 2026-10-01" in text
    assert "templates/data stack.yaml:12-30" in text
    # Passing and excepted findings are not listed as failing.
    assert "`assets`" not in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    header_cells = {_table_cells(line) for line in table if "Control" in line}
    assert header_cells == {6}
    for line in table:
        if "S3\\-0" in line:
            assert _table_cells(line) == 6, line


def test_markdown_escapes_attacker_strings(result: ScanResult) -> None:
    text = render(result, "markdown")
    assert f"`{XSS_NAME}`" in text  # inside a code span it is shown, never interpreted
    outside_code = re.sub(r"(`+).*?\1", "", text)
    assert "<" not in outside_code and ">" not in outside_code
    assert XSS_TAG not in text
    assert "&gt;&lt;img src=x onerror=alert\\(1\\)&gt;" in text


def test_markdown_helpers() -> None:
    assert md_text("[x](javascript:alert(1))") == "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"
    assert md_text("@security-team") == "&#64;security\\-team"
    assert md_text("a\nb|c") == "a b\\|c"
    assert md_code("a`b") == "``a`b``"
    assert md_code("x|y") == "`x\\|y`"


def test_markdown_limit_and_no_failures() -> None:
    many = [finding(resource_id=f"arn:aws:s3:::b{i}", resource_name=f"b{i}") for i in range(30)]
    base = ScanResult(kind="aws", started_at=many[0].first_seen, findings=many)
    text = render(base, "markdown", limit=10)
    assert "…and 20 more failing finding(s)" in text
    clean = ScanResult(kind="iac", started_at=many[0].first_seen, findings=[finding(status=Status.PASS)])
    assert "**No failing findings** out of 1." in render(clean, "markdown")


def test_markdown_framework(result: ScanResult, catalog) -> None:
    text = render(result, "markdown", framework="iso27001", catalog=catalog)
    assert "| A\\.8\\.13 |" in text
    assert "non-compliant" in text
