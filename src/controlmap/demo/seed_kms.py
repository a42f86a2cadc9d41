"""Demo KMS keys: rotated and unrotated, private and public policies, keys AWS manages,
an asymmetric key, a key scheduled for deletion with a short window, imported material."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from controlmap.demo.seed import SeedContext, demo_client_hook, seeder

# Waiting periods the seeder scheduled: moto's DescribeKey omits PendingDeletionWindowInDays.
_SCHEDULED_WINDOWS: dict[str, int] = {}


def _policy(account: str, *extra: dict[str, object]) -> str:
    root = {
        "Sid": "EnableIAMPolicies",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *extra]})


@seeder("kms")
def seed_kms(ctx: SeedContext) -> None:
    home, other = ctx.regions[0], ctx.regions[-1]
    account = ctx.account_id
    kms = ctx.client("kms", home)

    def key(alias: str, policy: str | None = None, **params: object) -> str:
        if policy is not None:
            params["Policy"] = policy
        key_id = kms.create_key(Description=f"demo: {alias}", **params)["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)
        return str(key_id)

    kms.enable_key_rotation(KeyId=key("demo-app-data"))
    key("demo-unrotated")  # KMS-01 FAIL
    # Principal * narrowed by kms:CallerAccount: not public (KMS-02 PASS).
    key(
        "demo-shared-via-services",
        _policy(
            account,
            {
                "Sid": "AllowUseThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"s3.{home}.amazonaws.com",
                    }
                },
            },
        ),
    )
    # Principal * with no condition, and kms:* to an application role (KMS-02 FAIL, KMS-03 FAIL/MANUAL).
    key(
        "demo-public-key",
        _policy(
            account,
            {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
            {
                "Sid": "AppRoleEverything",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:role/demo-app-role"},
                "Action": "kms:*",
                "Resource": "*",
            },
        ),
    )
    key("demo-signing", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")  # rotation NOT_APPLICABLE
    doomed = key("demo-retired")
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)  # KMS-05 FAIL (< 30 days)
    _SCHEDULED_WINDOWS[doomed] = 7
    try:
        imported = kms.create_key(Description="demo: imported material", Origin="EXTERNAL")["KeyMetadata"][
            "KeyId"
        ]
        kms.create_alias(AliasName="alias/demo-byok", TargetKeyId=imported)
        params = kms.get_parameters_for_import(
            KeyId=imported, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
        )
        kms.import_key_material(
            KeyId=imported,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=b"0" * 32,
            ExpirationModel="KEY_MATERIAL_EXPIRES",
            ValidTo=datetime.now(UTC) + timedelta(days=10),  # KMS-05 FAIL: expires within 30 days
        )
    except Exception:
        pass

    regional = ctx.client("kms", other)
    eu_key = regional.create_key(Description="demo: eu data")["KeyMetadata"]["KeyId"]
    regional.create_alias(AliasName="alias/demo-eu-data", TargetKeyId=eu_key)
    regional.enable_key_rotation(KeyId=eu_key)


@demo_client_hook
def deletion_window_in_describe_key(client: Any) -> None:
    """Add the PendingDeletionWindowInDays AWS returns (moto does not) for keys the seeder scheduled."""
    if client.meta.service_model.service_name != "kms":
        return

    def add_window(parsed: dict[str, Any], **_: Any) -> None:
        meta = parsed.get("KeyMetadata") or {}
        window = _SCHEDULED_WINDOWS.get(str(meta.get("KeyId")))
        if window is not None and meta.get("KeyState") == "PendingDeletion":
            meta.setdefault("PendingDeletionWindowInDays", window)

    client.meta.events.register("after-call.kms.DescribeKey", add_window)
