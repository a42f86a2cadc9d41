"""JUnit (checked against the Jenkins junit-10.xsd structure) and SARIF (checked against a schema)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from controlmap.checks.registry import Status
from controlmap.findings.model import ScanResult
from controlmap.outputs import render
from controlmap.outputs.sarif import artifact_uri

from .factories import finding

FIXTURES = Path(__file__).parent / "fixtures"

# The element and attribute sets of the Jenkins JUnit plugin's junit-10.xsd, the schema most CI
# systems (Jenkins, GitLab, Azure DevOps, CircleCI) accept. No XML Schema validator ships in the
# environment, so the rules are checked here, element by element.
JUNIT_ATTRS = {
    "testsuites": ({"name", "time", "tests", "failures", "disabled", "errors"}, set()),
    "testsuite": (
        {
            "name",
            "tests",
            "failures",
            "errors",
            "time",
            "disabled",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
            "version",
            "group",
        },
        {"name", "tests"},
    ),
    "testcase": (
        {"name", "assertions", "time", "classname", "status", "class", "file", "line", "log", "group", "url"},
        {"name"},
    ),
    "failure": ({"message", "type"}, set()),
    "error": ({"message", "type"}, set()),
    "skipped": ({"message"}, set()),
    "properties": (set(), set()),
    "property": ({"name", "value"}, {"name", "value"}),
    "system-out": (set(), set()),
    "system-err": (set(), set()),
}
JUNIT_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "properties": {"property"},
}


def validate_junit(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    for element in root.iter():
        assert element.tag in JUNIT_ATTRS, f"unknown element <{element.tag}>"
        allowed, required = JUNIT_ATTRS[element.tag]
        assert set(element.attrib) <= allowed, (element.tag, set(element.attrib) - allowed)
        assert required <= set(element.attrib), (element.tag, required - set(element.attrib))
        for child in element:
            assert child.tag in JUNIT_CHILDREN.get(element.tag, set()), (element.tag, child.tag)
        for numeric in ("tests", "failures", "errors", "skipped", "disabled"):
            if numeric in element.attrib:
                assert int(element.attrib[numeric]) >= 0
        if "time" in element.attrib:
            assert float(element.attrib["time"]) >= 0
        if element.tag == "testcase":
            assert len(element.findall("skipped")) <= 1
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.attrib["tests"]) == len(cases)
        assert int(suite.attrib["failures"]) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.attrib["errors"]) == sum(1 for c in cases if c.find("error") is not None)
        assert int(suite.attrib["skipped"]) == sum(1 for c in cases if c.find("skipped") is not None)
    assert int(root.attrib["tests"]) == sum(int(s.attrib["tests"]) for s in root.findall("testsuite"))


def test_junit_structure_and_counts(result: ScanResult) -> None:
    root = ET.fromstring(render(result, "junit").encode())
    validate_junit(root)
    # every finding, plus one case per scan error (a denied read is an <error>, not silence)
    assert root.attrib["tests"] == str(len(result.findings) + len(result.errors))
    assert root.attrib["failures"] == "3"
    assert root.attrib["errors"] == str(1 + len(result.errors))
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    denied = cases["kms:GetKeyRotationStatus"].find("error")
    assert denied is not None and denied.attrib["type"] == "AccessDeniedException"
    assert "region: eu-west-1" in (denied.text or "")
    failure = cases["S3-01 logs"].find("failure")
    assert failure is not None and failure.attrib["type"] == "critical"
    assert "remediation: Turn on all four" in (failure.text or "")
    excepted = cases["IAM-02 =cmd|' /C calc'!A0"].find("skipped")
    assert excepted is not None and "ciso@example.com" in excepted.attrib["message"]
    assert cases["S3-01 assets"].find("failure") is None and len(cases["S3-01 assets"]) == 0


def test_junit_cases_are_told_apart_by_check_and_resource() -> None:
    """CI systems merge test cases with the same classname and name."""
    account = finding(
        check_id="s3_account_public_access_blocked",
        resource_id="111122223333",
        resource_name="111122223333",
        resource_type="AWS::::Account",
    )
    default_a = finding(
        control_id="EC2-01",
        check_id="ec2_default_security_group_restricted",
        service="ec2",
        resource_id="arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a",
        resource_name="default",
    )
    default_b = default_a.model_copy(
        update={"resource_id": "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0b"}
    )
    bucket = finding()
    same_bucket_other_check = finding(check_id="s3_bucket_acls_disabled")
    findings = [account, default_a, default_b, bucket, same_bucket_other_check]
    result = ScanResult(kind="aws", started_at=bucket.first_seen, findings=findings)
    root = ET.fromstring(render(result, "junit").encode())
    keys = [(c.attrib["classname"], c.attrib["name"]) for c in root.iter("testcase")]
    assert len(set(keys)) == len(findings), keys
    names = {c.attrib["name"] for c in root.iter("testcase")}
    assert "EC2-01 default (arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a)" in names
    assert "S3-01 logs" in names
    classes = {c.attrib["classname"] for c in root.iter("testcase")}
    assert "controlmap.s3.S3-01.s3_bucket_acls_disabled" in classes


def test_junit_survives_control_characters() -> None:
    bad = finding(resource_name="bucket\x00\x1b[31m", reason="tag value \x07 with ]]> and <!--")
    result = ScanResult(kind="aws", started_at=bad.first_seen, findings=[bad])
    text = render(result, "junit")
    root = ET.fromstring(text.encode())  # would raise on an invalid character
    validate_junit(root)
    case = next(root.iter("testcase"))
    assert case.attrib["name"].startswith("S3-01 bucket\ufffd\ufffd[31m")
    assert "]]> and <!--" in case.find("failure").attrib["message"]  # type: ignore[union-attr]


def _sarif_schema() -> dict[str, Any]:
    return json.loads((FIXTURES / "sarif-2.1.0-subset.schema.json").read_text())


def validate_sarif(log: dict[str, Any]) -> None:
    checker = jsonschema.Draft7Validator(_sarif_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(checker.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        if result["kind"] != "fail":  # SARIF §3.27.9: level must be "none" unless kind is fail
            assert result["level"] == "none"
        for location in result["locations"]:
            uri = location.get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
            if uri is not None:
                assert " " not in uri and urlsplit(uri).path


def test_sarif_validates_and_has_rules_and_locations(result: ScanResult) -> None:
    log = json.loads(render(result, "sarif"))
    validate_sarif(log)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"S3-01", "S3-05", "IAM-02", "KMS-01"}  # PASS/MANUAL/N/A left out by default
    s3 = rules["S3-01"]
    assert "iso27001:2022/A.8.3" in s3["properties"]["tags"]
    assert "soc2/CC6.1" in s3["properties"]["tags"]
    assert s3["properties"]["security-severity"] == "9.5"
    assert s3["help"]["text"].startswith("Turn on all four")
    iac = next(r for r in run["results"] if r["ruleId"] == "S3-05")
    physical = iac["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "templates/data%20stack.yaml", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 12, "endLine": 30}
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    live = next(r for r in run["results"] if r["message"]["text"].startswith("FAIL: logs"))
    assert "physicalLocation" not in live["locations"][0]
    assert live["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "arn:aws:s3:::logs"
    assert live["partialFingerprints"]["controlmapFindingKey/v1"] == result.findings[0].key
    excepted = next(r for r in run["results"] if r["ruleId"] == "IAM-02")
    assert excepted["suppressions"][0]["kind"] == "external"
    assert excepted["suppressions"][0]["justification"] == "break-glass user in a vault"
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith(
        "kms:GetKeyRotationStatus"
    )


def test_sarif_include_passed(result: ScanResult) -> None:
    log = json.loads(render(result, "sarif", include_passed=True))
    validate_sarif(log)
    kinds = {r["properties"]["status"]: r["kind"] for r in log["runs"][0]["results"]}
    assert kinds["PASS"] == "pass"
    assert kinds["NOT_APPLICABLE"] == "notApplicable"
    assert kinds["MANUAL"] == "review"


def test_sarif_schema_rejects_a_broken_log(result: ScanResult) -> None:
    """The schema subset is real: a misplaced member or a bad enum value fails."""
    log = json.loads(render(result, "sarif"))
    log["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(AssertionError, match="level"):
        validate_sarif(log)
    log = json.loads(render(result, "sarif"))
    log["runs"][0]["results"][0]["locations"][0]["region"] = {"startLine": 1}
    with pytest.raises(AssertionError, match="Additional properties"):
        validate_sarif(log)


def test_sarif_suppressed_inline_and_uris() -> None:
    suppressed = finding(
        status=Status.SUPPRESSED,
        exception={"kind": "inline", "reason": "public website bucket", "original_status": "FAIL"},
        source={"kind": "terraform", "file": "/abs/main.tf", "line_start": 3, "line_end": 3},
    )
    log = json.loads(
        render(ScanResult(kind="iac", started_at=suppressed.first_seen, findings=[suppressed]), "sarif")
    )
    validate_sarif(log)
    result = log["runs"][0]["results"][0]
    assert result["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "public website bucket"}
    ]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///abs/main.tf"}
    assert artifact_uri("./a b/#x.yaml") == ("a%20b/%23x.yaml", "%SRCROOT%")
    assert artifact_uri("C:\\repo\\t.yaml")[0] == "file:///C:/repo/t.yaml"
