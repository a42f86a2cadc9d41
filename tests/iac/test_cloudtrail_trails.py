"""CT-01, CT-05, CT-06 on a template: the declared trail is judged on its own (logging, every
region, data events), since the account's other trails are not in the template; a trail another
trail of the same template covers is excused, as in a live scan of the account."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac

from .conftest import finding

CATALOG = load_catalog()

TRAIL = """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      Logging: {{Type: String, AllowedValues: ["true", "false"]}}
    Resources:
      Trail:
        Type: AWS::CloudTrail::Trail
        Properties:
          S3BucketName: acme-trail
          IsLogging: {logging}
          IsMultiRegionTrail: {multi}
          EventSelectors:
            - ReadWriteType: {rw}
              IncludeManagementEvents: true
              DataResources:
                - Type: AWS::S3::Object
                  Values: ["arn:aws:s3"]
                - Type: AWS::Lambda::Function
                  Values: {functions}
"""


def _scan(tmp_path: Path, name: str, text: str) -> IacScan:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return scan_iac([path], CATALOG, Settings(), options=IacOptions(workers=1))


@pytest.mark.parametrize(
    ("logging", "multi", "rw", "functions", "expected"),
    [
        ("true", "true", "All", '["arn:aws:lambda"]', ("PASS", "PASS", "PASS")),
        ("false", "true", "All", '["arn:aws:lambda"]', ("FAIL", "PASS", "NOT_APPLICABLE")),
        ("true", "false", "All", '["arn:aws:lambda"]', ("PASS", "FAIL", "PASS")),
        ("true", "true", "WriteOnly", '["arn:aws:lambda"]', ("FAIL", "PASS", "FAIL")),
        # Lambda data events for one function only
        (
            "true",
            "true",
            "All",
            '["arn:aws:lambda:eu-west-1:123456789012:function:orders"]',
            ("PASS", "PASS", "FAIL"),
        ),
        # logging given at deploy time
        ("!Ref Logging", "true", "All", '["arn:aws:lambda"]', ("UNKNOWN", "PASS", "UNKNOWN")),
    ],
)
def test_cloudformation_trail_is_judged_on_its_own(
    tmp_path: Path, logging: str, multi: str, rw: str, functions: str, expected: tuple[str, str, str]
) -> None:
    text = TRAIL.format(logging=logging, multi=multi, rw=rw, functions=functions)
    result = _scan(tmp_path, "trail.yaml", text)
    got = tuple(
        finding(result.findings, "Trail", check).status.value
        for check in (
            "cloudtrail_trail_logging",
            "cloudtrail_trail_multi_region",
            "cloudtrail_trail_data_events",
        )
    )
    assert got == expected
    if logging.startswith("!Ref"):
        assert "parameter Logging" in finding(result.findings, "Trail", "cloudtrail_trail_logging").reason


def test_terraform_trails_one_covering_the_other(scan) -> None:  # type: ignore[no-untyped-def]
    result = scan("terraform/cloudtrail")
    for check in (
        "cloudtrail_trail_logging",
        "cloudtrail_trail_multi_region",
        "cloudtrail_trail_data_events",
    ):
        assert finding(result.findings, "aws_cloudtrail.audit", check).status is Status.PASS
    legacy = finding(result.findings, "aws_cloudtrail.legacy", "cloudtrail_trail_logging")
    assert legacy.status is Status.PASS and "but audit records the same regions" in legacy.reason
    assert (
        finding(result.findings, "aws_cloudtrail.legacy", "cloudtrail_trail_multi_region").status
        is Status.PASS
    )


def test_terraform_stopped_trail_alone_fails(scan) -> None:  # type: ignore[no-untyped-def]
    result = scan("terraform/cloudtrail_stopped")
    logging = finding(result.findings, "aws_cloudtrail.local", "cloudtrail_trail_logging")
    assert logging.status is Status.FAIL and "not logging" in logging.reason
    regions = finding(result.findings, "aws_cloudtrail.local", "cloudtrail_trail_multi_region")
    assert regions.status is Status.FAIL and "records eu-west-1 only" in regions.reason


def test_a_trail_whose_logging_is_a_variable_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    text = """
        variable "on" {}
        resource "aws_cloudtrail" "t" {
          name                  = "t"
          s3_bucket_name        = "acme-trail"
          is_multi_region_trail = var.on
          enable_logging        = var.on
        }
    """
    result = _scan(tmp_path / "root", "main.tf", text)
    logging = finding(result.findings, "aws_cloudtrail.t", "cloudtrail_trail_logging")
    assert logging.status is Status.UNKNOWN and "var.on" in logging.reason
    assert (
        finding(result.findings, "aws_cloudtrail.t", "cloudtrail_trail_multi_region").status is Status.UNKNOWN
    )
