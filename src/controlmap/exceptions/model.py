"""The exceptions file: approved, expiring deviations from a control, reviewed like code.

Example (``exceptions.yaml``)::

    exceptions:
      - id: EX-2026-014
        control: S3-01                       # or `check: s3_bucket_public_access_blocked`
        resources:                           # every criterion given must match
          arn: "arn:aws:s3:::public-website-*"   # glob; a list is allowed
          account: "111122223333"
          region: eu-west-1
          tags: {Purpose: public-website}
        justification: Static website content is public by design; CloudFront serves it.
        approved_by: Jane Doe (CISO)
        approved_on: 2026-11-02
        expires: 2027-05-01
        ticket: https://jira.example.com/browse/SEC-123
"""

from __future__ import annotations

import re
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from controlmap.findings.model import Finding

MAX_DURATION_DAYS = 366  # longer approvals are allowed but flagged by `exceptions validate`
_ACCOUNT = re.compile(r"^\d{12}$")


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


class ResourceSelector(BaseModel):
    """Which resources an exception covers. Patterns are shell globs (``*``, ``?``, ``[...]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arn: list[str] = Field(default_factory=list)  # matched against the finding's resource ID / ARN
    account: list[str] = Field(default_factory=list)
    region: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)  # key -> value glob; all must match

    _lists = field_validator("arn", "region", mode="before")(_as_list)

    @field_validator("account", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        """Account IDs are twelve digits, matched exactly. YAML reads an unquoted 012345678901 as
        the number 12345678901: the leading zero is gone and the entry would never match."""
        items = value if isinstance(value, list) else [value] if value is not None else []
        for item in items:
            if isinstance(item, int) and not isinstance(item, bool) and len(str(item)) != 12:
                raise ValueError(
                    f"account {item} is not a 12-digit account ID: YAML read it as a number and dropped "
                    "its leading zeros; quote account IDs (account: '012345678901')"
                )
            scalar = isinstance(item, (str, int)) and not isinstance(item, bool)
            if scalar and not _ACCOUNT.fullmatch(str(item)):
                raise ValueError(f"account {item!r} is not a 12-digit AWS account ID")
        return _as_list(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ResourceSelector:
        if not (self.arn or self.account or self.region or self.tags):
            raise ValueError(
                "the resource selector is empty: give arn, account, region or tags "
                "(use arn: '*' to cover every resource on purpose)"
            )
        return self

    def matches(self, finding: Finding) -> bool:
        if self.arn and not any(fnmatchcase(finding.resource_id, p) for p in self.arn):
            return False
        if self.account and (finding.account_id or "") not in self.account:
            return False
        if self.region and not any(fnmatchcase(finding.region or "global", p) for p in self.region):
            return False
        for key, pattern in self.tags.items():
            value = finding.tags.get(key)
            if value is None or not fnmatchcase(value, pattern):
                return False
        return True


class ExceptionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    control: str | None = None
    check: str | None = None
    resources: ResourceSelector
    justification: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_on: date
    expires: date
    ticket: str | None = None
    # Where the entry was written; set by the loader, used in messages.
    file: str | None = Field(default=None, exclude=True)
    line: int | None = Field(default=None, exclude=True)

    @field_validator("justification", "approved_by")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("control")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else value

    @model_validator(mode="after")
    def _consistent(self) -> ExceptionEntry:
        if not self.control and not self.check:
            raise ValueError(
                "name the control (control: S3-01) or the check (check: ...) this exception covers"
            )
        if self.expires <= self.approved_on:
            raise ValueError(f"expires ({self.expires}) must be after approved_on ({self.approved_on})")
        return self

    @property
    def label(self) -> str:
        name = self.id or f"{self.control or self.check}"
        return f"{name} ({self.file}:{self.line})" if self.file and self.line else name

    def is_expired(self, today: date) -> bool:
        """An exception is valid through its expiry date and stops applying the day after."""
        return today > self.expires

    def covers(self, finding: Finding) -> bool:
        if self.control and finding.control_id.upper() != self.control:
            return False
        if self.check and finding.check_id != self.check:
            return False
        return self.resources.matches(finding)

    def approval(self, original_status: str) -> dict[str, Any]:
        """What a finding carries in ``Finding.exception`` once this entry applies."""
        return {
            "kind": "approved",
            "id": self.id,
            "control": self.control,
            "check": self.check,
            "justification": self.justification,
            "approved_by": self.approved_by,
            "approved_on": self.approved_on.isoformat(),
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
            "original_status": original_status,
            "source": f"{self.file}:{self.line}" if self.file else None,
        }


class ExceptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exceptions: list[ExceptionEntry] = Field(default_factory=list)

    @field_validator("exceptions", mode="before")
    @classmethod
    def _none_yet(cls, value: Any) -> Any:
        """``exceptions:`` with nothing under it (a new file, every entry since removed) is an
        empty list, not an error that would stop every scan."""
        return [] if value is None else value
