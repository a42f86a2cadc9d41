"""Verdicts a new-user test found wrong: each case here failed before its fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controlmap.checks.registry import Status
from controlmap.sources.iac.scan import IacScan

from .conftest import finding

KMS_WILDCARD = "kms_key_policy_no_wildcard_grants"


@pytest.mark.parametrize("key", ["DefaultPolicyKey", "OwnRootKey"])
def test_cfn_key_granting_kms_all_to_its_own_account_root_passes(
    scan: Callable[..., IacScan], key: str
) -> None:
    result = scan("cloudformation/own_account.yaml")
    assert finding(result.findings, key, KMS_WILDCARD).status is Status.PASS


def test_cfn_kms_all_to_a_role_fails_and_never_shows_the_raw_pseudo_parameter(
    scan: Callable[..., IacScan],
) -> None:
    result = scan("cloudformation/own_account.yaml")
    found = finding(result.findings, "OtherAccountKey", KMS_WILDCARD)
    assert found.status is Status.FAIL
    assert "role/Admin" in found.reason and ":root" not in found.reason
    assert "${" not in found.reason


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("aws_kms_key.default", Status.PASS),
        ("aws_kms_key.explicit", Status.PASS),  # data.aws_caller_identity: the account Terraform runs as
        ("aws_kms_key.other", Status.FAIL),
    ],
)
def test_tf_own_account_root(scan: Callable[..., IacScan], key: str, status: Status) -> None:
    result = scan("terraform/own_account")
    assert finding(result.findings, key, KMS_WILDCARD).status is status
