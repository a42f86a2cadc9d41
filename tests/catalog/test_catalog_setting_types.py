"""Account and Region settings resolve to the controls about that setting only."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from controlmap.catalog.catalog import load_catalog

from .helpers import run


def test_account_and_region_setting_types_find_only_their_controls() -> None:
    catalog = load_catalog()
    expected = {
        "aws_ebs_encryption_by_default": ["EC2-04"],
        "aws_s3_account_public_access_block": ["S3-01"],
        "aws_iam_account_password_policy": ["IAM-05"],
        "aws_macie2_account": ["S3-08"],
    }
    for name, ids in expected.items():
        assert [c.id for c in catalog.filter(resource_type=name)] == ids, name


def test_show_iam07_does_not_claim_ebs_encryption_by_default(runner: CliRunner) -> None:
    code, out, _ = run(runner, "show", "IAM-07", "--format", "json")
    assert code == 0
    catalog = load_catalog()
    for type_id in json.loads(out)["resource_types"]:
        assert "aws_ebs_encryption_by_default" not in catalog.resource_types[type_id].terraform
