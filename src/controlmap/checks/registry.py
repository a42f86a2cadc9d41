"""Checks: small pure functions over normalized resources, registered by ID.

A check never calls AWS or reads a file; it reads facts from a resource (and, through the
context, from other resources of the same inventory and from the settings). The catalog says
which checks serve which control, so an organisation's own control can reuse any check.

Writing a check::

    @check("s3_bucket_versioning_enabled", S3Bucket, title="Bucket versioning is enabled")
    def versioning(bucket: S3Bucket, ctx: CheckContext) -> Outcome:
        state = need(bucket, "versioning")      # UNKNOWN / ERROR outcome if the fact is missing
        if state == "Enabled":
            return passed("versioning is Enabled")
        return failed(f"versioning is {state}; set VersioningConfiguration.Status to Enabled")
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from controlmap.resources.base import Resource, SourceKind


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    MANUAL = "MANUAL"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    UNKNOWN = "UNKNOWN"
    ERROR = "ERROR"
    # Set after evaluation, never by a check:
    EXCEPTED = "EXCEPTED"  # an approved exception covers this failure
    SUPPRESSED = "SUPPRESSED"  # an inline IaC suppression with a reason covers this failure


@dataclass(frozen=True)
class Outcome:
    """One verdict of a check about one resource (or about one part of it)."""

    status: Status
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # When a check speaks about a sub-part (one cache behavior, one statement), name it here.
    detail_id: str | None = None
    error_code: str | None = None


def passed(reason: str, **evidence: Any) -> Outcome:
    return Outcome(Status.PASS, reason, evidence)


def failed(reason: str, **evidence: Any) -> Outcome:
    return Outcome(Status.FAIL, reason, evidence)


def not_applicable(reason: str, **evidence: Any) -> Outcome:
    return Outcome(Status.NOT_APPLICABLE, reason, evidence)


def manual(reason: str, **evidence: Any) -> Outcome:
    return Outcome(Status.MANUAL, reason, evidence)


def unknown(reason: str, **evidence: Any) -> Outcome:
    return Outcome(Status.UNKNOWN, reason, evidence)


class FactUnavailable(Exception):
    """Raised by ``need`` when a fact is unknown; the engine turns it into UNKNOWN or ERROR."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        super().__init__(outcome.reason)


def need(resource: Resource, fact: str) -> Any:
    """Return a fact's value, or stop the check with UNKNOWN (not visible) or ERROR (read failed)."""
    value = getattr(resource, fact)
    if value is not None:
        return value
    raise FactUnavailable(unavailable(resource, fact))


def stop_if_unknown(resource: Resource, fact: str) -> None:
    """Stop with UNKNOWN (or ERROR) when the source marked ``fact`` unknown, for facts whose
    ``None`` otherwise means "not set" (a launch template without HttpTokens). ``fact`` may name
    a part of a fact (``environment.kms_key_arn``) a source could not see while it saw the rest."""
    if fact in resource.errors or fact in resource.unknown:
        raise FactUnavailable(unavailable(resource, fact))


def unavailable(resource: Resource, fact: str) -> Outcome:
    """The outcome for a fact that is None: ERROR if its read failed, else UNKNOWN with why."""
    if fact in resource.errors:
        err = resource.errors[fact]
        return Outcome(Status.ERROR, f"{fact} could not be read: {err.describe()}", {}, None, err.code)
    why = resource.unknown.get(fact) or f"{fact} {_NOT_SEEN[resource.source.kind]}"
    return Outcome(Status.UNKNOWN, why)


# Why a fact is missing when its source gave no reason of its own (sources normally do).
_NOT_SEEN = {
    SourceKind.AWS: "was not collected",
    SourceKind.AWS_CONFIG: "is not in the AWS Config item",
    SourceKind.CLOUDFORMATION: "is not declared in the template",
    SourceKind.TERRAFORM: "is not declared in the template",
    SourceKind.TERRAFORM_PLAN: "is not declared in the template",
}


R = TypeVar("R", bound=Resource)
CheckFunc = Callable[[Any, "CheckContext"], "Outcome | Iterable[Outcome]"]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    resource_type: str  # CloudFormation name of the resource model the check reads
    model: type[Resource]
    func: CheckFunc
    title: str
    uses: tuple[str, ...] = ()  # other resource types it reads through the context
    facts: tuple[str, ...] = ()  # facts it reads; collectors use this to skip unneeded calls


_REGISTRY: dict[str, CheckSpec] = {}


def check(
    check_id: str,
    model: type[R],
    *,
    title: str,
    uses: Iterable[type[Resource]] = (),
    facts: Iterable[str] = (),
) -> Callable[[Callable[[R, CheckContext], Outcome | Iterable[Outcome]]], Callable[..., Any]]:
    """Register a check function under ``check_id`` for resources of ``model``."""

    def decorate(func: Callable[[R, CheckContext], Outcome | Iterable[Outcome]]) -> Callable[..., Any]:
        if check_id in _REGISTRY and _REGISTRY[check_id].func is not func:
            raise ValueError(f"check id {check_id!r} is registered twice")
        _REGISTRY[check_id] = CheckSpec(
            id=check_id,
            resource_type=model.resource_type,
            model=model,
            func=func,
            title=title,
            uses=tuple(u.resource_type for u in uses),
            facts=tuple(facts),
        )
        return func

    return decorate


def registry() -> dict[str, CheckSpec]:
    """All registered checks (importing controlmap.checks registers the built-in ones)."""
    import controlmap.checks  # noqa: F401  (side effect: registers built-in checks)

    return dict(_REGISTRY)


class Inventory:
    """All resources a scan (of any source) produced, plus the reads that failed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # collectors add from many threads
        self._by_type: dict[str, list[Resource]] = {}
        self._by_id: dict[str, Resource] = {}
        # Checks look up related resources per resource (an instance's security groups, a
        # bucket's keys): scoped lists and keyed indexes keep that linear in the inventory.
        self._scoped: dict[tuple[str, str | None, str | None], list[Resource]] = {}
        self._indexes: dict[tuple[str, str, str | None, str | None], dict[Any, Resource]] = {}
        self.errors: list[Any] = []  # CollectionError for whole listings that failed
        self.api_calls: dict[str, int] = {}
        self.accounts: set[str] = set()
        self.regions: set[str] = set()

    def add(self, resource: Resource) -> None:
        with self._lock:
            self._scoped.clear()  # lookups are built lazily after collection; adding invalidates them
            self._indexes.clear()
            self._by_type.setdefault(resource.type_name, []).append(resource)
            self._by_id[resource.id] = resource
            if resource.account_id:
                self.accounts.add(resource.account_id)
            if resource.region:
                self.regions.add(resource.region)

    def add_error(self, error: Any) -> None:
        with self._lock:
            self.errors.append(error)

    def extend(self, resources: Iterable[Resource]) -> None:
        for resource in resources:
            self.add(resource)

    def of_type(self, model: type[R], *, account_id: str | None = None, region: str | None = None) -> list[R]:
        items = self._by_type.get(model.resource_type, [])
        if account_id is None and region is None:
            return list(items)  # type: ignore[arg-type]
        key = (model.resource_type, account_id, region)
        scoped = self._scoped.get(key)
        if scoped is None:
            scoped = [
                r
                for r in items
                if (account_id is None or r.account_id == account_id)
                and (region is None or r.region == region)
            ]
            self._scoped[key] = scoped
        return list(scoped)  # type: ignore[arg-type]

    def index(
        self, model: type[R], attribute: str, *, account_id: str | None = None, region: str | None = None
    ) -> dict[Any, R]:
        """Resources of a type keyed by one attribute (e.g. security groups by ``group_id``), cached."""
        key = (model.resource_type, attribute, account_id, region)
        found = self._indexes.get(key)
        if found is None:
            found = {
                getattr(r, attribute): r for r in self.of_type(model, account_id=account_id, region=region)
            }
            self._indexes[key] = found
        return found  # type: ignore[return-value]

    def by_id(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id)

    def all(self) -> Iterator[Resource]:
        for items in self._by_type.values():
            yield from items

    def types(self) -> set[str]:
        return set(self._by_type)

    def __len__(self) -> int:
        return len(self._by_id)


@dataclass
class CheckContext:
    """What a check may read besides its resource: the inventory, the settings and the clock."""

    inventory: Inventory
    settings: Any  # controlmap.settings.Settings (Any to keep this module import-light)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def config(self, model: type[BaseModel], section: str) -> Any:
        """A typed settings section (e.g. ``ctx.config(IamSettings, "iam")``)."""
        return self.settings.section(section, model)
