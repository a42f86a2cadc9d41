"""Comparable scans and what `diff` and `findings` make of scans that looked at different things.

A full scan followed by a ``--services s3`` scan must not show every non-S3 failure as resolved,
nor hide it from `controlmap findings`; a finding that became UNKNOWN or EXCEPTED is not fixed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.store import Store, StoreError, record_scan
from controlmap.store.diff import diff_scans
from controlmap.store.queries import find_scan, latest_findings, trend

from .test_store import BUCKET_A, BUCKET_B, BUCKET_C, DAY0, SETTINGS, s3, scan

USER = "arn:aws:iam::111122223333:user/alice"


def iam(status: Status) -> Finding:
    return s3(
        USER, status, control_id="IAM-02", service="iam", region=None, check_id="iam_user_console_mfa_enabled"
    )


def narrowed(result: ScanResult, *, services=None, regions=None) -> ScanResult:
    update: dict = {}
    if services is not None:
        update["services"] = services
    if regions is not None:
        update["regions"] = regions
    return result.model_copy(update=update)


def full(day: int, findings: list[Finding]) -> ScanResult:
    return narrowed(scan(DAY0 + timedelta(days=day), findings), services=["iam", "s3"])


def test_a_narrower_scan_is_not_comparable_and_does_not_resolve_what_it_did_not_scan(store: Store) -> None:
    first = record_scan(
        full(0, [s3(BUCKET_A, Status.FAIL), iam(Status.FAIL)]), settings=SETTINGS, store=store
    )
    s3_only = record_scan(
        narrowed(scan(DAY0 + timedelta(days=1), [s3(BUCKET_A, Status.PASS)]), services=["s3"]),
        settings=SETTINGS,
        store=store,
    )
    # The default diff compares like with like: the S3-only scan has no earlier S3-only scan.
    with pytest.raises(StoreError, match="no earlier complete scan of the same scope"):
        diff_scans(store)
    # Compared explicitly, only what both scans evaluated counts.
    diff = diff_scans(store, first.scan_id, s3_only.scan_id)
    assert [f.resource_id for f in diff.resolved] == [BUCKET_A]
    assert [f.resource_id for f in diff.not_compared] == [USER]
    assert not diff.same_scope and "not compared" in (diff.scope_note() or "")

    # `findings` still shows the IAM failure (from the full scan) and the bucket's new state.
    latest = {s.finding.resource_id: s for s in latest_findings(store, statuses=[])}
    assert latest[USER].finding.status is Status.FAIL and latest[USER].scan_id == first.scan_id
    assert latest[BUCKET_A].finding.status is Status.PASS and latest[BUCKET_A].scan_id == s3_only.scan_id
    assert [s.finding.resource_id for s in latest_findings(store, statuses=["FAIL"])] == [USER]

    # The next full scan is compared with the previous full scan, and the trend skips the S3 one.
    third = record_scan(
        full(2, [s3(BUCKET_A, Status.PASS), iam(Status.FAIL)]), settings=SETTINGS, store=store
    )
    diff = diff_scans(store)
    assert (diff.old.id, diff.new.id) == (first.scan_id, third.scan_id) and diff.same_scope
    assert [p.scan_id for p in trend(store, find_scan(store, third.scan_id))] == [
        first.scan_id,
        third.scan_id,
    ]


def test_other_regions_are_not_compared_but_global_resources_are(store: Store) -> None:
    both = ["eu-west-1", "us-east-1"]
    old = record_scan(
        narrowed(
            full(0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL, region="us-east-1")]), regions=both
        ),
        settings=SETTINGS,
        store=store,
    )
    new = record_scan(full(1, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)  # eu-west-1 only
    diff = diff_scans(store, old.scan_id, new.scan_id)
    assert [f.resource_id for f in diff.not_compared] == [BUCKET_B]
    assert [f.resource_id for f in diff.still_failing] == [BUCKET_A] and not diff.resolved

    record_scan(full(2, [s3(BUCKET_A, Status.FAIL), iam(Status.FAIL)]), settings=SETTINGS, store=store)
    bob = s3(USER.replace("alice", "bob"), Status.PASS, control_id="IAM-02", service="iam", region=None)
    last = record_scan(full(3, [s3(BUCKET_A, Status.FAIL), bob]), settings=SETTINGS, store=store)
    # The IAM user (a global resource) is gone from a scan that evaluated IAM-02: resolved,
    # although that scan's regions say nothing about global resources.
    diff = diff_scans(store)
    assert diff.new.id == last.scan_id
    assert [f.resource_id for f in diff.resolved] == [USER] and diff.gone == {iam(Status.FAIL).key}


def test_unknown_error_and_excepted_are_not_resolved(store: Store) -> None:
    record_scan(
        full(
            0,
            [
                s3(BUCKET_A, Status.FAIL),
                s3(BUCKET_B, Status.FAIL),
                s3(BUCKET_C, Status.FAIL),
                iam(Status.FAIL),
            ],
        ),
        settings=SETTINGS,
        store=store,
    )
    approval = {"kind": "approved", "id": "EX-1", "approved_by": "Jane", "expires": "2026-06-30"}
    record_scan(
        full(
            1,
            [
                s3(BUCKET_A, Status.UNKNOWN),
                s3(BUCKET_B, Status.ERROR),
                s3(BUCKET_C, Status.EXCEPTED, exception=approval),
                iam(Status.PASS),
            ],
        ),
        settings=SETTINGS,
        store=store,
    )
    diff = diff_scans(store)
    assert [f.resource_id for f in diff.resolved] == [USER]
    assert sorted(f.resource_id for f in diff.undetermined) == [BUCKET_A, BUCKET_B]
    assert [f.resource_id for f in diff.accepted] == [BUCKET_C]
    data = diff.to_json()
    assert [f["status"] for f in data["accepted"]] == ["EXCEPTED"]
    assert {f["status"] for f in data["undetermined"]} == {"UNKNOWN", "ERROR"}


def test_reopened_failures_are_marked(store: Store) -> None:
    record_scan(
        full(0, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.PASS)]), settings=SETTINGS, store=store
    )
    record_scan(
        full(1, [s3(BUCKET_A, Status.PASS), s3(BUCKET_B, Status.PASS)]), settings=SETTINGS, store=store
    )
    record_scan(
        full(2, [s3(BUCKET_A, Status.FAIL), s3(BUCKET_B, Status.FAIL)]), settings=SETTINGS, store=store
    )
    diff = diff_scans(store)
    assert sorted(f.resource_id for f in diff.new_failures) == [BUCKET_A, BUCKET_B]
    assert [f.resource_id for f in diff.reopened] == [BUCKET_A]  # failed before, fixed, failing again
    assert {f["resource_id"]: f["reopened"] for f in diff.to_json()["new"]} == {
        BUCKET_A: True,
        BUCKET_B: False,
    }


def iac_scan(day: int, findings: list[Finding]) -> ScanResult:
    return ScanResult(
        kind="iac",
        started_at=DAY0 + timedelta(days=day),
        sources=["."],
        services=["s3"],
        findings=[f.model_copy(update={"account_id": None, "region": None}) for f in findings],
    )


def test_iac_scans_of_two_projects_from_their_own_directory_are_different_scopes(
    store: Store, tmp_path, monkeypatch
) -> None:
    """Every repository's CI job runs `controlmap scan iac .`: in a team database, project B's
    scan must not mark project A's findings gone, nor replace them in `findings`."""
    project_a, project_b = tmp_path / "a", tmp_path / "b"
    project_a.mkdir()
    project_b.mkdir()
    monkeypatch.chdir(project_a)
    first = record_scan(iac_scan(0, [s3(BUCKET_A, Status.FAIL)]), settings=SETTINGS, store=store)
    monkeypatch.chdir(project_b)
    record_scan(iac_scan(1, [s3(BUCKET_B, Status.FAIL)]), settings=SETTINGS, store=store)
    with pytest.raises(StoreError, match="no earlier complete scan"):
        diff_scans(store)  # B's first scan has nothing of its own to compare with
    failing = {s.finding.resource_id for s in latest_findings(store, statuses=["FAIL"])}
    assert failing == {BUCKET_A, BUCKET_B}
    assert find_scan(store, first.scan_id).sources == [str(project_a)]
    # The same directory given another way is the same scope.
    monkeypatch.chdir(tmp_path)
    again = iac_scan(2, [s3(BUCKET_A, Status.PASS)]).model_copy(update={"sources": ["a"]})
    record_scan(again, settings=SETTINGS, store=store)
    assert [f.resource_id for f in diff_scans(store).resolved] == [BUCKET_A]
