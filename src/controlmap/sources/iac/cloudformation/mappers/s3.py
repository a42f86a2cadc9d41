"""AWS::S3::Bucket and AWS::S3::BucketPolicy.

What a template leaves out gets the S3 default for a *new* bucket: all four Block Public Access
switches on and ObjectOwnership BucketOwnerEnforced (April 2023), SSE-S3 default encryption
(January 2023; that is AES256, not SSE-KMS), versioning never enabled, no logging, no object lock.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.account import PublicAccessBlock
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument, PolicyParseError
from controlmap.resources.s3 import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    LOG_DELIVERY,
    AclGrant,
    BucketEncryption,
    BucketLogging,
    ObjectLock,
    S3Bucket,
)
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, finisher, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.common import IacError, ResourceRef, Unresolved, first_unresolved, may_be
from controlmap.sources.iac.facts import dig, policy_document, put, to_bool, to_int, unknown

CANNED_ACLS: dict[str, list[tuple[str, str]]] = {
    "Private": [],
    "BucketOwnerRead": [],
    "BucketOwnerFullControl": [],
    "AwsExecRead": [],
    "PublicRead": [(ALL_USERS, "READ")],
    "PublicReadWrite": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
    "AuthenticatedRead": [(AUTHENTICATED_USERS, "READ")],
    "LogDeliveryWrite": [(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")],
}


def canned_acl_grants(acl: str) -> list[AclGrant] | None:
    grants = CANNED_ACLS.get(acl)
    if grants is None:
        return None
    return [AclGrant(grantee=uri, grantee_type="Group", permission=perm) for uri, perm in grants]


@primary("AWS::S3::Bucket")
def bucket(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("BucketName")
    shown = name if isinstance(name, str) else item.logical_id  # a generated name is known by the logical ID
    model = S3Bucket(
        id=f"arn:aws:s3:::{shown}",  # buckets are identified by ARN, as in a live scan
        name=shown,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
    )
    if isinstance(name, Unresolved):
        model.unknown["name"] = f"BucketName depends on {name.depends_on}"
    _public_access_block(model, props.get("PublicAccessBlockConfiguration"))
    _ownership_and_acl(model, props)
    _encryption(model, props.get("BucketEncryption"), build)
    versioning = dig(props, "VersioningConfiguration", "Status")
    put(
        model,
        "versioning",
        "Disabled" if versioning is None else versioning,
        "VersioningConfiguration.Status",
    )
    model.unknown["mfa_delete"] = (
        "MFA delete is enabled by the bucket owner's root user through the S3 API; "
        "a template cannot declare it"
    )
    _logging(model, props.get("LoggingConfiguration"), build, name)
    _object_lock(model, props)
    return [model]


def _public_access_block(model: S3Bucket, config: Any) -> None:
    if config is None:
        model.public_access_block = PublicAccessBlock(
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=True,
            restrict_public_buckets=True,
        )
        return
    missing = first_unresolved(config)
    if missing is not None or not isinstance(config, dict):
        unknown(model, "public_access_block", "PublicAccessBlockConfiguration", missing or "a computed value")
        return
    flags = {
        k: to_bool(config.get(k))
        for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    }
    model.public_access_block = PublicAccessBlock(
        block_public_acls=bool(flags["BlockPublicAcls"]),
        ignore_public_acls=bool(flags["IgnorePublicAcls"]),
        block_public_policy=bool(flags["BlockPublicPolicy"]),
        restrict_public_buckets=bool(flags["RestrictPublicBuckets"]),
    )


def _ownership_and_acl(model: S3Bucket, props: dict[str, Any]) -> None:
    rules = dig(props, "OwnershipControls", "Rules")
    ownership: Any = "BucketOwnerEnforced"
    if isinstance(rules, list) and rules and isinstance(rules[0], dict):
        ownership = rules[0].get("ObjectOwnership", "BucketOwnerEnforced")
    elif isinstance(rules, Unresolved):
        ownership = rules
    put(model, "object_ownership", ownership, "OwnershipControls.Rules[0].ObjectOwnership")
    acl = props.get("AccessControl")
    if acl is None:
        model.acl_grants = []
    elif isinstance(acl, str):
        grants = canned_acl_grants(acl)
        if grants is None:
            unknown(model, "acl_grants", "AccessControl", f"an unrecognised canned ACL {acl!r}")
        else:
            model.acl_grants = grants
    else:
        unknown(
            model, "acl_grants", "AccessControl", acl if isinstance(acl, Unresolved) else "a computed value"
        )


def key_reference(value: Any, build: CfnBuild) -> Any:
    """A KMS key reference as the model's key id: the KmsKey model's id for a key in the template."""
    from controlmap.resources.kms import KmsKey

    if isinstance(value, ResourceRef):
        key = build.target(value, KmsKey)
        if key is not None:
            return key.id
        return str(value)
    return value


def _encryption(model: S3Bucket, config: Any, build: CfnBuild) -> None:
    if config is None:
        model.encryption = BucketEncryption(algorithm="AES256", bucket_key_enabled=False)
        return
    rule = dig(config, "ServerSideEncryptionConfiguration", 0)
    default = dig(rule, "ServerSideEncryptionByDefault")
    missing = first_unresolved(dig(default, "SSEAlgorithm")) or first_unresolved(
        dig(rule, "BucketKeyEnabled")
    )
    if missing is not None:
        unknown(model, "encryption", "BucketEncryption", missing)
        return
    if not isinstance(default, dict):
        model.encryption = BucketEncryption(algorithm="AES256", bucket_key_enabled=False)
        return
    key = key_reference(default.get("KMSMasterKeyID"), build)
    if isinstance(key, Unresolved):  # a key is named, only its id is computed
        key = f"(a key given by {key.depends_on})"
    bucket_key = to_bool(dig(rule, "BucketKeyEnabled"))
    model.encryption = BucketEncryption(
        algorithm=str(default.get("SSEAlgorithm", "AES256")),
        kms_key_id=key if isinstance(key, str) else None,
        bucket_key_enabled=bucket_key if isinstance(bucket_key, bool) else False,
    )


def _logging(model: S3Bucket, config: Any, build: CfnBuild, own_name: Any = None) -> None:
    if config is None:
        model.logging = BucketLogging(enabled=False)
        return
    if isinstance(config, Unresolved):
        unknown(model, "logging", "LoggingConfiguration", config)
        return
    target = config.get("DestinationBucketName") if isinstance(config, dict) else None
    prefix = config.get("LogFilePrefix") if isinstance(config, dict) else None
    if target is None:  # no destination: S3 delivers the logs to the bucket itself
        model.logging = BucketLogging(enabled=True, target_bucket=model.name, target_prefix=_str(prefix))
        return
    if isinstance(target, ResourceRef):
        linked = build.target(target, S3Bucket)
        target_name: Any = linked.name if linked is not None else build.physical(target)
    else:
        target_name = target
    if isinstance(target_name, Unresolved) and not isinstance(target, ResourceRef) and not target_name.exact:
        # Which bucket receives the logs decides S3-06: it may be the bucket itself.
        unknown(model, "logging", "LoggingConfiguration.DestinationBucketName", target_name)
        return
    if isinstance(target_name, Unresolved):
        # The destination exists but its name is computed: logging is on all the same. A bucket of
        # this template is shown by its logical ID, as its model is named.
        shown = target.address if isinstance(target, ResourceRef) else str(target_name.placeholder)
        model.logging = BucketLogging(enabled=True, target_bucket=shown, target_prefix=_str(prefix))
        return
    if (
        isinstance(target_name, str)
        and not isinstance(target, ResourceRef)
        and "name" in model.unknown
        and may_be(own_name, target_name)
    ):
        # A bucket named literally may be this one, whose own name is not (fully) known.
        unknown(
            model,
            "logging",
            "LoggingConfiguration.DestinationBucketName",
            f"{target_name!r}, which may be this bucket ({model.unknown['name']})",
        )
        return
    model.logging = BucketLogging(enabled=True, target_bucket=_str(target_name), target_prefix=_str(prefix))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _object_lock(model: S3Bucket, props: dict[str, Any]) -> None:
    enabled = to_bool(props.get("ObjectLockEnabled"))
    config = props.get("ObjectLockConfiguration")
    if isinstance(enabled, Unresolved) or first_unresolved(config) is not None:
        unknown(
            model,
            "object_lock",
            "ObjectLockEnabled/ObjectLockConfiguration",
            enabled if isinstance(enabled, Unresolved) else first_unresolved(config) or "",
        )
        return
    if enabled is None and isinstance(config, dict) and config.get("ObjectLockEnabled") == "Enabled":
        enabled = True
    retention = dig(config, "Rule", "DefaultRetention") or {}
    days, years = to_int(retention.get("Days")), to_int(retention.get("Years"))
    model.object_lock = ObjectLock(
        enabled=bool(enabled),
        default_mode=_str(retention.get("Mode")),
        default_days=days if isinstance(days, int) else None,
        default_years=years if isinstance(years, int) else None,
    )


@companion("AWS::S3::BucketPolicy")
def bucket_policy(item: CfnItem, build: CfnBuild) -> None:
    # A policy whose Bucket cannot be resolved (or names a bucket literally while a bucket's own
    # name is unknown) may be any bucket's: their policy is unknown unless another policy sets it.
    target = build.link(item, item.props.get("Bucket"), S3Bucket, ("policy",), "name")
    if target is None or not build.sole_owner(target, "policy", item, "bucket policy"):
        return
    document = item.props.get("PolicyDocument")
    if isinstance(document, Unresolved):
        unknown(target, "policy", f"{item.logical_id}.PolicyDocument", document)
        return
    try:
        target.policy = policy_document(build.concrete(document))
    except PolicyParseError as exc:
        raise IacError(f"PolicyDocument is not a valid policy: {exc}", line=item.raw.line_start) from None


@finisher
def _default_policies(build: CfnBuild) -> None:
    """No BucketPolicy names the bucket: it has none (one that may name it made it unknown)."""
    for model in build.all(S3Bucket):
        if model.policy is None and "policy" not in model.unknown:
            model.policy = PolicyDocument()
