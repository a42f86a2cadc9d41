"""IAM users, groups, roles and customer managed policies, from their configuration items.

Config records each principal's inline policies and attached managed policies (documents
URL-encoded), a role's trust policy, and every customer managed policy with its versions. It
does not record the credential report (console passwords, MFA devices, access keys and their
use) or AWS managed policies: an attached AWS managed policy's document comes from the few the
IaC source knows by heart, else it stays unknown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from controlmap.checks.registry import Inventory
from controlmap.resources.base import Resource
from controlmap.resources.iam import (
    AttachedPolicy,
    IamGroup,
    IamManagedPolicy,
    IamRole,
    IamUser,
    InlinePolicy,
)
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem, parse_time
from controlmap.sources.config.mappers._base import MapContext, base, finisher, mapper
from controlmap.sources.iac.aws_managed import managed_policy_document

CREDENTIAL_REPORT = "the IAM credential report (console passwords, MFA devices, access keys)"
USER_CREDENTIAL_FACTS = ("console_access", "password_last_used", "mfa_active", "hardware_mfa", "access_keys")


def document(raw: Any) -> PolicyDocument | None:
    """A policy document as Config records it: URL-encoded JSON text (or already an object)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if not text.startswith("{"):
            text = unquote(text)
        raw = text
    try:
        return parse_policy(raw)
    except PolicyParseError:
        return None  # unreadable is unknown, never "no statements"


def _inline(items: list[Any] | None) -> list[InlinePolicy]:
    return [
        InlinePolicy(name=str(p.get("policyName") or "?"), document=document(p.get("policyDocument")))
        for p in items or []
        if isinstance(p, dict)
    ]


def _attached(items: list[Any] | None) -> list[AttachedPolicy]:
    out = []
    for p in items or []:
        if isinstance(p, dict) and p.get("policyArn"):
            arn = str(p["policyArn"])
            out.append(AttachedPolicy(arn=arn, name=str(p.get("policyName") or arn.rsplit("/", 1)[-1])))
    return out


@mapper("AWS::IAM::User")
def user(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    model = IamUser(
        **base(item, name=config.get("userName"), id=config.get("arn") or item.arn),
        created=parse_time(config.get("createDate")),
        inline_policies=_inline(config.get("userPolicyList")),
        attached_policies=_attached(config.get("attachedManagedPolicies")),
        groups=[str(g) for g in config.get("groupList") or []],
    )
    ctx.not_recorded(model, USER_CREDENTIAL_FACTS, CREDENTIAL_REPORT)
    return [model]


@mapper("AWS::IAM::Group")
def group(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    return [
        IamGroup(
            **base(item, name=config.get("groupName"), id=config.get("arn") or item.arn),
            inline_policies=_inline(config.get("groupPolicyList")),
            attached_policies=_attached(config.get("attachedManagedPolicies")),
        )
    ]


@mapper("AWS::IAM::Role")
def role(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    last_used = config.get("roleLastUsed")
    model = IamRole(
        **base(item, name=config.get("roleName"), id=config.get("arn") or item.arn),
        inline_policies=_inline(config.get("rolePolicyList")),
        attached_policies=_attached(config.get("attachedManagedPolicies")),
        trust_policy=document(config.get("assumeRolePolicyDocument")),
        service_linked=str(config.get("path") or "/").startswith("/aws-service-role/"),
        last_used=parse_time(last_used.get("lastUsedDate")) if isinstance(last_used, dict) else None,
    )
    if model.trust_policy is None:
        model.mark_unknown("trust_policy", "the recorded trust policy is missing or unreadable")
    return [model]


@mapper("AWS::IAM::Policy")
def managed_policy(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    default = config.get("defaultVersionId")
    versions = [v for v in config.get("policyVersionList") or [] if isinstance(v, dict)]
    chosen = next(
        (
            v
            for v in versions
            if v.get("isDefaultVersion") is True or (default and v.get("versionId") == default)
        ),
        None,
    )
    model = IamManagedPolicy(
        **base(item, name=config.get("policyName"), id=config.get("arn") or item.arn),
        document=document(chosen.get("document")) if chosen else None,
        attachment_count=config.get("attachmentCount"),
    )
    if model.document is None:
        model.mark_unknown("document", "the item records no readable default policy version")
    return [model]


@finisher
def join_iam(inventory: Inventory, ctx: MapContext) -> None:
    """Attached policies get their documents; groups get their members from the users' group lists."""
    documents: dict[str, PolicyDocument | None] = {
        p.id: p.document for p in inventory.of_type(IamManagedPolicy)
    }
    principals: list[IamUser | IamGroup | IamRole] = [
        *inventory.of_type(IamUser),
        *inventory.of_type(IamGroup),
        *inventory.of_type(IamRole),
    ]
    for principal in principals:
        for attached in principal.attached_policies or []:
            if attached.arn in documents:
                attached.document = documents[attached.arn]
            elif attached.aws_managed:
                known = managed_policy_document(attached.arn)
                attached.document = parse_policy(known) if known is not None else None
    users = inventory.of_type(IamUser)
    for group in inventory.of_type(IamGroup):
        if ctx.coverage.knows_absence(IamUser.resource_type, group.account_id, None):
            group.members = sorted(
                u.name for u in users if group.name in (u.groups or []) and u.account_id == group.account_id
            )
        else:
            group.mark_unknown("members", ctx.coverage.why_unknown("AWS::IAM::User", group.account_id, None))
