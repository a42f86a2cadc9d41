"""Hand-made findings, scan results and a small catalog for the outputs, store and exceptions tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import (
    Control,
    Framework,
    FrameworkRequirement,
    Remediation,
    Severity,
)
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanError, ScanResult
from controlmap.resources.base import SourceKind, SourceRef

XSS_NAME = "<script>alert(1)</script>"
XSS_TAG = '"><img src=x onerror=alert(1)>'
STARTED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def finding(**overrides: Any) -> Finding:
    base: dict[str, Any] = {
        "control_id": "S3-01",
        "check_id": "s3_bucket_public_access_blocked",
        "status": Status.FAIL,
        "severity": Severity.CRITICAL,
        "service": "s3",
        "title": "S3 buckets block public access",
        "resource_id": "arn:aws:s3:::logs",
        "resource_type": "AWS::S3::Bucket",
        "resource_name": "logs",
        "account_id": "111122223333",
        "region": "eu-west-1",
        "reason": "BlockPublicPolicy is false on the bucket and the account",
        "iso27001": ["A.8.3", "A.5.15"],
        "soc2": ["CC6.1"],
        "remediation": "Turn on all four S3 Block Public Access settings.",
        "window_start_days": 0,
        "window_end_days": 30,
        "first_seen": STARTED,
        "due_date": date(2026, 12, 2),
    }
    base.update(overrides)
    return Finding(**base)


def sample_result() -> ScanResult:
    findings = [
        finding(),
        finding(
            resource_id="arn:aws:s3:::assets", resource_name="assets", status=Status.PASS, reason="all on"
        ),
        finding(
            resource_id=f"arn:aws:s3:::{XSS_NAME}",
            resource_name=XSS_NAME,
            reason=f'tag Owner={XSS_TAG} and =HYPERLINK("http://x")',
            tags={"Owner": XSS_TAG, "CostCenter": "=1+2"},
            overdue=True,
            due_date=date(2026, 10, 1),
        ),
        finding(
            control_id="IAM-02",
            check_id="iam_user_console_mfa_enabled",
            service="iam",
            severity=Severity.HIGH,
            title="Console users have MFA",
            resource_id="arn:aws:iam::111122223333:user/=cmd|' /C calc'!A0",
            resource_name="=cmd|' /C calc'!A0",
            resource_type="AWS::IAM::User",
            region=None,
            iso27001=["A.5.17", "A.8.5"],
            soc2=["CC6.1", "CC6.2"],
            status=Status.EXCEPTED,
            reason="console password without MFA",
            exception={
                "kind": "approved",
                "id": "EX-1",
                "approved_by": "ciso@example.com",
                "justification": "break-glass user in a vault",
                "expires": "2027-01-31",
                "ticket": "https://jira.example.com/browse/SEC-7",
                "original_status": "FAIL",
            },
        ),
        finding(
            control_id="KMS-01",
            check_id="kms_rotation",
            service="kms",
            severity=Severity.MEDIUM,
            title="Customer managed keys rotate",
            resource_id="arn:aws:kms:eu-west-1:111122223333:key/abc",
            resource_name="abc",
            resource_type="AWS::KMS::Key",
            iso27001=["A.8.24"],
            soc2=["CC6.1"],
            status=Status.ERROR,
            error_code="AccessDeniedException",
            reason="kms:GetKeyRotationStatus failed with AccessDeniedException",
        ),
        finding(
            control_id="IAM-09",
            check_id=None,
            service="iam",
            severity=Severity.LOW,
            title="Access reviews happen",
            resource_id="arn:aws:::account/111122223333",
            resource_name="111122223333",
            resource_type="AWS::::Account",
            region=None,
            iso27001=["A.5.18"],
            soc2=["CC6.2"],
            status=Status.MANUAL,
            reason="Attest that access is reviewed every quarter",
        ),
        finding(
            control_id="S3-05",
            check_id="s3_versioning",
            severity=Severity.MEDIUM,
            title="Versioning on",
            resource_id="Bucket",
            resource_name="DataBucket",
            account_id=None,
            region=None,
            iso27001=["A.8.13"],
            soc2=["A1.2"],
            reason="VersioningConfiguration is not declared",
            source=SourceRef(
                kind=SourceKind.CLOUDFORMATION,
                file="templates/data stack.yaml",
                line_start=12,
                line_end=30,
                address="DataBucket",
            ),
        ),
        finding(
            control_id="DDB-01",
            check_id="ddb_pitr",
            service="dynamodb",
            severity=Severity.INFORMATIONAL,
            title="Point-in-time recovery",
            resource_id="arn:aws:::account/111122223333",
            resource_name="111122223333",
            resource_type="AWS::::Account",
            region=None,
            iso27001=[],
            soc2=[],
            status=Status.NOT_APPLICABLE,
            reason="no AWS::DynamoDB::Table found in the scanned scope",
        ),
    ]
    return ScanResult(
        tool_version="0.1.0",
        scan_id="scan-2",
        kind="aws",
        started_at=STARTED,
        finished_at=datetime(2026, 11, 2, 9, 1, 30, tzinfo=UTC),
        accounts=["111122223333"],
        regions=["eu-west-1"],
        services=["s3", "iam", "kms", "dynamodb"],
        sources=["aws"],
        api_calls={"s3:ListBuckets": 1, "s3:GetBucketPolicy": 3, "iam:ListUsers": 2},
        errors=[
            ScanError(source="kms:GetKeyRotationStatus", code="AccessDeniedException", region="eu-west-1")
        ],
        resource_count=6,
        findings=findings,
    )


def sample_catalog() -> Catalog:
    def control(cid: str, service: str, severity: Severity, iso: list[str], soc: list[str]) -> Control:
        return Control(
            id=cid,
            service=service,
            title=f"{cid} title",
            severity=severity,
            description="d",
            rationale="r",
            references={"iso27001:2022": iso, "soc2:2017": soc},
            remediation=Remediation(summary="fix it"),
        )

    catalog = Catalog()
    for c in [
        control("S3-01", "s3", Severity.CRITICAL, ["A.8.3", "A.5.15"], ["CC6.1"]),
        control("IAM-02", "iam", Severity.HIGH, ["A.5.17", "A.8.5"], ["CC6.1", "CC6.2"]),
        control("KMS-01", "kms", Severity.MEDIUM, ["A.8.24"], ["CC6.1"]),
        control("IAM-09", "iam", Severity.LOW, ["A.5.18"], ["CC6.2"]),
        control("S3-05", "s3", Severity.MEDIUM, ["A.8.13"], ["A1.2"]),
        control("EC2-01", "ec2", Severity.HIGH, ["A.8.20"], ["CC6.6"]),
    ]:
        catalog.controls[c.id] = c
    catalog.frameworks["iso27001:2022"] = Framework(
        key="iso27001:2022",
        name="ISO/IEC 27001:2022",
        requirements=[
            FrameworkRequirement(id=i, title=f"title {i}", group="Technological")
            for i in ["A.5.15", "A.5.17", "A.5.18", "A.8.3", "A.8.5", "A.8.13", "A.8.20", "A.8.24", "A.8.99"]
        ],
    )
    return catalog
