"""Demo KMS keys: rotated and unrotated, private and public policies, keys AWS manages,
an asymmetric key, a key scheduled for deletion with a short window, imported material.

moto differs from AWS in two ways the KMS checks see, corrected by ``install_kms_emulation`` in
the in-process moto server (the demo and the tests; only processes importing this module):

* keys behind the reserved aliases ``alias/aws/*`` (which moto creates for EBS default
  encryption, DynamoDB, …) are customer managed in moto, AWS managed (``KeyManager: AWS``) in AWS;
* CloudTrail's event history does not exist, so the waiting period of a scheduled deletion
  (which AWS keeps only in the ``ScheduleKeyDeletion`` event) is recorded into
  ``demo.fakes.EVENT_HISTORY``, which answers ``LookupEvents`` as AWS would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from controlmap.demo.fakes import EVENT_HISTORY, schedule_key_deletion_event
from controlmap.demo.seed import SeedContext, demo_client_hook, seeder


def install_kms_emulation() -> None:
    from moto.kms.models import KmsBackend

    if getattr(KmsBackend, "_controlmap_demo", False):
        return
    create_alias = KmsBackend.create_alias
    schedule = KmsBackend.schedule_key_deletion

    def reserved_aliases_are_aws_managed(self: Any, target_key_id: str, alias_name: str) -> Any:
        alias = create_alias(self, target_key_id, alias_name)
        if alias_name.startswith("alias/aws/"):  # only AWS can create these
            self.keys[self.get_key_id(target_key_id)].key_manager = "AWS"
        return alias

    def recorded_in_event_history(self: Any, key_id: str, pending_window_in_days: int) -> Any:
        answer = schedule(self, key_id, pending_window_in_days)
        key = self.keys.get(self.get_key_id(key_id))
        if key is not None and key.key_state == "PendingDeletion":
            event = schedule_key_deletion_event(
                key.arn, key_id, pending_window_in_days, datetime.now(UTC), self.account_id, self.region_name
            )
            EVENT_HISTORY.record(self.region_name, event)
        return answer

    KmsBackend.create_alias = reserved_aliases_are_aws_managed  # type: ignore[method-assign]
    KmsBackend.schedule_key_deletion = recorded_in_event_history  # type: ignore[method-assign]
    KmsBackend._controlmap_demo = True  # type: ignore[attr-defined]


install_kms_emulation()
demo_client_hook(EVENT_HISTORY.install)


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
