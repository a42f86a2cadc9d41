"""The documents of a few AWS managed policies that templates attach all the time.

A live scan reads every attached policy's document; a template only names it. For the handful
that SAM attaches by itself and that people attach by name most often, the document is known and
stable, so least-privilege checks can judge a role instead of saying UNKNOWN. Every other AWS
managed policy stays unknown (its document is not in the template).
"""

from __future__ import annotations

from typing import Any

_ALL = "*"

_DOCUMENTS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "AdministratorAccess": (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        [{"Effect": "Allow", "Action": "*", "Resource": _ALL}],
    ),
    "PowerUserAccess": (
        "arn:aws:iam::aws:policy/PowerUserAccess",
        [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": _ALL},
            {
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                    "account:GetAccountInformation",
                ],
                "Resource": _ALL,
            },
        ],
    ),
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": _ALL,
            }
        ],
    ),
    "AWSLambdaVPCAccessExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        [
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": _ALL,
            }
        ],
    ),
    "AWSXRayDaemonWriteAccess": (
        "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        [
            {
                "Effect": "Allow",
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                "Resource": _ALL,
            }
        ],
    ),
    "AmazonS3FullAccess": (
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": _ALL}],
    ),
    "AmazonS3ReadOnlyAccess": (
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        [
            {
                "Effect": "Allow",
                "Action": [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ],
                "Resource": _ALL,
            }
        ],
    ),
}
_BY_ARN = {arn: (name, statements) for name, (arn, statements) in _DOCUMENTS.items()}


def managed_policy_arn(name_or_arn: str) -> str:
    """An AWS managed policy named the SAM way (``AWSLambdaBasicExecutionRole``) as its ARN."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    known = _DOCUMENTS.get(name_or_arn)
    return known[0] if known else f"arn:aws:iam::aws:policy/{name_or_arn}"


def managed_policy_document(arn: str) -> dict[str, Any] | None:
    """The document of a well-known AWS managed policy (any partition), or None."""
    normalized = arn.replace("arn:aws-us-gov:", "arn:aws:").replace("arn:aws-cn:", "arn:aws:")
    known = _BY_ARN.get(normalized)
    if known is None:
        return None
    return {"Version": "2012-10-17", "Statement": known[1]}
