"""Account- and region-level settings, modelled as resources so that checks treat them alike.

Facts that exist once per account (the root user, the password policy, the account-wide S3
public access block) live on ``AwsAccount``; facts that exist once per account and region
(EBS encryption by default, IAM Access Analyzer) live on ``AwsRegion``. An IaC scan creates
these with every fact unknown unless the template declares it (e.g. ``aws_ebs_encryption_by_default``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import Resource


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublicAccessBlock(_Facts):
    """The four S3 Block Public Access switches (bucket- or account-level)."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @property
    def all_enabled(self) -> bool:
        return (
            self.block_public_acls
            and self.ignore_public_acls
            and self.block_public_policy
            and self.restrict_public_buckets
        )

    def disabled(self) -> list[str]:
        names = {
            "BlockPublicAcls": self.block_public_acls,
            "IgnorePublicAcls": self.ignore_public_acls,
            "BlockPublicPolicy": self.block_public_policy,
            "RestrictPublicBuckets": self.restrict_public_buckets,
        }
        return [name for name, on in names.items() if not on]


class PasswordPolicy(_Facts):
    minimum_length: int | None = None
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = False
    max_age_days: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool = False


class RootUser(_Facts):
    """From the IAM credential report's <root_account> row and GetAccountSummary."""

    mfa_active: bool | None = None
    hardware_mfa: bool | None = None  # False when only a virtual MFA device is assigned to root
    access_keys_present: bool | None = None
    password_last_used: datetime | None = None
    access_key_last_used: datetime | None = None


class AwsAccount(Resource):
    resource_type: ClassVar[str] = "AWS::::Account"

    # S3 account-level Block Public Access; an all-False block when none is configured.
    s3_public_access_block: PublicAccessBlock | None = None
    root: RootUser | None = None
    password_policy: PasswordPolicy | None = None
    password_policy_present: bool | None = None
    regions: list[str] | None = None  # enabled regions in scope of the scan
    macie_enabled_regions: list[str] | None = None


class AccessAnalyzerFacts(_Facts):
    analyzer_names: list[str] = []  # active analyzers of type ACCOUNT or ORGANIZATION


class AwsRegion(Resource):
    """One enabled region of one account; id is ``arn:aws:::region/<account>/<region>``-like."""

    resource_type: ClassVar[str] = "AWS::::Region"

    ebs_encryption_by_default: bool | None = None
    ebs_default_kms_key_id: str | None = None
    # Account-level instance metadata defaults (GetInstanceMetadataDefaults): "required",
    # "optional" or "no-preference" for HttpTokens; "enabled" when a declarative policy enforces
    # IMDSv2 (launches asking for IMDSv1 are refused).
    imds_http_tokens_default: str | None = None
    imds_http_tokens_enforced: str | None = None
    access_analyzer: AccessAnalyzerFacts | None = None
    macie_enabled: bool | None = None
