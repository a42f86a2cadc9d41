"""The "How to comply" snippets the site shows: copying one must not fail the control it is for.

Each built-in control's Terraform and CloudFormation snippet is scanned by controlmap's own IaC
scanner. Snippets are fragments (they refer to a VPC or a key declared elsewhere); a fragment the
scanner cannot resolve yields no finding and proves nothing either way, so the test also checks
that enough snippets are judged at all. A Terraform fragment gets an empty declaration of each
resource it refers to but does not declare (what the developer already has), so that it is judged;
the findings about those stand-ins are not the snippet's.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Collection
from pathlib import Path

import hcl2
import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, scan_iac

CATALOG = load_catalog()
KINDS = ("terraform", "cloudformation")
# aws_kms_key.rds, data.aws_region.current, "${aws_s3_bucket.data.arn}/*"
TF_REFERENCE = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([a-z0-9_]+)")
TF_DECLARED = re.compile(r'^(resource|data)\s+"([^"]+)"\s+"([^"]+)"', re.MULTILINE)


def stand_ins(terraform: str) -> tuple[str, set[str]]:
    """Empty declarations of what a fragment refers to but does not declare, and their addresses."""
    declared = {(kind == "data", rtype, name) for kind, rtype, name in TF_DECLARED.findall(terraform)}
    blocks, addresses = [], set()
    for data, rtype, name in sorted(set(TF_REFERENCE.findall(terraform))):
        if (bool(data), rtype, name) in declared:
            continue
        body = f'  bucket = "stand-in-{name}"\n' if rtype == "aws_s3_bucket" else ""
        blocks.append(f'{"data" if data else "resource"} "{rtype}" "{name}" {{\n{body}}}\n')
        addresses.add(f"{data}{rtype}.{name}")
    return "\n".join(blocks), addresses


def snippet_cases() -> list[object]:
    cases: list[object] = []
    for control in CATALOG.ordered():
        for kind in KINDS:
            if getattr(control.remediation, kind):
                cases.append(pytest.param(control.id, kind, id=f"{control.id}-{kind}"))
    return cases


def write_snippet(tmp_path: Path, control_id: str, kind: str) -> tuple[Path, set[str]]:
    """The snippet as a file to scan, and the addresses of the stand-ins added to it."""
    text = getattr(CATALOG.controls[control_id].remediation, kind)
    if kind == "terraform":
        extra, addresses = stand_ins(text)
        (tmp_path / "main.tf").write_text(text, encoding="utf-8")
        (tmp_path / "stand_ins.tf").write_text(extra, encoding="utf-8")
        return tmp_path, addresses
    template = tmp_path / "template.yaml"
    body = textwrap.indent(text, "  ")
    template.write_text(f'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n{body}', encoding="utf-8")
    return template, set()


def judged(path: Path, control_id: str, stand_in: Collection[str] = ()) -> list[tuple[Status, str]]:
    scan = scan_iac([path], CATALOG, Settings(), options=IacOptions(workers=1))
    return [
        (f.status, f"{f.resource_name}: {f.reason}")
        for f in scan.findings
        if f.control_id == control_id and f.resource_name not in stand_in
    ]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[tuple[Status, str]]]:
    """Every snippet scanned once: (control ID, kind) -> its findings for that control."""
    out = {}
    for control in CATALOG.ordered():
        for kind in KINDS:
            if getattr(control.remediation, kind):
                folder = tmp_path_factory.mktemp(f"{control.id}-{kind}")
                path, stand_in = write_snippet(folder, control.id, kind)
                out[(control.id, kind)] = judged(path, control.id, stand_in)
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


def test_most_terraform_snippets_are_judged_once_given_stand_ins(
    verdicts: dict[tuple[str, str], list[tuple[Status, str]]],
) -> None:
    """Before stand-ins, a Terraform fragment that used aws_s3_bucket.data was never judged, which
    hid a CT-06 snippet that fails CT-06 (it recorded one bucket's object events)."""
    terraform = {case: found for case, found in verdicts.items() if case[1] == "terraform"}
    passing = [case for case, found in terraform.items() if any(status is Status.PASS for status, _ in found)]
    assert len(passing) >= len(terraform) // 2, f"only {len(passing)} of {len(terraform)} pass their control"


def test_stand_ins_declare_only_what_a_fragment_refers_to_and_lacks() -> None:
    snippet = (
        'data "aws_region" "current" {}\n'
        'resource "aws_s3_bucket_policy" "data" {\n  bucket = aws_s3_bucket.data.id\n'
        '  policy = "${data.aws_region.current.name} ${data.aws_caller_identity.me.id}"\n}\n'
    )
    blocks, addresses = stand_ins(snippet)
    assert addresses == {"aws_s3_bucket.data", "data.aws_caller_identity.me"}
    assert 'resource "aws_s3_bucket" "data" {\n  bucket = "stand-in-data"\n}' in blocks
    assert 'data "aws_caller_identity" "me" {\n}' in blocks
