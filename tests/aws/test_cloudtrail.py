"""CloudTrail collection and checks (and KMS-04 over the same trails) through moto."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
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
