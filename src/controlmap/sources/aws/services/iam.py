"""IAM: principals and policies, the credential report, the password policy, the root user,
and IAM Access Analyzer (per region).

The fewest calls that show everything: ``GetAccountAuthorizationDetails`` returns every user,
group, role and customer managed policy with their documents in a handful of pages (instead of
several calls per principal); the credential report gives console, MFA and access-key facts for
every user and the root user in one download; ``ListVirtualMFADevices`` tells virtual from
hardware MFA for everyone at once. AWS managed policies are read only when attached, once each.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

from controlmap.resources.account import AccessAnalyzerFacts, PasswordPolicy, RootUser
from controlmap.resources.base import CollectionError
from controlmap.resources.iam import (
    AccessKey,
    AttachedPolicy,
    IamGroup,
    IamManagedPolicy,
    IamRole,
    IamUser,
    InlinePolicy,
)
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.aws.collector import CollectContext, Scope, collector

PRINCIPAL_TYPES = (IamUser, IamGroup, IamRole, IamManagedPolicy)
CREDENTIAL_FACTS = ("console_access", "mfa_active", "access_keys", "password_last_used", "root")


def _doc(raw: Any) -> PolicyDocument | None:
    try:
        return parse_policy(raw)
    except PolicyParseError:
        return None  # an unreadable document is unknown, never "no statements"


def _inline(items: list[dict[str, Any]]) -> list[InlinePolicy]:
    return [
        InlinePolicy(name=p.get("PolicyName", "?"), document=_doc(p.get("PolicyDocument"))) for p in items
    ]


@collector(
    "iam",
    service="iam",
    produces=list(PRINCIPAL_TYPES),
    scope=Scope.GLOBAL,
    facts=("root", "password_policy", "password_policy_present"),
)
def collect_iam(ctx: CollectContext) -> None:
    if ctx.wants("password_policy", "password_policy_present"):
        _password_policy(ctx)
    principals_wanted = ctx.wanted_facts is None or bool(
        ctx.wanted_facts
        & {
            "inline_policies",
            "attached_policies",
            "document",
            "trust_policy",
            *CREDENTIAL_FACTS,
            "hardware_mfa",
        }
    )
    users: dict[str, IamUser] = {}
    if principals_wanted:
        users = _authorization_details(ctx)
    if ctx.wants(*CREDENTIAL_FACTS, "hardware_mfa"):
        _credentials(ctx, users)
    for user in users.values():
        ctx.add(user)


def _authorization_details(ctx: CollectContext) -> dict[str, IamUser]:
    pages = ctx.pages(
        "iam",
        "get_account_authorization_details",
        produces=list(PRINCIPAL_TYPES),
        Filter=["User", "Role", "Group", "LocalManagedPolicy"],
    )
    if pages is None:
        return {}
    customer: dict[str, PolicyDocument | None] = {}
    for page in pages:
        for policy in page.get("Policies", []):
            default = next(
                (v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None
            )
            document = _doc(default.get("Document")) if default else None
            customer[policy["Arn"]] = document
            ctx.add(
                IamManagedPolicy(
                    id=policy["Arn"],
                    name=policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1],
                    account_id=ctx.account_id,
                    document=document,
                    attachment_count=policy.get("AttachmentCount"),
                    tags={t["Key"]: t["Value"] for t in policy.get("Tags", [])},
                )
            )
    aws_managed, failures = _aws_managed_documents(ctx, pages)
    documents = {**aws_managed, **customer}

    def attached(items: list[dict[str, Any]]) -> list[AttachedPolicy]:
        return [
            AttachedPolicy(
                arn=p["PolicyArn"],
                name=p.get("PolicyName") or p["PolicyArn"].rsplit("/", 1)[-1],
                document=documents.get(p["PolicyArn"]),
                error=failures.get(p["PolicyArn"]),
            )
            for p in items
        ]

    users: dict[str, IamUser] = {}
    for page in pages:
        for item in page.get("UserDetailList", []):
            users[item["Arn"]] = IamUser(
                id=item["Arn"],
                name=item["UserName"],
                account_id=ctx.account_id,
                created=item.get("CreateDate"),
                tags={t["Key"]: t["Value"] for t in item.get("Tags", [])},
                inline_policies=_inline(item.get("UserPolicyList", [])),
                attached_policies=attached(item.get("AttachedManagedPolicies", [])),
                groups=list(item.get("GroupList", [])),
            )
        for item in page.get("GroupDetailList", []):
            ctx.add(
                IamGroup(
                    id=item["Arn"],
                    name=item["GroupName"],
                    account_id=ctx.account_id,
                    inline_policies=_inline(item.get("GroupPolicyList", [])),
                    attached_policies=attached(item.get("AttachedManagedPolicies", [])),
                )
            )
        for item in page.get("RoleDetailList", []):
            ctx.add(
                IamRole(
                    id=item["Arn"],
                    name=item["RoleName"],
                    account_id=ctx.account_id,
                    tags={t["Key"]: t["Value"] for t in item.get("Tags", [])},
                    inline_policies=_inline(item.get("RolePolicyList", [])),
                    attached_policies=attached(item.get("AttachedManagedPolicies", [])),
                    trust_policy=_doc(item.get("AssumeRolePolicyDocument")),
                    service_linked=item.get("Path", "/").startswith("/aws-service-role/"),
                    last_used=(item.get("RoleLastUsed") or {}).get("LastUsedDate"),
                )
            )
    members: dict[str, list[str]] = {}
    for user in users.values():
        for group_name in user.groups or []:
            members.setdefault(group_name, []).append(user.name)
    for group in ctx.inventory.of_type(IamGroup, account_id=ctx.account_id):
        group.members = sorted(members.get(group.name, []))
    return users


def _aws_managed_documents(
    ctx: CollectContext, pages: list[dict[str, Any]]
) -> tuple[dict[str, PolicyDocument | None], dict[str, CollectionError]]:
    """Documents of the AWS managed policies attached to someone: two calls per distinct policy.

    A failed read is recorded (the scan summary lists it) and returned per policy ARN, so the
    checks of every principal holding that policy report ERROR with the AWS error code.
    """
    arns = sorted(
        {
            p["PolicyArn"]
            for page in pages
            for key in ("UserDetailList", "GroupDetailList", "RoleDetailList")
            for item in page.get(key, [])
            for p in item.get("AttachedManagedPolicies", [])
            if ":iam::aws:policy/" in p["PolicyArn"]
        }
    )

    def read(arn: str) -> tuple[str, PolicyDocument | None, CollectionError | None]:
        policy = ctx.call("iam", "get_policy", PolicyArn=arn, resource_id=arn)
        if policy.data is None:
            return arn, None, policy.error
        version = policy.data["Policy"].get("DefaultVersionId")
        result = ctx.call("iam", "get_policy_version", PolicyArn=arn, VersionId=version, resource_id=arn)
        if result.data is None:
            return arn, None, result.error
        return arn, _doc(result.data["PolicyVersion"].get("Document")), None

    documents: dict[str, PolicyDocument | None] = {}
    failures: dict[str, CollectionError] = {}
    for arn, document, error in ctx.map(read, arns):
        documents[arn] = document
        if error is not None:
            ctx.record_error(error)
            failures[arn] = error
    return documents, failures


# ---- credential report, MFA, root --------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _credential_report(ctx: CollectContext) -> tuple[list[dict[str, str]] | None, CollectionError | None]:
    for _ in range(20):  # IAM builds the report asynchronously; usually ready within seconds
        generated = ctx.call("iam", "generate_credential_report")
        if generated.error is not None:
            return None, generated.error
        if (generated.data or {}).get("State") == "COMPLETE":
            break
        time.sleep(0.5)
    result = ctx.call("iam", "get_credential_report")
    if result.error is not None:
        return None, result.error
    content = (result.data or {}).get("Content", b"")
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text))), None


def _keys(row: dict[str, str]) -> list[AccessKey]:
    keys = []
    for slot in ("1", "2"):
        active = row.get(f"access_key_{slot}_active", "false").lower() == "true"
        created = _when(row.get(f"access_key_{slot}_last_rotated"))
        if active or created is not None:
            keys.append(
                AccessKey(
                    active=active,
                    created=created,
                    last_used=_when(row.get(f"access_key_{slot}_last_used_date")),
                )
            )
    return keys


def _credentials(ctx: CollectContext, users: dict[str, IamUser]) -> None:
    rows, error = _credential_report(ctx)
    virtual, mfa_error = _virtual_mfa_users(ctx)
    if error is not None:
        ctx.account.mark_error("root", error)
    by_name = {r.get("user"): r for r in rows or []}
    for user in users.values():
        row = by_name.get(user.name)
        if row is None:
            if error is not None:
                for fact in ("console_access", "mfa_active", "access_keys", "password_last_used"):
                    user.mark_error(fact, error)
            else:
                user.mark_unknown(
                    "mfa_active", "the user is not in the credential report yet (created just now)"
                )
            continue
        user.console_access = row.get("password_enabled", "false").lower() == "true"
        user.password_last_used = _when(row.get("password_last_used"))
        user.mfa_active = row.get("mfa_active", "false").lower() == "true"
        user.access_keys = _keys(row)
        if virtual is not None:
            user.hardware_mfa = bool(user.mfa_active) and user.id not in virtual
        elif mfa_error is not None:
            user.mark_error("hardware_mfa", mfa_error)
    if virtual:
        both = [u for u in users.values() if u.mfa_active and u.id in virtual]
        ctx.map(lambda u: _other_devices(ctx, u, virtual[u.id]), both)
    if error is None:
        _root(ctx, by_name.get("<root_account>"), virtual)
        if virtual is None and mfa_error is not None:
            ctx.account.mark_error("root.hardware_mfa", mfa_error)


def _virtual_mfa_users(ctx: CollectContext) -> tuple[dict[str, set[str]] | None, CollectionError | None]:
    """Serial numbers of the virtual MFA devices of each user (and root) by ARN, or the failed read."""
    devices, error = ctx.listing(
        "iam", "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned"
    )
    if devices is None:
        return None, error
    virtual: dict[str, set[str]] = {}
    for device in devices:
        arn = device.get("User", {}).get("Arn")
        if arn:
            virtual.setdefault(arn, set()).add(device.get("SerialNumber", ""))
    return virtual, None


def _other_devices(ctx: CollectContext, user: IamUser, virtual: set[str]) -> None:
    """A user may hold up to eight MFA devices: one with a virtual device may also have a
    hardware token or security key, which only ListMFADevices shows (one call per such user)."""
    result = ctx.call("iam", "list_mfa_devices", UserName=user.name, resource_id=user.id)
    if result.error is not None:
        user.hardware_mfa = None
        user.mark_error("hardware_mfa", result.error)
        return
    serials = {d.get("SerialNumber", "") for d in (result.data or {}).get("MFADevices", [])}
    user.hardware_mfa = bool(serials - virtual)


def _root(ctx: CollectContext, row: dict[str, str] | None, virtual: dict[str, set[str]] | None) -> None:
    root_arn = f"arn:aws:iam::{ctx.account_id}:root"
    if row is not None:
        mfa = row.get("mfa_active", "false").lower() == "true"
        keys = _keys(row)
        root = RootUser(
            mfa_active=mfa,
            access_keys_present=any(k.active for k in keys),
            password_last_used=_when(row.get("password_last_used")),
            access_key_last_used=max((k.last_used for k in keys if k.last_used), default=None),
        )
    else:
        # Some endpoints (and brand-new accounts) have no <root_account> row: the account summary
        # still tells MFA and root keys; recent use stays unknown.
        summary = ctx.call("iam", "get_account_summary")
        if summary.error is not None:
            ctx.account.mark_error("root", summary.error)
            return
        if summary.data is None:
            return
        values = summary.data.get("SummaryMap", {})
        root = RootUser(
            mfa_active=values.get("AccountMFAEnabled", 0) == 1,
            access_keys_present=values.get("AccountAccessKeysPresent", 0) > 0,
        )
        ctx.account.mark_unknown("root.password_last_used", "the credential report has no <root_account> row")
    if virtual is not None and root.mfa_active is not None:
        root = root.model_copy(update={"hardware_mfa": bool(root.mfa_active) and root_arn not in virtual})
    ctx.account.root = root


def _password_policy(ctx: CollectContext) -> None:
    result = ctx.call("iam", "get_account_password_policy", absent=("NoSuchEntity",))
    if result.error is not None:
        ctx.account.mark_error("password_policy", result.error)
        ctx.account.mark_error("password_policy_present", result.error)
        return
    if result.absent or result.data is None:
        ctx.account.password_policy_present = False
        return
    p = result.data["PasswordPolicy"]
    ctx.account.password_policy_present = True
    ctx.account.password_policy = PasswordPolicy(
        minimum_length=p.get("MinimumPasswordLength"),
        require_symbols=bool(p.get("RequireSymbols")),
        require_numbers=bool(p.get("RequireNumbers")),
        require_uppercase=bool(p.get("RequireUppercaseCharacters")),
        require_lowercase=bool(p.get("RequireLowercaseCharacters")),
        allow_users_to_change=bool(p.get("AllowUsersToChangePassword")),
        max_age_days=p.get("MaxPasswordAge") if p.get("ExpirePasswords") or p.get("MaxPasswordAge") else None,
        reuse_prevention=p.get("PasswordReusePrevention"),
        hard_expiry=bool(p.get("HardExpiry")),
    )


# ---- IAM Access Analyzer (IAM-07): per region -----------------------------------------------

EXTERNAL_ACCESS_TYPES = ("ACCOUNT", "ORGANIZATION")


@collector("access-analyzer", service="iam", scope=Scope.REGIONAL, facts=("access_analyzer",))
def collect_access_analyzer(ctx: CollectContext) -> None:
    region = ctx.regional
    analyzers: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        result = ctx.call("accessanalyzer", "list_analyzers", **params)
        if result.error is not None:
            region.mark_error("access_analyzer", result.error)
            return
        page = result.data or {}
        analyzers += page.get("analyzers", [])
        if not page.get("nextToken"):
            break
        params["nextToken"] = page["nextToken"]
    region.access_analyzer = AccessAnalyzerFacts(
        analyzer_names=sorted(
            a["name"]
            for a in analyzers
            if a.get("status") == "ACTIVE" and a.get("type") in EXTERNAL_ACCESS_TYPES
        )
    )
