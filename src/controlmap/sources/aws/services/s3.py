"""S3: the account-level public access block, every bucket's protection settings, and Macie.

The bucket list is global (read once); each bucket's settings are read from its own region,
one call per setting a selected check needs. "Not configured" answers are known absences
(no bucket policy -> empty policy; no ownership controls -> ObjectWriter, the pre-2023 default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controlmap.resources.account import PublicAccessBlock
from controlmap.resources.base import CollectionError
from controlmap.resources.policy import PolicyParseError, parse_policy
from controlmap.resources.s3 import AclGrant, BucketEncryption, BucketLogging, ObjectLock, S3Bucket
from controlmap.sources.aws.collector import CollectContext, Scope, collector


def _pab(data: dict[str, Any]) -> PublicAccessBlock:
    config = data.get("PublicAccessBlockConfiguration", {})
    return PublicAccessBlock(
        block_public_acls=bool(config.get("BlockPublicAcls")),
        ignore_public_acls=bool(config.get("IgnorePublicAcls")),
        block_public_policy=bool(config.get("BlockPublicPolicy")),
        restrict_public_buckets=bool(config.get("RestrictPublicBuckets")),
    )


@collector("s3", service="s3", produces=[S3Bucket], scope=Scope.GLOBAL, facts=("s3_public_access_block",))
def collect_s3(ctx: CollectContext) -> None:
    if ctx.wants("s3_public_access_block"):
        _account_block(ctx)
    if not ctx.wants(*_BUCKET_FACTS) and not _buckets_needed(ctx):
        return
    listed = _list_buckets(ctx)
    if listed is None:
        return
    in_scope = [(b, region) for b, region in listed if region in ctx.regions]
    for bucket in ctx.map(lambda item: _bucket(ctx, item[0], item[1]), in_scope):
        if bucket is not None:
            ctx.add(bucket)


def _buckets_needed(ctx: CollectContext) -> bool:
    return ctx.wanted_facts is None or bool(ctx.wanted_facts & set(_BUCKET_FACTS))


def _account_block(ctx: CollectContext) -> None:
    result = ctx.call(
        "s3control",
        "get_public_access_block",
        AccountId=ctx.account_id,
        absent=("NoSuchPublicAccessBlockConfiguration",),
    )
    if result.error is not None:
        ctx.account.mark_error("s3_public_access_block", result.error)
    elif result.absent or result.data is None:
        ctx.account.s3_public_access_block = PublicAccessBlock()
    else:
        ctx.account.s3_public_access_block = _pab(result.data)


def _list_buckets(ctx: CollectContext) -> list[tuple[dict[str, Any], str]] | None:
    """(bucket, region) pairs. ListBuckets names each bucket's region; where an endpoint does not
    (older S3-compatible servers), one filtered listing per scanned region finds it instead of one
    GetBucketLocation per bucket."""
    # Accounts may hold more than 10,000 buckets: ask for pages (10,000 is the largest page).
    page: dict[str, Any] = {"PageSize": 10000}
    buckets = ctx.paginate("s3", "list_buckets", "Buckets", produces=[S3Bucket], PaginationConfig=page)
    if buckets is None:
        return None
    if all("BucketRegion" in b for b in buckets):
        return [(b, b["BucketRegion"]) for b in buckets]
    found: list[tuple[dict[str, Any], str]] = []
    for region in ctx.regions:
        listed = ctx.paginate(
            "s3", "list_buckets", "Buckets", produces=[S3Bucket], BucketRegion=region, PaginationConfig=page
        )
        if listed is None:
            return None
        found += [(b, region) for b in listed]
    return found


_BUCKET_FACTS = (
    "public_access_block",
    "policy",
    "object_ownership",
    "acl_grants",
    "encryption",
    "versioning",
    "mfa_delete",
    "logging",
    "object_lock",
    "tags",
)


def _bucket(ctx: CollectContext, listed: dict[str, Any], region: str) -> S3Bucket | None:
    name = listed["Name"]
    bucket = S3Bucket(
        id=f"arn:aws:s3:::{name}",
        name=name,
        account_id=ctx.account_id,
        region=region,
        created=listed.get("CreationDate"),
    )
    reader = _BucketReader(ctx, bucket, region)
    if ctx.wants("public_access_block"):
        reader.read(
            "public_access_block",
            "get_public_access_block",
            ("NoSuchPublicAccessBlockConfiguration",),
            _pab,
            PublicAccessBlock(),
        )
    if ctx.wants("policy"):
        reader.read(
            "policy",
            "get_bucket_policy",
            ("NoSuchBucketPolicy",),
            lambda d: _policy(d["Policy"]),
            _policy(""),
        )
    if ctx.wants("object_ownership", "acl_grants"):
        reader.read(
            "object_ownership",
            "get_bucket_ownership_controls",
            ("OwnershipControlsNotFoundError",),
            lambda d: d["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
            "ObjectWriter",
        )
    if ctx.wants("acl_grants"):
        if bucket.object_ownership == "BucketOwnerEnforced":
            bucket.acl_grants = []  # ACLs are disabled: S3 ignores every grant but the owner's
        else:
            reader.read("acl_grants", "get_bucket_acl", (), _grants, [])
    if ctx.wants("encryption"):
        reader.read(
            "encryption",
            "get_bucket_encryption",
            ("ServerSideEncryptionConfigurationNotFoundError",),
            _encryption,
            BucketEncryption(algorithm="none"),
        )
    if ctx.wants("versioning", "mfa_delete"):
        data = reader.raw("get_bucket_versioning", ("versioning", "mfa_delete"))
        if data is not None:
            bucket.versioning = data.get("Status") or "Disabled"
            bucket.mfa_delete = data.get("MFADelete") == "Enabled"
    if ctx.wants("logging"):
        reader.read("logging", "get_bucket_logging", (), _logging, BucketLogging(enabled=False))
    if ctx.wants("object_lock"):
        reader.read(
            "object_lock",
            "get_object_lock_configuration",
            ("ObjectLockConfigurationNotFoundError",),
            _object_lock,
            ObjectLock(enabled=False),
        )
    if ctx.wants("tags"):
        data = reader.raw("get_bucket_tagging", ("tags",), absent=("NoSuchTagSet",))
        if data is not None:
            bucket.tags = {t["Key"]: t["Value"] for t in data.get("TagSet", [])}
    return None if reader.gone else bucket


class _BucketReader:
    """Reads one bucket setting at a time; failures land on the fact, a vanished bucket is dropped."""

    def __init__(self, ctx: CollectContext, bucket: S3Bucket, region: str) -> None:
        self.ctx = ctx
        self.bucket = bucket
        self.region = region
        self.gone = False

    def raw(
        self, operation: str, facts: tuple[str, ...], absent: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        """The response of one call ({} for a "not configured" answer), or None if it failed."""
        if self.gone:
            return None
        result = self.ctx.call(
            "s3",
            operation,
            region=self.region,
            absent=absent,
            resource_id=self.bucket.id,
            Bucket=self.bucket.name,
        )
        if result.absent:
            return {}
        if result.error is not None:
            if result.error.code == "NoSuchBucket":
                self.gone = True  # deleted while we were reading it
            else:
                for fact in facts:
                    self.bucket.mark_error(fact, result.error)
            return None
        return result.data

    def read(
        self,
        fact: str,
        operation: str,
        absent: tuple[str, ...],
        convert: Callable[[dict[str, Any]], Any],
        default: Any,
    ) -> None:
        if self.gone:
            return
        result = self.ctx.call(
            "s3",
            operation,
            region=self.region,
            absent=absent,
            resource_id=self.bucket.id,
            Bucket=self.bucket.name,
        )
        if result.error is not None:
            if result.error.code == "NoSuchBucket":
                self.gone = True  # deleted while we were reading it
                return
            self.bucket.mark_error(fact, result.error)
            return
        if result.absent or result.data is None:
            setattr(self.bucket, fact, default)
            return
        try:
            setattr(self.bucket, fact, convert(result.data))
        except (PolicyParseError, KeyError, IndexError, TypeError, ValueError) as exc:
            self.bucket.mark_error(
                fact,
                CollectionError(
                    service="s3",
                    operation=operation,
                    code="UnreadableResponse",
                    message=str(exc)[:300],
                    region=self.region,
                    account_id=self.ctx.account_id,
                    resource_id=self.bucket.id,
                ),
            )


def _policy(text: str) -> Any:
    return parse_policy(text)


def _grants(data: dict[str, Any]) -> list[AclGrant]:
    grants = []
    for grant in data.get("Grants", []):
        grantee = grant.get("Grantee", {})
        kind = grantee.get("Type", "")
        who = grantee.get("URI") or grantee.get("ID") or grantee.get("EmailAddress") or ""
        grants.append(AclGrant(grantee=who, grantee_type=kind, permission=grant.get("Permission", "")))
    return grants


def _encryption(data: dict[str, Any]) -> BucketEncryption:
    rules = data.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return BucketEncryption(algorithm="none")
    rule = rules[0]
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return BucketEncryption(
        algorithm=default.get("SSEAlgorithm", "none"),
        kms_key_id=default.get("KMSMasterKeyID") or None,
        bucket_key_enabled=rule.get("BucketKeyEnabled"),
    )


def _logging(data: dict[str, Any]) -> BucketLogging:
    enabled = data.get("LoggingEnabled")
    if not enabled:
        return BucketLogging(enabled=False)
    return BucketLogging(
        enabled=True, target_bucket=enabled.get("TargetBucket"), target_prefix=enabled.get("TargetPrefix")
    )


def _object_lock(data: dict[str, Any]) -> ObjectLock:
    config = data.get("ObjectLockConfiguration", {})
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    return ObjectLock(
        enabled=config.get("ObjectLockEnabled") == "Enabled",
        default_mode=retention.get("Mode"),
        default_days=retention.get("Days"),
        default_years=retention.get("Years"),
    )


# ---- Macie (S3-08): one session per region ----------------------------------------------------


@collector("macie", service="s3", scope=Scope.REGIONAL, facts=("macie_enabled",))
def collect_macie(ctx: CollectContext) -> None:
    region = ctx.regional
    result = ctx.call("macie2", "get_macie_session", absent=("ResourceNotFoundException",))
    if result.absent:
        region.macie_enabled = False
    elif result.error is not None:
        # Macie answers AccessDenied "Macie is not enabled" when it is off in the region.
        if result.error.code == "AccessDeniedException" and "not enabled" in result.error.message.lower():
            region.macie_enabled = False
        else:
            region.mark_error("macie_enabled", result.error)
    else:
        region.macie_enabled = (result.data or {}).get("status") == "ENABLED"
