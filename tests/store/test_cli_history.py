"""The history and report commands, end to end on an SQLite store filled with hand-made scans."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import controlmap
from controlmap.checks.registry import Status
from controlmap.cli.app import app
from controlmap.settings import PlanSettings, Settings
from controlmap.store import record_scan
from outputs.factories import XSS_NAME, sample_result

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch) -> str:
    """Two comparable scans 40 days apart: `logs` fixed, `assets` broken, the rest unchanged."""
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    monkeypatch.delenv("CONTROLMAP_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    settings = Settings(plan=PlanSettings())
    first = sample_result().model_copy(update={"scan_id": None})
    record_scan(first, url, settings)
    second = sample_result()
    findings = list(second.findings)
    findings[0] = findings[0].model_copy(update={"status": Status.PASS, "reason": "fixed"})
    findings[1] = findings[1].model_copy(update={"status": Status.FAIL, "reason": "broken"})
    later = first.started_at + timedelta(days=40)
    second = second.model_copy(
        update={
            "scan_id": None,
            "findings": findings,
            "started_at": later,
            "finished_at": later + timedelta(minutes=1),
        }
    )
    record_scan(second, url, settings)
    return url


def flat(text: str) -> str:
    """Terminal output with Rich's line wrapping undone."""
    return " ".join(text.split())


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_scans_lists_newest_first(db: str) -> None:
    result = run("scans", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["state"] for r in rows] == ["complete", "complete"]
    assert rows[0]["started"] > rows[1]["started"]
    assert rows[0]["fail"] == 3 and rows[0]["api_calls"] == 6


def test_diff_defaults_to_the_last_two_scans(db: str) -> None:
    result = run("diff", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["resource_name"] for f in data["new"]] == ["assets"]
    assert [f["resource_name"] for f in data["resolved"]] == ["logs"]
    assert sorted(f["resource_name"] for f in data["still_failing"]) == sorted(["DataBucket", XSS_NAME])
    assert run("diff", "--db", db, "--fail-on-new").exit_code == 1
    table = run("diff", "--db", db)
    assert "1 new, 1 resolved, 2 still failing" in flat(table.stdout)


def test_findings_filters_and_overdue(db: str) -> None:
    result = run("findings", "--db", db, "--format", "json", "--overdue")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    # 40 days after the first scan, the critical XSS-named bucket (30-day window) is overdue.
    assert XSS_NAME in {r["resource_name"] for r in rows}
    assert all(r["overdue"] for r in rows)
    every = json.loads(run("findings", "--db", db, "--format", "json", "--all").stdout)
    assert len(every) == 8
    iam = json.loads(
        run("findings", "--db", db, "-f", "json", "--status", "excepted", "--service", "iam").stdout
    )
    assert [r["control_id"] for r in iam] == ["IAM-02"]
    csv_out = run("findings", "--db", db, "--format", "csv", "--all").stdout
    assert "'=cmd|' /C calc'!A0" in csv_out


def test_report_formats(db: str, tmp_path: Path) -> None:
    html = run("report", "--db", db)
    assert html.exit_code == 0, html.output
    (written,) = list(tmp_path.glob("controlmap-report-*.html"))
    text = written.read_text()
    assert "<polyline" in text  # two scans: a trend line
    assert XSS_NAME not in text
    sarif = run("report", "--db", db, "-f", "sarif")
    assert json.loads(sarif.stdout)["version"] == "2.1.0"
    out = tmp_path / "r.xml"
    assert run("report", "--db", db, "-f", "junit", "-o", str(out)).exit_code == 0
    assert ET.parse(out).getroot().attrib["failures"] == "3"
    framework = run("report", "--db", db, "-f", "json", "--framework", "iso27001")
    assert json.loads(framework.stdout)["framework_view"]["framework"] == "iso27001"


def test_report_from_a_json_file(db: str, tmp_path: Path) -> None:
    scan_json = tmp_path / "scan.json"
    scan_json.write_text(run("report", "--db", db, "-f", "json").stdout)
    md = run("report", "--input", str(scan_json), "-f", "markdown")
    assert md.exit_code == 0 and "**3 failing**" in md.stdout
    (tmp_path / "bad.json").write_text('{"kind": "aws"}')
    bad = run("report", "--input", str(tmp_path / "bad.json"), "-f", "csv")
    assert bad.exit_code == 2 and "not a controlmap scan: started_at" in flat(bad.output)


def test_report_asff_of_an_iac_scan_needs_an_account(tmp_path: Path) -> None:
    scan_json = tmp_path / "iac.json"
    iac = sample_result().model_copy(update={"kind": "iac", "accounts": [], "scan_id": None})
    iac = iac.model_copy(update={"findings": [f for f in iac.findings if f.account_id is None]})
    scan_json.write_text(json.dumps(iac.to_json()))
    refused = run("report", "--input", str(scan_json), "-f", "asff")
    assert refused.exit_code == 2 and "pass an account ID for ASFF with --account" in flat(refused.output)
    accepted = run("report", "--input", str(scan_json), "-f", "asff", "--account", "444455556666")
    assert accepted.exit_code == 0 and json.loads(accepted.stdout)[0]["AwsAccountId"] == "444455556666"


def test_report_errors_are_clear(db: str, tmp_path: Path) -> None:
    missing = run("report", "nope", "--db", db, "-f", "json")
    assert missing.exit_code == 2 and "no scan with ID 'nope'" in flat(missing.output)
    asff = run("report", "--db", db, "-f", "asff", "--region", "eu-west-1")
    assert asff.exit_code == 0 and json.loads(asff.stdout)[0]["SchemaVersion"] == "2018-10-08"
    bad_db = run("scans", "--db", "postgresql+psycopg://u:hunter2@127.0.0.1:1/x?connect_timeout=2")
    assert (
        bad_db.exit_code == 2 and "hunter2" not in bad_db.output and "cannot open database" in bad_db.output
    )
    # A database path that does not exist is not created by a read-only command.
    empty = run("report", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "-f", "json")
    assert empty.exit_code == 2 and "no database at" in flat(empty.output)
    assert not (tmp_path / "empty.db").exists()
    # `--output json` as the scan commands mean it: a format, not a file named "json" of HTML.
    misread = run("report", "--db", db, "--output", "json")
    assert misread.exit_code == 2 and "for the format use --format json" in flat(misread.output)
    assert not (tmp_path / "json").exists()
    # --output-file, the scan commands' name for the path, works here too.
    target = tmp_path / "r.md"
    assert run("report", "--db", db, "-f", "markdown", "--output-file", str(target)).exit_code == 0
    assert "failing" in target.read_text()


@pytest.mark.parametrize(
    "command",
    [["scans"], ["findings"], ["diff"], ["report", "-f", "markdown"], ["site", "build", "site-out"]],
)
def test_read_only_commands_never_create_a_database(tmp_path: Path, monkeypatch, command) -> None:
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    monkeypatch.delenv("CONTROLMAP_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "typo" / "history.db"
    result = runner.invoke(app, [*command, "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "no database at" in result.output and "run a scan first" in result.output
    assert not missing.exists() and not missing.parent.exists()


def test_database_without_controlmap_tables_has_no_scans_yet(tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("create table unrelated (a)").connection.close()
    url = f"sqlite:///{path}"
    scans = runner.invoke(app, ["scans", "--db", url])
    assert scans.exit_code == 0 and "No scans recorded in" in scans.output
    findings = runner.invoke(app, ["findings", "--db", url])
    assert findings.exit_code == 2 and "no scans recorded yet" in findings.output
    tables = {r[0] for r in sqlite3.connect(path).execute("select name from sqlite_master")}
    assert tables == {"unrelated"}  # nothing migrated into a database the user only read


def test_unsupported_database_scheme_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    result = runner.invoke(app, ["scans", "--db", "mysql://u@h/db"])
    assert result.exit_code == 2
    assert "unsupported database URL scheme 'mysql' (use sqlite:// or postgresql://)" in " ".join(
        result.output.split()
    )


def test_diff_in_reversed_order_swaps_and_says_so(db: str) -> None:
    scans = json.loads(run("scans", "--db", db, "--format", "json").stdout)
    newest, oldest = scans[0]["scan"], scans[1]["scan"]
    reversed_ = run("diff", newest, oldest, "--db", db, "--format", "json")
    assert reversed_.exit_code == 0
    data = json.loads(reversed_.stdout)
    assert data["old_scan"] == oldest and data["new_scan"] == newest
    assert [f["resource_name"] for f in data["new"]] == ["assets"]
    assert f"warning: scan {newest} is newer than {oldest}" in flat(reversed_.stderr)


def test_findings_machine_formats_keep_types_and_headers(db: str) -> None:
    import yaml as pyyaml

    empty_csv = run("findings", "--db", db, "--status", "excepted", "--account", "000000000000", "-f", "csv")
    assert empty_csv.exit_code == 0
    assert empty_csv.stdout.splitlines() == [
        "status,severity,control,resource,where,first_seen,due,overdue,reopened,scan,exception,approved_by,expires,"
        "reason,resource_id"
    ]
    rows = pyyaml.safe_load(run("findings", "--db", db, "-f", "yaml").stdout)
    assert rows and all(isinstance(r["overdue"], bool) and isinstance(r["reopened"], int) for r in rows)


def test_unknown_service_or_control_is_an_error_naming_known_ones(db: str) -> None:
    service = runner.invoke(app, ["findings", "--db", db, "--service", "s4"])
    assert service.exit_code == 2 and "unknown service s4; known: apigateway" in flat(service.output)
    control = runner.invoke(app, ["findings", "--db", db, "--control", "XX-1"])
    assert control.exit_code == 2 and "unknown control XX-1; known: APIGW-01" in flat(control.output)
    assert run("findings", "--db", db, "--service", "S3", "--control", "s3-01").exit_code == 0


def test_findings_show_who_approved_an_exception_and_until_when(db: str) -> None:
    rows = json.loads(run("findings", "--db", db, "--status", "excepted", "-f", "json").stdout)
    assert rows, "the sample scan has an excepted finding"
    table = run("findings", "--db", db, "--status", "excepted")
    text = flat(table.output)
    assert "approved by" in text and "expires 20" in text
    csv_rows = list(
        csv.DictReader(io.StringIO(run("findings", "--db", db, "--status", "excepted", "-f", "csv").stdout))
    )
    assert csv_rows and all(r["exception"] and r["approved_by"] and r["expires"] for r in csv_rows)
    assert all(
        r["resource_id"].startswith("arn:aws:") and r["reason"] for r in csv_rows
    )  # a usable work list


def test_scans_table_never_truncates_the_scan_id(db: str, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    rows = json.loads(run("scans", "--db", db, "--format", "json").stdout)
    ids = [r["scan"] for r in rows]
    assert all(r["regions"] == "eu-west-1" and r["services"] for r in rows)  # what was scanned
    narrow = run("scans", "--db", db)
    assert narrow.exit_code == 0
    # 80 columns (CI logs): one block per scan, never a nine-column table folded to letters.
    lines = narrow.stdout.splitlines()
    assert "│" not in narrow.stdout and lines[0] == "Scans"
    assert [line.split()[0] for line in lines[1::2]] == ids
    assert all("complete" in line and "findings" in line for line in lines[1::2])
    assert all("111122223333 · eu-west-1 · " in line for line in lines[2::2]), narrow.stdout
    monkeypatch.setenv("COLUMNS", "140")
    table = run("scans", "--db", db)
    assert all(scan_id in table.stdout for scan_id in ids), table.stdout
    assert "…" not in table.stdout.split("\n", 3)[-1].split("│")[1]  # the scan cell itself
    csv_out = run("scans", "--db", db, "--format", "csv").stdout
    assert all(scan_id in csv_out for scan_id in ids)


def test_report_of_an_interrupted_scan_says_it_is_partial(tmp_path: Path) -> None:
    from controlmap.store import scan_session

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with pytest.raises(KeyboardInterrupt), scan_session(url, kind="aws") as recorder:
        raise KeyboardInterrupt
    result = run("report", recorder.scan_id, "--db", url, "--format", "markdown")
    assert result.exit_code == 0
    assert "**Incomplete scan**" in result.stdout and "No failing findings" in result.stdout
    assert f"scan {recorder.scan_id} is incomplete (interrupted: KeyboardInterrupt)" in flat(result.output)
    # The version that ran it is known from the start, so an interrupted scan still says it.
    as_json = json.loads(run("report", recorder.scan_id, "--db", url, "--format", "json").stdout)
    assert as_json["tool_version"] == controlmap.__version__


def test_diff_of_scans_of_different_scope_compares_only_the_overlap(db: str, tmp_path: Path) -> None:
    """Named explicitly, a full scan and an S3-only one: a warning, and nothing outside S3 is
    called resolved. The Markdown (a PR comment) shows what became of each finding, escaped."""
    url = db
    settings = Settings(plan=PlanSettings())
    later = sample_result()
    full = later.model_copy(
        update={
            "scan_id": None,
            "started_at": later.started_at + timedelta(days=40, hours=12),
            "finished_at": later.started_at + timedelta(days=40, hours=13),
            "findings": [
                f.model_copy(update={"status": Status.FAIL}) if f.resource_name in ("abc", "assets") else f
                for f in later.findings
            ],
        }
    )
    full_id = record_scan(full, url, settings).scan_id
    s3_only = later.model_copy(
        update={
            "scan_id": None,
            "services": ["s3"],
            "started_at": later.started_at + timedelta(days=41),
            "finished_at": later.started_at + timedelta(days=41, minutes=1),
            "findings": [
                f.model_copy(update={"status": Status.UNKNOWN, "reason": "could not read `x` | y"})
                if f.resource_name == "assets"
                else f
                for f in later.findings
                if f.service == "s3"
            ],
        }
    )
    s3_id = record_scan(s3_only, url, settings).scan_id
    # No earlier S3-only scan: the default diff says so instead of comparing with the full one.
    default = run("diff", "--db", url)
    assert default.exit_code == 2 and "no earlier complete scan of the same scope" in flat(default.output)
    result = run("diff", full_id, s3_id, "--db", url, "-f", "markdown")
    assert result.exit_code == 0
    assert "only what both evaluated is compared" in flat(result.output)
    assert "#### Undetermined (no verdict in the newer scan)" in result.stdout
    assert "| UNKNOWN |" in result.stdout and "could not read \\`x\\` \\| y" in result.stdout
    assert "#### Resolved" not in result.stdout  # the failing KMS key was not rescanned
    data = json.loads(run("diff", full_id, s3_id, "--db", url, "-f", "json").stdout)
    assert data["same_scope"] is False and data["resolved"] == []
    assert [(f["service"], f["status"]) for f in data["not_compared"]] == [("kms", "FAIL")]


def test_scans_kind_filter_names_what_it_found_nothing_of(db: str) -> None:
    none = run("scans", "--db", db, "--kind", "iac")
    assert none.exit_code == 0 and "No iac scans recorded in" in flat(none.stdout)
    bogus = runner.invoke(app, ["scans", "--db", db, "--kind", "azure"])
    assert bogus.exit_code == 2 and "unknown --kind 'azure'; choose one of: aws, iac, aws-config" in flat(
        bogus.output
    )


def test_findings_csv_and_markdown_neutralise_hostile_names(tmp_path: Path, monkeypatch) -> None:
    """`findings -f csv/markdown` go to spreadsheets and pull-request comments like reports do:
    a formula behind leading spaces or a line break, a link, an image, HTML or an @mention in a
    resource name or reason must stay text (the report formats' rule, not a weaker copy)."""
    from outputs.factories import finding

    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    hostile = [
        finding(resource_id="arn:aws:ec2:::i-1", resource_name='  =HYPERLINK("http://x")', reason="r"),
        finding(resource_id="arn:aws:ec2:::i-2", resource_name="\n=1+2", reason="r"),
        finding(
            resource_id="arn:aws:ec2:::i-3",
            resource_name="![t](http://evil/t.png) [x](http://evil) @org/team <img src=x> a|b",
            reason="-2+3",
        ),
    ]
    result = sample_result().model_copy(update={"scan_id": None, "findings": hostile})
    record_scan(result, url, Settings(plan=PlanSettings()))
    out = run("findings", "--db", url, "-f", "csv")
    assert out.exit_code == 0, out.output
    rows = {r["resource_id"]: r for r in csv.DictReader(io.StringIO(out.stdout))}
    assert rows["arn:aws:ec2:::i-1"]["resource"].startswith("'")
    assert rows["arn:aws:ec2:::i-2"]["resource"].startswith("'")
    assert rows["arn:aws:ec2:::i-3"]["reason"] == "'-2+3"
    md = run("findings", "--db", url, "-f", "markdown").stdout
    assert "](http" not in md.replace("\\](http", "") and "<img" not in md and "@org" not in md
    assert "a\\|b" in md and "&#64;org/team" in md
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(hostile)  # header, rule, one row each: no line break got through


def test_diff_against_an_incomplete_scan_warns_that_its_findings_are_partial(db: str) -> None:
    """An incomplete scan did not look at everything, so a finding missing from it is not resolved:
    diff says so, as report does."""
    partial = sample_result().model_copy(update={"scan_id": None, "complete": False})
    record_scan(partial, db, Settings(plan=PlanSettings()))
    scans = json.loads(run("scans", "--db", db, "--format", "json").stdout)
    incomplete = next(s["scan"] for s in scans if s["state"] == "incomplete")
    complete = next(s["scan"] for s in scans if s["state"] == "complete")
    result = run("diff", complete, incomplete, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    assert f"warning: scan {incomplete} is incomplete" in flat(result.stderr)
    assert "its findings are partial" in flat(result.stderr)
    clean = run("diff", "--db", db, "--format", "json")  # the default pair skips incomplete scans
    assert "partial" not in clean.stderr
