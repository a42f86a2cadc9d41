"""KMS keys, normalized."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument


class KmsKey(Resource):
    resource_type: ClassVar[str] = "AWS::KMS::Key"

    key_manager: str | None = None  # CUSTOMER or AWS
    key_state: str | None = None  # Enabled, Disabled, PendingDeletion, PendingImport, ...
    key_spec: str | None = None  # SYMMETRIC_DEFAULT, RSA_2048, HMAC_256, ...
    key_usage: str | None = None  # ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, ...
    origin: str | None = None  # AWS_KMS, EXTERNAL (imported), AWS_CLOUDHSM, EXTERNAL_KEY_STORE
    multi_region: bool | None = None
    rotation_enabled: bool | None = None
    rotation_period_days: int | None = None
    policy: PolicyDocument | None = None
    # The waiting period: live, only known while a deletion is scheduled; IaC: PendingWindowInDays.
    deletion_window_days: int | None = None
    deletion_date: datetime | None = None
    expiration_model: str | None = None  # KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE (imported)
    valid_to: datetime | None = None  # when imported key material expires
    aliases: list[str] | None = None

    @property
    def customer_managed(self) -> bool:
        return self.key_manager == "CUSTOMER"
