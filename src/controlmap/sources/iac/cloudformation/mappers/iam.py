"""IAM users, groups, roles and customer managed policies, with the separate resources that attach
policies to them (AWS::IAM::Policy, ManagedPolicy, UserToGroupAddition, AccessKey, Role/User/GroupPolicy).

A template cannot enrol MFA devices or show when keys were last used: those facts stay unknown.
"""

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
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.iac.aws_managed import managed_policy_document
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, primary
from controlmap.sources.iac.cloudformation.mappers._common import note_name, tags
from controlmap.sources.iac.common import IacError, ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, policy_document, unknown

_Principal = IamUser | IamGroup | IamRole


def document(
    value: Any, where: str, line: int | None, build: CfnBuild | None = None
) -> PolicyDocument | None:
    """A policy document from a template value; None when the whole document is computed."""
    if isinstance(value, Unresolved):
        return None
    if build is not None:
        value = build.concrete(value)
    try:
        return policy_document(value)
    except PolicyParseError as exc:
        raise IacError(f"{where} is not a valid policy: {exc}", line=line) from None


def _inline(item: CfnItem, build: CfnBuild, model: _Principal) -> None:
    policies = item.props.get("Policies")
    if isinstance(policies, Unresolved):
        unknown(model, "inline_policies", "Policies", policies)
        return
    out = []
    for index, entry in enumerate(as_list(policies), start=1):
        if not isinstance(entry, dict):
            continue
        name = entry.get("PolicyName")
        out.append(
            InlinePolicy(
                name=name if isinstance(name, str) else f"policy {index}",
                document=document(
                    entry.get("PolicyDocument"), f"Policies[{index - 1}]", item.raw.line_start, build
                ),
            )
        )
    model.inline_policies = out


def _managed(item: CfnItem, build: CfnBuild, model: _Principal) -> None:
    arns = item.props.get("ManagedPolicyArns")
    if isinstance(arns, Unresolved):
        unknown(model, "attached_policies", "ManagedPolicyArns", arns)
        return
    attached = []
    for value in as_list(arns):
        policy = build.target(value, IamManagedPolicy) if isinstance(value, ResourceRef) else None
        if policy is not None:
            attached.append(AttachedPolicy(arn=policy.id, name=policy.name, document=policy.document))
        elif isinstance(value, str):
            known = managed_policy_document(value)
            attached.append(
                AttachedPolicy(
                    arn=value, name=value.rsplit("/", 1)[-1], document=parse_policy(known) if known else None
                )
            )
        else:
            label = str(value.depends_on if isinstance(value, Unresolved) else value)
            attached.append(AttachedPolicy(arn=f"(computed: {label})", name=label, document=None))
    model.attached_policies = attached


def _name(item: CfnItem, prop: str) -> str:
    value = item.props.get(prop)
    return value if isinstance(value, str) else item.logical_id


@primary("AWS::IAM::ManagedPolicy")
def managed_policy(item: CfnItem, build: CfnBuild) -> list[Resource]:
    targets = [
        *as_list(item.props.get("Roles")),
        *as_list(item.props.get("Users")),
        *as_list(item.props.get("Groups")),
    ]
    model = IamManagedPolicy(
        id=build.resource_id(item.logical_id),
        name=_name(item, "ManagedPolicyName"),
        source=item.source,
        document=document(item.props.get("PolicyDocument"), "PolicyDocument", item.raw.line_start, build),
        attachment_count=len(targets),
    )
    if model.document is None:
        unknown(model, "document", "PolicyDocument", item.props.get("PolicyDocument") or "a computed value")
    return [model]


@primary("AWS::IAM::Role")
def role(item: CfnItem, build: CfnBuild) -> list[Resource]:
    path = item.props.get("Path")
    model = IamRole(
        id=build.resource_id(item.logical_id),
        name=_name(item, "RoleName"),
        tags=tags(item),
        source=item.source,
        service_linked=isinstance(path, str) and path.startswith("/aws-service-role/"),
    )
    note_name(model, item, "RoleName")
    trust = item.props.get("AssumeRolePolicyDocument")
    model.trust_policy = document(trust, "AssumeRolePolicyDocument", item.raw.line_start, build)
    if model.trust_policy is None:
        unknown(
            model, "trust_policy", "AssumeRolePolicyDocument", trust if isinstance(trust, Unresolved) else ""
        )
    model.unknown["last_used"] = "when a role was last used is only known in the account"
    _inline(item, build, model)
    _managed(item, build, model)
    return [model]


@primary("AWS::IAM::User")
def user(item: CfnItem, build: CfnBuild) -> list[Resource]:
    model = IamUser(
        id=build.resource_id(item.logical_id),
        name=_name(item, "UserName"),
        tags=tags(item),
        source=item.source,
        console_access=item.props.get("LoginProfile") is not None,
        access_keys=[],
    )
    note_name(model, item, "UserName")
    model.unknown["mfa_active"] = "MFA devices are enrolled by the user after the template is deployed"
    model.unknown["hardware_mfa"] = model.unknown["mfa_active"]
    model.unknown["password_last_used"] = "sign-in activity is only known in the account"
    groups = item.props.get("Groups")
    if first_unresolved(groups) is not None:
        unknown(model, "groups", "Groups", first_unresolved(groups) or "")
    else:
        model.groups = [_group_name(g, build) for g in as_list(groups)]
    _inline(item, build, model)
    _managed(item, build, model)
    return [model]


@primary("AWS::IAM::Group")
def group(item: CfnItem, build: CfnBuild) -> list[Resource]:
    model = IamGroup(
        id=build.resource_id(item.logical_id), name=_name(item, "GroupName"), source=item.source, members=[]
    )
    note_name(model, item, "GroupName")
    _inline(item, build, model)
    _managed(item, build, model)
    return [model]


def _group_name(value: Any, build: CfnBuild) -> str:
    if isinstance(value, ResourceRef):
        found = build.target(value, IamGroup)
        return found.name if found is not None else str(value)
    return str(value)


def _principals(item: CfnItem, build: CfnBuild) -> list[tuple[_Principal, str | None]]:
    """The principals a policy names, each with why it may not be one of them (it names its
    principals through a value the scan cannot know) or None."""
    found: list[tuple[_Principal, str | None]] = []
    kinds: tuple[tuple[str, type[_Principal]], ...] = (
        ("Roles", IamRole),
        ("Users", IamUser),
        ("Groups", IamGroup),
        ("RoleName", IamRole),
        ("UserName", IamUser),
        ("GroupName", IamGroup),
    )
    for prop, model in kinds:
        if prop not in item.props:
            continue
        values = item.props[prop]
        for value in values if isinstance(values, list) else [values]:
            target = build.target(value, model, "name")
            if target is not None:
                found.append((target, None))
            elif not isinstance(value, ResourceRef):
                found.extend(build.maybe_targets(value, model, item))
    return found


@companion("AWS::IAM::ManagedPolicy")
def attach_managed_policy(item: CfnItem, build: CfnBuild) -> None:
    policy = build.target(ResourceRef(item.logical_id), IamManagedPolicy)
    if policy is None:
        return
    for principal, uncertain in _principals(item, build):
        attached = principal.attached_policies if principal.attached_policies is not None else []
        if not any(a.arn == policy.id for a in attached):
            attached.append(
                AttachedPolicy(arn=policy.id, name=policy.name, document=policy.document, uncertain=uncertain)
            )
        principal.attached_policies = attached


@companion("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy")
def attach_inline_policy(item: CfnItem, build: CfnBuild) -> None:
    name = item.props.get("PolicyName")
    inline = InlinePolicy(
        name=name if isinstance(name, str) else item.logical_id,
        document=document(item.props.get("PolicyDocument"), "PolicyDocument", item.raw.line_start, build),
    )
    for principal, uncertain in _principals(item, build):
        if principal.inline_policies is not None:
            principal.inline_policies.append(inline.model_copy(update={"uncertain": uncertain}))


@companion("AWS::IAM::UserToGroupAddition")
def add_users_to_group(item: CfnItem, build: CfnBuild) -> None:
    group_value = item.props.get("GroupName")
    target_group = build.target(group_value, IamGroup, "name")
    group_name = target_group.name if target_group is not None else _group_name(group_value, build)
    for value in as_list(item.props.get("Users")):
        member = build.link(item, value, IamUser, ("groups",), keep=lambda u: False)
        if member is None:
            continue
        if isinstance(group_value, Unresolved) and target_group is None:
            unknown(member, "groups", f"{item.logical_id}.GroupName", group_value)
            continue
        if member.groups is not None and group_name not in member.groups:
            member.groups.append(group_name)
        if target_group is not None and target_group.members is not None:
            target_group.members.append(member.name)


def _has_active_key(user: IamUser) -> bool:
    return any(k.active for k in user.access_keys or [])


@companion("AWS::IAM::AccessKey")
def access_key(item: CfnItem, build: CfnBuild) -> None:
    owner = build.link(item, item.props.get("UserName"), IamUser, ("access_keys",), keep=_has_active_key)
    if owner is None:
        return
    status = item.props.get("Status", "Active")
    if isinstance(status, Unresolved):
        unknown(owner, "access_keys", f"{item.logical_id}.Status", status)
        return
    if owner.access_keys is not None:
        owner.access_keys.append(AccessKey(key_id=None, active=status != "Inactive", created=None))


@companion("AWS::IAM::User")
def _group_members(item: CfnItem, build: CfnBuild) -> None:
    """Users list their groups; groups learn their members from them."""
    member = build.target(ResourceRef(item.logical_id), IamUser)
    if member is None:
        return
    for value in as_list(item.props.get("Groups")):
        target = build.target(value, IamGroup, "name")
        if target is not None and target.members is not None and member.name not in target.members:
            target.members.append(member.name)
