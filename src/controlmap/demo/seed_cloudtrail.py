"""Demo CloudTrail: a compliant organisation-style multi-region trail and a neglected legacy one."""

from __future__ import annotations

import json

from controlmap.demo.seed import SeedContext, seeder


def log_delivery_policy(bucket: str, account: str) -> str:
    """The bucket policy that lets S3 server access logging write into ``bucket``."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                _tls_deny(bucket, {"AWS": "*"}),  # moto's log-target check needs a mapping here
                {
                    "Sid": "S3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                },
            ],
        }
    )


def _tls_deny(bucket: str, principal: object = "*") -> dict[str, object]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": principal,
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


@seeder("cloudtrail")
def seed_cloudtrail(ctx: SeedContext) -> None:
    home, other = ctx.regions[0], ctx.regions[-1]
    account = ctx.account_id
    s3 = ctx.client("s3", home)
    kms = ctx.client("kms", home)
    logs = ctx.client("logs", home)
    trails = ctx.client("cloudtrail", home)

    # The log archive bucket: private, TLS-only, SSE-KMS, access-logged to a separate bucket.
    bucket = f"demo-cloudtrail-logs-{account}"
    access_logs = f"demo-access-logs-{account}"
    for name in (bucket, access_logs):
        s3.create_bucket(Bucket=name)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_policy(Bucket=access_logs, Policy=log_delivery_policy(access_logs, account))
    trail_key = kms.create_key(Description="demo: CloudTrail log encryption")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/demo-cloudtrail", TargetKeyId=trail_key)
    kms.enable_key_rotation(KeyId=trail_key)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": trail_key,
                    }
                }
            ]
        },
    )
    trail_arn = f"arn:aws:cloudtrail:{home}:{account}:trail/demo-organization-trail"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            _tls_deny(bucket),
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_logging(
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": access_logs, "TargetPrefix": "ct/"}},
    )

    logs.create_log_group(logGroupName="demo-cloudtrail")
    group_arn = f"arn:aws:logs:{home}:{account}:log-group:demo-cloudtrail:*"
    trails.create_trail(
        Name="demo-organization-trail",
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        KmsKeyId=trail_key,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/demo-cloudtrail-to-logs",
    )
    trails.put_event_selectors(
        TrailName="demo-organization-trail",
        AdvancedEventSelectors=[
            {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {
                "Name": "all S3 objects",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ],
            },
            {
                # Lambda data events for one function only: CT-06 asks for all functions.
                "Name": "one Lambda function",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
                    {
                        "Field": "resources.ARN",
                        "StartsWith": [f"arn:aws:lambda:{home}:{account}:function:payments"],
                    },
                ],
            },
        ],
    )
    trails.start_logging(Name="demo-organization-trail")

    # A legacy single-region trail: stopped, unvalidated, unencrypted, public bucket, no CloudWatch.
    legacy_bucket = f"demo-legacy-trail-logs-{account}"
    regional_s3 = ctx.client("s3", other)
    regional_s3.create_bucket(Bucket=legacy_bucket, CreateBucketConfiguration={"LocationConstraint": other})
    regional_s3.put_bucket_policy(
        Bucket=legacy_bucket,
        Policy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::{legacy_bucket}", f"arn:aws:s3:::{legacy_bucket}/*"],
                    }
                ]
            }
        ),
    )
    ctx.client("cloudtrail", other).create_trail(Name="demo-legacy-trail", S3BucketName=legacy_bucket)
