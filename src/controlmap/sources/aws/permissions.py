"""The IAM permissions a live scan needs: one row per API operation the collectors call.

Keys are the counted ``endpoint-prefix:Operation`` names (as in the scan summary); values are the
IAM actions that authorize them (most are the same name; S3's are not). ``docs/iam-policy.json``
is generated from this table (``python -m controlmap.sources.aws.permissions``), and a test runs
the demo scan and fails if an operation it counted is missing here or from the policy file.
Collector authors: add a row for every operation you call.
"""

from __future__ import annotations

import json
import sys

# operation (as counted) -> IAM actions it needs; () when no permission is required
OPERATION_ACTIONS: dict[str, tuple[str, ...]] = {
    # session and regions
    "sts:GetCallerIdentity": (),  # always allowed, needs no policy
    "sts:AssumeRole": (),  # granted by the role's trust policy and the caller's own policy
    "ec2:DescribeRegions": ("ec2:DescribeRegions",),
    # S3 (S3-01 ... S3-08) and Macie
    "s3:ListBuckets": ("s3:ListAllMyBuckets",),
    "s3:GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "s3-control:GetPublicAccessBlock": ("s3:GetAccountPublicAccessBlock",),
    "s3:GetBucketPolicy": ("s3:GetBucketPolicy",),
    "s3:GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
    "s3:GetBucketAcl": ("s3:GetBucketAcl",),
    "s3:GetBucketEncryption": ("s3:GetEncryptionConfiguration",),
    "s3:GetBucketVersioning": ("s3:GetBucketVersioning",),
    "s3:GetBucketLogging": ("s3:GetBucketLogging",),
    "s3:GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration",),
    "s3:GetBucketTagging": ("s3:GetBucketTagging",),
    "macie2:GetMacieSession": ("macie2:GetMacieSession",),
    # IAM (IAM-01 ... IAM-07)
    "iam:GetAccountAuthorizationDetails": ("iam:GetAccountAuthorizationDetails",),
    "iam:GetPolicy": ("iam:GetPolicy",),
    "iam:GetPolicyVersion": ("iam:GetPolicyVersion",),
    "iam:GenerateCredentialReport": ("iam:GenerateCredentialReport",),
    "iam:GetCredentialReport": ("iam:GetCredentialReport",),
    "iam:GetAccountSummary": ("iam:GetAccountSummary",),
    "iam:ListVirtualMFADevices": ("iam:ListVirtualMFADevices",),
    "iam:ListMFADevices": ("iam:ListMFADevices",),  # only users with a virtual device
    "iam:GetAccountPasswordPolicy": ("iam:GetAccountPasswordPolicy",),
    "access-analyzer:ListAnalyzers": ("access-analyzer:ListAnalyzers",),
    # CloudTrail (CT-01 ... CT-06, KMS-04)
    "cloudtrail:DescribeTrails": ("cloudtrail:DescribeTrails",),
    "cloudtrail:GetTrailStatus": ("cloudtrail:GetTrailStatus",),
    "cloudtrail:GetEventSelectors": ("cloudtrail:GetEventSelectors",),
    # KMS (KMS-01 ... KMS-05)
    "kms:ListKeys": ("kms:ListKeys",),
    "kms:ListAliases": ("kms:ListAliases",),
    "kms:DescribeKey": ("kms:DescribeKey",),
    "kms:GetKeyPolicy": ("kms:GetKeyPolicy",),
    "kms:GetKeyRotationStatus": ("kms:GetKeyRotationStatus",),
    # KMS-05: the waiting period of a pending deletion is only in the ScheduleKeyDeletion event
    "cloudtrail:LookupEvents": ("cloudtrail:LookupEvents",),
    # EC2 / VPC / EBS (EC2-01 ... EC2-09)
    "ec2:DescribeSecurityGroups": ("ec2:DescribeSecurityGroups",),
    "ec2:DescribeNetworkAcls": ("ec2:DescribeNetworkAcls",),
    "ec2:DescribeNetworkInterfaces": ("ec2:DescribeNetworkInterfaces",),
    "ec2:DescribeVpcs": ("ec2:DescribeVpcs",),
    "ec2:DescribeVpcEndpoints": ("ec2:DescribeVpcEndpoints",),
    "ec2:DescribeFlowLogs": ("ec2:DescribeFlowLogs",),
    "ec2:DescribeInstances": ("ec2:DescribeInstances",),
    "ec2:DescribeImages": ("ec2:DescribeImages",),
    "ec2:DescribeKeyPairs": ("ec2:DescribeKeyPairs",),
    "ec2:DescribeLaunchTemplateVersions": ("ec2:DescribeLaunchTemplateVersions",),
    "ec2:DescribeVolumes": ("ec2:DescribeVolumes",),
    "ec2:DescribeSnapshots": ("ec2:DescribeSnapshots",),
    "ec2:DescribeSnapshotAttribute": ("ec2:DescribeSnapshotAttribute",),
    "ec2:GetEbsEncryptionByDefault": ("ec2:GetEbsEncryptionByDefault",),
    "ec2:GetInstanceMetadataDefaults": ("ec2:GetInstanceMetadataDefaults",),
    "ssm:DescribeInstanceInformation": ("ssm:DescribeInstanceInformation",),
    "ssm:DescribeInstancePatchStates": ("ssm:DescribeInstancePatchStates",),
    # RDS (RDS-01 ... RDS-07)
    "rds:DescribeDBInstances": ("rds:DescribeDBInstances",),
    "rds:DescribeDBClusters": ("rds:DescribeDBClusters",),
    "rds:DescribeDBSnapshots": ("rds:DescribeDBSnapshots",),
    "rds:DescribeDBClusterSnapshots": ("rds:DescribeDBClusterSnapshots",),
    "rds:DescribeDBSnapshotAttributes": ("rds:DescribeDBSnapshotAttributes",),
    "rds:DescribeDBClusterSnapshotAttributes": ("rds:DescribeDBClusterSnapshotAttributes",),
    "rds:DescribeDBParameters": ("rds:DescribeDBParameters",),
    "rds:DescribeDBClusterParameters": ("rds:DescribeDBClusterParameters",),
    # Lambda (LAMBDA-01 ... LAMBDA-06)
    "lambda:ListFunctions": ("lambda:ListFunctions",),
    "lambda:GetPolicy": ("lambda:GetPolicy",),
    "lambda:ListCodeSigningConfigs": ("lambda:ListCodeSigningConfigs",),
    "lambda:ListFunctionsByCodeSigningConfig": ("lambda:ListFunctionsByCodeSigningConfig",),
    "lambda:GetFunctionEventInvokeConfig": ("lambda:GetFunctionEventInvokeConfig",),
    # Tags of Lambda functions, DynamoDB tables and CloudFront distributions (exception selectors)
    "tagging:GetResources": ("tag:GetResources",),
    # CloudFront (CF-01 ... CF-05)
    "cloudfront:ListDistributions": ("cloudfront:ListDistributions",),
    # API Gateway REST (v1) and HTTP/WebSocket (v2) share the "apigateway" endpoint prefix and
    # authorize reads with the HTTP-verb action apigateway:GET.
    "apigateway:GetRestApis": ("apigateway:GET",),
    "apigateway:GetResources": ("apigateway:GET",),
    "apigateway:GetStages": ("apigateway:GET",),
    "apigateway:GetUsagePlans": ("apigateway:GET",),
    "apigateway:GetApis": ("apigateway:GET",),
    "apigateway:GetRoutes": ("apigateway:GET",),
    # DynamoDB and DAX (DDB-01 ... DDB-06)
    "dynamodb:ListTables": ("dynamodb:ListTables",),
    "dynamodb:DescribeTable": ("dynamodb:DescribeTable",),
    "dynamodb:DescribeContinuousBackups": ("dynamodb:DescribeContinuousBackups",),
    "dynamodb:GetResourcePolicy": ("dynamodb:GetResourcePolicy",),
    "dax:DescribeClusters": ("dax:DescribeClusters",),
}


def required_actions() -> list[str]:
    return sorted({action for actions in OPERATION_ACTIONS.values() for action in actions})


def policy_document() -> dict[str, object]:
    """The minimal read-only policy: exactly the actions the collectors' operations need."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ControlmapLiveScanReadOnly",
                "Effect": "Allow",
                "Action": required_actions(),
                "Resource": "*",
            }
        ],
    }


def main() -> None:
    sys.stdout.write(json.dumps(policy_document(), indent=2) + "\n")


if __name__ == "__main__":
    main()
