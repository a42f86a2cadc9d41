"""Issue 6's "done when", on the demo account: two live scans with a fix between them give the
right diff, due dates, overdue flags, and an exception that shows EXCEPTED until it expires."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.cli.scan import run_live_scan
from controlmap.demo.fakes import demo_access_analyzer
from controlmap.demo.seed import SeedContext, seeders
from controlmap.demo.server import DEMO_ACCOUNT_ID, DEMO_REGIONS
from controlmap.exceptions import apply_exceptions, expired_matching, load_exceptions
from controlmap.findings.model import ScanResult
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions
from controlmap.store import open_store, record_scan
from controlmap.store.diff import diff_scans
from controlmap.store.queries import latest_findings

ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def live_s3_scan(catalog, settings) -> ScanResult:
    options = AwsScanOptions(
        regions=list(DEMO_REGIONS),
        client_hooks=[demo_access_analyzer(DEMO_ACCOUNT_ID, DEMO_REGIONS).install],
    )
    return run_live_scan(options, catalog.filter(services=["s3"]), catalog, settings)


def shifted(result: ScanResult, days: int) -> ScanResult:
    delta = timedelta(days=days)
    end = result.finished_at + delta if result.finished_at else None
    return result.model_copy(update={"started_at": result.started_at + delta, "finished_at": end})


@pytest.mark.usefixtures("aws")
def test_two_demo_scans(tmp_path: Path) -> None:
    session = boto3.Session(region_name=DEMO_REGIONS[0])
    context = SeedContext(session, DEMO_REGIONS, DEMO_ACCOUNT_ID)
    for service in ("cloudtrail", "s3"):  # S3 is what this test scans; CloudTrail makes its log bucket
        seeders()[service](context)
    catalog = load_catalog()
    settings = Settings()
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")

    first_raw = live_s3_scan(catalog, settings)
    public = sorted(
        f.resource_name
        for f in first_raw.findings
        if f.check_id == "s3_bucket_public_access_blocked" and f.status is Status.FAIL
    )
    assert len(public) >= 2, "the demo seeds at least two buckets without Block Public Access"
    fixed, excepted = public[0], public[1]

    (tmp_path / "exceptions.yaml").write_text(
        "exceptions:\n"
        "  - id: EX-DEMO\n"
        "    control: S3-01\n"
        f'    resources: {{arn: "arn:aws:s3:::{excepted}"}}\n'
        "    justification: public website, reviewed\n"
        "    approved_by: Demo CISO\n"
        f"    approved_on: {first_raw.started_at.date()}\n"
        f"    expires: {first_raw.started_at.date() + timedelta(days=20)}\n"
    )
    entries = load_exceptions(tmp_path / "exceptions.yaml")
    first = apply_exceptions(first_raw, entries, first_raw.started_at.date())
    first = record_scan(first, settings=settings, store=store)
    by_name = {f.resource_name: f for f in first.findings if f.check_id == "s3_bucket_public_access_blocked"}
    assert by_name[excepted].status is Status.EXCEPTED
    assert by_name[excepted].exception["approved_by"] == "Demo CISO"  # type: ignore[index]
    critical_window = settings.resolved_plan().window(by_name[fixed].severity, "s3").end_days
    assert by_name[fixed].due_date == first.started_at.date() + timedelta(days=critical_window)
    assert not by_name[fixed].overdue

    # Fix one bucket, then scan "40 days later": past the Critical window and the exception's expiry.
    session.client("s3").put_public_access_block(Bucket=fixed, PublicAccessBlockConfiguration=ALL_ON)
    second_raw = shifted(live_s3_scan(catalog, settings), days=40)
    later = second_raw.started_at.date()
    second = apply_exceptions(second_raw, entries, later)
    assert [e.id for e in expired_matching(second, entries, later)] == ["EX-DEMO"]
    second = record_scan(second, settings=settings, store=store)
    after = {f.resource_name: f for f in second.findings if f.check_id == "s3_bucket_public_access_blocked"}
    assert after[fixed].status is Status.PASS
    assert after[excepted].status is Status.FAIL and after[excepted].overdue  # exception expired
    assert after[excepted].first_seen == first.started_at  # the clock ran from the first scan

    diff = diff_scans(store)
    s3_01 = lambda findings: {  # noqa: E731
        f.resource_name for f in findings if f.check_id == "s3_bucket_public_access_blocked"
    }
    assert s3_01(diff.resolved) == {fixed}
    assert excepted in s3_01(diff.new_failures)  # EXCEPTED before, FAIL now
    assert set(public) - {fixed, excepted} <= s3_01(diff.still_failing)
    overdue = latest_findings(store, overdue=True, today=later)
    assert {
        s.finding.resource_name for s in overdue if s.finding.check_id == "s3_bucket_public_access_blocked"
    } == set(public) - {fixed}
    store.close()
