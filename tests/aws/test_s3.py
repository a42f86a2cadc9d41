"""S3 collection and checks through the local moto server (real HTTP, real pagination)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from livescan_helpers import deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
from controlmap.demo.server import LocalAws
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.s3 import S3Bucket
from controlmap.settings import Settings
from controlmap.sources.aws.clients import use_local_s3control_endpoint

ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
S3_CHECKS = [
    "s3_bucket_public_access_blocked",
    "s3_bucket_policy_not_public",
    "s3_bucket_acl_not_public",
    "s3_bucket_acls_disabled",
    "s3_bucket_default_encryption_kms",
    "s3_bucket_tls_required",
    "s3_bucket_versioning_enabled",
    "s3_bucket_mfa_delete_enabled",
    "s3_bucket_access_logging_enabled",
    "s3_bucket_object_lock_enabled",
]


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tls(bucket: str, **overrides: Any) -> dict[str, Any]:
    st = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    st.update(overrides)
    return st


@pytest.fixture(scope="module")
def buckets(moto_server: LocalAws) -> Iterator[boto3.Session]:
    """Seeded once for the tests of this module that only read it (they run first)."""
    moto_server.reset()
    aws_session = boto3.Session(region_name="us-east-1")
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="good-bucket", ObjectLockEnabledForBucket=True)
    s3.put_public_access_block(Bucket="good-bucket", PublicAccessBlockConfiguration=ALL_ON)
    s3.put_bucket_ownership_controls(
        Bucket="good-bucket", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(
        Bucket="good-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/aws/s3",
                    }
                }
            ]
        },
    )
    s3.put_bucket_policy(Bucket="good-bucket", Policy=_policy(_tls("good-bucket")))
    s3.create_bucket(Bucket="log-target")
    s3.put_bucket_policy(
        Bucket="log-target",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::log-target/*",
            }
        ),
    )
    s3.put_bucket_logging(
        Bucket="good-bucket",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "log-target", "TargetPrefix": "g/"}},
    )
    s3.put_object_lock_configuration(
        Bucket="good-bucket",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
        },
    )

    s3.create_bucket(Bucket="bad-bucket")
    s3.put_bucket_acl(Bucket="bad-bucket", ACL="public-read")
    s3.put_bucket_encryption(
        Bucket="bad-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(
        Bucket="bad-bucket",
        Policy=_policy(
            {
                "Sid": "Open",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bad-bucket/*",
            },
            _tls("bad-bucket", Resource="arn:aws:s3:::bad-bucket/*"),  # objects only: not TLS-only
        ),
    )
    s3.put_bucket_tagging(
        Bucket="bad-bucket", Tagging={"TagSet": [{"Key": "controlmap:object-lock", "Value": "required"}]}
    )

    eu = aws_session.client("s3", region_name="eu-west-1")
    eu.create_bucket(Bucket="vpce-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    eu.put_bucket_policy(
        Bucket="vpce-bucket",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::vpce-bucket/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-123"}},
            },
            _tls("vpce-bucket", Condition={"BoolIfExists": {"aws:SecureTransport": False}}),
        ),
    )
    eu.put_bucket_versioning(Bucket="vpce-bucket", VersioningConfiguration={"Status": "Suspended"})
    yield aws_session
    moto_server.reset()


def test_compliant_and_non_compliant_buckets(buckets: boto3.Session) -> None:
    scan = live_scan(S3_CHECKS, regions=["us-east-1", "eu-west-1"])
    assert status(scan, "s3_bucket_public_access_blocked", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_public_access_blocked", "bad-bucket") is Status.FAIL
    assert "at both bucket and account level" in reason(scan, "s3_bucket_public_access_blocked", "bad-bucket")

    assert status(scan, "s3_bucket_policy_not_public", "bad-bucket") is Status.FAIL
    assert "statement 1 (Open) grants s3:GetObject to Principal *" in reason(
        scan, "s3_bucket_policy_not_public", "bad-bucket"
    )
    assert (
        status(scan, "s3_bucket_policy_not_public", "vpce-bucket") is Status.PASS
    )  # narrowed by aws:SourceVpce
    assert status(scan, "s3_bucket_policy_not_public", "log-target") is Status.PASS

    assert status(scan, "s3_bucket_acl_not_public", "bad-bucket") is Status.FAIL
    assert status(scan, "s3_bucket_acl_not_public", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_acls_disabled", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_acls_disabled", "bad-bucket") is Status.FAIL

    assert status(scan, "s3_bucket_default_encryption_kms", "good-bucket") is Status.PASS
    assert "SSE-S3 (AES256)" in reason(scan, "s3_bucket_default_encryption_kms", "bad-bucket")
    strict = Settings.model_validate({"s3": {"require_customer_managed_key": True}})
    assert (
        status(scan, "s3_bucket_default_encryption_kms", "good-bucket", strict) is Status.FAIL
    )  # aws/s3 key

    assert status(scan, "s3_bucket_tls_required", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_tls_required", "vpce-bucket") is Status.PASS  # BoolIfExists, boolean false
    assert "does not cover arn:aws:s3:::bad-bucket" in reason(scan, "s3_bucket_tls_required", "bad-bucket")

    assert status(scan, "s3_bucket_versioning_enabled", "vpce-bucket") is Status.FAIL
    assert "Suspended" in reason(scan, "s3_bucket_versioning_enabled", "vpce-bucket")
    assert status(scan, "s3_bucket_access_logging_enabled", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_access_logging_enabled", "bad-bucket") is Status.FAIL

    assert status(scan, "s3_bucket_object_lock_enabled", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_object_lock_enabled", "bad-bucket") is Status.FAIL  # tagged as WORM
    assert status(scan, "s3_bucket_object_lock_enabled", "log-target") is Status.NOT_APPLICABLE


def test_bucket_region_and_region_filter(buckets: boto3.Session) -> None:
    scan = live_scan(["s3_bucket_versioning_enabled"], regions=["us-east-1"])
    names = {b.name: b.region for b in scan.inventory.of_type(S3Bucket)}
    assert "vpce-bucket" not in names  # eu-west-1 was not scanned
    assert names["good-bucket"] == "us-east-1"
    both = live_scan(["s3_bucket_versioning_enabled"], regions=["us-east-1", "eu-west-1"])
    assert {b.name: b.region for b in both.inventory.of_type(S3Bucket)}["vpce-bucket"] == "eu-west-1"


def test_access_denied_on_one_bucket_makes_errors_and_the_rest_goes_on(buckets: boto3.Session) -> None:
    hook = deny("s3", "GetBucketPolicy", only=lambda request: "bad-bucket" in request.url)
    scan = live_scan(["s3_bucket_policy_not_public", "s3_bucket_versioning_enabled"], hooks=[hook])
    denied = outcomes(scan, "s3_bucket_policy_not_public")["bad-bucket"][0]
    assert denied.status is Status.ERROR and denied.error_code == "AccessDenied"
    assert "s3:GetBucketPolicy" in denied.reason
    assert status(scan, "s3_bucket_policy_not_public", "good-bucket") is Status.PASS
    assert status(scan, "s3_bucket_versioning_enabled", "bad-bucket") is Status.FAIL


def test_listing_denied_records_a_listing_error(buckets: boto3.Session) -> None:
    scan = live_scan(["s3_bucket_versioning_enabled"], hooks=[deny("s3", "ListBuckets")])
    assert scan.inventory.of_type(S3Bucket) == []
    assert [(e.operation, e.code) for e in scan.inventory.errors] == [("ListBuckets", "AccessDenied")]
    assert scan.inventory.errors[0].resource_types == (S3Bucket.resource_type,)


def test_only_needed_calls_are_made(buckets: boto3.Session) -> None:
    scan = live_scan(["s3_bucket_versioning_enabled"])
    ops = set(scan.factory.counter.snapshot())
    assert "s3:GetBucketVersioning" in ops
    assert not ops & {
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
        "s3:GetBucketEncryption",
        "s3:GetBucketLogging",
    }


def test_account_level_block_covers_buckets(buckets: boto3.Session) -> None:
    s3control = buckets.client("s3control")
    use_local_s3control_endpoint(s3control)
    s3control.put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration=ALL_ON)
    scan = live_scan(["s3_bucket_public_access_blocked", "s3_bucket_policy_not_public"])
    # S3-01 asks for the block at both levels: covered today, the bucket's own block still fails.
    assert status(scan, "s3_bucket_public_access_blocked", "bad-bucket") is Status.FAIL
    assert "account-level block covers them today" in reason(
        scan, "s3_bucket_public_access_blocked", "bad-bucket"
    )
    lenient = Settings.model_validate({"s3": {"bucket_level_block_required": False}})
    either = live_scan(["s3_bucket_public_access_blocked"], settings=lenient)
    assert status(either, "s3_bucket_public_access_blocked", "bad-bucket", lenient) is Status.PASS
    assert "account-level" in reason(either, "s3_bucket_public_access_blocked", "bad-bucket", lenient)
    # RestrictPublicBuckets neutralises the public statement, and the reason still names it.
    assert status(scan, "s3_bucket_policy_not_public", "bad-bucket") is Status.PASS
    assert "RestrictPublicBuckets" in reason(scan, "s3_bucket_policy_not_public", "bad-bucket")


def test_macie_per_region(aws_session: boto3.Session) -> None:
    aws_session.client("macie2", region_name="eu-west-1").disable_macie()
    scan = live_scan(["s3_macie_enabled"], regions=["us-east-1", "eu-west-1"])
    regions = {r.name: r for r in scan.inventory.of_type(AwsRegion)}
    assert regions["eu-west-1"].macie_enabled is False
    assert status(scan, "s3_macie_enabled", "eu-west-1") is Status.FAIL
    account = scan.inventory.of_type(AwsAccount)[0]
    assert account.regions == ["eu-west-1", "us-east-1"]


def test_vpce_fence_and_split_tls_statements_through_moto(aws_session: boto3.Session) -> None:
    """The way VPC-endpoint-only buckets are usually written: Allow *, Deny unless the endpoint,
    and TLS required by one statement for the bucket and one for its objects."""
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="fenced")
    fenced = "arn:aws:s3:::fenced"
    s3.put_bucket_policy(
        Bucket="fenced",
        Policy=_policy(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{fenced}/*"},
            {
                "Sid": "OnlyThroughTheEndpoint",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [fenced, f"{fenced}/*"],
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
            },
            _tls("fenced", Resource=fenced),
            _tls("fenced", Resource=f"{fenced}/*"),
        ),
    )
    s3.create_bucket(Bucket="wildcard-fence")
    s3.put_bucket_policy(
        Bucket="wildcard-fence",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::wildcard-fence/*",
                "Condition": {"StringLike": {"aws:SourceVpce": "vpce-*"}},  # anyone's endpoint
            }
        ),
    )
    scan = live_scan(["s3_bucket_policy_not_public", "s3_bucket_tls_required"])
    assert status(scan, "s3_bucket_policy_not_public", "fenced") is Status.PASS
    assert status(scan, "s3_bucket_tls_required", "fenced") is Status.PASS
    assert "statement 3 and statement 4 deny" in reason(scan, "s3_bucket_tls_required", "fenced")
    assert status(scan, "s3_bucket_policy_not_public", "wildcard-fence") is Status.FAIL


def test_customer_managed_key_required_with_only_s3_03_selected(aws_session: boto3.Session) -> None:
    """s3.require_customer_managed_key: the KMS keys are read even when only S3-03 is selected,
    and a key named by ID, alias or alias ARN is resolved in the bucket's region."""
    kms = aws_session.client("kms")
    cmk = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/bucket-key", TargetKeyId=cmk["KeyId"])
    s3 = aws_session.client("s3")
    refs = {
        "by-arn": cmk["Arn"],
        "by-id": cmk["KeyId"],
        "by-alias": "alias/bucket-key",
        "by-alias-arn": cmk["Arn"].split(":key/")[0] + ":alias/bucket-key",
        "aws-managed": "alias/aws/s3",
        "elsewhere": "arn:aws:kms:us-east-1:999988887777:key/00000000-0000-0000-0000-000000000000",
    }
    for name, ref in refs.items():
        s3.create_bucket(Bucket=name)
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ref}}
                ]
            },
        )
    strict = Settings.model_validate({"s3": {"require_customer_managed_key": True}})
    scan = live_scan(["s3_bucket_default_encryption_kms"], settings=strict)
    assert "kms" in scan.collectors_run and "kms:GetKeyPolicy" not in scan.factory.counter.snapshot()
    found = {n: o[0] for n, o in outcomes(scan, "s3_bucket_default_encryption_kms", strict).items()}
    for name in ("by-arn", "by-id", "by-alias", "by-alias-arn"):
        assert found[name].status is Status.PASS, (name, found[name])
    assert found["aws-managed"].status is Status.FAIL
    assert found["elsewhere"].status is Status.UNKNOWN and "another account" in found["elsewhere"].reason

    denied = live_scan(
        ["s3_bucket_default_encryption_kms"],
        settings=strict,
        hooks=[deny("kms", "ListKeys", "AccessDeniedException")],
    )
    [error] = outcomes(denied, "s3_bucket_default_encryption_kms", strict)["by-arn"]
    assert error.status is Status.ERROR and error.error_code == "AccessDeniedException"
