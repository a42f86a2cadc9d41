"""Resolving by absence: a resource missing from a complete scan is gone, unless the scan could
not list that kind of resource (a failed listing proves nothing)."""

from __future__ import annotations

from datetime import timedelta

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Inventory, Status
from controlmap.findings.evaluate import EvaluationOptions, evaluate
from controlmap.resources.base import CollectionError
from controlmap.settings import Settings
from controlmap.store import Store, record_scan, recorder

from .test_store import BUCKET_A, BUCKET_B, DAY0, SETTINGS, lifecycle, s3, scan


def _listing_error_findings(region: str | None) -> list:
    """What the engine reports when ListBuckets is denied: one ERROR per S3-01 check, no buckets."""
    catalog = load_catalog()
    inventory = Inventory()
    inventory.accounts.add("111122223333")
    inventory.add_error(
        CollectionError(
            service="s3",
            operation="ListBuckets",
            code="AccessDenied",
            region=region,
            account_id="111122223333",
            resource_types=("AWS::S3::Bucket",),
        )
    )
    findings = evaluate(
        catalog,
        inventory,
        Settings(),
        controls=[catalog.controls["S3-01"]],
        options=EvaluationOptions(manual_findings=False),
    )
    return [f for f in findings if f.check_id == "s3_bucket_public_access_blocked"]


def test_a_failed_listing_resolves_nothing(store: Store) -> None:
    record_scan(
        scan(DAY0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL)]),
        settings=SETTINGS,
        store=store,
    )
    # ListBuckets is a global call made from the home region: the error names us-east-1, and
    # still no bucket of the account was seen, the eu-west-1 ones included.
    denied = _listing_error_findings("us-east-1")
    assert denied and all(f.status is Status.ERROR for f in denied)
    record_scan(scan(DAY0 + timedelta(days=1), denied), settings=SETTINGS, store=store)
    assert lifecycle(store, BUCKET_A).open and lifecycle(store, BUCKET_B).open

    # The next clean scan lists the buckets again: one is gone now, and is resolved.
    record_scan(scan(DAY0 + timedelta(days=2), [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    assert lifecycle(store, BUCKET_A).open and lifecycle(store, BUCKET_A).reopened == 0
    gone = lifecycle(store, BUCKET_B)
    assert not gone.open and gone.status == "GONE"


def test_an_error_on_one_resource_is_not_a_failed_listing() -> None:
    assert all(recorder.listing_failed(f) for f in _listing_error_findings(None))
    assert not recorder.listing_failed(s3(BUCKET_A, Status.ERROR))
    assert not recorder.listing_failed(s3(BUCKET_A, Status.FAIL))
