"""Terraform plan JSON: planned values, values known after apply, configuration references."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from controlmap.checks.registry import Status
from controlmap.resources.base import SourceKind
from controlmap.sources.iac.scan import IacScan
from controlmap.sources.iac.terraform.plan import read_plan

from .conftest import FIXTURES, finding, resource

Scan = Callable[..., IacScan]


def test_split_resources_join_through_configuration_references(scan: Scan) -> None:
    result = scan("plan/plan.json")
    uploads = "aws_s3_bucket.uploads"
    # bucket name known only after apply: the versioning resource is joined by its reference
    assert finding(result.findings, uploads, "s3_bucket_versioning_enabled").status is Status.PASS
    sse = finding(result.findings, uploads, "s3_bucket_default_encryption_kms")
    assert sse.status is Status.PASS and "aws_kms_key.uploads" in sse.reason
    pab = finding(result.findings, uploads, "s3_bucket_public_access_blocked")
    assert pab.status is Status.FAIL and "RestrictPublicBuckets" in pab.reason
    source = pab.source
    assert source is not None and source.kind is SourceKind.TERRAFORM_PLAN and source.address == uploads


def test_child_module_resources_and_object_lock(scan: Scan) -> None:
    result = scan("plan/plan.json")
    archive = "module.archive.aws_s3_bucket.this"
    lock = finding(result.findings, archive, "s3_bucket_object_lock_enabled")
    assert lock.status is Status.PASS and "3650 days" in lock.reason
    assert finding(result.findings, archive, "s3_bucket_versioning_enabled").status is Status.FAIL


def test_computed_attributes_do_not_count_as_inline_settings() -> None:
    result = read_plan(FIXTURES / "plan/plan.json", "plan.json")
    bucket = resource(result, "aws_s3_bucket.uploads")
    assert bucket.policy is not None and bucket.policy.is_empty  # type: ignore[attr-defined]
    assert result.problems == []


def test_unknown_reference_is_unknown(tmp_path: Path) -> None:
    plan = json.loads((FIXTURES / "plan/plan.json").read_text())
    config = plan["configuration"]["root_module"]["resources"]
    for entry in config:
        if entry["address"] == "aws_s3_bucket_versioning.uploads":
            entry["expressions"]["versioning_configuration"][0]["status"] = {"references": ["var.status"]}
    for change in plan["resource_changes"]:
        if change["address"] == "aws_s3_bucket_versioning.uploads":
            change["change"]["after_unknown"]["versioning_configuration"] = [{"status": True}]
    for item in plan["planned_values"]["root_module"]["resources"]:
        if item["address"] == "aws_s3_bucket_versioning.uploads":
            item["values"]["versioning_configuration"] = [{}]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    bucket = resource(read_plan(path, "plan.json"), "aws_s3_bucket.uploads")
    assert bucket.versioning is None  # type: ignore[attr-defined]
    assert "var.status" in bucket.unknown["versioning"]


def test_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format_version": "1.0"}')
    result = read_plan(path, "x.json")
    assert result.variants == [] and "not a Terraform plan" in result.problems[0].message


def _bucket_plan(actions: list[str], *, with_block: bool = False) -> dict[str, object]:
    resources: list[dict[str, object]] = [
        {
            "address": "aws_s3_bucket.legacy",
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "legacy",
            "values": {"bucket": "acme-legacy", "acl": "public-read"},
        },
    ]
    changes: list[dict[str, object]] = [
        {
            "address": "aws_s3_bucket.legacy",
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "legacy",
            "change": {"actions": actions, "after_unknown": {}},
        },
    ]
    if with_block:
        flags = dict.fromkeys(
            ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"),
            True,
        )
        resources.append(
            {
                "address": "aws_s3_bucket_public_access_block.legacy",
                "mode": "managed",
                "type": "aws_s3_bucket_public_access_block",
                "name": "legacy",
                "values": {"bucket": "acme-legacy", **flags},
            }
        )
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
    }


def test_a_bucket_the_plan_keeps_does_not_get_new_bucket_defaults(tmp_path: Path) -> None:
    """Block Public Access and BucketOwnerEnforced are S3's defaults for buckets created since
    April 2023. A bucket the plan keeps (no-op) or updates exists already, perhaps from 2019 with a
    public-read ACL: those settings are unknown unless the configuration declares them."""
    path = tmp_path / "plan.json"
    for actions in (["no-op"], ["update"]):
        path.write_text(json.dumps(_bucket_plan(actions)))
        bucket = resource(read_plan(path, "plan.json"), "aws_s3_bucket.legacy")
        assert bucket.public_access_block is None  # type: ignore[attr-defined]
        assert bucket.object_ownership is None  # type: ignore[attr-defined]
        assert "already exists" in bucket.unknown["public_access_block"]
        assert "April 2023" in bucket.unknown["object_ownership"]
    for actions in (["create"], ["delete", "create"]):  # a new bucket gets today's defaults
        path.write_text(json.dumps(_bucket_plan(actions)))
        bucket = resource(read_plan(path, "plan.json"), "aws_s3_bucket.legacy")
        assert bucket.object_ownership == "BucketOwnerEnforced"  # type: ignore[attr-defined]
        assert bucket.public_access_block is not None  # type: ignore[attr-defined]
    path.write_text(json.dumps(_bucket_plan(["no-op"], with_block=True)))
    declared = resource(read_plan(path, "plan.json"), "aws_s3_bucket.legacy")
    assert declared.public_access_block is not None  # type: ignore[attr-defined]
    assert declared.public_access_block.block_public_acls  # type: ignore[attr-defined]


def test_an_existing_bucket_in_a_plan_is_unknown_for_s3_01_not_a_pass(scan: Scan, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_bucket_plan(["no-op"])))
    result = scan(str(path))
    block = finding(result.findings, "aws_s3_bucket.legacy", "s3_bucket_public_access_blocked")
    assert block.status is Status.UNKNOWN and "already exists" in block.reason
    acl = finding(result.findings, "aws_s3_bucket.legacy", "s3_bucket_acl_not_public")
    assert acl.status is not Status.PASS
