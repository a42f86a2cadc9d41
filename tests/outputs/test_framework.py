"""Framework views: requirement statuses pooled from the seed controls behind them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from controlmap.checks.registry import Status
from controlmap.findings.model import ScanResult
from controlmap.outputs import render
from controlmap.outputs.framework import framework_view, normalize_framework, status_of

from .factories import STARTED, finding


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([Status.FAIL], "non-compliant"),
        ([Status.FAIL, Status.PASS], "non-compliant"),  # a failing control is never "partially"
        ([Status.PASS, Status.MANUAL], "partially"),
        ([Status.PASS, Status.UNKNOWN], "partially"),
        ([Status.PASS, Status.EXCEPTED], "compliant"),
        ([Status.PASS, Status.NOT_APPLICABLE], "compliant"),
        ([Status.MANUAL], "manual"),
        ([Status.NOT_APPLICABLE], "not assessed"),
        ([Status.ERROR], "not assessed"),
        ([], "not assessed"),
    ],
)
def test_status_of(statuses: list[Status], expected: str) -> None:
    assert status_of(finding(status=s) for s in statuses) == expected


def test_iso_view_lists_every_requirement_with_evidence(result: ScanResult, catalog) -> None:
    view = framework_view(result, "iso27001", catalog)
    rows = {r.id: r for r in view.rows}
    assert list(rows)[:3] == ["A.5.15", "A.5.17", "A.5.18"]  # the framework file's order
    assert rows["A.8.3"].status == "non-compliant"  # logs passes, assets fails
    assert rows["A.8.3"].failed >= 1 and rows["A.8.3"].passed >= 1
    assert rows["A.8.3"].tally == f"{rows['A.8.3'].failed} fail / {rows['A.8.3'].passed} pass"
    assert {e.resource_name for e in rows["A.8.3"].evidence} >= {"logs", "assets"}
    assert rows["A.5.17"].status == "compliant"  # the only verdict is an approved exception
    assert rows["A.5.18"].status == "manual"
    assert rows["A.8.20"].status == "not assessed"  # EC2-01 maps here but was not evaluated
    assert [c.control_id for c in rows["A.8.20"].controls] == ["EC2-01"]
    assert rows["A.8.99"].controls == []
    assert rows["A.8.99"].status == "not covered"  # no AWS control maps here: out of scope


def test_view_without_catalog_uses_finding_references(result: ScanResult) -> None:
    view = framework_view(result, "soc2")
    ids = [r.id for r in view.rows]
    assert "CC6.1" in ids and "A1.2" in ids
    assert all(r.title == "" for r in view.rows)


def test_seed_view_orders_by_severity(result: ScanResult, catalog) -> None:
    view = framework_view(result, "seed", catalog)
    assert view.rows[0].id == "S3-01"
    assert {r.id: r.status for r in view.rows}["EC2-01"] == "not assessed"


def test_unknown_framework() -> None:
    assert normalize_framework("ISO-27001") == "iso27001"
    with pytest.raises(ValueError, match="unknown framework 'pci'"):
        normalize_framework("pci")


def test_excepted_evidence_and_junit_name_the_exception(result: ScanResult, catalog) -> None:
    """An accepted deviation is evidence an auditor must be able to trace: ID, approver, expiry."""
    note = "EX-1: approved by ciso@example.com, expires 2027-01-31; break-glass user in a vault (https://jira.example.com/browse/SEC-7)"
    view = framework_view(result, "iso27001", catalog)
    evidence = [e for row in view.rows for e in row.evidence if e.status == "EXCEPTED"]
    assert evidence and all(e.exception == note for e in evidence)
    assert all(e.exception == "" for row in view.rows for e in row.evidence if e.status == "FAIL")
    assert note in render(result, "html", catalog=catalog, framework="iso27001")
    junit = ET.fromstring(render(result, "junit"))
    skipped = [
        s.get("message", "") for s in junit.iter("skipped") if s.get("message", "").startswith("EXCEPTED")
    ]
    assert skipped and all(note in m for m in skipped)


def test_a_requirement_is_not_compliant_on_the_controls_a_partial_scan_evaluated() -> None:
    """A `--services s3` scan evaluates S3-01 and S3-02 but not IAM-03, KMS-02, … which map to
    A.5.15 Access control as well: all S3 passing must not tell an auditor that access control is
    compliant. A control evaluated with nothing to apply to (NOT_APPLICABLE) is not outstanding."""
    from controlmap.catalog.catalog import load_catalog

    catalog = load_catalog()
    behind = sorted(c.id for c in catalog.controls.values() if "A.5.15" in c.iso27001)
    assert {"S3-01", "S3-02", "IAM-03"} <= set(behind)

    def scan(findings: list) -> ScanResult:
        return ScanResult(kind="aws", started_at=STARTED, findings=findings)

    s3_only = [
        finding(control_id="S3-01", status=Status.PASS),
        finding(control_id="S3-02", status=Status.PASS),
    ]
    row = {r.id: r for r in framework_view(scan(s3_only), "iso27001", catalog).rows}["A.5.15"]
    assert row.status == "partially"
    assert {c.control_id: c.status for c in row.controls}["IAM-03"] == "not assessed"

    rest = [
        finding(control_id=c, status=Status.NOT_APPLICABLE) for c in behind if c not in ("S3-01", "S3-02")
    ]
    row = {r.id: r for r in framework_view(scan(s3_only + rest), "iso27001", catalog).rows}["A.5.15"]
    assert row.status == "compliant"
