"""KMS checks (KMS-01, 02, 03, 05; KMS-04 reads trails and lives in ``cloudtrail.py``)."""

from __future__ import annotations

from datetime import timedelta
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict

from controlmap.checks.policy import (
    could_be,
    doubt,
    principals_doubt,
    principals_granted,
    public_doubt,
    public_grants,
    wildcard_match,
)
from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    check,
    failed,
    manual,
    need,
    not_applicable,
    passed,
    stop_if_unknown,
    unavailable,
    unknown,
)
from controlmap.resources.iam import IamManagedPolicy
from controlmap.resources.kms import KmsKey
from controlmap.resources.policy import OWN_ACCOUNT
from controlmap.settings import register_section


class KmsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # KMS-03: principals allowed to administer keys (ARN patterns, fnmatch). Empty: list the
    # administrators for an auditor (MANUAL) instead of judging them.
    allowed_key_administrators: list[str] = []
    # The account principal (arn:aws:iam::<account>:root) in a key policy delegates to IAM.
    allow_account_root: bool = True
    min_deletion_window_days: int = 30
    imported_material_expiry_warning_days: int = 30


register_section("kms", KmsSettings)

# What the console's "key administrators" statement grants and key users do not get. Not
# kms:CreateGrant/RevokeGrant: the default policy gives those to key users for AWS services.
ADMIN_ACTIONS = (
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKeyRotation",
    "kms:UpdateKeyDescription",
    "kms:UpdateAlias",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ImportKeyMaterial",
    "kms:DeleteImportedKeyMaterial",
)


def _customer_key(key: KmsKey) -> Outcome | None:
    """NOT_APPLICABLE for keys AWS manages; None for customer managed keys."""
    manager = need(key, "key_manager")
    if manager != "CUSTOMER":
        return not_applicable(
            "AWS managed key: AWS owns its policy, rotates it every year and never deletes it"
        )
    return None


def _settings(ctx: CheckContext) -> KmsSettings:
    return ctx.config(KmsSettings, "kms")


@check(
    "kms_key_rotation_enabled",
    KmsKey,
    title="Automatic rotation is on for customer managed symmetric keys",
    facts=("key_manager", "key_state", "key_spec", "origin", "rotation_enabled"),
)
def rotation(key: KmsKey, ctx: CheckContext) -> Outcome:
    if (na := _customer_key(key)) is not None:
        return na
    spec, origin, state = need(key, "key_spec"), need(key, "origin"), need(key, "key_state")
    if spec != "SYMMETRIC_DEFAULT":
        return not_applicable(f"{spec} keys do not support automatic rotation")
    if origin != "AWS_KMS":
        what = "imported key material" if origin == "EXTERNAL" else f"origin {origin}"
        return not_applicable(f"automatic rotation is not available for {what}; rotate manually")
    if state != "Enabled":
        return not_applicable(f"the key is {state}")
    if need(key, "rotation_enabled"):
        period = f" every {key.rotation_period_days} days" if key.rotation_period_days else ""
        return passed(f"automatic key rotation is on{period}")
    return failed("automatic key rotation is off; enable it (aws kms enable-key-rotation)")


@check(
    "kms_key_policy_no_public_access",
    KmsKey,
    title="The key policy grants nothing to everyone",
    facts=("key_manager", "policy"),
)
def policy_not_public(key: KmsKey, ctx: CheckContext) -> Outcome:
    if (na := _customer_key(key)) is not None:
        return na
    policy = need(key, "policy")
    grants = public_grants(policy, action_filter=["kms:*"])
    undecided = public_doubt(policy, grants, action_filter=["kms:*"])
    if undecided:
        return unknown(f"whether the key policy grants KMS actions to everyone depends on {undecided}")
    if grants:
        return failed(
            "; ".join(g.describe() for g in grants) + " with no restricting condition (kms:CallerAccount, "
            "aws:PrincipalOrgID…); name the principals",
            grants=[g.evidence() for g in grants],
        )
    return passed("no key policy statement grants KMS actions to everyone")


def _account_root(key: KmsKey, principal: str) -> bool:
    """The key's own account (``arn:aws:iam::<account>:root`` or the bare account id).

    A source that cannot know the account number writes it as ``OWN_ACCOUNT``.
    """
    account = key.account_id or OWN_ACCOUNT
    return principal in (f"arn:aws:iam::{account}:root", account)


@check(
    "kms_key_policy_no_wildcard_grants",
    KmsKey,
    title="The key policy grants kms:* only to the account",
    facts=("key_manager", "policy"),
)
def policy_no_wildcards(key: KmsKey, ctx: CheckContext) -> Outcome:
    if (na := _customer_key(key)) is not None:
        return na
    wide = []
    policy = need(key, "policy")
    for statement, principals in principals_granted(policy, ["kms:*"]):
        if statement.not_actions is not None:
            broad = True
        else:
            broad = any(a.strip().lower() in ("*", "kms:*") for a in statement.actions)
        others = [p for p in principals if not _account_root(key, p)]
        if broad and others:
            wide.append(f"{statement.label} grants kms:* to {', '.join(others)}")
    if wide:
        return failed("; ".join(wide) + "; grant only the actions each principal uses", statements=wide)
    undecided = principals_doubt(policy, ["kms:*"])
    if undecided:
        return unknown(f"who is granted kms:* depends on {undecided}")
    return passed("kms:* is granted to no principal but the account itself")


@check(
    "kms_key_administrators_allowed",
    KmsKey,
    title="Only allowed principals administer the key",
    facts=("key_manager", "policy"),
)
def administrators(key: KmsKey, ctx: CheckContext) -> Outcome:
    if (na := _customer_key(key)) is not None:
        return na
    settings = _settings(ctx)
    admins: dict[str, list[int]] = {}
    policy = need(key, "policy")
    for statement, principals in principals_granted(policy, ADMIN_ACTIONS):
        for principal in principals:
            admins.setdefault(principal, []).append(statement.index)
    if settings.allow_account_root:
        admins = {p: s for p, s in admins.items() if not _account_root(key, p)}
    undecided = principals_doubt(policy, ADMIN_ACTIONS)
    everyone = [p for p in admins if p == "*" or p.split(":")[4:5] == ["*"]]
    if everyone:
        return failed(f"key administration is granted to {', '.join(everyone)}; name the administrators")
    if undecided and not (admins and settings.allowed_key_administrators):
        return unknown(f"who can administer the key depends on {undecided}")
    if not admins:
        return passed("no principal other than the account (IAM policies decide) can administer the key")
    names = sorted(admins)
    if not settings.allowed_key_administrators:
        return manual(
            f"key administrators: {', '.join(names)}; confirm each has a business need, or list the allowed "
            "ones in kms.allowed_key_administrators (controlmap.yaml) to check this automatically",
            administrators=names,
        )
    extra = [p for p in names if not any(fnmatchcase(p, pat) for pat in settings.allowed_key_administrators)]
    if extra:
        return failed(
            f"{', '.join(extra)} can administer the key but are not in "
            "kms.allowed_key_administrators; remove "
            "their administrative permissions from the key policy",
            not_allowed=extra,
        )
    if undecided:
        return unknown(
            f"the key administrators named are allowed ({', '.join(names)}), but who else can administer "
            f"the key depends on {undecided}"
        )
    return passed(f"every key administrator is allowed: {', '.join(names)}", administrators=names)


@check(
    "kms_key_deletion_window",
    KmsKey,
    title="A scheduled deletion keeps the minimum waiting period",
    facts=("key_manager", "key_state", "deletion_window_days", "deletion_date"),
)
def deletion_window(key: KmsKey, ctx: CheckContext) -> Outcome:
    if (na := _customer_key(key)) is not None:
        return na
    minimum = _settings(ctx).min_deletion_window_days
    window = key.deletion_window_days
    pending = key.key_state == "PendingDeletion"
    if window is None:
        if pending and "deletion_window_days" in key.errors:
            return unavailable(key, "deletion_window_days")
        if pending:
            on = f" on {key.deletion_date.date()}" if key.deletion_date else ""
            why = key.unknown.get("deletion_window_days")
            return failed(
                f"the key is scheduled for deletion{on} with a waiting period that is not known"
                + (f" ({why})" if why else "")
                + "; cancel the deletion if the key is still needed",
                deletion_date=key.deletion_date.isoformat() if key.deletion_date else None,
            )
        stop_if_unknown(key, "deletion_window_days")
        need(key, "key_state")
        return passed("the key is not scheduled for deletion")
    when = f" (deletion on {key.deletion_date.date()})" if key.deletion_date else ""
    if window < minimum:
        return failed(
            f"the deletion waiting period is {window} days{when}, below "
            f"kms.min_deletion_window_days ({minimum}); "
            "cancel the deletion and schedule it with a longer window",
            deletion_window_days=window,
        )
    if pending:
        return passed(f"the key is scheduled for deletion with a {window}-day waiting period{when}")
    return passed(f"the deletion waiting period is {window} days")


@check(
    "kms_imported_key_material_expiry",
    KmsKey,
    title="Imported key material does not expire unnoticed",
    facts=("key_manager", "origin", "key_state", "expiration_model", "valid_to"),
)
def imported_material(key: KmsKey, ctx: CheckContext) -> Outcome:
    if (na := _customer_key(key)) is not None:
        return na
    if need(key, "origin") != "EXTERNAL":
        return not_applicable("the key material was not imported")
    if key.key_state == "PendingImport":
        return failed("the imported key material has expired or was deleted (PendingImport); re-import it")
    stop_if_unknown(key, "expiration_model")
    stop_if_unknown(key, "valid_to")
    if key.expiration_model != "KEY_MATERIAL_EXPIRES" or key.valid_to is None:
        return passed("the imported key material does not expire")
    warn = timedelta(days=_settings(ctx).imported_material_expiry_warning_days)
    left = key.valid_to - ctx.now
    if left < warn:
        return failed(
            f"the imported key material expires on {key.valid_to.date()} ({max(left.days, 0)} days left); "
            "re-import it with a later ValidTo and keep a copy of the material",
            valid_to=key.valid_to.isoformat(),
        )
    return passed(
        f"the imported key material expires on {key.valid_to.date()}", valid_to=key.valid_to.isoformat()
    )


DECRYPT_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")


def _any_key(pattern: str) -> bool:
    """Whether a Resource pattern admits any key ID: every key of its account and region, or more
    ("*", "arn:aws:kms:*:*:key/*", "arn:aws:kms:us-east-1:111122223333:key/*", "arn:aws:kms:*")."""
    text = pattern.strip()
    parts = text.split(":", 5)
    if len(parts) < 6:
        return wildcard_match(text, "arn:aws:kms:zz-probe-1:000000000000:key/zz-probe", case_sensitive=True)

    def literal(value: str, probe: str) -> str:
        return probe if "*" in value or "?" in value else value

    probe = ":".join(
        [
            "arn",
            literal(parts[1], "aws"),
            "kms",
            literal(parts[3], "zz-probe-1"),
            literal(parts[4], "000000000000"),
            "key/zz-probe",  # a key ID no pattern names: only a wildcard matches it
        ]
    )
    return wildcard_match(text, probe, case_sensitive=True)


@check(
    "iam_policy_no_kms_decrypt_on_all_keys",
    IamManagedPolicy,
    title="Customer managed policies do not allow decryption with every KMS key",
    facts=("document",),
)
def no_decrypt_all_keys(policy: IamManagedPolicy, ctx: CheckContext) -> Outcome:
    doc = need(policy, "document")
    found = []
    for statement in doc.allows():
        everywhere = statement.not_resources is not None or any(_any_key(r) for r in statement.resources)
        actions = [a for a in DECRYPT_ACTIONS if statement.covers_action(a)]
        if everywhere and actions:
            found.append(f"{statement.label} allows {', '.join(actions)} on Resource *")
    if found:
        return failed(
            "; ".join(found) + "; name the key ARNs the workload decrypts with (Security Hub KMS.1)",
            statements=found,
            attachment_count=policy.attachment_count,
        )
    undecided = doubt(
        [s for s in doc.undecided() if could_be(s, "Allow", actions=list(DECRYPT_ACTIONS), resources=["*"])]
    )
    if undecided:
        return unknown(f"whether the policy allows decryption with every key depends on {undecided}")
    return passed("no statement allows kms:Decrypt or kms:ReEncryptFrom on every key")
