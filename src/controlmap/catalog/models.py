"""Typed model of the controls catalog: what a control is, independent of where it is checked.

The catalog files (``catalog/data/controls/*.yaml``) are validated against these models; an
organisation's own files use the very same schema, so adding a control never needs Python.
"""

from __future__ import annotations

import re
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONTROL_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")

# Framework keys always carry their edition: an ISO 27001 reference without the edition is
# ambiguous (A.8.2 means different things in 2013 and 2022), so the schema refuses it.
ISO27001_2022 = "iso27001:2022"
ISO27001_2013 = "iso27001:2013"
SOC2_2017 = "soc2:2017"
KNOWN_FRAMEWORKS = (ISO27001_2022, SOC2_2017)


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"

    @property
    def rank(self) -> int:
        """Higher is more severe; used for sorting and ``--fail-on`` thresholds."""
        return _SEVERITY_RANK[self]

    @property
    def label(self) -> str:
        return self.value.capitalize()


_SEVERITY_RANK = {
    Severity.INFORMATIONAL: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Scope(str, Enum):
    """What one evaluation of the control is about."""

    RESOURCE = "resource"  # each resource of the listed types
    REGION = "region"  # a setting that exists once per account and region
    ACCOUNT = "account"  # a setting that exists once per account


class Automation(str, Enum):
    FULL = "full"  # checks decide the whole control
    PARTIAL = "partial"  # checks decide part; the rest needs attestation
    MANUAL = "manual"  # AWS does not show it: an auditor must attest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Remediation(_Strict):
    summary: str
    console: list[str] = Field(default_factory=list)
    cli: str | None = None
    cloudformation: str | None = None
    terraform: str | None = None


class AsPublished(_Strict):
    """The seed's original citation, kept verbatim so an auditor can trace every correction."""

    severity: str | None = None
    iso27001: str | None = None
    soc2: str | None = None
    summary_tier: str | None = None  # the tier the seed's summary tables put the control in


class Equivalents(_Strict):
    security_hub: list[str] = Field(default_factory=list)
    config_rules: list[str] = Field(default_factory=list)
    cis_aws_v3: list[str] = Field(default_factory=list)


class Control(_Strict):
    id: str
    service: str
    title: str
    severity: Severity
    description: str
    rationale: str
    scope: Scope = Scope.RESOURCE
    resource_types: list[str] = Field(default_factory=list)
    references: dict[str, list[str]] = Field(default_factory=dict)
    as_published: AsPublished | None = None
    corrections: list[str] = Field(default_factory=list)
    remediation: Remediation
    equivalents: Equivalents = Field(default_factory=Equivalents)
    automation: Automation = Automation.FULL
    attestation: str | None = None  # what an auditor must attest for the part checks cannot see
    checks: list[str] = Field(default_factory=list)
    custom: bool = False  # set by the loader for controls from an organisation's own files

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not CONTROL_ID_RE.fullmatch(value):
            raise ValueError(f"control id {value!r} must look like S3-01 or ORG-S3-10 (upper case, dashes)")
        return value

    @field_validator("references")
    @classmethod
    def _framework_keys(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key in value:
            if ":" not in key:
                raise ValueError(
                    f"framework key {key!r} must name its edition, e.g. {ISO27001_2022!r} or {SOC2_2017!r}"
                )
        return value

    @property
    def iso27001(self) -> list[str]:
        return list(self.references.get(ISO27001_2022, []))

    @property
    def soc2(self) -> list[str]:
        return list(self.references.get(SOC2_2017, []))

    @property
    def is_automated(self) -> bool:
        return bool(self.checks)


class ResourceType(_Strict):
    """One AWS resource type under the three names users meet.

    ``id`` is the canonical name, in CloudFormation style; it equals the CloudFormation type where
    one exists. Some things controls care about have no CloudFormation type (an EBS snapshot, an
    AMI, the account itself); they keep a CloudFormation-style ``id`` and ``cloudformation: null``.
    """

    id: str
    cloudformation: str | None = None
    # CloudFormation types that only configure this resource (AWS::S3::BucketPolicy for a bucket)
    # and SAM types that deploy it (AWS::Serverless::Function): a template author meets them too.
    cloudformation_also: list[str] = Field(default_factory=list)
    terraform: list[str] = Field(default_factory=list)
    config: str | None = None
    service: str
    title: str
    description: str = ""
    pseudo: bool = False  # an account or region setting, not a deployable resource

    def names(self) -> list[str]:
        names = [self.id]
        if self.cloudformation and self.cloudformation != self.id:
            names.append(self.cloudformation)
        names += self.cloudformation_also
        names += self.terraform
        if self.config and self.config not in names:
            names.append(self.config)
        return names


class ServiceFile(_Strict):
    """One catalog file: the controls of one AWS service.

    An organisation's file may also define the resource types its controls are about when the
    built-in ``resource-types.yaml`` has none (``AWS::SQS::Queue``): extending the standard to
    another AWS resource needs no change to controlmap itself.
    """

    service: str
    name: str
    description: str = ""
    resource_types: list[ResourceType] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)  # a file may only define resource types


MAX_WINDOW_DAYS = 3650  # ten years: anything longer is a typo, not a remediation plan


class TierWindow(_Strict):
    """Days after a control is found failing: work starts by ``start_days``, ends by ``end_days``."""

    # Strict: YAML ``true`` is not a number of days.
    start_days: int = Field(ge=0, le=MAX_WINDOW_DAYS, strict=True)
    end_days: int = Field(gt=0, le=MAX_WINDOW_DAYS, strict=True)

    @model_validator(mode="after")
    def _end_after_start(self) -> TierWindow:
        if self.end_days <= self.start_days:
            raise ValueError(f"end_days ({self.end_days}) must be after start_days ({self.start_days})")
        return self


class FrameworkRequirement(_Strict):
    id: str
    title: str
    group: str = ""


class Framework(_Strict):
    key: str  # e.g. "iso27001:2022"
    name: str
    requirements: list[FrameworkRequirement]

    def ids(self) -> set[str]:
        return {r.id for r in self.requirements}
