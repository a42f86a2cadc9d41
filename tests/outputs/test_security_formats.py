"""ASFF (checked against botocore's Security Hub model) and OCSF Compliance Finding."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.validate import ParamValidator

from controlmap.checks.registry import Status
from controlmap.findings.model import ScanResult
from controlmap.outputs import AsffError, render
from controlmap.outputs.asff import ASFF_TYPES

from .factories import finding

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def securityhub_model():
    return botocore.session.get_session().get_service_model("securityhub")


def test_asff_is_a_valid_batch_import_request(result: ScanResult, securityhub_model) -> None:
    findings = json.loads(render(result, "asff", account_id="111122223333", region="eu-west-1"))
    shape = securityhub_model.operation_model("BatchImportFindings").input_shape
    for start in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[start : start + 100]}, shape)
        assert not report.has_errors(), report.generate_report()
    # NOT_APPLICABLE is left out by default; every other finding is there.
    assert len(findings) == len([f for f in result.findings if f.status is not Status.NOT_APPLICABLE])


def test_asff_fields(result: ScanResult) -> None:
    findings = json.loads(render(result, "asff", account_id="111122223333", region="eu-west-1"))
    by_title = {f["Title"]: f for f in findings}
    s3 = next(f for f in findings if f["Resources"][0]["Id"] == "arn:aws:s3:::logs")
    assert s3["SchemaVersion"] == "2018-10-08"
    assert s3["ProductArn"] == "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
    assert s3["GeneratorId"] == "controlmap/S3-01"
    assert s3["AwsAccountId"] == "111122223333"
    assert s3["Id"] == f"controlmap/111122223333/{result.findings[0].key}"
    assert s3["Severity"]["Label"] == "CRITICAL"
    assert s3["Compliance"]["Status"] == "FAILED"
    assert s3["Compliance"]["RelatedRequirements"] == [
        "ISO/IEC 27001:2022 A.8.3",
        "ISO/IEC 27001:2022 A.5.15",
        "SOC 2 CC6.1",
    ]
    assert s3["Resources"][0]["Type"] == "AwsS3Bucket"
    assert ISO_Z.match(s3["CreatedAt"]) and ISO_Z.match(s3["UpdatedAt"])
    assert s3["Types"] == ["Software and Configuration Checks/Industry and Regulatory Standards"]
    assert s3["Workflow"] == {"Status": "NEW"}
    excepted = by_title["IAM-02 Console users have MFA"]
    assert excepted["Compliance"]["Status"] == "FAILED"
    assert excepted["Workflow"] == {"Status": "SUPPRESSED"}
    assert excepted["Note"]["UpdatedBy"] == "ciso@example.com"
    assert "expires 2027-01-31" in excepted["Note"]["Text"]
    error = by_title["KMS-01 Customer managed keys rotate"]
    assert error["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert error["Compliance"]["StatusReasons"][0]["ReasonCode"] == "AccessDeniedException"
    manual = by_title["IAM-09 Access reviews happen"]
    assert manual["Compliance"]["Status"] == "WARNING"
    assert manual["Resources"][0]["Type"] == "AwsAccount"
    passed = next(f for f in findings if f["Resources"][0]["Id"] == "arn:aws:s3:::assets")
    assert passed["Compliance"]["Status"] == "PASSED" and passed["Workflow"] == {"Status": "RESOLVED"}


def test_asff_batch_uses_one_import_region(result: ScanResult) -> None:
    """Every ProductArn names the import region; each resource keeps its own region."""
    multi = result.model_copy(update={"regions": ["us-east-1", "eu-west-1"]})
    findings = json.loads(render(multi, "asff"))
    assert {f["ProductArn"].split(":")[3] for f in findings} == {"us-east-1"}
    assert {f["Region"] for f in findings} == {"us-east-1"}
    assert "eu-west-1" in {f["Resources"][0]["Region"] for f in findings}
    chosen = json.loads(render(multi, "asff", region="eu-central-1"))
    assert {f["ProductArn"].split(":")[3] for f in chosen} == {"eu-central-1"}


def test_asff_needs_an_account_for_iac_findings() -> None:
    iac = finding(account_id=None, region=None)
    result = ScanResult(kind="iac", started_at=iac.first_seen, findings=[iac])
    with pytest.raises(AsffError, match="has no AWS account"):
        render(result, "asff")
    findings = json.loads(render(result, "asff", account_id="444455556666", region="cn-north-1"))
    assert findings[0]["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:444455556666:")


def test_asff_types_exist_in_security_hub(securityhub_model) -> None:
    known = set(securityhub_model.shape_for("ResourceDetails").members) | {"AwsAccount", "Other"}
    assert set(ASFF_TYPES.values()) <= known


def test_asff_limits() -> None:
    long = finding(reason="x" * 5000, title="t" * 400)
    findings = json.loads(render(ScanResult(kind="aws", started_at=long.first_seen, findings=[long]), "asff"))
    assert len(findings[0]["Description"]) == 1024
    assert len(findings[0]["Title"]) == 256


def test_ocsf_compliance_finding(result: ScanResult) -> None:
    events = json.loads(render(result, "ocsf"))
    assert len(events) == len(result.findings)
    required = {"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata"}
    for event in events:
        assert required <= set(event)
        assert event["class_uid"] == 2003 and event["category_uid"] == 2
        assert event["type_uid"] == 200301
        assert event["metadata"]["version"] == "1.1.0"
        assert event["compliance"]["standards"]
        assert event["cloud"]["provider"] == "AWS"
        assert isinstance(event["time"], int)
    fail = next(e for e in events if e["resources"][0]["uid"] == "arn:aws:s3:::logs")
    assert fail["severity_id"] == 5 and fail["severity"] == "Critical"
    assert fail["compliance"]["status_id"] == 3 and fail["compliance"]["status"] == "Fail"
    assert fail["compliance"]["control"] == "S3-01"
    assert fail["finding_info"]["uid"] == result.findings[0].key
    assert fail["cloud"]["account"] == {"uid": "111122223333", "type": "AWS Account", "type_id": 10}
    passed = next(e for e in events if e["resources"][0]["uid"] == "arn:aws:s3:::assets")
    assert passed["compliance"]["status_id"] == 1 and passed["status"] == "Resolved"
    excepted = next(e for e in events if e["compliance"]["control"] == "IAM-02")
    assert excepted["status"] == "Suppressed"
    assert excepted["unmapped"]["exception"]["approved_by"] == "ciso@example.com"
    iac = next(e for e in events if e["compliance"]["control"] == "S3-05")
    assert iac["unmapped"]["source"] == "templates/data stack.yaml:12-30"
