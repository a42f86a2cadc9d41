"""`controlmap scan aws` end to end over the local server: outputs, exit codes, input errors."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from controlmap.cli.app import app

runner = CliRunner()


@pytest.fixture
def account(aws_session: boto3.Session) -> boto3.Session:
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="cli-open-bucket")  # versioning off: S3-05 (high) fails
    return aws_session


def scan(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", "aws", "--regions", "us-east-1", "--no-store", *args])
    return result.exit_code, result.output


def test_json_output_and_exit_code(account: boto3.Session, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    code, _ = scan("--controls", "S3-05,S3-06", "--output", "json", "--output-file", str(out))
    assert code == 1  # something failed at or above the default threshold (any severity)
    data = json.loads(out.read_text())
    assert data["schema_version"] and data["kind"] == "aws" and data["accounts"] == ["123456789012"]
    assert data["api_calls"]["s3:GetBucketVersioning"] == 1
    finding = next(f for f in data["findings"] if f["check_id"] == "s3_bucket_versioning_enabled")
    for field in (
        "control_id",
        "check_id",
        "status",
        "severity",
        "resource_id",
        "resource_type",
        "account_id",
        "region",
        "reason",
    ):
        assert field in finding
    assert finding["status"] == "FAIL" and finding["resource_id"] == "arn:aws:s3:::cli-open-bucket"
    assert {f["control_id"] for f in data["findings"]} == {"S3-05", "S3-06"}


def test_fail_on_threshold(account: boto3.Session) -> None:
    # S3-06 (medium) fails; nothing at critical.
    code, _ = scan("--controls", "S3-06", "--output", "csv", "--fail-on", "critical")
    assert code == 0
    code, output = scan("--controls", "S3-06", "--output", "csv", "--fail-on", "medium")
    assert code == 1
    assert output.splitlines()[0].startswith("control_id") or "control_id" in output.splitlines()[0]
    code, _ = scan("--controls", "S3-06", "--output", "csv", "--fail-on", "none")
    assert code == 0


def test_console_summary(account: boto3.Session) -> None:
    code, output = scan("--services", "s3", "--fail-on", "none")
    assert code == 0
    assert "API calls" in output and "By service" in output and "By severity" in output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--controls", "S3-99"], "unknown control ID"),
        (["--services", "lightsail"], "unknown service"),
        (["--output", "pdf"], "unknown --output"),
    ],
)
def test_usage_errors_exit_2(account: boto3.Session, args: list[str], message: str) -> None:
    code, output = scan(*args)
    assert code == 2
    assert message in output


def test_bad_region_exits_2() -> None:
    result = runner.invoke(app, ["scan", "aws", "--regions", "mars-north-1a", "--no-store"])
    assert result.exit_code == 2 and "not a region name" in result.output


def test_no_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, aws_session: boto3.Session) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, output = scan("--controls", "S3-05")
    assert code == 2
    assert "no AWS credentials found" in output and "Traceback" not in output


def test_unknown_profile_is_a_clear_error(aws_session: boto3.Session) -> None:
    code, output = scan("--profile", "does-not-exist", "--controls", "S3-05")
    assert code == 2 and "profile not found" in output


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("scan.sarif", "sarif"),
        ("scan.asff.json", "asff"),
        ("scan.ocsf.json", "ocsf"),
        ("out/x.csv", "csv"),
        ("x.txt", "json"),
    ],
)
def test_console_output_file_takes_its_format_from_the_name(name: str, fmt: str) -> None:
    from controlmap.cli.scan import _format_for

    assert _format_for(Path(name)) == fmt


def test_console_with_output_file_writes_both(account: boto3.Session, tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    code, output = scan("--controls", "S3-05", "--output-file", str(target), "--fail-on", "none")
    assert code == 0 and "By severity" in output
    assert json.loads(target.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize(
    "region, message",
    [
        ("us-east-9", "unknown region(s): us-east-9"),  # well formed, but no such region
        ("ap-east-1", "not enabled in this account: ap-east-1"),  # an opt-in region not opted in
    ],
)
def test_regions_aws_does_not_know_or_the_account_has_not_enabled(
    aws_session: boto3.Session, region: str, message: str
) -> None:
    result = runner.invoke(app, ["scan", "aws", "--regions", f"us-east-1,{region}", "--no-store"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_role_arn_and_external_id_are_used_and_counted(
    aws_session: boto3.Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--role-arn: the scan runs with the role's credentials (here: another account's role, so
    moto answers as that account), ExternalId is sent, and sts:AssumeRole is counted."""
    from botocore.session import get_session

    from controlmap.sources.aws import session as session_module

    sent: list[dict] = []

    def recording_session() -> object:
        botocore_session = get_session()
        botocore_session.register("before-call.sts.AssumeRole", lambda params, **_: sent.append(params))
        return botocore_session

    monkeypatch.setattr(session_module, "_botocore_session", recording_session)
    out = tmp_path / "scan.json"
    code, output = scan(
        "--role-arn",
        "arn:aws:iam::111122223333:role/Audit",
        "--external-id",
        "x9-not-a-secret",
        "--controls",
        "IAM-05",
        "--output",
        "json",
        "--output-file",
        str(out),
        "--fail-on",
        "none",
    )
    assert code == 0, output
    data = json.loads(out.read_text())
    assert data["accounts"] == ["111122223333"]
    assert data["api_calls"]["sts:AssumeRole"] == 1
    [request] = sent
    assert request["body"]["ExternalId"] == "x9-not-a-secret"
    assert request["body"]["RoleArn"] == "arn:aws:iam::111122223333:role/Audit"


def test_malformed_endpoint_url_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, aws_session: boto3.Session
) -> None:
    """AWS_ENDPOINT_URL that botocore cannot use: one line, exit 2, no traceback."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not-a-url")
    code, output = scan("--controls", "S3-05")
    assert code == 2, output
    assert "Invalid endpoint: not-a-url" in output and "Traceback" not in output


def test_malformed_service_endpoint_url_stops_the_scan(
    monkeypatch: pytest.MonkeyPatch, aws_session: boto3.Session
) -> None:
    """A bad AWS_ENDPOINT_URL_S3 is a configuration error, not 'a controlmap bug' per collector."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "not-a-url")
    code, output = scan("--controls", "S3-05")
    assert code == 2, output
    assert "cannot make a s3 client" in output and "Traceback" not in output


def test_endpoint_answering_html_is_a_clear_error(
    aws_session: boto3.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    """A proxy or captive portal answering HTML before the scan starts (ResponseParserError is
    not a BotoCoreError): one line without the page, exit 2."""
    from botocore.awsrequest import AWSResponse

    from controlmap.catalog.catalog import load_catalog
    from controlmap.cli.scan import live_scan_or_exit
    from controlmap.settings import Settings
    from controlmap.sources.aws.scanner import AwsScanOptions

    class _Raw:
        def stream(self, **_: object):  # pragma: no cover - botocore reads .content
            yield b""

    def html(client: object) -> None:
        def respond(request: object, **_: object) -> AWSResponse:
            body = b"<!doctype html>\n<html><title>Portal</title>\n<p>sign in</p></html>\n"
            response = AWSResponse("http://x", 200, {}, _Raw())
            response._content = body  # type: ignore[attr-defined]
            return response

        client.meta.events.register("before-send.ec2.DescribeRegions", respond)  # type: ignore[attr-defined]

    catalog = load_catalog()
    options = AwsScanOptions(regions=None, client_hooks=[html])
    import typer

    with pytest.raises(typer.Exit) as stopped:
        live_scan_or_exit(options, [catalog.get("S3-05")], catalog, Settings())  # type: ignore[list-item]
    assert stopped.value.exit_code == 2
    err = capsys.readouterr().err
    assert "ec2:DescribeRegions" in err and "did not answer as AWS does" in err
    assert "<title>" not in err and "Traceback" not in err


def test_garbage_role_arn_is_one_line(aws_session: boto3.Session) -> None:
    code, output = scan("--role-arn", "garbage", "--controls", "S3-05")
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot assume role garbage:"), output


@pytest.mark.parametrize("where", ["a-directory", "a-file/scan.json"])
def test_unwritable_output_file_is_refused_before_scanning(
    aws_session: boto3.Session, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("x")
    code, output = scan("--controls", "S3-05", "--output", "json", "--output-file", str(tmp_path / where))
    assert code == 2 and "cannot write" in output, output
    assert "S3-05" not in output  # nothing was scanned


def test_output_file_in_new_folders_is_still_written(account: boto3.Session, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "scan.json"
    code, _ = scan("--controls", "S3-05", "--output", "json", "--output-file", str(out), "--fail-on", "none")
    assert code == 0 and json.loads(out.read_text())["findings"]


def test_demo_refuses_an_unwritable_output_file_before_starting(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--no-store", "--output", "json", "--output-file", str(tmp_path)])
    assert result.exit_code == 2 and "it is a directory" in result.output


@pytest.mark.parametrize("option", ["--regions", "--services", "--controls"])
@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_list_is_a_usage_error(option: str, value: str) -> None:
    result = runner.invoke(app, ["scan", "aws", "--no-store", option, value])
    assert result.exit_code == 2 and f"{option} is empty" in result.output
