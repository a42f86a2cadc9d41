"""IAM checks (IAM-01 … IAM-07): root user, MFA, least privilege, long-term keys, password
policy, key rotation and IAM Access Analyzer."""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict

from controlmap.checks.policy import (
    Grant,
    PolicyDocument,
    admin_doubt,
    admin_statements,
    service_wildcards,
    wildcards_doubt,
)
from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    Status,
    check,
    failed,
    need,
    not_applicable,
    passed,
    unknown,
)
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.base import CollectionError
from controlmap.resources.iam import IamGroup, IamManagedPolicy, IamRole, IamUser, _Principal
from controlmap.settings import register_section


class IamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_key_max_age_days: int = 90
    password_min_length: int = 14
    password_require_symbols: bool = True
    password_require_numbers: bool = True
    password_require_uppercase: bool = True
    password_require_lowercase: bool = True
    password_max_age_days: int | None = 90  # None: do not require expiry (NIST SP 800-63B)
    password_reuse_prevention: int = 24
    root_recent_use_days: int = 30
    root_hardware_mfa_required: bool = True
    admin_hardware_mfa_required: bool = True
    # Users allowed to hold active long-term access keys (fnmatch patterns on the user name).
    access_key_users_allowed: list[str] = []


register_section("iam", IamSettings)


def _settings(ctx: CheckContext) -> IamSettings:
    return ctx.config(IamSettings, "iam")


def _days(ctx: CheckContext, when: datetime) -> int:
    return (ctx.now - when).days


# ---- IAM-01: root user ---------------------------------------------------------------------


@check("iam_root_mfa_enabled", AwsAccount, title="The root user has MFA", facts=("root",))
def root_mfa(account: AwsAccount, ctx: CheckContext) -> Outcome:
    root = need(account, "root")
    if root.mfa_active is None:
        return unknown("whether the root user has MFA is not known to this source")
    if root.mfa_active:
        return passed("the root user has an MFA device")
    return failed("the root user has no MFA device; sign in as root and assign a (hardware) MFA device")


@check(
    "iam_root_hardware_mfa_enabled",
    AwsAccount,
    title="The root user's MFA is a hardware device",
    facts=("root",),
)
def root_hardware_mfa(account: AwsAccount, ctx: CheckContext) -> Outcome:
    root = need(account, "root")
    if root.mfa_active is False:
        return failed("the root user has no MFA device at all; assign a hardware MFA device or security key")
    if root.hardware_mfa is None:
        if "root.hardware_mfa" in account.errors:
            err = account.errors["root.hardware_mfa"]
            return Outcome(
                Status.ERROR,
                f"whether the root user's MFA device is virtual could not be read: {err.describe()}",
                error_code=err.code,
            )
        return unknown("whether the root user's MFA device is hardware or virtual is not known")
    if root.hardware_mfa:
        return passed("the root user's MFA device is not a virtual one (hardware token or security key)")
    if not _settings(ctx).root_hardware_mfa_required:
        return passed("the root user uses virtual MFA; iam.root_hardware_mfa_required is false")
    return failed(
        "the root user's only MFA device is virtual; replace it with a hardware token or FIDO security key"
    )


@check("iam_root_no_access_keys", AwsAccount, title="The root user has no access keys", facts=("root",))
def root_no_keys(account: AwsAccount, ctx: CheckContext) -> Outcome:
    root = need(account, "root")
    if root.access_keys_present is None:
        return unknown("whether the root user has access keys is not known")
    if root.access_keys_present:
        return failed("the root user has an active access key; delete it (Security credentials, as root)")
    return passed("the root user has no active access keys")


@check(
    "iam_root_not_recently_used",
    AwsAccount,
    title="The root user is not used for daily work",
    facts=("root",),
)
def root_not_used(account: AwsAccount, ctx: CheckContext) -> Outcome:
    root = need(account, "root")
    limit = _settings(ctx).root_recent_use_days
    uses = [
        (what, when)
        for what, when in (("password", root.password_last_used), ("access key", root.access_key_last_used))
        if when
    ]
    if not uses:
        if "root.password_last_used" in account.unknown:
            return unknown(account.unknown["root.password_last_used"])
        return passed("the credential report shows no use of the root user")
    what, when = max(uses, key=lambda u: u[1])
    age = _days(ctx, when)
    evidence = {"last_used": when.isoformat(), "via": what}
    if age < limit:
        return failed(
            f"the root user's {what} was used {age} days ago (on {when.date()}), within "
            "iam.root_recent_use_days "
            f"({limit}); use IAM Identity Center or roles for daily work",
            **evidence,
        )
    return passed(f"the root user was last used {age} days ago ({what})", **evidence)


# ---- IAM-02: MFA for users -------------------------------------------------------------------


@check(
    "iam_user_console_mfa_enabled",
    IamUser,
    title="Users with a console password have MFA",
    facts=("console_access", "mfa_active"),
)
def user_console_mfa(user: IamUser, ctx: CheckContext) -> Outcome:
    if not need(user, "console_access"):
        return not_applicable("the user has no console password")
    if need(user, "mfa_active"):
        return passed("the user has a console password and an MFA device")
    return failed("the user has a console password but no MFA device; assign one or remove the password")


def _groups_of(principal: _Principal, ctx: CheckContext) -> list[IamGroup]:
    if not isinstance(principal, IamUser):
        return []
    groups = {g.name: g for g in ctx.inventory.of_type(IamGroup, account_id=principal.account_id)}
    return [groups[name] for name in principal.groups or [] if name in groups]


def _documents(principal: _Principal, ctx: CheckContext) -> list[tuple[str, PolicyDocument | None]]:
    docs = principal.policy_documents()
    if isinstance(principal, IamUser) and principal.groups is None and "groups" in principal.unknown:
        docs.append((f"the policies of its groups ({principal.unknown['groups']})", None))
    for group in _groups_of(principal, ctx):
        docs += [(f"{label} (via group {group.name})", doc) for label, doc in group.policy_documents()]
    return docs


def _read_errors(principal: _Principal, ctx: CheckContext) -> dict[str, CollectionError]:
    errors = principal.policy_read_errors()
    for group in _groups_of(principal, ctx):
        errors.update(
            {f"{label} (via group {group.name})": e for label, e in group.policy_read_errors().items()}
        )
    return errors


def _admin_grants(principal: _Principal, ctx: CheckContext) -> tuple[list[tuple[str, Grant]], list[str]]:
    found: list[tuple[str, Grant]] = []
    unreadable: list[str] = []
    for label, doc in _documents(principal, ctx):
        if doc is None:
            unreadable.append(label)
            continue
        grants = admin_statements(doc)
        found += [(label, g) for g in grants]
        undecided = admin_doubt(doc, grants)
        if undecided:
            unreadable.append(f"{label} ({undecided})")
    return found, unreadable


def _unreadable(principal: _Principal, ctx: CheckContext, labels: list[str], lead: str) -> Outcome:
    """ERROR with the AWS error code when a policy could not be read; UNKNOWN when not visible."""
    errors = _read_errors(principal, ctx)
    failed_reads = [(label, errors[label]) for label in labels if label in errors]
    if failed_reads:
        described = "; ".join(f"{label}: {error.describe()}" for label, error in failed_reads)
        return Outcome(
            Status.ERROR, f"{lead}; could not read {described}", error_code=failed_reads[0][1].code
        )
    return unknown(f"{lead}; could not read {', '.join(labels)}")


@check(
    "iam_user_admin_hardware_mfa",
    IamUser,
    title="Administrators use hardware MFA",
    uses=[IamGroup],
    facts=("hardware_mfa", "mfa_active", "inline_policies", "attached_policies", "groups", "console_access"),
)
def admin_hardware_mfa(user: IamUser, ctx: CheckContext) -> Outcome:
    grants, unreadable = _admin_grants(user, ctx)
    if not grants and unreadable:
        return _unreadable(user, ctx, unreadable, "whether the user is an administrator is not known")
    if not grants:
        return not_applicable("the user has no administrator-equivalent policy")
    if not need(user, "mfa_active"):
        return failed(f"the user is an administrator ({grants[0][0]}) without any MFA device")
    if need(user, "hardware_mfa"):
        return passed("the administrator uses a hardware MFA device or security key")
    if not _settings(ctx).admin_hardware_mfa_required:
        return passed("the administrator uses virtual MFA; iam.admin_hardware_mfa_required is false")
    return failed(
        f"the user is an administrator ({grants[0][0]}) with only a virtual MFA device; use a "
        "hardware token or FIDO key"
    )


# ---- IAM-03: least privilege ---------------------------------------------------------------


def _admin_outcome(principal: _Principal, ctx: CheckContext, kind: str) -> Outcome:
    if principal.inline_policies is None and principal.attached_policies is None:
        return need(principal, "attached_policies")
    grants, unreadable = _admin_grants(principal, ctx)
    if grants:
        label, grant = grants[0]
        more = f" (and {len(grants) - 1} more)" if len(grants) > 1 else ""
        return failed(
            f"{label} {grant.statement.label} allows {', '.join(grant.actions)} on Resource *{more}: "
            f"administrator access; grant the {kind} only the actions and resources it needs",
            grants=[{"policy": lbl, **g.evidence()} for lbl, g in grants],
        )
    if unreadable:
        return _unreadable(principal, ctx, unreadable, "no administrator access in the readable policies")
    return passed(f"no policy of the {kind} allows * on * or NotAction on *")


@check(
    "iam_user_no_admin_access",
    IamUser,
    title="Users have no administrator access",
    uses=[IamGroup],
    facts=("inline_policies", "attached_policies", "groups"),
)
def user_no_admin(user: IamUser, ctx: CheckContext) -> Outcome:
    return _admin_outcome(user, ctx, "user")


@check(
    "iam_group_no_admin_access",
    IamGroup,
    title="Groups grant no administrator access",
    facts=("inline_policies", "attached_policies"),
)
def group_no_admin(group: IamGroup, ctx: CheckContext) -> Outcome:
    return _admin_outcome(group, ctx, "group")


@check(
    "iam_role_no_admin_access",
    IamRole,
    title="Roles have no administrator access",
    facts=("inline_policies", "attached_policies", "service_linked"),
)
def role_no_admin(role: IamRole, ctx: CheckContext) -> Outcome:
    if role.service_linked:
        return not_applicable("service-linked role: AWS owns its policies")
    return _admin_outcome(role, ctx, "role")


@check(
    "iam_policy_no_admin_statements",
    IamManagedPolicy,
    title="Customer managed policies do not allow * on *",
    facts=("document",),
)
def policy_no_admin(policy: IamManagedPolicy, ctx: CheckContext) -> Outcome:
    doc = need(policy, "document")
    grants = admin_statements(doc)
    undecided = admin_doubt(doc, grants)
    if undecided:
        return unknown(f"whether the policy allows * on * depends on {undecided}")
    if not grants:
        return passed("no statement allows * on * or NotAction on *")
    described = "; ".join(f"{g.statement.label} allows {', '.join(g.actions)} on Resource *" for g in grants)
    return failed(
        f"{described} (attached {policy.attachment_count or 0} times); replace with the actions needed",
        grants=[g.evidence() for g in grants],
        attachment_count=policy.attachment_count,
    )


@check(
    "iam_policy_no_service_wildcards",
    IamManagedPolicy,
    title="Customer managed policies do not allow service:*",
    facts=("document",),
)
def policy_no_wildcards(policy: IamManagedPolicy, ctx: CheckContext) -> Outcome:
    doc = need(policy, "document")
    grants = service_wildcards(doc)
    undecided = wildcards_doubt(doc, grants)
    if undecided:
        return unknown(f"whether the policy allows every action of a service depends on {undecided}")
    if not grants:
        return passed("no statement allows every action of a service (service:*)")
    described = "; ".join(f"{g.statement.label} allows {', '.join(g.actions)}" for g in grants)
    return failed(
        f"{described}; list the actions the workload uses instead of service:*",
        grants=[g.evidence() for g in grants],
        attachment_count=policy.attachment_count,
    )


def _inline_wildcards_outcome(principal: _Principal, kind: str) -> Outcome:
    inline = need(principal, "inline_policies")
    found = []
    unreadable = []
    for policy in inline:
        if policy.document is None or policy.uncertain:
            unreadable.append(f"{policy.name} ({policy.uncertain})" if policy.uncertain else policy.name)
            continue
        grants = service_wildcards(policy.document)
        found += [(policy.name, g) for g in grants]
        undecided = wildcards_doubt(policy.document, grants)
        if undecided:
            unreadable.append(f"{policy.name} ({undecided})")
    if found:
        described = "; ".join(
            f"inline policy {name} {g.statement.label} allows {', '.join(g.actions)}" for name, g in found
        )
        return failed(
            f"{described}; list the actions the {kind} uses instead of service:*",
            grants=[{"policy": name, **g.evidence()} for name, g in found],
        )
    if unreadable:
        return unknown(f"could not read inline policy {', '.join(unreadable)}")
    if not inline:
        return passed(f"the {kind} has no inline policies")
    return passed(f"no inline policy of the {kind} allows every action of a service (service:*)")


@check(
    "iam_user_inline_no_service_wildcards",
    IamUser,
    title="User inline policies do not allow service:*",
    facts=("inline_policies",),
)
def user_inline_wildcards(user: IamUser, ctx: CheckContext) -> Outcome:
    return _inline_wildcards_outcome(user, "user")


@check(
    "iam_group_inline_no_service_wildcards",
    IamGroup,
    title="Group inline policies do not allow service:*",
    facts=("inline_policies",),
)
def group_inline_wildcards(group: IamGroup, ctx: CheckContext) -> Outcome:
    return _inline_wildcards_outcome(group, "group")


@check(
    "iam_role_inline_no_service_wildcards",
    IamRole,
    title="Role inline policies do not allow service:*",
    facts=("inline_policies", "service_linked"),
)
def role_inline_wildcards(role: IamRole, ctx: CheckContext) -> Outcome:
    if role.service_linked:
        return not_applicable("service-linked role: AWS owns its policies")
    return _inline_wildcards_outcome(role, "role")


@check(
    "iam_user_no_direct_policies",
    IamUser,
    title="Users get permissions through groups or roles, not directly",
    facts=("inline_policies", "attached_policies"),
)
def user_no_direct_policies(user: IamUser, ctx: CheckContext) -> Outcome:
    inline, attached = need(user, "inline_policies"), need(user, "attached_policies")
    maybe = [p for p in [*inline, *attached] if p.uncertain]
    inline = [p for p in inline if not p.uncertain]
    attached = [p for p in attached if not p.uncertain]
    if not inline and not attached:
        if maybe:
            return unknown(
                "no policy is known to be attached to the user directly, but "
                + "; ".join(f"{p.name} {p.uncertain}" for p in maybe)
            )
        return passed("no policy is attached to the user directly")
    names = [f"inline {p.name}" for p in inline] + [p.name for p in attached]
    return failed(
        f"policies attached directly to the user: {', '.join(names)}; grant them through a group or a role",
        policies=names,
    )


# ---- IAM-04 and IAM-06: access keys ---------------------------------------------------------


def _allowed_key_user(user: IamUser, settings: IamSettings) -> str | None:
    return next((p for p in settings.access_key_users_allowed if fnmatchcase(user.name, p)), None)


@check(
    "iam_user_no_active_access_keys",
    IamUser,
    title="Users hold no long-term access keys",
    facts=("access_keys",),
)
def user_no_keys(user: IamUser, ctx: CheckContext) -> Outcome:
    active = [k for k in need(user, "access_keys") if k.active]
    if not active:
        return passed("the user has no active access keys")
    allowed = _allowed_key_user(user, _settings(ctx))
    evidence = {
        "active_keys": len(active),
        "created": [k.created.isoformat() if k.created else None for k in active],
    }
    if allowed is not None:
        return passed(
            f"the user has {len(active)} active access key(s); allowed by "
            f"iam.access_key_users_allowed ({allowed!r})",
            **evidence,
        )
    return failed(
        f"the user has {len(active)} active long-term access key(s); use an IAM role (instance profile, "
        "IAM Roles Anywhere, OIDC federation) and delete the keys",
        **evidence,
    )


@check(
    "iam_user_access_keys_rotated",
    IamUser,
    title="Active access keys are younger than the maximum age",
    facts=("access_keys",),
)
def keys_rotated(user: IamUser, ctx: CheckContext) -> Outcome:
    active = [k for k in need(user, "access_keys") if k.active]
    if not active:
        return not_applicable("the user has no active access keys")
    limit = _settings(ctx).access_key_max_age_days
    undated = [k for k in active if k.created is None]
    old = [
        (k, _days(ctx, k.created)) for k in active if k.created is not None and _days(ctx, k.created) > limit
    ]
    if old:
        ages = ", ".join(
            f"access key {k.key_id or ''} is {age} days old".replace("  ", " ") for k, age in old
        )
        return failed(
            f"{ages} (iam.access_key_max_age_days is {limit}); create a new key, switch to it, "
            "deactivate and delete the old one",
            ages=[age for _, age in old],
        )
    if undated:
        return unknown("the creation date of an active access key is not known")
    return passed(f"every active access key is at most {limit} days old")


# ---- IAM-05: password policy ----------------------------------------------------------------


@check(
    "iam_password_policy_strong",
    AwsAccount,
    title="The password policy meets the thresholds",
    facts=("password_policy", "password_policy_present"),
)
def password_policy(account: AwsAccount, ctx: CheckContext) -> Outcome:
    present = need(account, "password_policy_present")
    if not present:
        return failed(
            "the account has no IAM password policy (AWS defaults apply: 8 characters, no rules); set one"
        )
    policy = need(account, "password_policy")
    s = _settings(ctx)
    gaps = []
    if (policy.minimum_length or 0) < s.password_min_length:
        gaps.append(f"MinimumPasswordLength is {policy.minimum_length} (needs >= {s.password_min_length})")
    for flag, needed, name in (
        (policy.require_symbols, s.password_require_symbols, "RequireSymbols"),
        (policy.require_numbers, s.password_require_numbers, "RequireNumbers"),
        (policy.require_uppercase, s.password_require_uppercase, "RequireUppercaseCharacters"),
        (policy.require_lowercase, s.password_require_lowercase, "RequireLowercaseCharacters"),
    ):
        if needed and not flag:
            gaps.append(f"{name} is off")
    if s.password_max_age_days is not None and (
        policy.max_age_days is None or policy.max_age_days > s.password_max_age_days
    ):
        gaps.append(
            f"MaxPasswordAge is {policy.max_age_days or 'unset'} (needs <= {s.password_max_age_days})"
        )
    if (policy.reuse_prevention or 0) < s.password_reuse_prevention:
        gaps.append(
            f"PasswordReusePrevention is {policy.reuse_prevention or 'unset'} (needs >= "
            f"{s.password_reuse_prevention})"
        )
    if gaps:
        return failed(
            "the password policy is weaker than required: " + "; ".join(gaps), **policy.model_dump()
        )
    return passed("the password policy meets every threshold in iam settings", **policy.model_dump())


# ---- IAM-07: Access Analyzer ------------------------------------------------------------------


@check(
    "iam_access_analyzer_enabled",
    AwsRegion,
    title="IAM Access Analyzer (external access) is active in the region",
    facts=("access_analyzer",),
)
def access_analyzer(region: AwsRegion, ctx: CheckContext) -> Outcome:
    facts = need(region, "access_analyzer")
    if facts.analyzer_names:
        return passed(
            f"active external-access analyzer(s) in {region.name}: {', '.join(facts.analyzer_names)}"
        )
    return failed(
        f"no active IAM Access Analyzer of type ACCOUNT or ORGANIZATION in {region.name}; "
        f"create one (aws accessanalyzer create-analyzer --type ACCOUNT --region {region.name})"
    )
