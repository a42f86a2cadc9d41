"""IAM users, groups, roles and customer managed policies, normalized.

Policies are kept as parsed documents beside the principal that holds them: an attached managed
policy carries its document (``None`` when the source cannot see it, e.g. an AWS managed policy
named in a template), so a check on a user needs nothing but the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import CollectionError, Resource
from controlmap.resources.policy import PolicyDocument


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InlinePolicy(_Facts):
    name: str
    document: PolicyDocument | None = None
    # Why the source cannot tell whether the policy belongs to this principal (an IaC policy
    # naming its role through a variable): it may, so it is judged as a policy that cannot be read.
    uncertain: str | None = None


class AttachedPolicy(_Facts):
    arn: str
    name: str
    document: PolicyDocument | None = None  # the default version; None if not visible
    error: CollectionError | None = None  # why the document is missing, when reading it failed
    uncertain: str | None = None  # see InlinePolicy.uncertain

    @property
    def aws_managed(self) -> bool:
        return ":iam::aws:policy/" in self.arn


class AccessKey(_Facts):
    """A long-term access key (credential report slots 1 and 2 have no key ID)."""

    key_id: str | None = None
    active: bool
    created: datetime | None = None  # creation or last rotation
    last_used: datetime | None = None


class _Principal(Resource):
    inline_policies: list[InlinePolicy] | None = None
    attached_policies: list[AttachedPolicy] | None = None

    def policy_documents(self) -> list[tuple[str, PolicyDocument | None]]:
        """(label, document) for every policy this principal holds directly. A policy that may or
        may not be its own, and a list of policies the source could not see, come with no
        document: the checks treat them as policies they cannot read."""
        out: list[tuple[str, PolicyDocument | None]] = []
        for fact, what in (("inline_policies", "inline policies"), ("attached_policies", "managed policies")):
            if getattr(self, fact) is None:
                why = self.unknown.get(fact) or (
                    self.errors[fact].describe() if fact in self.errors else None
                )
                if why is not None:
                    out.append((f"its {what} ({why})", None))
        for inline in self.inline_policies or []:
            if inline.uncertain:
                out.append((f"inline policy {inline.name} ({inline.uncertain})", None))
            else:
                out.append((f"inline policy {inline.name}", inline.document))
        for attached in self.attached_policies or []:
            if attached.uncertain:
                out.append((f"managed policy {attached.arn} ({attached.uncertain})", None))
            else:
                out.append((f"managed policy {attached.arn}", attached.document))
        return out

    def policy_read_errors(self) -> dict[str, CollectionError]:
        """label -> failed read, for the attached policies whose document could not be read."""
        return {
            f"managed policy {a.arn}": a.error for a in self.attached_policies or [] if a.error is not None
        }


class IamUser(_Principal):
    resource_type: ClassVar[str] = "AWS::IAM::User"

    created: datetime | None = None
    console_access: bool | None = None  # has a console password
    password_last_used: datetime | None = None
    mfa_active: bool | None = None
    hardware_mfa: bool | None = None  # an MFA device that is not a virtual one (hardware token, FIDO)
    access_keys: list[AccessKey] | None = None
    groups: list[str] | None = None  # group names


class IamGroup(_Principal):
    resource_type: ClassVar[str] = "AWS::IAM::Group"

    members: list[str] | None = None


class IamRole(_Principal):
    resource_type: ClassVar[str] = "AWS::IAM::Role"

    trust_policy: PolicyDocument | None = None
    service_linked: bool | None = None  # path /aws-service-role/: AWS owns its policies
    last_used: datetime | None = None


class IamManagedPolicy(Resource):
    """A customer managed policy (AWS managed ones are not resources of the account)."""

    resource_type: ClassVar[str] = "AWS::IAM::ManagedPolicy"

    document: PolicyDocument | None = None
    attachment_count: int | None = None
