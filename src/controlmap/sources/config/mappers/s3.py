"""S3 buckets and the account-level Block Public Access, from their configuration items.

AWS Config keeps a bucket's settings in ``supplementaryConfiguration``. What it records, and
what an absent entry means:

* ``PublicAccessBlockConfiguration``: absent when the bucket has none (all four switches off);
* ``BucketPolicy.policyText``: null when the bucket has no policy;
* ``AccessControlList``: JSON text (often twice encoded) with ``grantList``;
* ``ServerSideEncryptionConfiguration``, ``BucketVersioningConfiguration`` (status ``Off``,
  ``Enabled``, ``Suspended``; ``isMfaDeleteEnabled``), ``BucketLoggingConfiguration``
  (``destinationBucketName`` null: logging off), ``ObjectLockConfiguration`` (absent: not enabled).

Object Ownership (ownership controls) is not recorded, so the ACL-disabled check is UNKNOWN.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.account import AwsAccount
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyParseError, parse_policy
from controlmap.resources.s3 import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    LOG_DELIVERY,
    AclGrant,
    BucketLogging,
    ObjectLock,
    S3Bucket,
)
from controlmap.sources.aws.services.s3 import _encryption, _object_lock, _pab
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, base, mapper

GROUPS = {"AllUsers": ALL_USERS, "AuthenticatedUsers": AUTHENTICATED_USERS, "LogDelivery": LOG_DELIVERY}
# AWS Config spells ACL permissions as the Java SDK's enum names.
PERMISSIONS = {
    "fullcontrol": "FULL_CONTROL",
    "read": "READ",
    "write": "WRITE",
    "readacp": "READ_ACP",
    "writeacp": "WRITE_ACP",
}
SUPPLEMENTARY_FACTS = (
    "public_access_block",
    "policy",
    "acl_grants",
    "encryption",
    "versioning",
    "mfa_delete",
)


@mapper("AWS::S3::Bucket")
def bucket(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    name = config.get("name") or item.resource_name or item.resource_id
    model = S3Bucket(
        **base(item, name=name, id=item.arn or f"arn:aws:s3:::{name}"),
        created=config.get("creationDate") or None,
    )
    ctx.not_recorded(model, ["object_ownership"], "S3 Object Ownership (ownership controls)")
    # AWS Config always records a bucket's policy, ACL, logging and versioning entries: an empty
    # supplementaryConfiguration (a hand-made extract) holds no settings, not "none set".
    if not item.supplementary:
        for fact in (*SUPPLEMENTARY_FACTS, "logging", "object_lock"):
            model.mark_unknown(
                fact,
                "the configuration item carries no supplementaryConfiguration, where AWS Config keeps "
                "bucket settings (select it in the query, or export full items)",
            )
        return [model]
    _fill(model, item)
    return [model]


def _fill(model: S3Bucket, item: ConfigItem) -> None:
    pab = item.supplement("PublicAccessBlockConfiguration")
    model.public_access_block = _pab({"PublicAccessBlockConfiguration": fold(pab or {})})

    policy = item.supplement("BucketPolicy")
    if isinstance(policy, dict):
        text = fold(policy).get("policyText")
        try:
            model.policy = parse_policy(text)
        except PolicyParseError as exc:
            model.mark_unknown("policy", f"the recorded bucket policy could not be parsed: {exc}")
    else:
        model.mark_unknown("policy", "the configuration item has no BucketPolicy entry")

    acl = item.supplement("AccessControlList")
    if isinstance(acl, dict):
        model.acl_grants = acl_grants(acl)
    else:
        model.mark_unknown("acl_grants", "the configuration item has no AccessControlList entry")

    encryption = item.supplement("ServerSideEncryptionConfiguration")
    if isinstance(encryption, dict):
        model.encryption = _encryption({"ServerSideEncryptionConfiguration": fold(encryption)})
    else:
        model.mark_unknown(
            "encryption",
            "the configuration item has no ServerSideEncryptionConfiguration entry (items captured before "
            "S3 encrypted every bucket by default, January 2023, omit it)",
        )

    versioning = item.supplement("BucketVersioningConfiguration")
    if isinstance(versioning, dict):
        folded = fold(versioning)
        status = str(folded.get("status") or "Off")
        model.versioning = "Disabled" if status.lower() == "off" else status.capitalize()
        model.mfa_delete = (
            folded.get("isMfaDeleteEnabled") is True
            or str(folded.get("isMfaDeleteEnabled")).lower() == "true"
        )
    else:
        for fact in ("versioning", "mfa_delete"):
            model.mark_unknown(fact, "the configuration item has no BucketVersioningConfiguration entry")

    logging = item.supplement("BucketLoggingConfiguration")
    if isinstance(logging, dict):
        folded = fold(logging)
        target = folded.get("destinationBucketName")
        model.logging = (
            BucketLogging(enabled=True, target_bucket=target, target_prefix=folded.get("logFilePrefix"))
            if target
            else BucketLogging(enabled=False)
        )
    else:
        model.mark_unknown("logging", "the configuration item has no BucketLoggingConfiguration entry")

    lock = item.supplement("ObjectLockConfiguration")
    model.object_lock = (
        _object_lock({"ObjectLockConfiguration": fold(lock)})
        if isinstance(lock, dict)
        else ObjectLock(enabled=False)
    )


def acl_grants(acl: dict[str, Any]) -> list[AclGrant]:
    """``grantList`` (or ``grantSet``) of Config's AccessControlList, as the live model's grants."""
    folded = fold(acl)
    grants: list[AclGrant] = []
    for grant in (folded.get("grantList") or []) + (folded.get("grantSet") or []):
        if not isinstance(grant, dict):
            continue
        grantee = grant.get("grantee")
        permission = PERMISSIONS.get(str(grant.get("permission", "")).replace("_", "").lower(), "")
        if isinstance(grantee, str):
            uri = GROUPS.get(grantee, grantee)
            kind = "Group" if uri.startswith("http") else "CanonicalUser"
            grants.append(AclGrant(grantee=uri, grantee_type=kind, permission=permission))
        elif isinstance(grantee, dict):
            if grantee.get("emailAddress") or grantee.get("identifier", "").count("@"):
                who = grantee.get("emailAddress") or grantee.get("identifier")
                grants.append(
                    AclGrant(grantee=str(who), grantee_type="AmazonCustomerByEmail", permission=permission)
                )
            else:
                who = grantee.get("id") or grantee.get("identifier") or grantee.get("uri") or ""
                uri = GROUPS.get(str(who), str(who))
                kind = "Group" if uri.startswith("http") else "CanonicalUser"
                grants.append(AclGrant(grantee=uri, grantee_type=kind, permission=permission))
    return grants


@mapper("AWS::S3::AccountPublicAccessBlock")
def account_block(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    """Filled onto the account by the build step (one AwsAccount per account)."""
    account_id = item.account_id or item.resource_id
    fields = base(item, name=account_id, id=f"arn:aws:::account/{account_id}")
    fields.update(region=None, tags={}, account_id=account_id)
    block = _pab({"PublicAccessBlockConfiguration": fold(item.configuration)})
    return [AwsAccount(**fields, s3_public_access_block=block)]
