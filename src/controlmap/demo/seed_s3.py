"""Demo S3 buckets: a locked-down data bucket, a public website bucket, a bucket shared only
through a VPC endpoint (Principal * that is not public), a WORM bucket missing Object Lock."""

from __future__ import annotations

import json

from controlmap.demo.seed import SeedContext, seeder

ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _tls_deny(bucket: str, operator: str = "Bool", value: object = "false") -> dict[str, object]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {operator: {"aws:SecureTransport": value}},
    }


@seeder("s3")
def seed_s3(ctx: SeedContext) -> None:
    home, other = ctx.regions[0], ctx.regions[-1]
    account = ctx.account_id
    s3 = ctx.client("s3", home)
    kms = ctx.client("kms", home)
    access_logs = f"demo-access-logs-{account}"  # created by the CloudTrail seeder

    # Compliant: every S3 control passes.
    secure = f"demo-secure-data-{account}"
    key = kms.create_key(Description="demo: S3 data")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)
    s3.create_bucket(Bucket=secure, ObjectLockEnabledForBucket=True)
    s3.put_public_access_block(Bucket=secure, PublicAccessBlockConfiguration=ALL_ON)
    s3.put_bucket_ownership_controls(
        Bucket=secure, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(
        Bucket=secure,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_versioning(
        Bucket=secure,
        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
        MFA="arn:aws:iam::000000000000:mfa/root 123456",
    )
    s3.put_object_lock_configuration(
        Bucket=secure,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}},
        },
    )
    s3.put_bucket_tagging(
        Bucket=secure, Tagging={"TagSet": [{"Key": "controlmap:object-lock", "Value": "required"}]}
    )
    s3.put_bucket_policy(
        Bucket=secure, Policy=json.dumps({"Version": "2012-10-17", "Statement": [_tls_deny(secure)]})
    )
    s3.put_bucket_logging(
        Bucket=secure,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": access_logs, "TargetPrefix": "data/"}},
    )

    # Non-compliant: a public website bucket with a public ACL, SSE-S3, no versioning or logging.
    website = f"demo-public-website-{account}"
    s3.create_bucket(Bucket=website)
    s3.put_public_access_block(
        Bucket=website,
        PublicAccessBlockConfiguration={k: False for k in ALL_ON},
    )
    s3.put_bucket_ownership_controls(
        Bucket=website, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.put_bucket_acl(Bucket=website, ACL="public-read")
    s3.put_bucket_encryption(
        Bucket=website,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(
        Bucket=website,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublicRead",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{website}/*",
                    }
                ],
            }
        ),
    )

    # Principal * narrowed to one VPC endpoint: not public. TLS enforced with BoolIfExists and a
    # boolean value; SSE-S3 only (S3-03 FAIL); logs to itself (S3-06 FAIL).
    shared = f"demo-vpce-shared-{account}"
    regional = ctx.client("s3", other)
    regional.create_bucket(Bucket=shared, CreateBucketConfiguration={"LocationConstraint": other})
    regional.put_public_access_block(Bucket=shared, PublicAccessBlockConfiguration=ALL_ON)
    regional.put_bucket_versioning(Bucket=shared, VersioningConfiguration={"Status": "Enabled"})
    regional.put_bucket_policy(
        Bucket=shared,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    _tls_deny(shared, "BoolIfExists", False),
                    {
                        "Sid": "ReadThroughEndpoint",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::{shared}", f"arn:aws:s3:::{shared}/*"],
                        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}},
                    },
                    {
                        "Sid": "S3ServerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{shared}/*",
                    },
                ],
            }
        ),
    )
    regional.put_bucket_logging(
        Bucket=shared,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": shared, "TargetPrefix": "self/"}},
    )

    # Marked as WORM storage but without Object Lock (S3-07 FAIL).
    worm = f"demo-audit-archive-{account}"
    s3.create_bucket(Bucket=worm)
    s3.put_public_access_block(Bucket=worm, PublicAccessBlockConfiguration=ALL_ON)
    s3.put_bucket_tagging(
        Bucket=worm, Tagging={"TagSet": [{"Key": "controlmap:object-lock", "Value": "required"}]}
    )

    # Macie on in the home region only (S3-08 FAIL elsewhere).
    for region in ctx.regions:
        macie = ctx.client("macie2", region)
        try:
            if region == home:
                macie.enable_macie()
            else:
                macie.disable_macie()
        except Exception:
            pass
