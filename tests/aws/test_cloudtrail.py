"""CloudTrail collection and checks (and KMS-04 over the same trails) through moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
from controlmap.demo.fakes import answer_before_call
from controlmap.demo.server import LocalAws
from controlmap.resources.cloudtrail import CloudTrailTrail

CT_CHECKS = [
    "cloudtrail_region_logged",
    "cloudtrail_multi_region_trail",
    "cloudtrail_trail_log_file_validation",
    "cloudtrail_trail_logs_encrypted",
    "cloudtrail_trail_bucket_not_public",
    "cloudtrail_trail_bucket_access_logging",
    "cloudtrail_trail_cloudwatch_logs",
    "cloudtrail_s3_data_events",
    "cloudtrail_lambda_data_events",
    "kms_api_calls_logged",
]


@pytest.fixture(scope="module")
def trails(moto_server: LocalAws) -> Iterator[boto3.Session]:
    """Seeded once for the tests of this module that only read it (they run first)."""
    moto_server.reset()
    aws_session = boto3.Session(region_name="us-east-1")
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="trail-logs-bucket")
    s3.put_public_access_block(
        Bucket="trail-logs-bucket",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    key = aws_session.client("kms").create_key()["KeyMetadata"]["Arn"]
    ct = aws_session.client("cloudtrail")
    ct.create_trail(
        Name="org-trail",
        S3BucketName="trail-logs-bucket",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=key,
    )
    ct.put_event_selectors(
        TrailName="org-trail",
        AdvancedEventSelectors=[
            {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {
                "Name": "s3 all",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ],
            },
        ],
    )
    ct.start_logging(Name="org-trail")
    eu = aws_session.client("cloudtrail", region_name="eu-west-1")
    aws_session.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-trail-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    eu.create_trail(Name="eu-local", S3BucketName="eu-trail-logs")  # never started
    yield aws_session
    moto_server.reset()


def test_trails_and_region_coverage(trails: boto3.Session) -> None:
    scan = live_scan(CT_CHECKS, regions=["us-east-1", "eu-west-1", "ap-south-1"])
    found = {t.name: t for t in scan.inventory.of_type(CloudTrailTrail)}
    assert set(found) == {"org-trail", "eu-local"}  # the multi-region trail is read once
    assert found["eu-local"].home_region == "eu-west-1" and found["eu-local"].is_logging is False
    calls = scan.factory.counter.snapshot()
    assert calls["cloudtrail:DescribeTrails"] == 3 and calls["cloudtrail:GetTrailStatus"] == 2

    for region in ("us-east-1", "eu-west-1", "ap-south-1"):
        assert status(scan, "cloudtrail_region_logged", region) is Status.PASS
        assert status(scan, "kms_api_calls_logged", region) is Status.PASS
    assert status(scan, "cloudtrail_multi_region_trail", ACCOUNT) is Status.PASS
    assert status(scan, "cloudtrail_trail_log_file_validation", "org-trail") is Status.PASS
    assert status(scan, "cloudtrail_trail_log_file_validation", "eu-local") is Status.FAIL
    assert status(scan, "cloudtrail_trail_logs_encrypted", "org-trail") is Status.PASS
    assert status(scan, "cloudtrail_trail_logs_encrypted", "eu-local") is Status.FAIL
    assert status(scan, "cloudtrail_trail_bucket_not_public", "org-trail") is Status.PASS
    assert status(scan, "cloudtrail_trail_bucket_access_logging", "org-trail") is Status.FAIL
    assert status(scan, "cloudtrail_trail_cloudwatch_logs", "org-trail") is Status.FAIL
    assert status(scan, "cloudtrail_s3_data_events", ACCOUNT) is Status.PASS
    assert status(scan, "cloudtrail_lambda_data_events", ACCOUNT) is Status.FAIL


TRAIL_CHECKS = ["cloudtrail_trail_logging", "cloudtrail_trail_multi_region", "cloudtrail_trail_data_events"]


def test_per_trail_checks_excuse_a_trail_another_trail_covers(trails: boto3.Session) -> None:
    """eu-local is stopped and single-region, but org-trail logs every region: the per-trail checks
    agree with the account and region ones. org-trail itself records S3 data events, not Lambda."""
    scan = live_scan(TRAIL_CHECKS, regions=["us-east-1", "eu-west-1"])
    assert status(scan, "cloudtrail_trail_logging", "org-trail") is Status.PASS
    assert status(scan, "cloudtrail_trail_logging", "eu-local") is Status.PASS
    assert "not logging, so it records no API activity, but org-trail" in reason(
        scan, "cloudtrail_trail_logging", "eu-local"
    )
    assert status(scan, "cloudtrail_trail_multi_region", "org-trail") is Status.PASS
    assert status(scan, "cloudtrail_trail_multi_region", "eu-local") is Status.PASS
    assert status(scan, "cloudtrail_trail_data_events", "eu-local") is Status.NOT_APPLICABLE
    data = reason(scan, "cloudtrail_trail_data_events", "org-trail")
    assert status(scan, "cloudtrail_trail_data_events", "org-trail") is Status.FAIL
    assert "Lambda function" in data and "S3 object" not in data


def test_listing_denied_in_one_region_is_an_error_there(trails: boto3.Session) -> None:
    only_eu = deny(
        "cloudtrail",
        "DescribeTrails",
        only=lambda request: "eu-west-1" in str(request.headers.get("Authorization", b"")),
    )
    scan = live_scan(
        ["cloudtrail_region_logged", "cloudtrail_trail_log_file_validation"],
        regions=["us-east-1", "eu-west-1"],
        hooks=[only_eu],
    )
    assert {t.name for t in scan.inventory.of_type(CloudTrailTrail)} == {"org-trail"}
    errors = [e for e in scan.inventory.errors if e.operation == "DescribeTrails"]
    assert len(errors) == 1 and errors[0].region == "eu-west-1" and errors[0].code == "AccessDenied"
    # The multi-region trail still covers both regions; the trail check goes on.
    assert status(scan, "cloudtrail_region_logged", "eu-west-1") is Status.PASS
    assert outcomes(scan, "cloudtrail_trail_log_file_validation")["org-trail"][0].status is Status.PASS


def test_multi_region_trail_homed_outside_the_scanned_regions(trails: boto3.Session) -> None:
    """--regions eu-west-1: the multi-region trail homed in us-east-1 still covers eu-west-1."""
    scan = live_scan(CT_CHECKS, regions=["eu-west-1"])
    found = {t.name: t for t in scan.inventory.of_type(CloudTrailTrail)}
    assert set(found) == {"org-trail", "eu-local"}
    assert found["org-trail"].home_region == "us-east-1" and found["org-trail"].is_logging is True
    assert status(scan, "cloudtrail_region_logged", "eu-west-1") is Status.PASS
    assert status(scan, "kms_api_calls_logged", "eu-west-1") is Status.PASS
    assert status(scan, "cloudtrail_multi_region_trail", ACCOUNT) is Status.PASS
    assert status(scan, "cloudtrail_s3_data_events", ACCOUNT) is Status.PASS
    # Read once even when several scanned regions see its shadow and none is its home.
    twice = live_scan(["cloudtrail_region_logged"], regions=["eu-west-1", "ap-south-1"])
    assert [t.name for t in twice.inventory.of_type(CloudTrailTrail)].count("org-trail") == 1
    assert twice.factory.counter.snapshot()["cloudtrail:GetTrailStatus"] == 2


def test_per_trail_checks_fail_a_stopped_single_region_trail_alone(aws_session: boto3.Session) -> None:
    aws_session.client("s3").create_bucket(Bucket="some-logs-bucket")
    aws_session.client("cloudtrail").create_trail(Name="local", S3BucketName="some-logs-bucket")
    scan = live_scan(TRAIL_CHECKS)
    assert status(scan, "cloudtrail_trail_logging", "local") is Status.FAIL
    assert status(scan, "cloudtrail_trail_multi_region", "local") is Status.FAIL
    assert "records us-east-1 only" in reason(scan, "cloudtrail_trail_multi_region", "local")


def test_no_trail_fails_and_stopped_trail_does_not_count(aws_session: boto3.Session) -> None:
    aws_session.client("s3").create_bucket(Bucket="some-logs-bucket")
    aws_session.client("cloudtrail").create_trail(
        Name="stopped", S3BucketName="some-logs-bucket", IsMultiRegionTrail=True
    )
    scan = live_scan(["cloudtrail_region_logged", "cloudtrail_multi_region_trail", "kms_api_calls_logged"])
    assert scan.collectors_run == ["cloudtrail"]  # KMS-04 reads the trails; KMS keys are not listed
    assert status(scan, "cloudtrail_region_logged", "us-east-1") is Status.FAIL
    assert "not logging" in reason(scan, "cloudtrail_multi_region_trail", ACCOUNT)
    assert status(scan, "kms_api_calls_logged", "us-east-1") is Status.FAIL


def test_kms_excluded_from_management_events(aws_session: boto3.Session) -> None:
    aws_session.client("s3").create_bucket(Bucket="some-logs-bucket")
    ct = aws_session.client("cloudtrail")
    ct.create_trail(Name="no-kms", S3BucketName="some-logs-bucket", IsMultiRegionTrail=True)
    ct.put_event_selectors(
        TrailName="no-kms",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "ExcludeManagementEventSources": ["kms.amazonaws.com"],
            }
        ],
    )
    ct.start_logging(Name="no-kms")
    scan = live_scan(["kms_api_calls_logged", "cloudtrail_region_logged"])
    assert status(scan, "cloudtrail_region_logged", "us-east-1") is Status.PASS
    assert status(scan, "kms_api_calls_logged", "us-east-1") is Status.FAIL
    assert "excludes kms.amazonaws.com" in reason(scan, "kms_api_calls_logged", "us-east-1")


MANAGEMENT = "999988887777"
ORG_TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/org-audit"


def _member_account_view(seen: list[str]) -> Any:
    """What a member account of an organization gets from CloudTrail (recorded shapes): the
    management account's organization trail, only as a shadow trail, readable by ARN."""

    def install(client: Any) -> None:
        if client.meta.service_model.service_name != "cloudtrail":
            return

        def trails(params: dict[str, Any]) -> dict[str, Any]:
            body = json.loads(params.get("body") or b"{}")
            seen.append(f"DescribeTrails shadows={body.get('includeShadowTrails')}")
            if body.get("includeShadowTrails") is False:
                return {"trailList": []}
            return {
                "trailList": [
                    {
                        "Name": "org-audit",
                        "S3BucketName": "org-log-archive",
                        "IncludeGlobalServiceEvents": True,
                        "IsMultiRegionTrail": True,
                        "HomeRegion": "us-east-1",
                        "TrailARN": ORG_TRAIL_ARN,
                        "LogFileValidationEnabled": True,
                        "HasCustomEventSelectors": False,
                        "HasInsightSelectors": False,
                        "IsOrganizationTrail": True,
                    }
                ]
            }

        def by_arn(answer: dict[str, Any], key: str) -> Any:
            def respond(params: dict[str, Any]) -> dict[str, Any]:
                name = json.loads(params.get("body") or b"{}").get(key)
                if name != ORG_TRAIL_ARN:  # member accounts must name it by ARN
                    return {"Error": {"Code": "TrailNotFoundException", "Message": name}, "status": 400}
                return answer

            return respond

        answer_before_call(client, "DescribeTrails", trails)
        answer_before_call(client, "GetTrailStatus", by_arn({"IsLogging": True}, "Name"))
        answer_before_call(
            client,
            "GetEventSelectors",
            by_arn(
                {
                    "TrailARN": ORG_TRAIL_ARN,
                    "EventSelectors": [
                        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}
                    ],
                },
                "TrailName",
            ),
        )

    return install


def test_organization_trail_seen_from_a_member_account(aws: LocalAws) -> None:
    seen: list[str] = []
    scan = live_scan(CT_CHECKS, regions=["us-east-1", "eu-west-1"], hooks=[_member_account_view(seen)])
    assert seen and all(s == "DescribeTrails shadows=True" for s in seen)
    [trail] = scan.inventory.of_type(CloudTrailTrail)
    assert trail.id == ORG_TRAIL_ARN and trail.organization_trail and trail.is_logging
    for region in ("us-east-1", "eu-west-1"):
        assert status(scan, "cloudtrail_region_logged", region) is Status.PASS
        assert status(scan, "kms_api_calls_logged", region) is Status.PASS
    assert "organization" in reason(scan, "cloudtrail_multi_region_trail", ACCOUNT)
    # Its log bucket lives in the log archive account: not visible from here.
    assert status(scan, "cloudtrail_trail_bucket_not_public", "org-audit") is Status.UNKNOWN


def _logging_trail(aws_session: boto3.Session, name: str, **options: Any) -> None:
    aws_session.client("s3").create_bucket(Bucket=f"{name}-logs")
    ct = aws_session.client("cloudtrail")
    ct.create_trail(Name=name, S3BucketName=f"{name}-logs", **options)
    ct.start_logging(Name=name)


@pytest.mark.parametrize("code", ["AccessDenied", "ThrottlingException"])
def test_unreadable_selectors_are_errors_not_passes(aws_session: boto3.Session, code: str) -> None:
    """A logging trail whose selectors cannot be read may record no management events at all."""
    _logging_trail(aws_session, "main", IsMultiRegionTrail=True)
    checks = [
        "cloudtrail_region_logged",
        "cloudtrail_multi_region_trail",
        "cloudtrail_s3_data_events",
        "kms_api_calls_logged",
    ]
    scan = live_scan(checks, hooks=[deny("cloudtrail", "GetEventSelectors", code)])
    for check_id, name in zip(checks, ["us-east-1", ACCOUNT, ACCOUNT, "us-east-1"], strict=True):
        [found] = outcomes(scan, check_id)[name]
        assert found.status is Status.ERROR and found.error_code == code, (check_id, found)
        assert "GetEventSelectors" in found.reason and "main" in found.reason


def test_a_readable_trail_still_decides_when_another_is_not(aws_session: boto3.Session) -> None:
    _logging_trail(aws_session, "readable", IsMultiRegionTrail=True)
    _logging_trail(aws_session, "hidden")
    hidden_only = deny(
        "cloudtrail", "GetEventSelectors", only=lambda request: b"trail/hidden" in (request.body or b"")
    )
    scan = live_scan(["cloudtrail_region_logged", "kms_api_calls_logged"], hooks=[hidden_only])
    assert status(scan, "cloudtrail_region_logged", "us-east-1") is Status.PASS
    assert status(scan, "kms_api_calls_logged", "us-east-1") is Status.PASS


def test_stopped_trail_delivers_nothing_to_cloudwatch(aws_session: boto3.Session) -> None:
    aws_session.client("s3").create_bucket(Bucket="stopped-logs")
    aws_session.client("cloudtrail").create_trail(
        Name="stopped",
        S3BucketName="stopped-logs",
        CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:trail:*",
        CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/trail-to-logs",
    )
    scan = live_scan(["cloudtrail_trail_cloudwatch_logs"])
    assert status(scan, "cloudtrail_trail_cloudwatch_logs", "stopped") is Status.FAIL
    assert "not logging" in reason(scan, "cloudtrail_trail_cloudwatch_logs", "stopped")


def test_a_crashing_collector_is_an_error_without_a_traceback(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """An answer the collector cannot handle (a trail without TrailARN) is a bug: ERROR findings
    that say so, the other collectors go on, and nothing but the findings reaches the user."""

    def odd_trails(client: Any) -> None:
        if client.meta.service_model.service_name == "cloudtrail":
            answer_before_call(client, "DescribeTrails", lambda params: {"trailList": [{"Name": "x"}]})

    scan = live_scan(["cloudtrail_trail_log_file_validation", "kms_key_rotation_enabled"], hooks=[odd_trails])
    [error] = [e for e in scan.inventory.errors if e.service == "cloudtrail"]
    assert error.code == "KeyError" and "controlmap bug" in error.message
    assert "kms" in scan.collectors_run
    assert "Traceback" not in capsys.readouterr().err
