"""The demo account, scanned end to end: every S3, IAM, CloudTrail and KMS control shows both
a compliant and a non-compliant example, nothing errors, and every API call the scan makes is
covered by the shipped minimal IAM policy (docs/iam-policy.json)."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.cli.demo import demo_settings
from controlmap.cli.scan import run_live_scan
from controlmap.demo.fakes import demo_access_analyzer
from controlmap.demo.seed import demo_client_hooks, seed_demo_account
from controlmap.demo.server import DEMO_ACCOUNT_ID, DEMO_REGIONS, LocalAws
from controlmap.findings.model import ScanResult
from controlmap.settings import Settings
from controlmap.sources.aws.permissions import OPERATION_ACTIONS, policy_document
from controlmap.sources.aws.scanner import AwsScanOptions

POLICY_FILE = Path(__file__).resolve().parents[2] / "docs" / "iam-policy.json"
MY_SERVICES = ("s3", "iam", "cloudtrail", "kms")


@pytest.fixture(scope="module")
def demo_scan(moto_server: LocalAws) -> Iterator[ScanResult]:
    moto_server.reset()
    saved = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    try:
        seed_demo_account(boto3.Session(region_name=DEMO_REGIONS[0]), DEMO_REGIONS, DEMO_ACCOUNT_ID)
        catalog = load_catalog()
        options = AwsScanOptions(
            regions=list(DEMO_REGIONS),
            # Exactly the demo's hooks (cli/demo.py): the fakes for what moto lacks.
            client_hooks=[demo_access_analyzer(DEMO_ACCOUNT_ID, DEMO_REGIONS).install, *demo_client_hooks()],
        )
        yield run_live_scan(options, catalog.ordered(), catalog, demo_settings(Settings()))
    finally:
        if saved is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved
        moto_server.reset()


# Settings that exist once per account (or are covered by one multi-region trail in every
# region) cannot be both compliant and non-compliant in one demo account: one verdict each.
ACCOUNT_WIDE = {"CT-01", "CT-05", "IAM-05", "KMS-04"}


def test_every_control_has_compliant_and_non_compliant_examples(demo_scan: ScanResult) -> None:
    statuses: dict[str, set[Status]] = defaultdict(set)
    for finding in demo_scan.findings:
        if finding.service in MY_SERVICES and finding.check_id is not None:
            statuses[finding.control_id].add(finding.status)
    controls = [c.id for c in load_catalog().ordered() if c.service in MY_SERVICES]
    assert len(controls) == 26
    both = {Status.PASS, Status.FAIL}
    missing = {
        c: sorted(s.value for s in statuses[c])
        for c in controls
        if not (statuses[c] & both if c in ACCOUNT_WIDE else both <= statuses[c])
    }
    assert missing == {}
    assert Status.FAIL in statuses["IAM-05"] and Status.PASS in statuses["CT-01"] | statuses["KMS-04"]


MY_ENDPOINTS = ("s3", "s3control", "iam", "accessanalyzer", "cloudtrail", "kms", "macie2")


def test_demo_scan_has_no_errors(demo_scan: ScanResult) -> None:
    assert [e for e in demo_scan.errors if e.source.split(":")[0] in MY_ENDPOINTS] == []
    assert [f for f in demo_scan.findings if f.status is Status.ERROR and f.service in MY_SERVICES] == []


def test_every_api_call_is_covered_by_the_minimal_policy(demo_scan: ScanResult) -> None:
    shipped = json.loads(POLICY_FILE.read_text())
    assert shipped == policy_document(), (
        "regenerate: python -m controlmap.sources.aws.permissions > docs/iam-policy.json"
    )
    allowed = {a for st in shipped["Statement"] for a in st["Action"]}
    assert demo_scan.api_calls, "the demo scan made no calls"
    unknown = sorted(op for op in demo_scan.api_calls if op not in OPERATION_ACTIONS)
    assert unknown == [], f"add these operations to sources/aws/permissions.py: {unknown}"
    needed = {a for op in demo_scan.api_calls for a in OPERATION_ACTIONS[op]}
    assert needed <= allowed
    reads = ("Get", "List", "Describe", "Lookup", "Generate", "GET")
    assert all(a.split(":")[1].startswith(reads) for a in allowed)


def test_global_data_read_once_and_calls_counted(demo_scan: ScanResult) -> None:
    calls = demo_scan.api_calls
    assert calls["iam:GetAccountAuthorizationDetails"] == 1
    assert calls["s3-control:GetPublicAccessBlock"] == 1
    assert calls["access-analyzer:ListAnalyzers"] == len(DEMO_REGIONS)
    assert calls["kms:ListKeys"] == len(DEMO_REGIONS)
    assert demo_scan.regions == sorted(DEMO_REGIONS)
