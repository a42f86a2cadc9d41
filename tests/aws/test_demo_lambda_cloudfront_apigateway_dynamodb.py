"""The demo account shows a compliant and a non-compliant example of every Lambda, CloudFront,
API Gateway and DynamoDB control, reads without errors and never shows a demo secret value."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator

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
from controlmap.outputs.jsonfmt import render_json
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions

SERVICES = ("lambda", "cloudfront", "apigateway", "dynamodb")


@pytest.fixture(scope="module")
def demo(moto_server: LocalAws) -> Iterator[ScanResult]:
    moto_server.reset()
    saved = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    try:
        seed_demo_account(boto3.Session(region_name=DEMO_REGIONS[0]), DEMO_REGIONS, DEMO_ACCOUNT_ID)
        catalog = load_catalog()
        controls = [c for c in catalog.ordered() if c.service in SERVICES]
        hooks = [demo_access_analyzer(DEMO_ACCOUNT_ID, DEMO_REGIONS).install, *demo_client_hooks()]
        options = AwsScanOptions(regions=list(DEMO_REGIONS), client_hooks=hooks)
        yield run_live_scan(options, controls, catalog, demo_settings(Settings()))
    finally:
        if saved is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved
        moto_server.reset()


def test_every_control_passes_and_fails_somewhere(demo: ScanResult) -> None:
    statuses: dict[str, set[Status]] = defaultdict(set)
    for finding in demo.findings:
        statuses[finding.control_id].add(finding.status)
    controls = [c.id for c in load_catalog().ordered() if c.service in SERVICES]
    assert len(controls) == 22
    for control in controls:
        assert {Status.PASS, Status.FAIL} <= statuses[control], (control, statuses[control])


def test_demo_reads_without_errors(demo: ScanResult) -> None:
    assert demo.errors == []
    assert [f for f in demo.findings if f.status in (Status.ERROR, Status.UNKNOWN)] == []
    # The Lambda@Edge function is not judged on VPC attachment.
    edge = [
        f
        for f in demo.findings
        if f.check_id == "lambda_function_in_vpc" and "demo-edge-headers" in f.resource_id
    ]
    assert [f.status for f in edge] == [Status.NOT_APPLICABLE]


def test_demo_secrets_are_named_not_shown(demo: ScanResult) -> None:
    rendered = render_json(demo)
    assert "DB_PASSWORD" in rendered and "AWS_ACCESS_KEY_ID" in rendered
    for value in ("Tr0ub4dor&3-demo", "AKIADEMO0EXAMPLE0KEY", "q8Zr4Lw2Nx7Vb1Kp9Ty3Hf6Jd0Gs5Mc"):
        assert value not in rendered
