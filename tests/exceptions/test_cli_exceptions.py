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


IMPOSSIBLE_DATE = (
    "exceptions:\n"
    "  - id: EX-BAD\n"
    "    control: S3-01\n"
    "    resources: {arn: '*'}\n"
    "    justification: j\n"
    "    approved_by: Jane\n"
    "    approved_on: 2026-13-45\n"
    "    expires: 2027-01-01\n"
)


def test_impossible_date_is_a_located_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(IMPOSSIBLE_DATE)
    validate = runner.invoke(app, ["exceptions", "validate", str(path)])
    assert validate.exit_code == 1, validate.output
    assert validate.exception is None or isinstance(validate.exception, SystemExit)
    flat = validate.output.replace("\n", "")
    assert f"{path}:7: error: exception #1: approved_on is not a valid date" in flat
    listed = runner.invoke(app, ["exceptions", "list", str(path)])
    assert listed.exit_code == 2
    assert isinstance(listed.exception, SystemExit)
    assert f"{path}:7: error: exception #1: approved_on is not a valid date" in listed.output.replace(
        "\n", ""
    )


def test_read_yaml_keeps_impossible_timestamps_as_text(tmp_path: Path) -> None:
    from datetime import date

    from controlmap.yamlfile import read_yaml

    path = tmp_path / "d.yaml"
    path.write_text("good: 2026-11-02\nbad: 2026-13-45\n")
    document = read_yaml(path)
    assert document["good"] == date(2026, 11, 2)
    assert document["bad"] == "2026-13-45"


MIXED = (
    "exceptions:\n"
    "  - id: EX-A\n"  # line 2: schema error (no approver)
    "    control: S3-01\n"
    "    resources: {arn: '*'}\n"
    "    justification: j\n"
    "    approved_on: 2026-11-02\n"
    "    expires: 2027-01-01\n"
    "  - id: EX-B\n"  # line 8: valid schema, unknown control
    "    control: ZZ-99\n"
    "    resources: {arn: '*'}\n"
    "    justification: j\n"
    "    approved_by: Jane\n"
    "    approved_on: 2026-11-02\n"
    "    expires: 2027-01-01\n"
    "  - id: EX-B\n"  # line 15: duplicate id, approved for more than a year
    "    control: S3-01\n"
    "    resources: {arn: 'arn:aws:s3:::nothing-matches-*'}\n"
    "    justification: j\n"
    "    approved_by: Jane\n"
    "    approved_on: 2026-01-02\n"
    "    expires: 2027-06-01\n"
)


def test_validate_reports_schema_and_semantic_problems_in_one_pass(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    path = tmp_path / "ex.yaml"
    path.write_text(MIXED)
    result = runner.invoke(
        app, ["exceptions", "validate", str(path), "--db", f"sqlite:///{tmp_path / 'no.db'}"]
    )
    assert result.exit_code == 1
    flat = result.output.replace("\n", "")
    assert f"{path}:2: error: exception #1: approved_by is required" in flat
    assert f"{path}:8: error: EX-B: unknown control 'ZZ-99'" in flat
    assert f"{path}:15: error: duplicate exception id 'EX-B'" in flat
    assert f"{path}:15: warning: EX-B: approved for" in flat
    assert "selectors not checked against a scan: no database at" in flat
    assert not (tmp_path / "no.db").exists()


def test_validate_warns_for_a_selector_that_matches_nothing_in_the_latest_scan(
    tmp_path: Path, monkeypatch
) -> None:
    from controlmap.settings import PlanSettings, Settings
    from controlmap.store import record_scan
    from outputs.factories import sample_result

    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    record_scan(sample_result().model_copy(update={"scan_id": None}), url, Settings(plan=PlanSettings()))
    path = tmp_path / "ex.yaml"
    path.write_text(
        "exceptions:\n"
        "  - id: EX-A\n"
        "    control: S3-01\n"
        "    resources: {arn: 'arn:aws:s3:::no-such-*'}\n"
        "    justification: j\n"
        "    approved_by: Jane\n"
        "    approved_on: 2026-11-02\n"
        "    expires: 2027-01-01\n"
    )
    result = runner.invoke(app, ["exceptions", "validate", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    assert "EX-A: matches no finding in the latest recorded scans" in result.output.replace("\n", "")


def test_report_names_a_lapsed_exception_once(tmp_path: Path, monkeypatch) -> None:
    """The scan reported EX-2 as lapsed; the report, run later next to the same file, must not
    list it a second time under 'Expired exceptions'."""
    from datetime import date

    from controlmap.exceptions import apply_exceptions, load_exceptions
    from controlmap.store import record_scan

    from .test_exceptions import scan

    monkeypatch.chdir(tmp_path)
    (tmp_path / "exceptions.yaml").write_text(GOOD)
    entries = load_exceptions(Path("exceptions.yaml"))
    result = apply_exceptions(scan(), entries, date(2026, 12, 5))
    assert any(e.code == "ExceptionExpired" and "EX-2" in e.message for e in result.errors)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    record_scan(result, url)
    assert runner.invoke(app, ["report", "--db", url, "-o", "r.html"]).exit_code == 0
    html = (tmp_path / "r.html").read_text()
    assert html.count("EX-2") == 1, html.count("EX-2")
