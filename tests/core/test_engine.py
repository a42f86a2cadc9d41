"""The evaluation engine: statuses, unknown vs error facts, crashes, listings that failed, N/A."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from controlmap.catalog.catalog import Catalog
from controlmap.catalog.models import Automation, Control, Remediation, Severity
from controlmap.checks import registry as reg
from controlmap.checks.registry import CheckContext, Inventory, Status, check, failed, need, passed
from controlmap.findings.evaluate import EvaluationOptions, evaluate
from controlmap.resources.base import CollectionError, Resource, SourceKind, SourceRef
from controlmap.settings import Settings


class Widget(Resource):
    resource_type: ClassVar[str] = "Test::Widget"
    locked: bool | None = None


@pytest.fixture
def widget_checks() -> Iterator[None]:
    @check("test_widget_locked", Widget, title="Widget is locked", facts=["locked"])
    def locked(widget: Widget, ctx: CheckContext) -> reg.Outcome:
        if need(widget, "locked"):
            return passed("locked")
        return failed("locked is false; set Locked: true")

    @check("test_widget_crash", Widget, title="Crashes")
    def crash(widget: Widget, ctx: CheckContext) -> reg.Outcome:
        raise ZeroDivisionError("boom")

    yield
    reg._REGISTRY.pop("test_widget_locked")
    reg._REGISTRY.pop("test_widget_crash")


def _control(checks: list[str], automation: Automation = Automation.FULL) -> Control:
    return Control(
        id="TST-01",
        service="test",
        title="Widgets are locked",
        severity=Severity.HIGH,
        description="Lock every widget.",
        rationale="Unlocked widgets leak.",
        resource_types=["Test::Widget"],
        references={"iso27001:2022": ["A.8.3"], "soc2:2017": ["CC6.1"]},
        remediation=Remediation(summary="Lock it."),
        checks=checks,
        automation=automation,
        attestation="Attest widgets are locked" if automation is not Automation.FULL else None,
    )


def _widget(name: str, **facts: object) -> Widget:
    return Widget(id=f"arn:test:{name}", name=name, account_id="111122223333", region="us-east-1", **facts)


def _run(inventory: Inventory, control: Control, **options: bool) -> list:
    catalog = Catalog(controls={control.id: control})
    return evaluate(catalog, inventory, Settings(), options=EvaluationOptions(**options))


def test_pass_fail_unknown_and_error(widget_checks: None) -> None:
    inventory = Inventory()
    unknown = _widget("c")
    unknown.mark_unknown("locked", "not declared in the template")
    broken = _widget("d")
    broken.mark_error("locked", CollectionError(service="test", operation="GetLock", code="AccessDenied"))
    inventory.extend([_widget("a", locked=True), _widget("b", locked=False), unknown, broken])
    findings = {f.resource_name: f for f in _run(inventory, _control(["test_widget_locked"]))}
    assert findings["a"].status is Status.PASS
    assert findings["b"].status is Status.FAIL and "Locked: true" in findings["b"].reason
    assert findings["c"].status is Status.UNKNOWN and findings["c"].reason == "not declared in the template"
    assert findings["d"].status is Status.ERROR and findings["d"].error_code == "AccessDenied"
    assert findings["b"].iso27001 == ["A.8.3"] and findings["b"].soc2 == ["CC6.1"]
    assert findings["b"].window_end_days == 90  # built-in High window


def test_crashing_check_becomes_error_and_others_go_on(
    widget_checks: None, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = Inventory()
    inventory.add(_widget("a", locked=True))
    findings = _run(inventory, _control(["test_widget_crash", "test_widget_locked"]))
    statuses = sorted(f.status.value for f in findings)
    assert statuses == ["ERROR", "PASS"]
    crash = next(f for f in findings if f.check_id == "test_widget_crash")
    assert "ZeroDivisionError" in crash.reason and "bug" in crash.reason
    assert "Traceback" not in capsys.readouterr().err  # no traceback reaches the terminal


def test_failed_listing_reports_error_per_region(widget_checks: None) -> None:
    inventory = Inventory()
    inventory.accounts.add("111122223333")
    inventory.add_error(
        CollectionError(
            service="test",
            operation="ListWidgets",
            code="AccessDenied",
            region="eu-west-1",
            account_id="111122223333",
            resource_types=("Test::Widget",),
        )
    )
    findings = _run(inventory, _control(["test_widget_locked"]))
    assert [f.status for f in findings] == [Status.ERROR]
    assert findings[0].region == "eu-west-1" and "ListWidgets" in findings[0].reason


def test_no_resources_is_not_applicable_per_account(widget_checks: None) -> None:
    inventory = Inventory()
    inventory.accounts.add("111122223333")
    findings = _run(inventory, _control(["test_widget_locked"]))
    assert [f.status for f in findings] == [Status.NOT_APPLICABLE]
    assert _run(inventory, _control(["test_widget_locked"]), not_applicable_findings=False) == []


def test_manual_and_partial_controls(widget_checks: None) -> None:
    inventory = Inventory()
    inventory.accounts.add("111122223333")
    inventory.add(_widget("a", locked=True))
    manual = _run(inventory, _control([], Automation.MANUAL))
    assert [f.status for f in manual] == [Status.MANUAL]
    assert manual[0].reason == "Attest widgets are locked"
    partial = _run(inventory, _control(["test_widget_locked"], Automation.PARTIAL))
    assert sorted(f.status.value for f in partial) == ["MANUAL", "PASS"]
    assert _run(inventory, _control([], Automation.MANUAL), manual_findings=False) == []


def test_inline_suppression_keeps_the_finding_visible(widget_checks: None) -> None:
    inventory = Inventory()
    widget = _widget("a", locked=False)
    widget.source = SourceRef(kind=SourceKind.CLOUDFORMATION, file="t.yaml", line_start=3, address="W")
    widget.suppressions["TST-01"] = "accepted until the Q3 migration"
    inventory.add(widget)
    (finding,) = _run(inventory, _control(["test_widget_locked"]))
    assert finding.status is Status.SUPPRESSED
    assert finding.exception == {
        "kind": "inline",
        "reason": "accepted until the Q3 migration",
        "original_status": "FAIL",
    }
    assert finding.source is not None and finding.source.location() == "t.yaml:3"


def test_finding_key_is_stable_and_distinct(widget_checks: None) -> None:
    inventory = Inventory()
    inventory.extend([_widget("a", locked=False), _widget("b", locked=False)])
    first = _run(inventory, _control(["test_widget_locked"]))
    second = _run(inventory, _control(["test_widget_locked"]))
    assert [f.key for f in first] == [f.key for f in second]
    assert len({f.key for f in first}) == 2


def test_inventory_scoped_lookups_follow_additions() -> None:
    inventory = Inventory()
    inventory.add(_widget("a", locked=True))
    assert [w.name for w in inventory.of_type(Widget, region="us-east-1")] == ["a"]
    assert inventory.index(Widget, "name", account_id="111122223333")["a"].locked is True
    later = _widget("b", locked=False)
    later.region = "eu-west-1"
    inventory.add(later)  # cached lookups must see it
    assert [w.name for w in inventory.of_type(Widget, region="eu-west-1")] == ["b"]
    assert set(inventory.index(Widget, "name")) == {"a", "b"}
    assert inventory.of_type(Widget, account_id="999999999999") == []


def test_a_fact_missing_without_a_reason_is_named_in_its_source_own_terms() -> None:
    """The fallback reason fits every source: an AWS Config item is not a template."""
    from controlmap.checks.registry import _NOT_SEEN, unavailable
    from controlmap.resources.base import SourceKind, SourceRef
    from controlmap.resources.s3 import S3Bucket

    assert set(_NOT_SEEN) == set(SourceKind)
    item = S3Bucket(id="arn:aws:s3:::b", name="b", source=SourceRef(kind=SourceKind.AWS_CONFIG))
    outcome = unavailable(item, "versioning")
    assert outcome.status is Status.UNKNOWN and outcome.reason == "versioning is not in the AWS Config item"
