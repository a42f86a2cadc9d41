"""What every mapper shares: the registry, the context, and how a resource is identified."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from controlmap.checks.registry import Inventory
from controlmap.resources.base import Resource, SourceKind, SourceRef
from controlmap.sources.config.coverage import Coverage
from controlmap.sources.config.items import ConfigItem, ItemProblem

R = TypeVar("R", bound=Resource)


@dataclass
class MapContext:
    items: dict[str, list[ConfigItem]]  # resource type -> latest existing items
    coverage: Coverage
    # (model resource type, fact) -> control IDs whose checks read that fact (for reasons)
    controls_for: Callable[[str, str], list[str]] = lambda _type, _fact: []
    settings: Any = None  # controlmap.settings.Settings, for mappers that classify (Lambda environments)
    problems: list[ItemProblem] = field(default_factory=list)

    def of_type(self, resource_type: str) -> list[ConfigItem]:
        return self.items.get(resource_type, [])

    def item_failed(self, item: ConfigItem, message: str) -> None:
        """An item that could not be read: reported by file, index and resource, and its type is
        then never taken as absent in its account and region (a missing flow log, say, would
        otherwise fail its VPC)."""
        self.problems.append(
            ItemProblem(
                item.origin,
                message,
                item.index,
                item.resource_id,
                resource_type=item.resource_type,
                account_id=item.account_id,
                region=item.region,
            )
        )
        self.coverage.fail(item.resource_type, item.account_id, item.region, f"{item.where()}: {message}")

    def not_recorded(self, resource: Resource, facts: Iterable[str], what: str) -> None:
        """Mark facts unknown because AWS Config does not record them, naming the live scan's controls."""
        for fact in facts:
            if getattr(resource, fact, None) is not None:
                continue
            controls = self.controls_for(resource.type_name, fact)
            run = "run `controlmap scan aws`" + (f" for {', '.join(controls)}" if controls else "")
            resource.mark_unknown(fact, f"AWS Config does not record {what}; {run}")


Mapper = Callable[[ConfigItem, MapContext], list[Resource]]
Finisher = Callable[[Inventory, MapContext], None]

_MAPPERS: dict[str, Mapper] = {}
_FINISHERS: list[Finisher] = []


def mapper(*config_types: str) -> Callable[[Mapper], Mapper]:
    def decorate(func: Mapper) -> Mapper:
        for config_type in config_types:
            _MAPPERS[config_type] = func
        return func

    return decorate


def finisher(func: Finisher) -> Finisher:
    _FINISHERS.append(func)
    return func


def mapper_for(config_type: str) -> Mapper | None:
    return _MAPPERS.get(config_type)


def mapped_types() -> list[str]:
    return sorted(_MAPPERS)


def finishers() -> list[Finisher]:
    return list(_FINISHERS)


def base(item: ConfigItem, *, name: str | None = None, id: str | None = None) -> dict[str, Any]:
    """The identity fields of a resource built from an item."""
    return {
        "id": id or item.arn or item.resource_id,
        "name": name or item.resource_name or item.resource_id,
        "account_id": item.account_id,
        "region": item.region,
        "tags": dict(item.tags or {}),
        "source": source_ref(item),
    }


def source_ref(item: ConfigItem) -> SourceRef:
    from_file = not item.origin.startswith("aws-config")
    return SourceRef(kind=SourceKind.AWS_CONFIG, file=item.origin if from_file else None)


def identify(resource: R, item: ConfigItem) -> R:
    """Give a resource built by a live collector's parser the item's identity and source."""
    resource.source = source_ref(item)
    if item.tags is not None:
        resource.tags = dict(item.tags)
    if item.account_id:
        resource.account_id = item.account_id
    return resource
