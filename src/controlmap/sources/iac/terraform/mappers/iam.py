"""IAM in Terraform: users, groups, roles and policies, with the separate resources that attach
policies, keys, login profiles and group memberships."""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.iam import (
    AccessKey,
    AttachedPolicy,
    IamGroup,
    IamManagedPolicy,
    IamRole,
    IamUser,
    InlinePolicy,
)
from controlmap.sources.iac.aws_managed import managed_policy_document
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import as_list, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, primary
from controlmap.sources.iac.terraform.mappers._common import base, block_list
from controlmap.sources.iac.terraform.mappers.s3 import parse_document

_Principal = IamUser | IamGroup | IamRole


def _name(item: TfItem) -> Any:
    return item.get("name")


def _inline_blocks(item: TfItem, model: _Principal) -> None:
    blocks = block_list(item, "inline_policy")
    if isinstance(blocks, Unresolved):
        unknown(model, "inline_policies", "inline_policy", blocks)
        return
    model.inline_policies = [
        InlinePolicy(
            name=str(b.get("name") or f"policy {i}"),
            document=parse_document(b.get("policy"), "inline_policy.policy", item.source.line_start),
        )
        for i, b in enumerate(blocks, start=1)
        if b.get("policy") is not None
    ]


def _attached(value: Any, build: TfBuild, item: TfItem) -> AttachedPolicy:
    policy = (
        build.target(value, IamManagedPolicy, "name", item)
        if not isinstance(value, str) or not value.startswith("arn:aws:iam::aws:")
        else None
    )
    if policy is not None:
        return AttachedPolicy(arn=policy.id, name=policy.name, document=policy.document)
    if isinstance(value, str):
        known = managed_policy_document(value)
        document = parse_document(known, "policy_arn", item.source.line_start) if known else None
        return AttachedPolicy(arn=value, name=value.rsplit("/", 1)[-1], document=document)
    label = str(
        value.address
        if isinstance(value, ResourceRef)
        else value.depends_on
        if isinstance(value, Unresolved)
        else value
    )
    return AttachedPolicy(arn=f"(computed: {label})", name=label, document=None)


@primary("aws_iam_policy")
def managed_policy(item: TfItem, build: TfBuild) -> list[Resource]:
    model = IamManagedPolicy(**base(item, build, _name(item)), attachment_count=0)
    model.document = parse_document(item.get("policy"), "policy", item.source.line_start)
    if model.document is None:
        unknown(
            model,
            "document",
            "policy",
            item.get("policy") if isinstance(item.get("policy"), Unresolved) else "a value known after apply",
        )
    return [model]


@primary("aws_iam_role")
def role(item: TfItem, build: TfBuild) -> list[Resource]:
    path = item.get("path")
    model = IamRole(
        **base(item, build, _name(item)),
        service_linked=isinstance(path, str) and path.startswith("/aws-service-role/"),
    )
    model.trust_policy = parse_document(
        item.get("assume_role_policy"), "assume_role_policy", item.source.line_start
    )
    if model.trust_policy is None:
        unknown(model, "trust_policy", "assume_role_policy", "a value known after apply")
    model.unknown["last_used"] = "when a role was last used is only known in the account"
    _inline_blocks(item, model)
    arns = item.get("managed_policy_arns")
    if isinstance(arns, Unresolved):
        unknown(model, "attached_policies", "managed_policy_arns", arns)
    else:
        model.attached_policies = [_attached(v, build, item) for v in as_list(arns)]
    return [model]


@primary("aws_iam_user")
def user(item: TfItem, build: TfBuild) -> list[Resource]:
    model = IamUser(
        **base(item, build, _name(item)),
        console_access=False,
        access_keys=[],
        groups=[],
        inline_policies=[],
        attached_policies=[],
    )
    model.unknown["mfa_active"] = "MFA devices are enrolled by the user after apply"
    model.unknown["hardware_mfa"] = model.unknown["mfa_active"]
    model.unknown["password_last_used"] = "sign-in activity is only known in the account"
    return [model]


@primary("aws_iam_group")
def group(item: TfItem, build: TfBuild) -> list[Resource]:
    return [IamGroup(**base(item, build, _name(item)), members=[], inline_policies=[], attached_policies=[])]


_OWNER: dict[str, tuple[str, type[_Principal]]] = {
    "aws_iam_role_policy": ("role", IamRole),
    "aws_iam_user_policy": ("user", IamUser),
    "aws_iam_group_policy": ("group", IamGroup),
    "aws_iam_role_policy_attachment": ("role", IamRole),
    "aws_iam_user_policy_attachment": ("user", IamUser),
    "aws_iam_group_policy_attachment": ("group", IamGroup),
}


def _owners(
    value: Any, model: type[_Principal], build: TfBuild, item: TfItem
) -> list[tuple[_Principal, str | None]]:
    """The principal a policy, key or membership belongs to, or (it names it through a value the
    scan cannot know) each principal it may belong to, with why it is not certain."""
    found: _Principal | None = build.target(value, model, "name", item)
    if found is not None:
        return [(found, None)]
    return list(build.maybe_targets(value, model, item))


@companion("aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy")
def inline_policy(item: TfItem, build: TfBuild) -> None:
    key, model = _OWNER[item.type]
    owners = _owners(item.get(key), model, build, item)
    if not owners:
        return
    document = parse_document(item.get("policy"), "policy", item.source.line_start)
    for owner, uncertain in owners:
        inline = InlinePolicy(
            name=str(item.get("name") or item.address), document=document, uncertain=uncertain
        )
        owner.inline_policies = [*(owner.inline_policies or []), inline]


@companion(
    "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"
)
def attachment(item: TfItem, build: TfBuild) -> None:
    key, model = _OWNER[item.type]
    owners = _owners(item.get(key), model, build, item)
    if not owners:
        return
    attached = _attached(item.get("policy_arn"), build, item)
    for owner, uncertain in owners:
        entry = attached.model_copy(update={"uncertain": uncertain})
        owner.attached_policies = [*(owner.attached_policies or []), entry]
        if uncertain is None:
            _count_attachment(attached, build)


def _count_attachment(attached: AttachedPolicy, build: TfBuild) -> None:
    for policy in build.all(IamManagedPolicy):
        if policy.id == attached.arn and policy.attachment_count is not None:
            policy.attachment_count += 1


@companion("aws_iam_policy_attachment")
def exclusive_attachment(item: TfItem, build: TfBuild) -> None:
    attached = _attached(item.get("policy_arn"), build, item)
    kinds: tuple[tuple[str, type[_Principal]], ...] = (
        ("users", IamUser),
        ("roles", IamRole),
        ("groups", IamGroup),
    )
    for key, model in kinds:
        values = item.get(key)
        for value in values if isinstance(values, list) else [values] if values is not None else []:
            for owner, uncertain in _owners(value, model, build, item):
                entry = attached.model_copy(update={"uncertain": uncertain})
                owner.attached_policies = [*(owner.attached_policies or []), entry]
                if uncertain is None:
                    _count_attachment(attached, build)


def _has_active_key(user: IamUser) -> bool:
    return any(k.active for k in user.access_keys or [])


@companion("aws_iam_access_key")
def access_key(item: TfItem, build: TfBuild) -> None:
    owner = build.link(item, item.get("user"), IamUser, ("access_keys",), keep=_has_active_key)
    if owner is None:
        return
    status = item.get("status", "Active")
    if isinstance(status, Unresolved):
        unknown(owner, "access_keys", f"{item.address}.status", status)
        return
    if owner.access_keys is None:
        return  # already unknown
    owner.access_keys = [
        *owner.access_keys,
        AccessKey(key_id=None, active=status != "Inactive", created=None),
    ]


@companion("aws_iam_user_login_profile")
def login_profile(item: TfItem, build: TfBuild) -> None:
    owner = build.link(
        item, item.get("user"), IamUser, ("console_access",), keep=lambda u: u.console_access is True
    )
    if owner is not None:
        owner.console_access = True


@companion("aws_iam_user_group_membership", "aws_iam_group_membership")
def membership(item: TfItem, build: TfBuild) -> None:
    if item.type == "aws_iam_user_group_membership":
        pairs = [(item.get("user"), g) for g in as_list(item.get("groups"))]
    else:
        pairs = [(u, item.get("group")) for u in as_list(item.get("users"))]
    for user_value, group_value in pairs:
        member = build.link(item, user_value, IamUser, ("groups",), keep=lambda u: False)
        team = build.target(group_value, IamGroup, "name", item)
        if member is not None and team is None and not isinstance(group_value, str):
            unknown(
                member,
                "groups",
                f"{item.address} groups",
                group_value if isinstance(group_value, Unresolved) else "a computed value",
            )
            continue
        group_name = (
            team.name if team is not None else (group_value if isinstance(group_value, str) else None)
        )
        if (
            member is not None
            and group_name
            and member.groups is not None
            and group_name not in member.groups
        ):
            member.groups.append(group_name)
        if team is not None and member is not None and team.members is not None:
            team.members.append(member.name)
