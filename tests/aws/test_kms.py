"""KMS collection and checks through the local moto server, plus pagination of ListKeys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
from controlmap.demo.fakes import answer_before_call, json_response
from controlmap.demo.server import LocalAws
from controlmap.resources.kms import KmsKey
from controlmap.settings import Settings

KMS_CHECKS = [
    "kms_key_rotation_enabled",
    "kms_key_policy_no_public_access",
    "kms_key_policy_no_wildcard_grants",
    "kms_key_administrators_allowed",
    "kms_key_deletion_window",
    "kms_imported_key_material_expiry",
]
ROOT = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def _policy(*extra: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [ROOT, *extra]})


def _key(kms: Any, alias: str, **params: Any) -> str:
    key_id = kms.create_key(**params)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)
    return str(key_id)


@pytest.fixture(scope="module")
def keys(moto_server: LocalAws) -> Iterator[boto3.Session]:
    """Seeded once for the tests of this module that only read it (they run first)."""
    moto_server.reset()
    aws_session = boto3.Session(region_name="us-east-1")
    kms = aws_session.client("kms")
    kms.enable_key_rotation(KeyId=_key(kms, "rotated"))
    _key(kms, "unrotated")
    _key(kms, "signing", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    _key(
        kms,
        "public",
        Policy=_policy({"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt"], "Resource": "*"}),
    )
    _key(
        kms,
        "caller-account",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
            }
        ),
    )
    _key(
        kms,
        "admin-role",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin"},
                "Action": ["kms:Create*", "kms:Put*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/App"},
                "Action": "kms:*",
                "Resource": "*",
            },
        ),
    )
    doomed = _key(kms, "doomed")
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    eu = aws_session.client("kms", region_name="eu-west-1")
    _key(eu, "eu-key")
    yield aws_session
    moto_server.reset()


def test_kms_keys_and_checks(keys: boto3.Session) -> None:
    scan = live_scan(KMS_CHECKS, regions=["us-east-1", "eu-west-1"])
    by_name = {k.name: k for k in scan.inventory.of_type(KmsKey)}
    assert by_name["alias/eu-key"].region == "eu-west-1"
    assert status(scan, "kms_key_rotation_enabled", "alias/rotated") is Status.PASS
    assert status(scan, "kms_key_rotation_enabled", "alias/unrotated") is Status.FAIL
    assert status(scan, "kms_key_rotation_enabled", "alias/signing") is Status.NOT_APPLICABLE
    assert status(scan, "kms_key_rotation_enabled", "alias/doomed") is Status.NOT_APPLICABLE

    assert status(scan, "kms_key_policy_no_public_access", "alias/public") is Status.FAIL
    assert status(scan, "kms_key_policy_no_public_access", "alias/caller-account") is Status.PASS
    assert status(scan, "kms_key_policy_no_wildcard_grants", "alias/admin-role") is Status.FAIL
    assert "role/App" in reason(scan, "kms_key_policy_no_wildcard_grants", "alias/admin-role")
    assert status(scan, "kms_key_policy_no_wildcard_grants", "alias/rotated") is Status.PASS

    assert status(scan, "kms_key_administrators_allowed", "alias/rotated") is Status.PASS
    assert status(scan, "kms_key_administrators_allowed", "alias/admin-role") is Status.MANUAL
    allowed = Settings.model_validate(
        {"kms": {"allowed_key_administrators": ["arn:aws:iam::*:role/KeyAdmin"]}}
    )
    verdict = outcomes(scan, "kms_key_administrators_allowed", allowed)["alias/admin-role"][0]
    assert verdict.status is Status.FAIL and "role/App" in verdict.reason and "KeyAdmin" not in verdict.reason
    assert (
        status(scan, "kms_key_administrators_allowed", "alias/public") is Status.PASS
    )  # Decrypt is not admin
    assert status(scan, "kms_key_deletion_window", "alias/doomed") is Status.FAIL
    # The window comes from the ScheduleKeyDeletion event (DescribeKey does not carry it).
    assert "waiting period is 7 days" in reason(scan, "kms_key_deletion_window", "alias/doomed")
    assert status(scan, "kms_key_deletion_window", "alias/rotated") is Status.PASS
    assert status(scan, "kms_imported_key_material_expiry", "alias/rotated") is Status.NOT_APPLICABLE


def test_rotation_status_read_only_where_rotation_exists(keys: boto3.Session) -> None:
    scan = live_scan(["kms_key_rotation_enabled"])
    calls = scan.factory.counter.snapshot()
    # 5 enabled symmetric keys with AWS material; not the signing key, not the doomed one.
    assert calls["kms:GetKeyRotationStatus"] == 5
    assert "kms:GetKeyPolicy" not in calls  # no selected check reads the policy


def test_key_policy_denied_is_an_error_for_that_key(keys: boto3.Session) -> None:
    scan = live_scan(
        ["kms_key_policy_no_public_access"], hooks=[deny("kms", "GetKeyPolicy", "AccessDeniedException")]
    )
    found = outcomes(scan, "kms_key_policy_no_public_access")
    assert {o[0].status for o in found.values()} == {Status.ERROR}
    assert found["alias/public"][0].error_code == "AccessDeniedException"


def test_list_keys_follows_pagination(aws_session: boto3.Session) -> None:
    kms = aws_session.client("kms")
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    everything = kms.list_keys()["Keys"]

    def paged(client: Any) -> None:
        if client.meta.service_model.service_name != "kms":
            return

        def respond(request: Any, **_: Any) -> Any:
            marker = json.loads(request.body or b"{}").get("Marker")
            start = int(marker) if marker else 0
            page = everything[start : start + 2]
            more = start + 2 < len(everything)
            body = {"Keys": page, "Truncated": more}
            if more:
                body["NextMarker"] = str(start + 2)
            return json_response(request.url, body)

        client.meta.events.register("before-send.kms.ListKeys", respond)

    scan = live_scan(["kms_key_rotation_enabled"], hooks=[paged])
    assert scan.factory.counter.snapshot()["kms:ListKeys"] == 3
    assert {k.id.rsplit("/", 1)[-1] for k in scan.inventory.of_type(KmsKey)} == created


def test_deletion_window_from_the_scheduling_event(aws_session: boto3.Session) -> None:
    """DescribeKey has no window for a single-Region key; the ScheduleKeyDeletion event has it."""
    kms = aws_session.client("kms")
    short, long, default = _key(kms, "short"), _key(kms, "long"), _key(kms, "default-window")
    kms.schedule_key_deletion(KeyId=short, PendingWindowInDays=7)
    kms.schedule_key_deletion(KeyId=long, PendingWindowInDays=30)
    kms.schedule_key_deletion(KeyId=default)  # AWS's default waiting period: 30 days
    _key(kms, "kept")
    scan = live_scan(["kms_key_deletion_window"])
    found = outcomes(scan, "kms_key_deletion_window")
    assert found["alias/short"][0].status is Status.FAIL
    assert "waiting period is 7 days" in found["alias/short"][0].reason
    assert found["alias/long"][0].status is Status.PASS
    assert "30-day waiting period" in found["alias/long"][0].reason
    assert found["alias/default-window"][0].status is Status.PASS
    assert found["alias/kept"][0].status is Status.PASS
    assert scan.factory.counter.snapshot()["cloudtrail:LookupEvents"] == 1  # one listing per region

    # Only when some key is pending deletion.
    kms.cancel_key_deletion(KeyId=short)
    kms.cancel_key_deletion(KeyId=long)
    kms.cancel_key_deletion(KeyId=default)
    assert "cloudtrail:LookupEvents" not in live_scan(["kms_key_deletion_window"]).factory.counter.snapshot()


def test_deletion_window_unreadable_or_not_in_the_history(aws_session: boto3.Session) -> None:
    kms = aws_session.client("kms")
    kms.schedule_key_deletion(KeyId=_key(kms, "doomed"), PendingWindowInDays=7)

    def history_denied(client: Any) -> None:
        if client.meta.service_model.service_name == "cloudtrail":
            error = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}, "status": 403}
            answer_before_call(client, "LookupEvents", lambda params: dict(error))

    denied = live_scan(["kms_key_deletion_window"], hooks=[history_denied])
    [found] = outcomes(denied, "kms_key_deletion_window")["alias/doomed"]
    assert found.status is Status.ERROR and found.error_code == "AccessDenied"
    assert "LookupEvents" in found.reason
    assert any(e.operation == "LookupEvents" for e in denied.inventory.errors)  # listed in the summary

    def empty_history(client: Any) -> None:
        if client.meta.service_model.service_name == "cloudtrail":
            answer_before_call(client, "LookupEvents", lambda params: {"Events": []})

    unknown = live_scan(["kms_key_deletion_window"], hooks=[empty_history])
    [found] = outcomes(unknown, "kms_key_deletion_window")["alias/doomed"]
    assert found.status is Status.FAIL
    assert "waiting period that is not known" in found.reason and "event history" in found.reason


def test_reserved_alias_keys_are_aws_managed(aws_session: boto3.Session) -> None:
    """Keys AWS services create behind alias/aws/* are AWS managed: rotation is not the customer's."""
    # An encrypted volume without a key: EC2 creates (moto too) the AWS managed key alias/aws/ebs.
    aws_session.client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)
    scan = live_scan(["kms_key_rotation_enabled"])
    [found] = outcomes(scan, "kms_key_rotation_enabled")["alias/aws/ebs"]
    assert found.status is Status.NOT_APPLICABLE and "AWS managed" in found.reason
