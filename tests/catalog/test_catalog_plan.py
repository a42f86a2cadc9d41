"""The remediation plan: tiers from each control's severity, service windows from the seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.catalog.models import Severity
from controlmap.catalog.plan import build_plan, builtin_plan_settings
from controlmap.settings import load_settings


def test_builtin_windows_follow_the_seed() -> None:
    plan = builtin_plan_settings()
    window = plan.window
    assert (window(Severity.CRITICAL, "kms").start_days, window(Severity.CRITICAL, "kms").end_days) == (0, 30)
    assert (window(Severity.HIGH, "s3").start_days, window(Severity.HIGH, "s3").end_days) == (30, 60)
    for service in ("iam", "cloudtrail"):
        assert window(Severity.HIGH, service).end_days == 60
    for service in ("ec2", "rds"):
        assert (window(Severity.HIGH, service).start_days, window(Severity.HIGH, service).end_days) == (
            30,
            90,
        )
    for service in ("lambda", "cloudfront", "kms", "apigateway", "dynamodb"):
        assert (window(Severity.HIGH, service).start_days, window(Severity.HIGH, service).end_days) == (
            60,
            90,
        )
    assert (window(Severity.MEDIUM, "iam").start_days, window(Severity.MEDIUM, "iam").end_days) == (90, 180)
    assert window(Severity.HIGH, "an-org-service").end_days == 90  # no service window: the tier's
    assert window(Severity.LOW, "s3").end_days == 365


def test_plan_uses_detail_severity_not_the_summary_table(fixtures: Path) -> None:
    catalog = load_catalog([fixtures / "mini-catalog.yaml"], include_builtin=False)
    kms01 = catalog.get("KMS-01")
    assert kms01 is not None and kms01.as_published is not None
    assert kms01.as_published.summary_tier == "High"  # the seed's summary table says High ...
    entries = build_plan(catalog, builtin_plan_settings())
    first = entries[0]
    assert first.severity is Severity.CRITICAL  # ... but the detail severity Critical wins
    assert [c.id for c in first.controls] == ["KMS-01"]
    assert (first.window.start_days, first.window.end_days) == (0, 30)
    high = entries[1]
    assert [c.id for c in high.controls] == ["KMS-02"]
    assert (high.window.start_days, high.window.end_days) == (60, 90)


def test_organisation_overrides_windows_in_settings(fixtures: Path, tmp_path: Path) -> None:
    settings_file = tmp_path / "controlmap.yaml"
    settings_file.write_text(
        "plan:\n  tiers:\n"
        "    critical: {start_days: 0, end_days: 7}\n"
        "    high: {start_days: 7, end_days: 30}\n"
    )
    plan = load_settings(settings_file).resolved_plan()
    catalog = load_catalog([fixtures / "mini-catalog.yaml"], include_builtin=False)
    windows = {e.severity: (e.window.start_days, e.window.end_days) for e in build_plan(catalog, plan)}
    assert windows == {Severity.CRITICAL: (0, 7), Severity.HIGH: (7, 30)}


def _shipped(control_id: str) -> Severity:
    control = load_catalog().get(control_id)
    if control is None:
        pytest.skip(f"{control_id} is not in the shipped catalog yet")
    return control.severity


@pytest.mark.parametrize(
    ("control_id", "severity", "window"),
    [
        ("KMS-01", Severity.CRITICAL, (0, 30)),  # the seed's summary lists it under High
        ("EC2-01", Severity.CRITICAL, (0, 30)),  # in no summary table
        ("IAM-07", Severity.MEDIUM, (90, 180)),  # in no summary table
        ("S3-02", Severity.HIGH, (30, 60)),
        ("S3-05", Severity.HIGH, (30, 60)),
        ("CT-03", Severity.HIGH, (30, 60)),
        ("LAMBDA-01", Severity.HIGH, (60, 90)),
        ("RDS-01", Severity.HIGH, (30, 90)),
    ],
)
def test_shipped_plan_is_right_where_the_seed_summary_is_wrong(
    control_id: str, severity: Severity, window: tuple[int, int]
) -> None:
    assert _shipped(control_id) is severity
    entries = build_plan(load_catalog(), builtin_plan_settings())
    entry = next(e for e in entries if any(c.id == control_id for c in e.controls))
    assert entry.severity is severity
    assert (entry.window.start_days, entry.window.end_days) == window


def test_settings_plan_overlays_the_builtin_plan(tmp_path: Path) -> None:
    settings_file = tmp_path / "controlmap.yaml"
    settings_file.write_text("plan:\n  tiers:\n    high: {start_days: 14, end_days: 60}\n")
    plan = load_settings(settings_file).resolved_plan()
    # A restated tier replaces the tier and the seed's service windows inside it ...
    assert (plan.window(Severity.HIGH, "s3").start_days, plan.window(Severity.HIGH, "s3").end_days) == (
        14,
        60,
    )
    assert plan.window(Severity.HIGH, "lambda").end_days == 60
    # ... and the tiers it does not name keep the built-in windows.
    assert plan.window(Severity.CRITICAL, "s3").end_days == 30
    assert plan.window(Severity.MEDIUM, "s3").end_days == 180

    settings_file.write_text(
        "plan:\n  service_windows:\n    high:\n      iam: {start_days: 10, end_days: 20}\n"
    )
    plan = load_settings(settings_file).resolved_plan()
    assert plan.window(Severity.HIGH, "iam").end_days == 20
    assert plan.window(Severity.HIGH, "s3").end_days == 60  # the seed's window stays
    assert plan.window(Severity.HIGH, "kms").start_days == 60
