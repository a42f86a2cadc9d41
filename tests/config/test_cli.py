"""`controlmap scan config` end to end: files and --from-aws, outputs, exit codes, bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import config_samples as samples
import pytest
from config_helpers import start_recorder
from typer.testing import CliRunner

from controlmap.cli.app import app

runner = CliRunner()


def scan(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", "config", "--no-store", *args])
    return result.exit_code, result.output


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "111122223333_Config_eu-west-1_ConfigSnapshot.json.gz"
    path.write_bytes(gzip.compress(json.dumps(samples.snapshot(samples.account_items())).encode()))
    return path


def test_json_output_exit_code_and_sources(snapshot_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "findings.json"
    code, _ = scan(
        str(snapshot_file), "--controls", "S3-02,S3-05,IAM-01", "-o", "json", "--output-file", str(out)
    )
    assert code == 1
    data = json.loads(out.read_text())
    assert data["kind"] == "aws-config" and data["accounts"] == [samples.ACCOUNT]
    assert data["sources"] == [str(snapshot_file)] and data["errors"] == [] and data["complete"]
    failing = {(f["check_id"], f["resource_name"]) for f in data["findings"] if f["status"] == "FAIL"}
    assert ("s3_bucket_policy_not_public", "acme-marketing-site") in failing
    assert ("s3_bucket_versioning_enabled", "acme-marketing-site") in failing
    assert not any(f["status"] == "FAIL" for f in data["findings"] if f["control_id"] == "IAM-01")
    bucket = next(
        f
        for f in data["findings"]
        if f["check_id"] == "s3_bucket_policy_not_public" and f["resource_name"] == "acme-marketing-site"
    )
    assert bucket["source"]["kind"] == "aws-config" and bucket["source"]["file"] == str(snapshot_file)


def test_passing_scan_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(samples.snapshot([samples.bucket_compliant()])))
    code, output = scan(str(path), "--controls", "S3-04,S3-05", "--fail-on", "low")
    assert code == 0, output


def test_console_names_the_bad_file_and_scans_the_rest(snapshot_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{ this is not json")
    item_problem = tmp_path / "items.json"
    item_problem.write_text(json.dumps({"configurationItems": [{"resourceId": "acme-x"}]}))
    out = tmp_path / "findings.json"
    code, output = scan(
        str(bad),
        str(snapshot_file),
        str(item_problem),
        "--controls",
        "S3-05",
        "--fail-on",
        "none",
        "--output-file",
        str(out),
    )
    assert code == 2  # the readable data was scanned and reported; the unreadable input is an input error
    flat = output.replace("\n", "")
    assert f"{bad}: not valid JSON" in flat
    assert "item 0 (acme-x): configuration item has no resourceType" in flat
    data = json.loads(out.read_text())
    assert not data["complete"] and {e["source"] for e in data["errors"]} == {str(bad), str(item_problem)}
    assert any(f["resource_name"] == "acme-marketing-site" for f in data["findings"])


def test_nothing_readable(tmp_path: Path) -> None:
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"Items": []}))
    code, output = scan(str(bad))
    assert code == 2 and "no AWS Config item could be read" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give AWS Config files or directories, or --from-aws"),
        (("x.json", "--from-aws"), "either files or --from-aws"),
        (("x.json", "--aggregator", "org"), "need --from-aws"),
        (("--from-aws", "--aggregator", "org", "--regions", "eu-west-1"), "leave out --regions"),
        (("x.json", "--output", "pdf"), "unknown --output"),
        (("--from-aws", "--regions", "mars-1"), "not a region name"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    code, output = scan(*args)
    assert code == 2 and message in output.replace("\n", "")


def test_sarif_and_markdown_render(snapshot_file: Path) -> None:
    code, sarif = scan(str(snapshot_file), "--controls", "EC2-01", "-o", "sarif")
    assert code == 1 and json.loads(sarif)["version"] == "2.1.0"
    code, markdown = scan(str(snapshot_file), "--controls", "EC2-01", "-o", "markdown")
    assert code == 1 and "| `web` |" in markdown and "0\\.0\\.0\\.0/0" in markdown


def test_from_aws_over_moto(aws: Any, aws_session: boto3.Session, tmp_path: Path) -> None:
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="acme-cli-bucket")
    s3.put_bucket_policy(
        Bucket="acme-cli-bucket",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::acme-cli-bucket/*",
                    }
                ],
            }
        ),
    )
    start_recorder(aws_session, "us-east-1", {"allSupported": True, "includeGlobalResourceTypes": True})
    out = tmp_path / "scan.json"
    code, output = scan(
        "--from-aws", "--regions", "us-east-1", "--controls", "S3-02", "-o", "json", "--output-file", str(out)
    )
    assert code == 1, output
    data = json.loads(out.read_text())
    assert data["sources"] == ["aws-config"] and data["api_calls"]["config:BatchGetResourceConfig"] >= 1
    finding = next(f for f in data["findings"] if f["check_id"] == "s3_bucket_policy_not_public")
    assert finding["resource_name"] == "acme-cli-bucket" and finding["status"] == "FAIL"


def test_scan_is_recorded_in_the_history_store(snapshot_file: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'history.db'}"
    result = runner.invoke(
        app,
        [
            "scan",
            "config",
            str(snapshot_file),
            "--controls",
            "S3-02",
            "--db",
            db,
            "-o",
            "json",
            "--output-file",
            str(tmp_path / "o.json"),
        ],
    )
    assert result.exit_code == 1
    listed = runner.invoke(app, ["scans", "--db", db, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [scan_row] = json.loads(listed.output)
    assert scan_row["kind"] == "aws-config"


def test_global_only_data_leaves_region_controls_unknown(tmp_path: Path) -> None:
    path = tmp_path / "iam-only.json"
    path.write_text(json.dumps(samples.snapshot([samples.iam_user("bob", "AIDAEXAMPLEBOB0000002")])))
    out = tmp_path / "out.json"
    code, output = scan(str(path), "--controls", "CT-01,IAM-03", "-o", "json", "--output-file", str(out))
    assert code == 0, output
    findings = json.loads(out.read_text())["findings"]
    region = next(f for f in findings if f["check_id"] == "cloudtrail_region_logged")
    assert region["status"] == "UNKNOWN" and "no regional configuration items" in region["reason"]
    assert any(f["check_id"] == "iam_user_no_admin_access" and f["status"] == "PASS" for f in findings)


def test_files_without_items(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps(samples.snapshot([])))
    code, output = scan(str(empty))
    assert code == 2 and "no configuration items in" in output.replace("\n", "")
    (tmp_path / "nothing").mkdir()
    code, output = scan(str(tmp_path / "nothing"))
    assert code == 2 and "no AWS Config item could be read" in output.replace("\n", "")


def test_from_aws_with_nothing_recorded_still_reports_the_account(aws: Any, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    code, output = scan(
        "--from-aws",
        "--regions",
        "us-east-1",
        "--controls",
        "IAM-05",
        "-o",
        "json",
        "--output-file",
        str(out),
    )
    assert code == 0, output
    data = json.loads(out.read_text())
    assert data["accounts"] == ["123456789012"]
    [finding] = [f for f in data["findings"] if f["check_id"] == "iam_password_policy_strong"]
    assert finding["status"] == "UNKNOWN" and "password policy" in finding["reason"]
    assert data["errors"][0]["code"] == "NoConfigurationRecorder"


def test_failing_findings_take_precedence_over_an_unreadable_file(
    snapshot_file: Path, tmp_path: Path
) -> None:
    truncated = tmp_path / "part.json.gz"
    truncated.write_bytes(gzip.compress(snapshot_file.read_bytes())[:40])
    out = tmp_path / "o.json"
    code, output = scan(
        str(truncated), str(snapshot_file), "--controls", "S3-02", "--output-file", str(out), "-o", "json"
    )
    assert code == 1, output
    data = json.loads(out.read_text())
    assert data["complete"] is False and data["errors"][0]["source"] == str(truncated)
    assert "not a valid gzip file" in data["errors"][0]["message"]


PLANTED = "Sup3r-s3cret-planted-value-9f2K"


def test_lambda_environment_values_reach_no_output_and_no_store(tmp_path: Path) -> None:
    current = samples.lambda_function("orders-worker", secret=True)
    current["configuration"]["environment"]["variables"]["DB_PASSWORD"] = PLANTED
    older = samples.lambda_function("orders-worker")  # an earlier capture in the history, value and all
    older["configurationItemCaptureTime"] = "2026-01-01T00:00:00.000Z"
    older["configuration"]["environment"]["variables"]["DB_PASSWORD"] = PLANTED
    broken = samples.lambda_function("orders-broken")  # unreadable: an ERROR finding names it
    broken["configuration"]["environment"]["variables"]["API_TOKEN"] = PLANTED
    broken["configuration"]["vpcConfig"] = "vpc-1"
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"configurationItems": [older, current, broken]}))
    db = f"sqlite:///{tmp_path / 'history.db'}"
    for fmt in ("console", "json", "csv", "sarif", "junit", "markdown", "asff", "ocsf", "html"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(
            app,
            [
                "scan",
                "config",
                str(path),
                "--services",
                "lambda",
                "--db",
                db,
                "-o",
                fmt,
                "--output-file",
                str(out),
            ],
        )
        assert result.exit_code == 1, result.output
        assert PLANTED not in out.read_text() and PLANTED not in result.output, fmt
        assert samples.FAKE_ACCESS_KEY not in out.read_text(), fmt
    assert "orders-broken" in (tmp_path / "out.json").read_text()
    stored = (tmp_path / "history.db").read_bytes()
    assert PLANTED.encode() not in stored and samples.FAKE_ACCESS_KEY.encode() not in stored


def test_a_read_denied_everywhere_is_one_warning_line() -> None:
    from controlmap.cli.scan_config import warning_lines
    from controlmap.sources.config.items import ItemProblem

    denied = "config:ListDiscoveredResources failed with AccessDeniedException (not authorized)"
    problems = [
        ItemProblem(
            f"aws-config:{region}", denied, code="AccessDeniedException", resource_type=t, region=region
        )
        for region in ("eu-west-1", "us-east-1")
        for t in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::EC2::VPC")
    ]
    problems.append(ItemProblem("snap.json", "not valid JSON: Expecting value at line 1"))
    assert warning_lines(problems) == [
        "snap.json: not valid JSON: Expecting value at line 1",
        f"{denied}: AWS::S3::Bucket in eu-west-1, AWS::KMS::Key in eu-west-1, "
        "AWS::EC2::VPC in eu-west-1 and 3 more",
    ]
