"""The normalized resource model every source fills and every check reads.

A fact is a typed field. ``None`` always means *unknown*: the source could not see it (an IaC
template does not declare the account-wide public access block; a denied API call hid it). A
fact that is known to be absent has an explicit value instead (an empty policy, ``False``).
Why a fact is unknown is kept in ``unknown`` (the source could not see it -> UNKNOWN finding)
or ``errors`` (collection failed -> ERROR finding with the AWS error code).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class SourceKind(str, Enum):
    AWS = "aws"
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"
    TERRAFORM_PLAN = "terraform-plan"
    AWS_CONFIG = "aws-config"


class SourceRef(BaseModel):
    """Where a resource was read from: an account, or a file and line range."""

    model_config = ConfigDict(frozen=True)

    kind: SourceKind
    file: str | None = None
    line_start: int | None = None
    line_end: int | None = None
    address: str | None = None  # CloudFormation logical ID or Terraform address

    def location(self) -> str:
        if self.file is None:
            return self.kind.value
        if self.line_start is None:
            return self.file
        if self.line_end and self.line_end != self.line_start:
            return f"{self.file}:{self.line_start}-{self.line_end}"
        return f"{self.file}:{self.line_start}"


class CollectionError(BaseModel):
    """A failed read, kept so that what depends on it becomes an ERROR finding, not a guess."""

    model_config = ConfigDict(frozen=True)

    service: str
    operation: str
    code: str
    message: str = ""
    region: str | None = None
    account_id: str | None = None
    resource_types: tuple[str, ...] = ()  # resource types this failure leaves unseen (whole listing failed)
    resource_id: str | None = None

    def describe(self) -> str:
        where = f" in {self.region}" if self.region else ""
        return f"{self.service}:{self.operation}{where} failed with {self.code}" + (
            f" ({self.message})" if self.message else ""
        )


class Resource(BaseModel):
    """Base of all normalized resources. Subclasses set ``resource_type`` (CloudFormation name)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    resource_type: ClassVar[str] = ""

    id: str  # ARN where one exists, else the most specific identifier the source has
    name: str
    account_id: str | None = None
    region: str | None = None  # None for global resources (IAM, CloudFront)
    tags: dict[str, str] = Field(default_factory=dict)
    source: SourceRef = SourceRef(kind=SourceKind.AWS)
    unknown: dict[str, str] = Field(default_factory=dict)  # fact -> why the source cannot see it
    errors: dict[str, CollectionError] = Field(default_factory=dict)  # fact -> failed read
    suppressions: dict[str, str] = Field(default_factory=dict)  # control ID -> reason (inline IaC skips)

    @property
    def type_name(self) -> str:
        return type(self).resource_type

    def mark_unknown(self, fact: str, why: str) -> None:
        self.unknown[fact] = why

    def mark_error(self, fact: str, error: CollectionError) -> None:
        self.errors[fact] = error

    def display(self) -> str:
        return self.source.address or self.name or self.id

    def evidence(self, *facts: str) -> dict[str, Any]:
        """The values of some facts, JSON-ready, for a finding's evidence."""
        out: dict[str, Any] = {}
        for fact in facts:
            value = getattr(self, fact, None)
            out[fact] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        return out
