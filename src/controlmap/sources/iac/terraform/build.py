"""Turn Terraform resource instances (from HCL or from a plan) into normalized resource models.

Both readers hand over ``TfItem``s whose attributes have the shape of a plan's ``values``:
arguments as values, nested blocks as lists of mappings. Mappers are registered per Terraform
type; *companions* (the AWS provider v4+ split S3 resources, separate security group rules,
policy attachments) add to a model built before, found by reference, by name or through a
module output. *Finishers* settle what depends on every companion having run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from controlmap.resources.base import Resource, SourceRef
from controlmap.sources.iac.common import IacError, IacProblem, ResourceRef, Unresolved
from controlmap.sources.iac.companions import Linker, Links

R = TypeVar("R", bound=Resource)
log = logging.getLogger(__name__)


@dataclass
class TfItem:
    address: str
    type: str
    attrs: dict[str, Any]
    source: SourceRef
    skips: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.attrs.get(name)
        return default if value is None else value

    def block(self, name: str) -> dict[str, Any] | Unresolved | None:
        """The first nested block ``name`` (blocks are lists of mappings)."""
        value = self.attrs.get(name)
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, list) and value and isinstance(value[0], dict):
            if "__unresolved__" in value[0]:
                unresolved: Unresolved = value[0]["__unresolved__"]
                return unresolved
            return value[0]
        if isinstance(value, dict):
            return value
        return None

    @property
    def index_suffix(self) -> str:
        match = re.search(r"(\[[^\]]*\])$", self.address)
        return match.group(1) if match else ""

    @property
    def module_prefix(self) -> str:
        """``module.m.`` for ``module.m.aws_s3_bucket.b``; empty at the root."""
        parts = self.address.rsplit(".", 2)
        head = self.address[: -len(".".join(parts[-2:]))] if len(parts) == 3 else ""
        return head if head.startswith("module.") else ""


PrimaryMapper = Callable[[TfItem, "TfBuild"], list[Resource]]
CompanionMapper = Callable[[TfItem, "TfBuild"], None]
Finisher = Callable[["TfBuild"], None]

PRIMARY: dict[str, PrimaryMapper] = {}
COMPANION: dict[str, CompanionMapper] = {}
FINISHERS: list[Finisher] = []


def primary(*types: str) -> Callable[[PrimaryMapper], PrimaryMapper]:
    def decorate(func: PrimaryMapper) -> PrimaryMapper:
        for t in types:
            PRIMARY[t] = func
        return func

    return decorate


def companion(*types: str) -> Callable[[CompanionMapper], CompanionMapper]:
    def decorate(func: CompanionMapper) -> CompanionMapper:
        for t in types:
            COMPANION[t] = func
        return func

    return decorate


def finisher(func: Finisher) -> Finisher:
    FINISHERS.append(func)
    return func


# build.notes key: the addresses of resources a plan keeps or updates in place (they exist already).
EXISTING = "existing"


class TfBuild(Linker):
    def __init__(self, unit: str, items: list[TfItem], region: str | None = None):
        self.unit = unit
        self.items = items
        self.region = region
        self.models: dict[str, list[Resource]] = {}
        self.problems: list[IacProblem] = []
        self.notes: dict[str, Any] = {}
        self.links = Links()
        self.declared = self.links.declared

    def resource_id(self, address: str) -> str:
        return f"{self.unit}#{address}"

    def all(self, model: type[R]) -> list[R]:
        return [m for models in self.models.values() for m in models if isinstance(m, model)]

    def target(
        self, value: Any, model: type[R], name_field: str | None = "name", item: TfItem | None = None
    ) -> R | None:
        """The model a value points at: a reference, a stand-in name, or a literal name/ARN."""
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, ResourceRef):
            candidates = [value.address]
            if item is not None and not value.address.endswith("]"):
                candidates.append(value.address + item.index_suffix)
                if item.module_prefix and not value.address.startswith("module."):
                    candidates.append(item.module_prefix + value.address + item.index_suffix)
                    candidates.append(item.module_prefix + value.address)
            for address in candidates:
                for built in self.models.get(address, []):
                    if isinstance(built, model):
                        return built
            return None
        if isinstance(value, Unresolved):
            value = value.placeholder
        if isinstance(value, str) and value:
            for built in self.all(model):
                if value == built.id or (name_field and value == getattr(built, name_field, None)):
                    return built
                if value.startswith("arn:") and getattr(built, "arn", None) == value:
                    return built
        return None

    def find(self, item: TfItem, value: Any, model: type[R], name_field: str | None) -> R | None:
        return self.target(value, model, name_field, item)

    def who(self, item: TfItem) -> str:
        return str(item.address)

    def run(self) -> list[Resource]:
        for item in self.items:
            mapper = PRIMARY.get(item.type)
            if mapper is not None:
                self._guard(item, self._primary, mapper)
        for item in self.items:
            mapper_c = COMPANION.get(item.type)
            if mapper_c is not None:
                self._guard(item, mapper_c)
        self.links.settle()
        for finish in FINISHERS:
            finish(self)
        for item in self.items:
            for model in self.models.get(item.address, []):
                model.suppressions.update(item.skips)
        return [m for models in self.models.values() for m in models]

    def _primary(self, item: TfItem, _build: TfBuild, mapper: PrimaryMapper) -> None:
        self.models.setdefault(item.address, []).extend(mapper(item, self))

    def _guard(self, item: TfItem, action: Callable[..., Any], *args: Any) -> None:
        try:
            action(item, self, *args)
        except IacError as exc:
            self.problems.append(
                IacProblem(
                    item.source.file or self.unit,
                    f"{item.address}: {exc.message}",
                    exc.line or item.source.line_start,
                    exc.code,
                )
            )
        except Exception as exc:  # a mapper defect costs one resource, not the whole file
            log.debug("mapping %s failed", item.address, exc_info=True)
            self.problems.append(
                IacProblem(
                    item.source.file or self.unit,
                    f"{item.address}: internal error while reading it: {type(exc).__name__}: {exc}",
                    item.source.line_start,
                    "internal",
                )
            )
