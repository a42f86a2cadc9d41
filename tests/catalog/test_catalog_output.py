"""What the catalog commands print: custom marks, narrow terminals, framework advice, wording."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

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
