"""What the catalog commands print: custom marks, narrow terminals, framework advice, wording."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from controlmap.catalog.catalog import load_catalog
from controlmap.cli.app import app

from .helpers import catalog_file, control_yaml, run


@pytest.fixture
def org(tmp_path: Path) -> Path:
    return catalog_file(tmp_path / "org.yaml", control_yaml("ORG-S3-10"))


def test_custom_is_marked_in_every_list_format(runner: CliRunner, org: Path) -> None:
    code, out, _ = run(runner, "list", "--catalog", str(org), "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0 and rows["ORG-S3-10"]["custom"] == "True" and rows["S3-01"]["custom"] == "False"
    code, out, _ = run(runner, "list", "--catalog", str(org), "--format", "markdown")
    header = next(line for line in out.splitlines() if line.startswith("| id"))
    assert "custom" in header
    assert re.search(r"^\| ORG-S3-10 \|.*\| True \|$", out, re.M)
    code, out, _ = run(runner, "list", "--catalog", str(org), "--format", "json")
    assert next(r for r in json.loads(out) if r["id"] == "ORG-S3-10")["custom"] is True
    code, out, _ = run(runner, "list", "--catalog", str(org))
    assert "(custom)" in out


def test_custom_is_marked_in_the_plan(runner: CliRunner, org: Path) -> None:
    code, out, _ = run(runner, "plan", "--catalog", str(org), "--format", "json")
    low = next(r for r in json.loads(out) if r["severity"] == "low")
    assert code == 0 and low["custom_controls"] == ["ORG-S3-10"]
    assert all(r["custom_controls"] == [] for r in json.loads(out) if r["severity"] != "low")
    code, out, _ = run(runner, "plan", "--catalog", str(org))
    assert "ORG-S3-10 (custom)" in out


def test_list_at_80_columns_shows_every_full_id(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for control in load_catalog().ordered():
        assert re.search(rf"│ {re.escape(control.id)}\s", result.stdout), control.id
        for ident in control.iso27001 + control.soc2:
            assert ident in result.stdout


def test_frameworks_at_60_columns_shows_full_requirement_ids(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "frameworks", "soc2"], env={"COLUMNS": "60"})
    assert result.exit_code == 0
    for ident in ("CC6.1", "PI1.5", "P8.1", "A1.3"):
        assert re.search(rf"│ {re.escape(ident)}\s", result.stdout), ident


@pytest.mark.parametrize(
    ("word", "advice"),
    [("Availability", "cite A1.2 for backups"), ("confidentiality", "add C1.1")],
)
def test_soc2_category_word_gets_the_lint_advice(runner: CliRunner, word: str, advice: str) -> None:
    code, _, err = run(runner, "list", "--framework", f"soc2:{word}")
    assert code == 2
    assert advice in err and f'"{word}" is a Trust Services category' in err
    assert word.upper() not in err


def test_manual_custom_control_is_manual_by_design_and_one_control_is_singular(
    runner: CliRunner, org: Path
) -> None:
    code, out, _ = run(runner, "show", "ORG-S3-10", "--catalog", str(org))
    assert code == 0 and "manual by design" in out and "none yet" not in out
    code, out, _ = run(runner, "list", "--catalog", str(org), "--service", "s3", "--severity", "low")
    assert code == 0 and re.search(r"^\s*1 control\s*$", out, re.M)
    assert "1 controls" not in out


def test_show_at_80_columns_keeps_the_whole_file_and_line(runner: CliRunner) -> None:
    """The built-in files live deep in site-packages: "Defined in" wraps instead of ending in "…"."""
    result = runner.invoke(app, ["catalog", "show", "EC2-01"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    origin = load_catalog().origins["EC2-01"]
    cells = [line.strip("│ ").removeprefix("Defined in").strip() for line in result.stdout.splitlines()]
    start = next(i for i, line in enumerate(result.stdout.splitlines()) if "Defined in" in line)
    joined = "".join(cells[start : start + 4])
    assert f"{origin.path}:{origin.line}" in joined
    assert "…" not in result.stdout.splitlines()[start]


def _markdown_tokens(text: str) -> list[Any]:
    from markdown_it import MarkdownIt  # ships with rich

    return MarkdownIt("commonmark").enable("table").parse(text)


def test_show_markdown_is_a_page_with_every_part(runner: CliRunner) -> None:
    code, out, _ = run(runner, "show", "KMS-01", "--format", "markdown")
    assert code == 0 and out.startswith("# KMS-01 Key Rotation\n")
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Why",
        "## Resource types",
        "## Framework references",
        "## As published in the seed",
        "## Corrections",
        "## Remediation",
        "## Equivalents",
    ]
    assert "| Plan window | 0-30 days |" in out  # Critical, though the seed's summary table says High
    assert "| Critical | A.8.24, A.10.1 | CC6.7, CC6.8 | High |" in out
    assert "| iso27001:2022 | A.8.24 | Use of cryptography |" in out
    assert "- Security Hub CSPM: `KMS.4`" in out
    fences = [t for t in _markdown_tokens(out) if t.type == "fence"]
    assert [t.info for t in fences] == ["bash", "yaml", "hcl"]
    assert "EnableKeyRotation: true" in fences[1].content


def test_show_markdown_escapes_hostile_custom_text(runner: CliRunner, tmp_path: Path) -> None:
    hostile = control_yaml(
        extra="    attestation: '# not a heading <img src=x onerror=alert(1)> | cell'\n    checks: []\n"
    ).replace(
        "title: Bucket names follow the naming standard", "title: '<script>x</script> [link](http://evil)'"
    )
    hostile = hostile.replace(
        "      summary: Rename the bucket.\n",
        "      summary: Rename the bucket.\n      cli: 'echo ``` done'\n",
    )
    path = catalog_file(tmp_path / "hostile.yaml", hostile)
    code, out, _ = run(runner, "show", "ORG-S3-10", "--catalog", str(path), "--format", "markdown")
    assert code == 0
    tokens = _markdown_tokens(out)
    inline = [child for t in tokens if t.children for child in t.children]
    assert not [t for t in tokens + inline if t.type in ("html_block", "html_inline", "link_open")]
    heading = next(t.content for t in tokens if t.type == "inline")  # the first: the page title
    assert heading.startswith("ORG-S3-10 ") and "script" in heading
    assert [t.content.strip() for t in tokens if t.type == "fence"] == ["echo ``` done"]  # the fence holds
    rows = [line for line in out.splitlines() if line.startswith("| Attestation |")]
    assert rows == ["| Attestation | \\# not a heading \\<img src=x onerror=alert(1)\\> \\| cell |"]
