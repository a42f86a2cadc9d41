"""AWS Security Finding Format (ASFF), ready for Security Hub's BatchImportFindings.

The output is a JSON array of findings; BatchImportFindings takes at most 100 per call, so send
it in slices (see docs/reports.md). ``Id`` is the stable finding key, so importing the next scan
updates the same Security Hub findings instead of adding duplicates. Compliance.Status follows
Security Hub's own controls: PASSED, FAILED, WARNING (manual or undetermined), NOT_AVAILABLE (the
read failed). Excepted findings stay FAILED with the workflow SUPPRESSED and the approval as a note.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import json_lines_array, utc_iso

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards"
DEFAULT_REGION = "us-east-1"

# CloudFormation type -> ASFF resource type. Types Security Hub does not model become "Other".
ASFF_TYPES = {
    "AWS::::Account": "AwsAccount",
    "AWS::::Region": "AwsAccount",
    "AWS::S3::Bucket": "AwsS3Bucket",
    "AWS::S3::AccountPublicAccessBlock": "AwsS3AccountPublicAccessBlock",
    "AWS::EC2::SecurityGroup": "AwsEc2SecurityGroup",
    "AWS::EC2::NetworkAcl": "AwsEc2NetworkAcl",
    "AWS::EC2::VPC": "AwsEc2Vpc",
    "AWS::EC2::Instance": "AwsEc2Instance",
    "AWS::EC2::LaunchTemplate": "AwsEc2LaunchTemplate",
    "AWS::EC2::Volume": "AwsEc2Volume",
    "AWS::EC2::Subnet": "AwsEc2Subnet",
    "AWS::RDS::DBInstance": "AwsRdsDbInstance",
    "AWS::RDS::DBCluster": "AwsRdsDbCluster",
    "AWS::RDS::DBSnapshot": "AwsRdsDbSnapshot",
    "AWS::RDS::DBClusterSnapshot": "AwsRdsDbClusterSnapshot",
    "AWS::IAM::User": "AwsIamUser",
    "AWS::IAM::Group": "AwsIamGroup",
    "AWS::IAM::Role": "AwsIamRole",
    "AWS::IAM::ManagedPolicy": "AwsIamPolicy",
    "AWS::IAM::AccessKey": "AwsIamAccessKey",
    "AWS::CloudTrail::Trail": "AwsCloudTrailTrail",
    "AWS::Lambda::Function": "AwsLambdaFunction",
    "AWS::CloudFront::Distribution": "AwsCloudFrontDistribution",
    "AWS::KMS::Key": "AwsKmsKey",
    "AWS::ApiGateway::RestApi": "AwsApiGatewayRestApi",
    "AWS::ApiGateway::Stage": "AwsApiGatewayStage",
    "AWS::ApiGatewayV2::Api": "AwsApiGatewayV2Api",
    "AWS::ApiGatewayV2::Stage": "AwsApiGatewayV2Stage",
    "AWS::DynamoDB::Table": "AwsDynamoDbTable",
}
COMPLIANCE = {
    Status.PASS: "PASSED",
    Status.FAIL: "FAILED",
    Status.EXCEPTED: "FAILED",
    Status.SUPPRESSED: "FAILED",
    Status.MANUAL: "WARNING",
    Status.UNKNOWN: "WARNING",
    Status.ERROR: "NOT_AVAILABLE",
    Status.NOT_APPLICABLE: "NOT_AVAILABLE",
}
NORMALIZED = {
    Severity.CRITICAL: 90,
    Severity.HIGH: 70,
    Severity.MEDIUM: 40,
    Severity.LOW: 1,
    Severity.INFORMATIONAL: 0,
}


class AsffError(ValueError):
    """The scan cannot be expressed in ASFF as asked (e.g. an IaC finding with no account)."""


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _cut(text: str, limit: int) -> str:
    text = text.strip() or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _requirements(f: Finding) -> list[str]:
    refs = [f"ISO/IEC 27001:2022 {r}" for r in f.iso27001] + [f"SOC 2 {r}" for r in f.soc2]
    return refs[:32]  # Security Hub's limit


def to_asff(
    f: Finding,
    *,
    scanned_at: datetime,
    account_id: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    account = f.account_id or account_id
    if not account:
        raise AsffError(
            f"finding {f.control_id} on {f.resource_id} has no AWS account; pass an account ID for ASFF"
        )
    # Security Hub takes a batch in one region and wants that region in every ProductArn; the
    # finding's own region stays in Resources[].Region.
    home = region or DEFAULT_REGION
    where = f.region or home
    partition = partition_of(home)
    now = utc_iso(scanned_at, millis=True)
    created = utc_iso(f.first_seen or scanned_at, millis=True)
    status_text = f"{f.status.value}: {f.reason}"
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": f"controlmap/{account}/{f.key}",
        "ProductArn": f"arn:{partition}:securityhub:{home}:{account}:product/{account}/default",
        "ProductName": "controlmap",
        "CompanyName": "controlmap",
        "Region": home,
        "GeneratorId": _cut(f"controlmap/{f.control_id}", 512),
        "AwsAccountId": account,
        "Types": [FINDING_TYPE],
        "FirstObservedAt": created,
        "LastObservedAt": now,
        "CreatedAt": created,
        "UpdatedAt": now,
        "Severity": {
            "Label": f.severity.value.upper(),
            "Normalized": NORMALIZED[f.severity],
            "Original": f.severity.value,
        },
        "Title": _cut(f"{f.control_id} {f.title}", 256),
        "Description": _cut(status_text, 1024),
        "Resources": [
            {
                "Type": ASFF_TYPES.get(f.resource_type, "Other"),
                "Id": _cut(f.resource_id, 512),
                "Partition": partition_of(where),
                "Region": where,
            }
        ],
        "Compliance": {"Status": COMPLIANCE[f.status], "StatusReasons": []},
        "ProductFields": {
            k: v
            for k, v in {
                "controlmap/ControlId": f.control_id,
                "controlmap/CheckId": f.check_id or "",
                "controlmap/Status": f.status.value,
                "controlmap/ResourceName": _cut(f.resource_name, 1024),
                "controlmap/DueDate": f.due_date.isoformat() if f.due_date else "",
                "controlmap/Overdue": "true" if f.overdue else "false",
            }.items()
            if v.strip()
        },
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "RESOLVED" if f.status is Status.PASS else "NEW"},
    }
    requirements = _requirements(f)
    if requirements:
        finding["Compliance"]["RelatedRequirements"] = requirements
    if f.error_code:
        finding["Compliance"]["StatusReasons"] = [
            {"ReasonCode": _cut(f.error_code, 64), "Description": _cut(f.reason, 1024)}
        ]
    if not finding["Compliance"]["StatusReasons"]:
        del finding["Compliance"]["StatusReasons"]
    if f.remediation.strip():
        finding["Remediation"] = {"Recommendation": {"Text": _cut(f.remediation, 512)}}
    if f.status in (Status.EXCEPTED, Status.SUPPRESSED):
        exc = f.exception or {}
        finding["Workflow"] = {"Status": "SUPPRESSED"}
        note = exc.get("justification") or exc.get("reason") or f.status.value
        if exc.get("expires"):
            note = f"{note} (expires {exc['expires']})"
        finding["Note"] = {
            "Text": _cut(str(note), 512),
            "UpdatedBy": _cut(str(exc.get("approved_by") or "controlmap inline suppression"), 512),
            "UpdatedAt": now,
        }
    return finding


def render_asff(
    result: ScanResult,
    *,
    account_id: str | None = None,
    region: str | None = None,
    include_not_applicable: bool = False,
    **_: Any,
) -> str:
    scanned_at = result.finished_at or result.started_at or datetime.now(UTC)
    default_account = account_id or (result.accounts[0] if len(result.accounts) == 1 else None)
    home = region or (result.regions[0] if result.regions else DEFAULT_REGION)
    findings = [
        to_asff(f, scanned_at=scanned_at, account_id=default_account, region=home)
        for f in result.findings
        if include_not_applicable or f.status is not Status.NOT_APPLICABLE
    ]
    return json_lines_array(findings)
