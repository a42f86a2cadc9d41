"""``controlmap scan iac``: outputs, exit codes, baselines, options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controlmap.cli.app import app

from .conftest import FIXTURES

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_fixtures(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(FIXTURES)
    monkeypatch.setenv("CONTROLMAP_SETTINGS", str(tmp_path / "none.yaml"))
    (tmp_path / "none.yaml").write_text("{}\n")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", "iac", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def document(*args: str) -> tuple[int, str]:
    """Exit code and stdout alone: a machine format, with the errors stderr also shows left out."""
    result = runner.invoke(app, ["scan", "iac", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def words(text: str) -> str:
    """Console text with line wrapping undone."""
    return " ".join(text.split())


def test_console_groups_by_file_with_line_reason_and_fix() -> None:
    code, raw = invoke("cloudformation/s3_insecure.json", "--controls", "S3-03,S3-05")
    out = words(raw)
    assert code == 1
    assert "cloudformation/s3_insecure.json" in out
    assert "WebsiteBucket line 5-20" in out
    assert "SSE-S3" in out
    assert "fix:" in out and "SSEAlgorithm: aws:kms" in out  # the CloudFormation snippet
    code, tf = invoke("terraform/s3_inline", "--controls", "S3-05")
    assert "aws_s3_bucket_versioning" in tf  # the Terraform snippet for Terraform files


def test_json_output_and_exit_codes(tmp_path: Path) -> None:
    code, out = invoke("cloudformation/s3_secure.yaml", "--controls", "S3-04", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "iac"
    statuses = {f["resource_name"]: f["status"] for f in data["findings"]}
    assert statuses["DataBucket"] == "PASS"
    failing, _ = invoke("cloudformation/s3_insecure.json", "-o", "json")
    assert failing == 1
    high_only, _ = invoke(
        "cloudformation/s3_insecure.json", "--controls", "S3-06", "--fail-on", "high", "-o", "json"
    )
    assert high_only == 0  # S3-06 is medium
    soft, _ = invoke("cloudformation/s3_insecure.json", "--soft-fail", "-o", "json")
    assert soft == 0


def test_sarif_has_file_uris_and_regions(tmp_path: Path) -> None:
    target = tmp_path / "out.sarif"
    code, _ = invoke("cloudformation/s3_insecure.json", "-o", "sarif", "--output-file", str(target))
    assert code == 1
    sarif = json.loads(target.read_text())
    results = sarif["runs"][0]["results"]
    located = [
        r["locations"][0]["physicalLocation"] for r in results if "physicalLocation" in r["locations"][0]
    ]
    assert any(
        loc["artifactLocation"]["uri"] == "cloudformation/s3_insecure.json"
        and loc["region"]["startLine"] == 5
        for loc in located
    )


def test_junit_and_markdown() -> None:
    code, junit = invoke("terraform/s3_inline", "-o", "junit")
    assert code == 1 and "<testsuite" in junit
    _, markdown = invoke("terraform/s3_inline", "-o", "markdown")
    assert "aws_s3_bucket.legacy" in markdown


def test_file_errors_exit_2_and_other_files_are_scanned() -> None:
    code, raw = invoke("bad/unknown_tag.yaml", "cloudformation/s3_secure.yaml", "--controls", "S3-04")
    out = words(raw)
    assert code == 2
    assert "bad/unknown_tag.yaml:6" in out and "unknown tag !Fancy" in out
    assert "Traceback" not in out


def test_baseline_reports_only_new_failures(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    code, _ = invoke("cloudformation/s3_insecure.json", "--create-baseline", str(baseline), "-o", "json")
    assert code == 1
    recorded = json.loads(baseline.read_text())
    assert recorded["version"] == 1 and recorded["findings"]
    code, out = invoke("cloudformation/s3_insecure.json", "--baseline", str(baseline), "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert not [f for f in data["findings"] if f["status"] == "FAIL"]
    assert any(f["status"] == "EXCEPTED" and f["exception"]["kind"] == "baseline" for f in data["findings"])
    code, _ = invoke(
        "cloudformation/s3_insecure.json",
        "cloudformation/kms.yaml",
        "--baseline",
        str(baseline),
        "-o",
        "json",
    )
    assert code == 1  # the KMS template's failures are new


def test_parameters_and_parameters_file(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps([{"ParameterKey": "Environment", "ParameterValue": "prod"}]))
    _, out = invoke(
        "cloudformation/conditions.yaml",
        "--parameters-file",
        str(params),
        "--controls",
        "S3-03",
        "-o",
        "json",
    )
    by_name = {f["resource_name"]: f for f in json.loads(out)["findings"]}
    assert by_name["ReportsBucket"]["status"] == "PASS"
    _, out = invoke(
        "cloudformation/conditions.yaml", "-p", "Environment=dev", "--controls", "S3-03", "-o", "json"
    )
    by_name = {f["resource_name"]: f for f in json.loads(out)["findings"]}
    assert by_name["ReportsBucket"]["status"] == "FAIL"
    assert "AuditBucket" not in by_name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cloudformation", "--framework", "pulumi"], "unknown --framework"),
        (["cloudformation", "-p", "novalue"], "KEY=VALUE"),
        (["cloudformation", "--controls", "NOPE-1"], "unknown control"),
        (["cloudformation", "-o", "asff"], "not available for IaC"),
        (["cloudformation", "--var-file", "missing.tfvars"], "no such file"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert message in out


def test_framework_limits_the_scan() -> None:
    _, out = invoke(".", "--framework", "terraform-plan", "-o", "json")
    data = json.loads(out)
    assert data["sources"] == ["plan/plan.json"]
    assert {f["source"]["kind"] for f in data["findings"]} == {"terraform-plan"}


def test_files_that_are_not_templates_are_skipped(tmp_path: Path) -> None:
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs: {}\n")
    code, out = invoke(str(workflow), "cloudformation/kms.yaml", "--controls", "KMS-01", "-o", "json")
    data = json.loads(out)
    assert data["sources"] == ["cloudformation/kms.yaml"] and data["errors"] == []
    assert code == 1
    code, out = invoke(str(workflow))
    assert code == 0 and "no CloudFormation, SAM or Terraform found" in out


def test_markdown_lists_the_files_that_could_not_be_scanned() -> None:
    code, out = invoke("bad/bad_yaml.yaml", "cloudformation/kms.yaml", "-o", "markdown")
    assert code == 1  # kms.yaml has failures; the bad file is listed, not hidden
    assert "⚠️ 1 file error(s): what they name was not scanned, or the skip was ignored." in out
    assert "- `bad/bad_yaml.yaml:7` invalid YAML" in out
    assert "affected checks report ERROR" not in out


def test_console_columns_and_one_line_for_what_two_checks_say_alike(tmp_path: Path) -> None:
    template = tmp_path / "stack.yaml"
    template.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
        "  Logs:\n    Type: AWS::S3::Bucket\n    Metadata:\n      controlmap:\n        skip:\n"
        "          - {id: S3-06, reason: the access-log target}\n"
        "  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: ami-12345678\n"
    )
    _, out = invoke(str(template), "--controls", "S3-06,EC2-06", "--no-fix")
    assert "SUPPRESSED medium   S3-06" in out
    # EC2-06 has two checks (SSM registration, patch state) with the same UNKNOWN reason
    assert out.count("EC2-06") == 1, out


def test_scan_iac_does_not_import_boto3_or_the_store() -> None:
    # start-up is paid on every pre-commit run: an IaC scan needs neither AWS nor the history store
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from controlmap.cli.app import app\n"
        "try:\n"
        "    app(['scan', 'iac', 'cloudformation/kms.yaml', '-o', 'json'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'boto3', 'botocore') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_a_missing_path_is_a_usage_error_even_with_soft_fail() -> None:
    # a typo in a CI job's path must not pass quietly with nothing scanned
    code, out = document("cloudformation/kms.yaml", "no/such/dir", "--soft-fail", "-o", "json")
    assert code == 2
    assert json.loads(out[out.index("{") :])["errors"][0]["message"] == "no such file or directory"
    code, _ = invoke("bad/bad_yaml.yaml", "--soft-fail", "-o", "json")
    assert code == 0  # a file that does not parse is reported; --soft-fail still exits 0


def test_store_is_opt_in_and_no_store_is_accepted(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    url = f"sqlite:///{db}"
    code, _ = invoke("cloudformation/s3_secure.yaml", "--no-store", "--db", url)
    assert code in (0, 1) and not db.exists()
    code, _ = invoke("cloudformation/s3_secure.yaml", "--db", url)
    assert code in (0, 1) and not db.exists()  # no history unless asked for
    code, _ = invoke("cloudformation/s3_secure.yaml", "--store", "--db", url)
    assert code in (0, 1) and db.exists()
    listing = runner.invoke(app, ["scans", "--db", url, "--format", "json"])
    assert listing.exit_code == 0, listing.output
    scans = json.loads(listing.output)
    assert [s["kind"] for s in scans] == ["iac"]


def test_console_status_column_never_runs_into_the_severity(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
    )
    _, out = invoke(str(key), "--show-passed", "--no-fix")
    statuses = [line.split()[0] for line in out.splitlines() if line.startswith("  ") and "line " in line]
    assert "NOT_APPLICABLE" in statuses  # a status as long as NOT_APPLICABLE is followed by a space


def test_junit_reports_files_that_could_not_be_scanned() -> None:
    """A run where only unparseable files were found must not read as an empty, green test run."""
    import xml.etree.ElementTree as ET

    code, out = document("bad/bad_yaml.yaml", "bad/bad_tf", "-o", "junit")
    assert code == 2
    root = ET.fromstring(out.encode())
    assert root.attrib["errors"] == "2" and root.attrib["tests"] == "2"
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    assert set(cases) == {"bad/bad_yaml.yaml:7", "bad/bad_tf/main.tf:2"}
    error = cases["bad/bad_yaml.yaml:7"].find("error")
    assert error is not None and error.attrib["type"] == "parse" and "invalid YAML" in error.attrib["message"]


def test_a_settings_file_found_in_the_working_directory_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A leftover ./controlmap.yaml changes verdicts (here S3-01's account-level cover), so a scan
    says it used it, on stderr; stdout stays clean JSON. --settings and the env var need no note."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "controlmap.yaml").write_text("s3:\n  bucket_level_block_required: false\n")
    (work / "t.yaml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    monkeypatch.chdir(work)
    monkeypatch.delenv("CONTROLMAP_SETTINGS")
    found = runner.invoke(app, ["scan", "iac", "t.yaml", "-o", "json"])
    assert "settings:" in found.stderr and "controlmap.yaml (from the working directory" in found.stderr
    json.loads(found.stdout)
    chosen = runner.invoke(app, ["scan", "iac", "t.yaml", "-o", "json", "--settings", "controlmap.yaml"])
    assert "settings:" not in chosen.stderr
    monkeypatch.setenv("CONTROLMAP_SETTINGS", str(work / "controlmap.yaml"))
    assert "settings:" not in runner.invoke(app, ["scan", "iac", "t.yaml", "-o", "json"]).stderr


def test_machine_formats_also_name_unreadable_paths_on_stderr() -> None:
    """A CI log shows stderr: a missing path must be seen there, not only inside the JSON."""
    result = runner.invoke(app, ["scan", "iac", "no-such-dir/x.yaml", "-o", "json"])
    assert result.exit_code == 2
    assert "no-such-dir/x.yaml: no such file or directory" in result.stderr
    assert json.loads(result.stdout)["errors"][0]["source"] == "no-such-dir/x.yaml"
