"""Turn a resolved template into normalized resource models.

Mappers are registered per CloudFormation type. *Primary* mappers build models
(``AWS::S3::Bucket`` -> ``S3Bucket``); *companion* mappers add what a separate resource declares
to a model built before (``AWS::S3::BucketPolicy`` -> the bucket's policy), the way AWS joins
them; *finishers* run last to settle defaults that depend on companions (no bucket policy at
all means an empty policy, not an unknown one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from controlmap.resources.base import Resource, SourceKind, SourceRef
from controlmap.sources.iac.cloudformation.intrinsics import Resolver
from controlmap.sources.iac.cloudformation.template import CfnResource, Template
from controlmap.sources.iac.common import IacError, IacProblem, ResourceRef, Unresolved
from controlmap.sources.iac.companions import Linker, Links

R = TypeVar("R", bound=Resource)
log = logging.getLogger(__name__)


@dataclass
class CfnItem:
    """One template resource with its properties resolved for the current variant."""

    logical_id: str
    type: str
    props: dict[str, Any]
    raw: CfnResource
    source: SourceRef


PrimaryMapper = Callable[[CfnItem, "CfnBuild"], list[Resource]]
CompanionMapper = Callable[[CfnItem, "CfnBuild"], None]
Finisher = Callable[["CfnBuild"], None]

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


def _address(logical_id: str, raw: CfnResource) -> str:
    """The logical ID, with the construct path for CDK-synthesized templates (what CDK users know)."""
    path = raw.metadata.get("aws:cdk:path")
    return f"{logical_id} ({path})" if isinstance(path, str) and path else logical_id


class CfnBuild(Linker):
    """The state of building one variant of one template."""

    def __init__(self, template: Template, resolver: Resolver, file: str):
        self.template = template
        self.resolver = resolver
        self.file = file
        self.models: dict[str, list[Resource]] = {}  # logical id -> models built from it
        self.problems: list[IacProblem] = []
        self.items: dict[str, CfnItem] = {}
        self.links = Links()

    # ---- identity --------------------------------------------------------------------------
    def resource_id(self, logical_id: str, suffix: str = "") -> str:
        return f"{self.file}#{logical_id}{suffix}"

    def name_of(self, item: CfnItem, name_property: str) -> str:
        value = item.props.get(name_property)
        return value if isinstance(value, str) else item.logical_id

    # ---- lookups -----------------------------------------------------------------------------
    def physical(self, value: Any) -> Any:
        """A reference's deploy-time value when the template fixes it (a literal bucket name)."""
        if isinstance(value, ResourceRef):
            return self.resolver.physical_value(value)
        return value

    def concrete(self, value: Any, _depth: int = 0) -> Any:
        """``value`` with every reference replaced by its deploy-time value or a stand-in."""
        if isinstance(value, ResourceRef):
            return self.resolver.physical_value(value)
        if _depth > 40:
            return value
        if isinstance(value, dict):
            return {k: self.concrete(v, _depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.concrete(v, _depth + 1) for v in value]
        return value

    def target(self, value: Any, model: type[R], name_field: str | None = None) -> R | None:
        """The model a value points at: by reference (``!Ref Bucket``) or by a literal name or ARN."""
        if isinstance(value, ResourceRef):
            for built in self.models.get(value.address, []):
                if isinstance(built, model):
                    return built
            return None
        if isinstance(value, str) and name_field is not None:
            for built_list in self.models.values():
                for built in built_list:
                    if isinstance(built, model) and value in (getattr(built, name_field, None), built.id):
                        return built
        return None

    def find(self, item: CfnItem, value: Any, model: type[R], name_field: str | None) -> R | None:
        return self.target(value, model, name_field)

    def who(self, item: CfnItem) -> str:
        return item.logical_id

    def all(self, model: type[R]) -> list[R]:
        return [m for models in self.models.values() for m in models if isinstance(m, model)]

    # ---- running -------------------------------------------------------------------------------
    def run(self) -> list[Resource]:
        active: list[CfnItem] = []
        for logical_id, raw in self.template.resources.items():
            if raw.condition is not None:
                present = self.resolver.condition(raw.condition)
                if present is False:
                    continue
            try:
                props = self.resolver.resolve(raw.properties)
            except IacError as exc:
                line = exc.line or raw.line_start
                self.problems.append(IacProblem(self.file, f"{logical_id}: {exc.message}", line, exc.code))
                continue
            if isinstance(props, Unresolved) or not isinstance(props, dict):
                props = {}
            source = SourceRef(
                kind=SourceKind.CLOUDFORMATION,
                file=self.file,
                line_start=raw.line_start,
                line_end=raw.line_end,
                address=_address(logical_id, raw),
            )
            item = CfnItem(logical_id, raw.type, props, raw, source)
            self.items[logical_id] = item
            active.append(item)
        for item in active:
            mapper = PRIMARY.get(item.type)
            if mapper is not None:
                self._guard(item, self._primary, mapper)
        for item in active:
            mapper_c = COMPANION.get(item.type)
            if mapper_c is not None:
                self._guard(item, mapper_c)
        self.links.settle()
        for finish in FINISHERS:
            finish(self)
        return [m for models in self.models.values() for m in models]

    def _primary(self, item: CfnItem, _build: CfnBuild, mapper: PrimaryMapper) -> None:
        self.models.setdefault(item.logical_id, []).extend(mapper(item, self))

    def _guard(self, item: CfnItem, action: Callable[..., Any], *args: Any) -> None:
        try:
            action(item, self, *args)
        except IacError as exc:
            self.problems.append(
                IacProblem(
                    self.file, f"{item.logical_id}: {exc.message}", exc.line or item.raw.line_start, exc.code
                )
            )
        except Exception as exc:  # a mapper defect costs one resource, not the whole file
            log.debug("mapping %s failed", item.logical_id, exc_info=True)
            self.problems.append(
                IacProblem(
                    self.file,
                    f"{item.logical_id}: internal error while reading it: {type(exc).__name__}: {exc}",
                    item.raw.line_start,
                    "internal",
                )
            )
