"""The "How to comply" snippets the site shows: copying one must not fail the control it is for.

Each built-in control's Terraform and CloudFormation snippet is scanned by controlmap's own IaC
scanner. Snippets are fragments (they refer to a VPC or a key declared elsewhere); a fragment the
scanner cannot resolve yields no finding and proves nothing either way, so the test also checks
that enough snippets are judged at all.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import hcl2
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


# Terraform types of which a parent (bucket, key, function) has exactly one: a second resource of
# the type for the same parent is not an addition, it overwrites the first on every apply.
ONE_PER_PARENT = {
    "aws_s3_bucket_policy": "bucket",
    "aws_s3_bucket_versioning": "bucket",
    "aws_s3_bucket_server_side_encryption_configuration": "bucket",
    "aws_s3_bucket_logging": "bucket",
    "aws_s3_bucket_public_access_block": "bucket",
    "aws_s3_bucket_ownership_controls": "bucket",
    "aws_s3_bucket_object_lock_configuration": "bucket",
    "aws_s3_bucket_acl": "bucket",
    "aws_kms_key_policy": "key_id",
    "aws_lambda_function_event_invoke_config": "function_name",
    "aws_lambda_function_url": "function_name",
}


def one_per_parent_addresses(terraform: str) -> dict[tuple[str, str], str]:
    """(type, parent expression) -> resource name, for the ONE_PER_PARENT resources of a snippet."""
    found = {}
    for block in hcl2.loads(terraform).get("resource", []):
        for rtype, named in block.items():
            rtype = rtype.strip('"')
            if rtype not in ONE_PER_PARENT:
                continue
            for name, body in named.items():
                parent = body.get(ONE_PER_PARENT[rtype])
                if parent is not None:
                    found[(rtype, str(parent))] = name.strip('"')
    return found


def test_snippets_never_give_one_bucket_two_policies_under_different_names() -> None:
    """A developer adding a bucket copies every snippet on its page. Two snippets that each
    declare an aws_s3_bucket_policy for the same bucket under different names pass `terraform
    validate` and then replace each other's policy on every apply (S3-02's statement or S3-04's
    TLS deny is lost). Under one name, copying both is a loud 'Duplicate resource' instead."""
    first: dict[tuple[str, str], tuple[str, str]] = {}
    clashes = []
    for control in CATALOG.ordered():
        if not control.remediation.terraform:
            continue
        for key, name in one_per_parent_addresses(control.remediation.terraform).items():
            earlier = first.setdefault(key, (name, control.id))
            if earlier[0] != name:
                clashes.append(
                    f"{key[0]} for {key[1]}: {earlier[1]} names it {earlier[0]!r}, {control.id} {name!r}"
                )
    assert clashes == []


def test_the_clash_check_sees_two_names_for_one_bucket_policy() -> None:
    snippet = (
        'resource "aws_s3_bucket_policy" "tls_only" {\n  bucket = aws_s3_bucket.data.id\n  policy = "{}"\n}\n'
    )
    assert one_per_parent_addresses(snippet) == {
        ("aws_s3_bucket_policy", "${aws_s3_bucket.data.id}"): "tls_only"
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_rds_tls_snippet_attaches_its_parameter_group_to_a_database(
    verdicts: dict[tuple[str, str], list[tuple[Status, str]]], kind: str
) -> None:
    """A parameter group that no database uses changes nothing: RDS-02's snippet used to stop at
    the group, so a developer who copied it still had a database that accepts plain connections
    (the scanner could only say UNKNOWN). It now creates the database with the group."""
    assert [status for status, _ in verdicts[("RDS-02", kind)]] == [Status.PASS]
