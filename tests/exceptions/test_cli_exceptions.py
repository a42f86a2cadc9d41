"""`controlmap exceptions validate` and `controlmap exceptions list`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from controlmap.cli.app import app

from .test_exceptions import GOOD

runner = CliRunner()


def test_validate_good_file_with_expired_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exceptions.yaml").write_text(GOOD)
    result = runner.invoke(app, ["exceptions", "validate"])
    assert result.exit_code == 0, result.output
    assert "3 exception(s) valid, 1 warning(s)" in result.output
    assert "EX-2: expired on 2026-11-30" in result.output
    strict = runner.invoke(app, ["exceptions", "validate", "--strict"])
    assert strict.exit_code == 1


def test_validate_reports_missing_approver_with_line(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(
        "exceptions:\n"
        "  - control: S3-01\n"
        "    resources: {arn: '*'}\n"
        "    justification: j\n"
        "    approved_on: 2026-11-02\n"
        "    expires: 2027-01-01\n"
    )
    result = runner.invoke(app, ["exceptions", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: error: exception #1: approved_by is required" in result.output.replace("\n", "")


def test_validate_without_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["exceptions", "validate"])
    assert result.exit_code == 2 and "no exceptions file" in result.output


def test_list(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(GOOD)
    rows = json.loads(runner.invoke(app, ["exceptions", "list", str(path), "--format", "json"]).stdout)
    assert [r["id"] for r in rows] == ["EX-1", "EX-2", "EX-3"]
    assert rows[0]["resources"] == "arn=arn:aws:s3:::public-website-*"
    assert rows[1]["resources"] == "account=111122223333; tag:Role=break-glass"
    expired = json.loads(
        runner.invoke(app, ["exceptions", "list", str(path), "--expired", "-f", "json"]).stdout
    )
    assert [r["id"] for r in expired] == ["EX-2"]
