"""S3 buckets, normalized: the facts the S3 controls (and CloudTrail's log bucket checks) read.

Known absence is explicit: a bucket without a bucket policy has an empty ``PolicyDocument``,
without a bucket-level public access block an all-False ``PublicAccessBlock``, without default
encryption ``BucketEncryption(algorithm="none")``. ``None`` is unknown.

IaC sources: S3's 2023 defaults apply to what a template leaves out. New buckets get all four
Block Public Access switches on and ``ObjectOwnership: BucketOwnerEnforced`` (April 2023), and
SSE-S3 default encryption (January 2023). A source that knows a template omits these should fill
the defaults, not ``None``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.account import PublicAccessBlock
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument

# ACL grantee URIs that mean "anyone" and "any AWS account".
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AclGrant(_Facts):
    grantee: str  # canonical user ID, e-mail, or group URI
    grantee_type: str  # CanonicalUser, AmazonCustomerByEmail, Group
    permission: str  # READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL


class BucketEncryption(_Facts):
    """The bucket's default encryption rule."""

    algorithm: str  # "AES256" (SSE-S3), "aws:kms" (SSE-KMS), "aws:kms:dsse" (DSSE-KMS), or "none"
    kms_key_id: str | None = None  # key ARN, key ID or alias; None with aws:kms means aws/s3
    bucket_key_enabled: bool | None = None


class BucketLogging(_Facts):
    enabled: bool
    target_bucket: str | None = None
    target_prefix: str | None = None


class ObjectLock(_Facts):
    enabled: bool
    default_mode: str | None = None  # GOVERNANCE or COMPLIANCE
    default_days: int | None = None
    default_years: int | None = None


class S3Bucket(Resource):
    resource_type: ClassVar[str] = "AWS::S3::Bucket"

    created: datetime | None = None
    public_access_block: PublicAccessBlock | None = None  # bucket-level; all False when none is set
    policy: PolicyDocument | None = None  # empty document when the bucket has no policy
    object_ownership: str | None = None  # BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter
    acl_grants: list[AclGrant] | None = None
    encryption: BucketEncryption | None = None
    versioning: str | None = None  # "Enabled", "Suspended", or "Disabled" (never enabled)
    mfa_delete: bool | None = None
    logging: BucketLogging | None = None
    object_lock: ObjectLock | None = None

    @property
    def arn(self) -> str:
        return self.id if self.id.startswith("arn:") else f"arn:aws:s3:::{self.name}"
