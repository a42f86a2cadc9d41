"""The settings file's plan: impossible, unknown or absurd windows are refused with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from .helpers import run


def settings_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "controlmap.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("{start_days: 30, end_days: 10}", "end_days (10) must be after start_days (30)"),
        ("{start_days: 30, end_days: 30}", "end_days (30) must be after start_days (30)"),
        ("{start_days: true, end_days: 30}", "plan.tiers.high.start_days"),
        ("{start_days: 0, end_days: 99999}", "less than or equal to 3650"),
    ],
)
def test_bad_tier_windows_are_refused(runner: CliRunner, tmp_path: Path, window: str, message: str) -> None:
    path = settings_file(tmp_path, f"plan:\n  tiers:\n    high: {window}\n")
    code, _, err = run(runner, "plan", "--settings", str(path))
    assert code == 2
    assert f"{path}:3: error:" in err and message in err
    assert "Value error" not in err
    # For the lint the settings file is one more file linted: its errors are findings (exit 1),
    # with the summary line and in the JSON, like those of the control files.
    code, out, _ = run(runner, "lint", "--settings", str(path))
    assert code == 1
    assert f"{path}:3: error:" in out and message in out and "1 error(s)" in out
    code, out, _ = run(runner, "lint", "--settings", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["errors"] == 1 and report["problems"][0]["line"] == 3


def test_lint_of_a_missing_settings_file_is_an_input_error(runner: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(runner, "lint", "--settings", str(tmp_path / "nope.yaml"))
    assert code == 2 and "settings file not found" in out


def test_unknown_service_in_service_windows_is_named_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    path = settings_file(
        tmp_path,
        "plan:\n  service_windows:\n    high:\n      s3: {start_days: 0, end_days: 20}\n"
        "      sqs: {start_days: 0, end_days: 20}\n",
    )
    code, _, err = run(runner, "plan", "--settings", str(path))
    assert code == 2
    assert f"{path}:5: error: plan.service_windows.high: unknown service 'sqs'" in err
    code, out, _ = run(runner, "lint", "--settings", str(path))
    assert code == 1 and f"{path}:5: error:" in out and "'sqs'" in out


def test_valid_service_window_still_applies(runner: CliRunner, tmp_path: Path) -> None:
    path = settings_file(
        tmp_path, "plan:\n  service_windows:\n    high:\n      s3: {start_days: 0, end_days: 20}\n"
    )
    code, out, _ = run(runner, "plan", "--settings", str(path), "--format", "csv")
    assert code == 0 and "high,s3,0-20 days" in out
