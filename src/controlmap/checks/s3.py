"""S3 checks (S3-01 … S3-08): public access, policies and ACLs, encryption, TLS, versioning,
logging, Object Lock and Macie."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict

from controlmap.checks.policy import public_doubt, public_grants, tls_doubt, tls_enforcement
from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    Status,
    check,
    failed,
    need,
    not_applicable,
    passed,
    stop_if_unknown,
    unavailable,
    unknown,
)
from controlmap.resources.account import AwsAccount, AwsRegion, PublicAccessBlock
from controlmap.resources.kms import KmsKey
from controlmap.resources.s3 import ALL_USERS, AUTHENTICATED_USERS, S3Bucket
from controlmap.settings import register_section


class S3Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # S3-03: also fail SSE-KMS with the AWS managed key aws/s3 (no key policy of your own).
    require_customer_managed_key: bool = False
    # S3-05: MFA delete can only be enabled by the root user through the API; some teams accept
    # versioning alone. Set to false to report MFA delete as informational PASS.
    require_mfa_delete: bool = True
    # S3-01 asks for Block Public Access "at the account and bucket level": a bucket whose own
    # block is off fails even while the account-level block covers it. Set to false to let the
    # account-level block stand in for the bucket's (a template's bucket is then UNKNOWN).
    bucket_level_block_required: bool = True
    # S3-07: buckets that must use Object Lock (name patterns, fnmatch) or carry this tag.
    object_lock_required_buckets: list[str] = []
    object_lock_required_tag: str = "controlmap:object-lock"


register_section("s3", S3Settings)

SWITCHES = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")


def _account(ctx: CheckContext, account_id: str | None) -> AwsAccount | None:
    found = ctx.inventory.of_type(AwsAccount, account_id=account_id)
    return found[0] if found else None


def effective_block(
    bucket: S3Bucket, ctx: CheckContext
) -> tuple[PublicAccessBlock | None, PublicAccessBlock | None]:
    """(bucket-level, account-level) Block Public Access; either may be None (unknown)."""
    account = _account(ctx, bucket.account_id)
    return bucket.public_access_block, account.s3_public_access_block if account else None


def _switch_on(name: str, *blocks: PublicAccessBlock | None) -> bool:
    return any(block is not None and getattr(block, name) for block in blocks)


_CAMEL = {
    "block_public_acls": "BlockPublicAcls",
    "ignore_public_acls": "IgnorePublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "restrict_public_buckets": "RestrictPublicBuckets",
}


@check(
    "s3_bucket_public_access_blocked",
    S3Bucket,
    title="Block Public Access is on at the bucket level",
    uses=[AwsAccount],
    facts=("public_access_block", "s3_public_access_block"),
)
def public_access_blocked(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    own, account = effective_block(bucket, ctx)
    evidence = {
        "bucket_level": own.model_dump() if own else None,
        "account_level": account.model_dump() if account else None,
    }
    if ctx.config(S3Settings, "s3").bucket_level_block_required:
        return _bucket_level_blocked(bucket, own, account, evidence, ctx)
    off = [_CAMEL[n] for n in SWITCHES if not _switch_on(n, own, account)]
    if not off:
        level = (
            "the account-level block"
            if account is not None and account.all_enabled
            else "the bucket-level block"
        )
        if own is not None and own.all_enabled:
            level = "the bucket-level block"
        return passed(f"all four Block Public Access settings are on ({level})", **evidence)
    if own is None:
        return unavailable(bucket, "public_access_block")
    if account is None:
        holder = _account(ctx, bucket.account_id)
        if holder is not None and "s3_public_access_block" in holder.errors:
            return unavailable(holder, "s3_public_access_block")
        # Whether the bucket is exposed depends on the account-level block, which a template (or
        # an AWS Config export without the account item) does not show: say so, never guess FAIL.
        return unknown(
            f"bucket-level Block Public Access has {', '.join(off)} off, so the bucket is protected only if "
            "the account-level block has them on, and this source does not show the account-level block; "
            "turn all four settings on for the bucket, or confirm the account level with "
            "`controlmap scan aws`",
            **evidence,
        )
    return failed(
        f"{', '.join(off)} off at both bucket and account level; turn on all four Block Public Access "
        "settings (s3:PutPublicAccessBlock) for the bucket or the account",
        **evidence,
    )


def _bucket_level_blocked(
    bucket: S3Bucket,
    own: PublicAccessBlock | None,
    account: PublicAccessBlock | None,
    evidence: dict[str, Any],
    ctx: CheckContext,
) -> Outcome:
    """S3-01 as the standard words it: the bucket's own block must be on, whatever the account's."""
    if own is None:
        return unavailable(bucket, "public_access_block")
    off_names = [n for n in SWITCHES if not getattr(own, n)]
    if not off_names:
        return passed("all four Block Public Access settings are on (the bucket-level block)", **evidence)
    off = ", ".join(_CAMEL[n] for n in off_names)
    fix = "turn all four Block Public Access settings on for the bucket (s3:PutPublicAccessBlock)"
    holder = _account(ctx, bucket.account_id)
    if account is None and holder is not None and "s3_public_access_block" in holder.errors:
        error = holder.errors["s3_public_access_block"].describe()
        where = f"the account-level block could not be read: {error}"
    elif account is None:
        where = "this source does not show the account-level block, which may or may not cover them"
    elif all(getattr(account, n) for n in off_names):
        where = "the account-level block covers them today, but the bucket opens if it is ever lifted"
    else:
        return failed(f"{off} off at both bucket and account level; {fix} and for the account", **evidence)
    return failed(
        f"bucket-level Block Public Access has {off} off; S3-01 asks for the block at the bucket level "
        f"as well as the account level ({where}); {fix}, or record an approved exception",
        **evidence,
    )


@check(
    "s3_account_public_access_blocked",
    AwsAccount,
    title="Block Public Access is on at the account level",
    facts=("s3_public_access_block",),
)
def account_public_access_blocked(account: AwsAccount, ctx: CheckContext) -> Outcome:
    # The control asks for the block at the account *and* bucket level (Security Hub S3.1): the
    # account-level block is the guard rail for every bucket created later, including buckets
    # whose own settings someone turns off.
    block = need(account, "s3_public_access_block")
    off = [_CAMEL[n] for n in SWITCHES if not getattr(block, n)]
    if not off:
        return passed("all four account-level Block Public Access settings are on", **block.model_dump())
    return failed(
        f"account-level Block Public Access has {', '.join(off)} off, so any bucket whose own block is "
        "off can be made public by a policy or ACL; turn all four on "
        "(aws s3control put-public-access-block --account-id ACCOUNT --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true)",
        **block.model_dump(),
    )


@check(
    "s3_bucket_policy_not_public",
    S3Bucket,
    title="The bucket policy grants nothing to everyone",
    uses=[AwsAccount],
    facts=("policy", "public_access_block", "s3_public_access_block"),
)
def policy_not_public(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    policy = need(bucket, "policy")
    grants = public_grants(policy, action_filter=["s3:*"])
    undecided = public_doubt(policy, grants, action_filter=["s3:*"])
    if undecided:
        return unknown(f"whether the bucket policy grants access to everyone depends on {undecided}")
    if not grants:
        if policy.is_empty:
            return passed("the bucket has no bucket policy")
        return passed("no bucket policy statement grants access to everyone without a restricting condition")
    evidence = {"grants": [g.evidence() for g in grants]}
    described = "; ".join(g.describe() for g in grants)
    if _switch_on("restrict_public_buckets", *effective_block(bucket, ctx)):
        return passed(
            f"{described}, but RestrictPublicBuckets is on, so only AWS services and principals of the "
            "account can use it; remove the statement anyway",
            **evidence,
        )
    stop_if_unknown(bucket, "public_access_block")  # RestrictPublicBuckets may be on
    return failed(
        f"{described} with no restricting condition; restrict the principal or add a condition such as "
        "aws:SourceVpce, aws:PrincipalOrgID or aws:SourceAccount",
        **evidence,
    )


_PUBLIC_GROUPS = {
    ALL_USERS: "everyone (AllUsers)",
    AUTHENTICATED_USERS: "any AWS account (AuthenticatedUsers)",
}


@check(
    "s3_bucket_acl_not_public",
    S3Bucket,
    title="The bucket ACL grants nothing to AllUsers or AuthenticatedUsers",
    uses=[AwsAccount],
    facts=("acl_grants", "object_ownership", "public_access_block", "s3_public_access_block"),
)
def acl_not_public(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    if bucket.object_ownership == "BucketOwnerEnforced":
        return passed("ACLs are disabled (Object Ownership is BucketOwnerEnforced)")
    grants = need(bucket, "acl_grants")
    public = [g for g in grants if g.grantee in _PUBLIC_GROUPS]
    if not public:
        return passed("the bucket ACL grants nothing to AllUsers or AuthenticatedUsers")
    described = ", ".join(f"{g.permission} to {_PUBLIC_GROUPS[g.grantee]}" for g in public)
    evidence = {"grants": [g.model_dump() for g in public]}
    if _switch_on("ignore_public_acls", *effective_block(bucket, ctx)):
        return passed(
            f"the bucket ACL grants {described}, but IgnorePublicAcls is on so S3 ignores it", **evidence
        )
    # S3 ignores a public ACL when IgnorePublicAcls is on: the bucket's own block unknown (a
    # template's value given at deploy time) leaves the verdict unknown. An unknown Object
    # Ownership does not: a public grant cannot be set where ownership is BucketOwnerEnforced.
    stop_if_unknown(bucket, "public_access_block")
    return failed(
        f"the bucket ACL grants {described}; remove the grant or set Object Ownership to BucketOwnerEnforced",
        **evidence,
    )


@check(
    "s3_bucket_acls_disabled",
    S3Bucket,
    title="ACLs are disabled (Object Ownership: bucket owner enforced)",
    facts=("object_ownership",),
)
def acls_disabled(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    ownership = need(bucket, "object_ownership")
    if ownership == "BucketOwnerEnforced":
        return passed("Object Ownership is BucketOwnerEnforced: ACLs are disabled, access is by policy only")
    return failed(
        f"Object Ownership is {ownership}, so ACLs still grant access; set it to BucketOwnerEnforced "
        "(the default for buckets created since April 2023)",
        object_ownership=ownership,
    )


def _bucket_key(bucket: S3Bucket, key_id: str, ctx: CheckContext) -> KmsKey | None:
    """The inventory's KMS key behind KMSMasterKeyID (a key ARN, key ID, alias or alias ARN).

    IDs and aliases are resolved in the bucket's own region: S3 uses keys of its region, and
    aliases are regional.
    """
    alias = "alias/" + key_id.split(":alias/", 1)[1] if ":alias/" in key_id else key_id
    for key in ctx.inventory.of_type(KmsKey, account_id=bucket.account_id):
        if key_id == key.id:
            return key
        if key.region == bucket.region and (
            key_id == key.id.rsplit("/", 1)[-1] or alias in (key.aliases or [])
        ):
            return key
    return None


def _kms_listing_error(bucket: S3Bucket, ctx: CheckContext) -> Outcome | None:
    for error in ctx.inventory.errors:
        if KmsKey.resource_type in error.resource_types and error.region == bucket.region:
            return Outcome(
                Status.ERROR,
                f"whether the bucket key is customer managed is not known: {error.describe()}",
                error_code=error.code,
            )
    return None


@check(
    "s3_bucket_default_encryption_kms",
    S3Bucket,
    title="Default encryption uses SSE-KMS",
    # With s3.require_customer_managed_key the KMS keys tell customer from AWS managed keys.
    uses=[KmsKey],
    facts=("encryption", "key_manager", "aliases"),
)
def default_encryption_kms(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    enc = need(bucket, "encryption")
    evidence = {"encryption": enc.model_dump()}
    if enc.algorithm == "none":
        return failed(
            "no default encryption is configured (S3 still applies SSE-S3 to new objects since "
            "January 2023); "
            "set ServerSideEncryptionConfiguration with SSEAlgorithm aws:kms and a KMS key",
            **evidence,
        )
    if enc.algorithm == "AES256":
        return failed(
            "default encryption is SSE-S3 (AES256), with keys S3 manages and no key policy or CloudTrail "
            "record of key use; set SSEAlgorithm aws:kms with a KMS key",
            **evidence,
        )
    if not enc.algorithm.startswith("aws:kms"):
        return failed(f"default encryption algorithm {enc.algorithm} is not SSE-KMS", **evidence)
    label = "DSSE-KMS" if enc.algorithm == "aws:kms:dsse" else "SSE-KMS"
    settings = ctx.config(S3Settings, "s3")
    key_id = enc.kms_key_id
    key = key_id or "the AWS managed key aws/s3"
    if not settings.require_customer_managed_key:
        return passed(f"default encryption is {label} with {key}", **evidence)
    aws_managed: bool | None = True
    if key_id is not None and key_id != "alias/aws/s3" and not key_id.endswith(":alias/aws/s3"):
        found = _bucket_key(bucket, key_id, ctx)
        if found is not None:
            aws_managed = need(found, "key_manager") == "AWS"
        elif (listing := _kms_listing_error(bucket, ctx)) is not None:
            return listing
        else:
            aws_managed = None
    if aws_managed is None:
        return unknown(
            f"default encryption is {label} with {key}, a key not in the scanned inventory (another "
            "account or region); whether it is customer managed is not known"
        )
    if aws_managed:
        return failed(
            f"default encryption is {label} with the AWS managed key aws/s3; s3.require_customer_managed_key "
            "asks for a customer managed key (KMSMasterKeyID)",
            **evidence,
        )
    return passed(f"default encryption is {label} with the customer managed key {key}", **evidence)


@check(
    "s3_bucket_tls_required",
    S3Bucket,
    title="The bucket policy denies requests without TLS",
    facts=("policy",),
)
def tls_required(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    policy = need(bucket, "policy")
    verdict = tls_enforcement(policy, bucket.arn)
    if verdict.enforced:
        return passed(verdict.reason, statement=verdict.statement)
    undecided = tls_doubt(policy, verdict, "s3:*", [bucket.arn, f"{bucket.arn}/*"])
    if undecided:
        return unknown(f"{verdict.reason}; whether TLS is required depends on {undecided}")
    if "does not cover" in verdict.reason and "name" in bucket.unknown:
        # A statement naming a bucket literally may name this one: its own name is not known.
        return unknown(f"{verdict.reason}, but the bucket's own ARN is not known ({bucket.unknown['name']})")
    return failed(
        f"{verdict.reason}; add a Deny of s3:* for Principal * on {bucket.arn} and {bucket.arn}/* "
        'with Condition {"Bool": {"aws:SecureTransport": "false"}}'
    )


@check("s3_bucket_versioning_enabled", S3Bucket, title="Versioning is enabled", facts=("versioning",))
def versioning_enabled(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    state = need(bucket, "versioning")
    if state == "Enabled":
        return passed("versioning is Enabled")
    return failed(f"versioning is {state}; set VersioningConfiguration Status to Enabled", versioning=state)


@check(
    "s3_bucket_mfa_delete_enabled",
    S3Bucket,
    title="MFA delete is enabled",
    facts=("mfa_delete", "versioning"),
)
def mfa_delete_enabled(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    if need(bucket, "mfa_delete"):
        return passed("MFA delete is enabled")
    if not ctx.config(S3Settings, "s3").require_mfa_delete:
        return passed("MFA delete is off; s3.require_mfa_delete is false in controlmap.yaml")
    return failed(
        "MFA delete is off; the root user must enable it with versioning (aws s3api put-bucket-versioning "
        '--versioning-configuration Status=Enabled,MFADelete=Enabled --mfa "SERIAL CODE")'
    )


@check(
    "s3_bucket_access_logging_enabled",
    S3Bucket,
    title="Server access logging goes to another bucket",
    facts=("logging",),
)
def access_logging(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    logging = need(bucket, "logging")
    if not logging.enabled:
        return failed("server access logging is off; set BucketLoggingStatus with a separate target bucket")
    if logging.target_bucket == bucket.name:
        return failed(
            "server access logs are written to the bucket itself; send them to a separate log bucket",
            target_bucket=logging.target_bucket,
        )
    return passed(f"server access logs go to {logging.target_bucket}", target_bucket=logging.target_bucket)


def _object_lock_required(bucket: S3Bucket, settings: S3Settings) -> str | None:
    for pattern in settings.object_lock_required_buckets:
        if fnmatchcase(bucket.name, pattern):
            return f"its name matches {pattern!r} in s3.object_lock_required_buckets"
    value = bucket.tags.get(settings.object_lock_required_tag)
    if value is not None and value.strip().lower() not in ("false", "no", "0", ""):
        return f"it is tagged {settings.object_lock_required_tag}={value}"
    return None


@check(
    "s3_bucket_object_lock_enabled",
    S3Bucket,
    title="WORM buckets use Object Lock",
    facts=("object_lock", "tags"),
)
def object_lock(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
    lock = need(bucket, "object_lock")
    settings = ctx.config(S3Settings, "s3")
    why = _object_lock_required(bucket, settings)
    if lock.enabled and (lock.default_days or lock.default_years):
        period = f"{lock.default_days} days" if lock.default_days else f"{lock.default_years} years"
        return passed(
            f"Object Lock is on with default {lock.default_mode} retention of {period}", **lock.model_dump()
        )
    if why is None:
        if lock.enabled:
            return passed("Object Lock is on (no default retention; each upload sets its own)")
        return not_applicable(
            "the bucket is not marked as WORM storage (s3.object_lock_required_buckets or the "
            f"{settings.object_lock_required_tag} tag)"
        )
    if lock.enabled:
        return failed(
            f"Object Lock is on but has no default retention although {why}; set a default retention rule",
            **lock.model_dump(),
        )
    return failed(
        f"Object Lock is off although {why}; Object Lock can be enabled on existing buckets "
        "(put-object-lock-configuration) after enabling versioning"
    )


@check("s3_macie_enabled", AwsRegion, title="Amazon Macie is enabled in the region", facts=("macie_enabled",))
def macie_enabled(region: AwsRegion, ctx: CheckContext) -> Outcome:
    if need(region, "macie_enabled"):
        return passed(f"Macie is enabled in {region.name}")
    return failed(
        f"Macie is not enabled in {region.name}; enable it (macie2 enable-macie) in every region with S3 data"
    )
