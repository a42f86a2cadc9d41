"""What every mapper shares: the registry, the context, and how a resource is identified."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from controlmap.checks.registry import Inventory
from controlmap.resources.base import Resource, SourceKind, SourceRef
from controlmap.sources.config.items import ConfigItem

R = TypeVar("R", bound=Resource)


@dataclass
class Coverage:
    """Whether the data can show that a resource type is absent in an account and region.

    A configuration item proves a resource exists; no item proves nothing unless the recorder
    records the type. A live read knows the recorder's recording group (``recorded``); a file
    only shows which types it holds (``present``): one item of a type for an account and region
    is taken as evidence that the type is recorded there.
    """

    # (account, region) -> resource types recorded; a key missing: the recording group is unknown.
    recorded: dict[tuple[str | None, str | None], frozenset[str]] = field(default_factory=dict)
    present: set[tuple[str, str | None, str | None]] = field(default_factory=set)

    def knows_absence(self, resource_type: str, account: str | None, region: str | None) -> bool:
        group = self.recorded.get((account, region))
        if group is not None and resource_type in group:
            return True
        return (resource_type, account, region) in self.present

    def knows_absence_in_account(self, resource_type: str, account: str | None) -> bool:
        """Whether the type is recorded (or present) somewhere in the account."""
        if (resource_type, account, None) in self.present:
            return True
        return any(
            resource_type in group for (acct, _region), group in self.recorded.items() if acct == account
        )

    def why_unknown_in_account(self, resource_type: str, account: str | None) -> str:
        if any(acct == account for acct, _region in self.recorded):
            return (
                f"no configuration recorder of account {account or '?'} records {resource_type}; "
                "add the type to the recording group or run `controlmap scan aws`"
            )
        return self.why_unknown(resource_type, account, None)

    def why_unknown(self, resource_type: str, account: str | None, region: str | None) -> str:
        where = f"{account or '?'}/{region or 'global'}"
        group = self.recorded.get((account, region))
        if group is not None:
            return (
                f"the configuration recorder in {where} does not record {resource_type}; "
                "add the type to its recording group or run `controlmap scan aws`"
            )
        return (
            f"the data holds no {resource_type} configuration items for {where}, and whether the "
            f"recorder records that type is not known; include {resource_type} items (or read with "
            "--from-aws, which checks the recording group)"
        )


@dataclass
class MapContext:
    items: dict[str, list[ConfigItem]]  # resource type -> latest existing items
    coverage: Coverage
    # (model resource type, fact) -> control IDs whose checks read that fact (for reasons)
    controls_for: Callable[[str, str], list[str]] = lambda _type, _fact: []
    settings: Any = None  # controlmap.settings.Settings, for mappers that classify (Lambda environments)

    def of_type(self, resource_type: str) -> list[ConfigItem]:
        return self.items.get(resource_type, [])

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
