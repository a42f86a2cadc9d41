"""aws_s3_bucket with its settings inline (provider v3) or in the v4+ split resources.

A split resource names its bucket by reference (``aws_s3_bucket.b.id``), by literal name, or
through a module output; all three are joined here. A split resource whose bucket cannot be
resolved leaves that setting unknown on every bucket that does not set it otherwise, instead of
assuming the S3 default. Defaults for what nothing declares are those of a new bucket (see the
CloudFormation mapper).
"""

from __future__ import annotations

import contextlib
import json
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
from controlmap.sources.iac.common import IacError, ResourceRef, Unresolved, first_unresolved, may_be
from controlmap.sources.iac.facts import policy_document, to_bool, to_int, unknown
from controlmap.sources.iac.terraform.build import EXISTING, TfBuild, TfItem, companion, finisher, primary
from controlmap.sources.iac.terraform.expressions import JsonDocument
from controlmap.sources.iac.terraform.mappers._common import base, first, ref_text

CANNED = {
    "private": [],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
    "aws-exec-read": [],
    "public-read": [(ALL_USERS, "READ")],
    "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
    "authenticated-read": [(AUTHENTICATED_USERS, "READ")],
    "log-delivery-write": [(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")],
}
SPLIT_FACTS = {
    "aws_s3_bucket_public_access_block": "public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration": "encryption",
    "aws_s3_bucket_versioning": "versioning",
    "aws_s3_bucket_logging": "logging",
    "aws_s3_bucket_policy": "policy",
    "aws_s3_bucket_object_lock_configuration": "object_lock",
    "aws_s3_bucket_ownership_controls": "object_ownership",
    "aws_s3_bucket_acl": "acl_grants",
}


def parse_document(value: Any, where: str, line: int | None) -> PolicyDocument | None:
    """A policy from a Terraform value: JSON text, ``jsonencode`` output, or a policy document data source."""
    if isinstance(value, Unresolved) and value.placeholder is None:
        return None
    if isinstance(value, ResourceRef):
        return None
    holes: tuple[str, ...] = ()
    if isinstance(value, Unresolved):  # a heredoc or template with interpolations: its text
        text = value.placeholder or ""
        if not value.partial or not text.lstrip().startswith("{"):
            return None
        holes = value.holes
        try:
            value = json.loads(text)
        except ValueError:
            return None
    if isinstance(value, JsonDocument):
        value = dict(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # parse_policy says what is wrong with it
            value = json.loads(value)
    try:
        return policy_document(value, holes)
    except PolicyParseError as exc:
        raise IacError(f"{where} is not a valid policy: {exc}", line=line) from None


def _declared(build: TfBuild) -> set[tuple[str, str]]:
    """(bucket id, fact) set inline or by a split resource: no default, no unknown from a split
    resource whose bucket cannot be resolved."""
    return build.declared


def canned_grants(acl: str) -> list[AclGrant] | None:
    grants = CANNED.get(acl)
    if grants is None:
        return None
    return [AclGrant(grantee=uri, grantee_type="Group", permission=perm) for uri, perm in grants]


@primary("aws_s3_bucket")
def bucket(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("bucket")
    fields = base(item, build, name)
    fields["id"] = f"arn:aws:s3:::{fields['name']}"  # buckets are identified by ARN, as in a live scan
    model = S3Bucket(**fields)
    declared = _declared(build)
    # Inline (provider v3) settings; split resources override them later.
    acl = item.get("acl")
    if acl is not None:
        _acl(model, acl, "acl")
        declared.add((model.id, "acl_grants"))
    if item.get("policy") is not None:
        _policy(model, item.get("policy"), "policy", item)
        declared.add((model.id, "policy"))
    versioning = first(item.get("versioning"))
    if isinstance(versioning, dict):
        enabled = to_bool(versioning.get("enabled"))
        if isinstance(enabled, Unresolved):
            unknown(model, "versioning", "versioning.enabled", enabled)
        else:
            model.versioning = "Enabled" if enabled else "Disabled"
        mfa = to_bool(versioning.get("mfa_delete"))
        if isinstance(mfa, Unresolved):
            unknown(model, "mfa_delete", "versioning.mfa_delete", mfa)
        else:
            model.mfa_delete = bool(mfa)
        declared.update({(model.id, "versioning"), (model.id, "mfa_delete")})
    logging = first(item.get("logging"))
    if isinstance(logging, dict):
        _logging(model, logging.get("target_bucket"), logging.get("target_prefix"), build, item)
        declared.add((model.id, "logging"))
    sse = first(item.get("server_side_encryption_configuration"))
    if isinstance(sse, dict):
        _encryption(model, sse.get("rule"), build, item)
        declared.add((model.id, "encryption"))
    lock_enabled = to_bool(item.get("object_lock_enabled"))
    lock_config = first(item.get("object_lock_configuration"))
    if lock_enabled is not None or isinstance(lock_config, dict):
        inline_enabled = isinstance(lock_config, dict) and lock_config.get("object_lock_enabled") == "Enabled"
        _object_lock(
            model,
            lock_enabled if lock_enabled is not None else inline_enabled,
            lock_config,
            "object_lock_enabled",
        )
        declared.add((model.id, "object_lock"))
    return [model]


def _acl(model: S3Bucket, acl: Any, prop: str) -> None:
    if isinstance(acl, str):
        grants = canned_grants(acl)
        if grants is None:
            unknown(model, "acl_grants", prop, f"an unrecognised canned ACL {acl!r}")
        else:
            model.acl_grants = grants
    else:
        unknown(model, "acl_grants", prop, acl if isinstance(acl, Unresolved) else "a computed value")


def _policy(model: S3Bucket, value: Any, prop: str, item: TfItem) -> None:
    document = parse_document(value, prop, item.source.line_start)
    if document is None:
        unknown(
            model, "policy", prop, value if isinstance(value, Unresolved) else f"{value} (known after apply)"
        )
    else:
        model.policy = document


def _key(value: Any) -> str | None:
    if isinstance(value, ResourceRef):
        return f"{value.address}.{value.attribute}" if value.attribute else value.address
    if isinstance(value, Unresolved):
        return value.placeholder or f"(a key given by {value.depends_on})"
    return value if isinstance(value, str) and value else None


def _encryption(model: S3Bucket, rules: Any, build: TfBuild, item: TfItem) -> None:
    rule = first(rules)
    if isinstance(rule, Unresolved):
        unknown(model, "encryption", "server side encryption rule", rule)
        return
    default = first(rule.get("apply_server_side_encryption_by_default")) if isinstance(rule, dict) else None
    algorithm = default.get("sse_algorithm") if isinstance(default, dict) else None
    if isinstance(algorithm, Unresolved):
        unknown(model, "encryption", "sse_algorithm", algorithm)
        return
    bucket_key = to_bool(rule.get("bucket_key_enabled")) if isinstance(rule, dict) else None
    model.encryption = BucketEncryption(
        algorithm=str(algorithm or "AES256"),
        kms_key_id=_key(default.get("kms_master_key_id")) if isinstance(default, dict) else None,
        bucket_key_enabled=bucket_key if isinstance(bucket_key, bool) else False,
    )


def _own_name(model: S3Bucket, build: TfBuild) -> Any:
    """The ``bucket`` argument of the bucket ``model`` was built from (a split resource only has
    the model)."""
    address = model.source.address if model.source is not None else None
    return next((i.get("bucket") for i in build.items if i.address == address), None)


def _logging(model: S3Bucket, target: Any, prefix: Any, build: TfBuild, item: TfItem) -> None:
    linked = build.target(target, S3Bucket, item=item) if target is not None else None
    if linked is not None:
        name: Any = linked.name
    elif isinstance(target, str) and "name" in model.unknown and may_be(_own_name(model, build), target):
        # A bucket named literally may be this one, whose own name is not (fully) known.
        unknown(
            model,
            "logging",
            "target_bucket",
            f"{target!r}, which may be this bucket ({model.unknown['name']})",
        )
        return
    elif isinstance(target, str):
        name = target
    elif isinstance(target, Unresolved) and not target.exact:
        # Which bucket receives the logs decides S3-06 (not the bucket itself).
        unknown(model, "logging", "target_bucket", target)
        return
    elif isinstance(target, Unresolved):
        name = target.placeholder
    else:
        name = f"(the bucket {ref_text(target)})" if target is not None else None
    model.logging = BucketLogging(
        enabled=True, target_bucket=name, target_prefix=prefix if isinstance(prefix, str) else None
    )


def _object_lock(model: S3Bucket, enabled: Any, config: Any, prop: str) -> None:
    missing = first_unresolved(enabled) or first_unresolved(config)
    if missing is not None:
        unknown(model, "object_lock", prop, missing)
        return
    rule = first(config.get("rule")) if isinstance(config, dict) else None
    retention = first(rule.get("default_retention")) if isinstance(rule, dict) else None
    retention = retention if isinstance(retention, dict) else {}
    days, years = to_int(retention.get("days")), to_int(retention.get("years"))
    previous = model.object_lock
    model.object_lock = ObjectLock(
        enabled=bool(enabled) or bool(previous and previous.enabled),
        default_mode=retention.get("mode") if isinstance(retention.get("mode"), str) else None,
        default_days=days if isinstance(days, int) else None,
        default_years=years if isinstance(years, int) else None,
    )


def _target(item: TfItem, build: TfBuild) -> S3Bucket | None:
    """The bucket a split resource configures. One whose bucket cannot be resolved makes its
    setting unknown on every bucket it may configure that no other resource sets."""
    fact = SPLIT_FACTS[item.type]
    facts = (fact, "mfa_delete") if fact == "versioning" else (fact,)
    found = build.link(item, item.get("bucket"), S3Bucket, facts)
    if found is None:
        return None
    _declared(build).update((found.id, f) for f in facts)
    # Each split resource is one per bucket (the bucket has one policy, one versioning state...).
    what = "bucket " + item.type.removeprefix("aws_s3_bucket_").replace("_", " ")
    owned = [build.sole_owner(found, f, item, what) for f in facts]  # claim every fact, then decide
    return found if all(owned) else None


@companion("aws_s3_bucket_public_access_block")
def public_access_block(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is None:
        return
    flags = {
        k: to_bool(item.get(k, False))
        for k in ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")
    }
    missing = first_unresolved(list(flags.values()))
    if missing is not None:
        unknown(model, "public_access_block", item.address, missing)
        return
    model.public_access_block = PublicAccessBlock(**{k: bool(v) for k, v in flags.items()})


@companion("aws_s3_bucket_server_side_encryption_configuration")
def encryption(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is not None:
        _encryption(model, item.get("rule"), build, item)


@companion("aws_s3_bucket_versioning")
def versioning(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is None:
        return
    config = first(item.get("versioning_configuration"))
    status = config.get("status") if isinstance(config, dict) else None
    if isinstance(status, Unresolved):
        unknown(model, "versioning", f"{item.address}.versioning_configuration.status", status)
    else:
        model.versioning = str(status or "Disabled")
    mfa = config.get("mfa_delete") if isinstance(config, dict) else None
    if isinstance(mfa, Unresolved):
        unknown(model, "mfa_delete", f"{item.address}.versioning_configuration.mfa_delete", mfa)
    elif mfa is None:
        # Without mfa_delete the provider sends no MFADelete, and S3 keeps the bucket's setting:
        # the configuration does not say (as in CloudFormation, which cannot declare it at all).
        model.mfa_delete = None
        model.unknown["mfa_delete"] = (
            f"{item.address} does not set mfa_delete, so the bucket keeps whatever its root user "
            "set through the S3 API"
        )
    else:
        model.mfa_delete = mfa == "Enabled"
    _declared(build).add((model.id, "mfa_delete"))


@companion("aws_s3_bucket_logging")
def logging(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is not None:
        _logging(model, item.get("target_bucket"), item.get("target_prefix"), build, item)


@companion("aws_s3_bucket_policy")
def bucket_policy(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is not None:
        _policy(model, item.get("policy"), f"{item.address}.policy", item)


@companion("aws_s3_bucket_object_lock_configuration")
def object_lock(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is not None:
        enabled = item.get("object_lock_enabled", "Enabled")
        _object_lock(
            model,
            enabled if isinstance(enabled, Unresolved) else enabled == "Enabled",
            item.attrs,
            item.address,
        )


@companion("aws_s3_bucket_ownership_controls")
def ownership(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is None:
        return
    rule = first(item.get("rule"))
    value = rule.get("object_ownership") if isinstance(rule, dict) else None
    if isinstance(value, Unresolved):
        unknown(model, "object_ownership", f"{item.address}.rule.object_ownership", value)
    else:
        model.object_ownership = str(value or "BucketOwnerEnforced")


@companion("aws_s3_bucket_acl")
def bucket_acl(item: TfItem, build: TfBuild) -> None:
    model = _target(item, build)
    if model is None:
        return
    if item.get("acl") is not None:
        _acl(model, item.get("acl"), f"{item.address}.acl")
        return
    policy = first(item.get("access_control_policy"))
    grants: list[AclGrant] = []
    for grant in block_list_of(policy, "grant"):
        grantee = first(grant.get("grantee")) or {}
        kind = str(grantee.get("type", "CanonicalUser"))
        who = grantee.get("uri") or grantee.get("id") or grantee.get("email_address") or ""
        grants.append(
            AclGrant(
                grantee=str(ref_text(who) or ""),
                grantee_type=kind,
                permission=str(grant.get("permission", "")),
            )
        )
    model.acl_grants = grants


def block_list_of(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    inner = value.get(name)
    inner = [inner] if isinstance(inner, dict) else inner  # one block written as an object (JSON syntax)
    return [x for x in inner if isinstance(x, dict)] if isinstance(inner, list) else []


@finisher
def _defaults(build: TfBuild) -> None:
    declared = _declared(build)
    existing = build.notes.get(EXISTING) or set()
    for model in build.all(S3Bucket):
        for fact, default in _DEFAULTS.items():
            if getattr(model, fact) is not None or fact in model.unknown or (model.id, fact) in declared:
                continue
            if fact in _NEW_BUCKET_DEFAULTS and model.source is not None and model.source.address in existing:
                model.unknown[fact] = _NEW_BUCKET_DEFAULTS[fact]
                continue
            setattr(model, fact, default())
        if model.mfa_delete is None and "mfa_delete" not in model.unknown:
            # As in CloudFormation: only the root user turns MFA delete on, through the S3 API, and
            # a configuration that does not set mfa_delete leaves it as it is.
            model.unknown["mfa_delete"] = (
                "MFA delete is enabled by the bucket owner's root user through the S3 API, and no "
                "aws_s3_bucket_versioning of this configuration sets mfa_delete"
            )


# Defaults S3 gives only buckets created since April 2023. A bucket a plan keeps or updates in place
# already exists, and the provider's aws_s3_bucket does not read these settings back.
_NEW_BUCKET_DEFAULTS = {
    "public_access_block": (
        "the bucket already exists (the plan keeps or updates it) and no aws_s3_bucket_public_access_block "
        "declares its Block Public Access, which is on by default only for buckets created since April 2023"
    ),
    "object_ownership": (
        "the bucket already exists (the plan keeps or updates it) and no aws_s3_bucket_ownership_controls "
        "declares its Object Ownership, which is BucketOwnerEnforced by default only for buckets created "
        "since April 2023"
    ),
}


_DEFAULTS: dict[str, Any] = {
    "public_access_block": lambda: PublicAccessBlock(
        block_public_acls=True,
        ignore_public_acls=True,
        block_public_policy=True,
        restrict_public_buckets=True,
    ),
    "policy": PolicyDocument,
    "object_ownership": lambda: "BucketOwnerEnforced",
    "acl_grants": list,
    "encryption": lambda: BucketEncryption(algorithm="AES256", bucket_key_enabled=False),
    "versioning": lambda: "Disabled",
    "logging": lambda: BucketLogging(enabled=False),
    "object_lock": lambda: ObjectLock(enabled=False),
}


@primary("aws_s3_account_public_access_block")
def account_block(item: TfItem, build: TfBuild) -> list[Resource]:
    from controlmap.sources.iac.terraform.mappers.account import account_model

    model, created = account_model(item, build)
    flags = {
        k: to_bool(item.get(k, False))
        for k in ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")
    }
    missing = first_unresolved(list(flags.values()))
    if missing is not None:
        unknown(model, "s3_public_access_block", item.address, missing)
    else:
        model.s3_public_access_block = PublicAccessBlock(**{k: bool(v) for k, v in flags.items()})
    return created
