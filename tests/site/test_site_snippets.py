"""The "How to comply" snippets the site shows: copying one must not fail the control it is for.

Each built-in control's Terraform and CloudFormation snippet is scanned by controlmap's own IaC
scanner. Snippets are fragments (they refer to a VPC or a key declared elsewhere); a fragment the
scanner cannot resolve yields no finding and proves nothing either way, so the test also checks
that enough snippets are judged at all.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, scan_iac

CATALOG = load_catalog()
KINDS = ("terraform", "cloudformation")


def snippet_cases() -> list[object]:
    cases: list[object] = []
    for control in CATALOG.ordered():
        for kind in KINDS:
            if getattr(control.remediation, kind):
                cases.append(pytest.param(control.id, kind, id=f"{control.id}-{kind}"))
    return cases


def write_snippet(tmp_path: Path, control_id: str, kind: str) -> Path:
    text = getattr(CATALOG.controls[control_id].remediation, kind)
    if kind == "terraform":
        (tmp_path / "main.tf").write_text(text, encoding="utf-8")
        return tmp_path
    template = tmp_path / "template.yaml"
    body = textwrap.indent(text, "  ")
    template.write_text(f'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n{body}', encoding="utf-8")
    return template


def judged(path: Path, control_id: str) -> list[tuple[Status, str]]:
    scan = scan_iac([path], CATALOG, Settings(), options=IacOptions(workers=1))
    return [(f.status, f"{f.resource_name}: {f.reason}") for f in scan.findings if f.control_id == control_id]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[tuple[Status, str]]]:
    """Every snippet scanned once: (control ID, kind) -> its findings for that control."""
    out = {}
    for control in CATALOG.ordered():
        for kind in KINDS:
            if getattr(control.remediation, kind):
                folder = tmp_path_factory.mktemp(f"{control.id}-{kind}")
                out[(control.id, kind)] = judged(write_snippet(folder, control.id, kind), control.id)
    return out


@pytest.mark.parametrize(("control_id", "kind"), snippet_cases())
def test_following_a_snippet_does_not_fail_its_control(
    verdicts: dict[tuple[str, str], list[tuple[Status, str]]], control_id: str, kind: str
) -> None:
    assert [reason for status, reason in verdicts[(control_id, kind)] if status is Status.FAIL] == []


def test_enough_snippets_are_judged_for_the_check_above_to_mean_something(
    verdicts: dict[tuple[str, str], list[tuple[Status, str]]],
) -> None:
    passing = [case for case, found in verdicts.items() if any(status is Status.PASS for status, _ in found)]
    assert len(passing) >= len(verdicts) // 4, (
        f"only {len(passing)} of {len(verdicts)} snippets pass their control"
    )
