"""A bucket has one policy, one versioning state, one public access block: two companions that set
the same one fight on every apply, so the template does not say which stands (UNKNOWN naming both),
where each alone would pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlmap.catalog.catalog import Catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, scan_iac

from .conftest import finding

TLS_ONLY = """{
  Version = "2012-10-17"
  Statement = [{
    Sid = "DenyInsecureTransport", Effect = "Deny", Principal = "*", Action = "s3:*",
    Resource = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"],
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }]
}"""

APP_READ = """{
  Version = "2012-10-17"
  Statement = [{
    Sid = "AppRead", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:role/app" },
    Action = "s3:GetObject", Resource = "${aws_s3_bucket.data.arn}/*"
  }]
}"""


def _terraform(tmp_path: Path, policies: dict[str, str], versionings: tuple[str, ...] = ("data",)) -> Path:
    text = 'resource "aws_s3_bucket" "data" {\n  bucket = "acme-data"\n}\n'
    for name, document in policies.items():
        text += (
            f'\nresource "aws_s3_bucket_policy" "{name}" {{\n  bucket = aws_s3_bucket.data.id\n'
            f"  policy = jsonencode({document})\n}}\n"
        )
    for name in versionings:
        text += (
            f'\nresource "aws_s3_bucket_versioning" "{name}" {{\n  bucket = aws_s3_bucket.data.id\n'
            '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'
        )
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    return tmp_path


def _status(catalog: Catalog, path: Path, resource: str, check: str) -> tuple[Status, str]:
    result = scan_iac([path], catalog, Settings(), options=IacOptions(workers=1))
    assert not result.problems, result.problems
    found = finding(result.findings, resource, check)
    return found.status, found.reason


def test_one_terraform_bucket_policy_is_judged(catalog: Catalog, tmp_path: Path) -> None:
    path = _terraform(tmp_path, {"data": TLS_ONLY})
    assert _status(catalog, path, "aws_s3_bucket.data", "s3_bucket_tls_required")[0] is Status.PASS


def test_two_terraform_bucket_policies_for_one_bucket_are_unknown_naming_both(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = _terraform(tmp_path, {"data": APP_READ, "tls_only": TLS_ONLY})
    for check in ("s3_bucket_tls_required", "s3_bucket_policy_not_public"):
        status, reason = _status(catalog, path, "aws_s3_bucket.data", check)
        assert status is Status.UNKNOWN, (check, reason)
        assert "aws_s3_bucket_policy.data and aws_s3_bucket_policy.tls_only" in reason
        assert "bucket policy" in reason and "declare it once" in reason


@pytest.mark.parametrize(("names", "expected"), [(("data",), Status.PASS), (("a", "b"), Status.UNKNOWN)])
def test_versioning_declared_twice_is_unknown(
    catalog: Catalog, tmp_path: Path, names: tuple[str, ...], expected: Status
) -> None:
    path = _terraform(tmp_path, {}, versionings=names)
    status, reason = _status(catalog, path, "aws_s3_bucket.data", "s3_bucket_versioning_enabled")
    assert status is expected, reason
    if expected is Status.UNKNOWN:
        assert "aws_s3_bucket_versioning.a and aws_s3_bucket_versioning.b" in reason


CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Data:
    Type: AWS::S3::Bucket
{policies}"""

CFN_POLICY = """  {name}:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Data.Arn, !Sub "${{Data.Arn}}/*"]
            Condition: {{Bool: {{aws:SecureTransport: "false"}}}}
"""


@pytest.mark.parametrize(
    ("names", "expected"), [(("TlsOnly",), Status.PASS), (("TlsOnly", "AlsoTls"), Status.UNKNOWN)]
)
def test_cloudformation_bucket_policies_for_one_bucket(
    catalog: Catalog, tmp_path: Path, names: tuple[str, ...], expected: Status
) -> None:
    policies = "".join(CFN_POLICY.format(name=n) for n in names)
    (tmp_path / "template.yaml").write_text(CFN.format(policies=policies), encoding="utf-8")
    status, reason = _status(catalog, tmp_path, "Data", "s3_bucket_tls_required")
    assert status is expected, reason
    if expected is Status.UNKNOWN:
        assert "TlsOnly and AlsoTls both set the bucket policy" in reason
