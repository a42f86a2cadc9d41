"""Read configuration items from AWS Config itself, read-only, through controlmap's client factory.

Per region: the configuration recorder's recording group (which types it records: the data can
then show that a recorded type has no resource), ``ListDiscoveredResources`` per mapped type and
``BatchGetResourceConfig`` in batches of 100. With ``--aggregator``, the aggregator's
``ListAggregateDiscoveredResources`` and ``BatchGetAggregateResourceConfig`` cover every source
account and region from one place. Batch answers carry no tags (S3-07 and approved exceptions
select on them), so one advanced query per region (``SelectResourceConfig``, or
``SelectAggregateResourceConfig``) reads the tags of the same resources. Every call goes through
the read-only guard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from controlmap.sources.aws.clients import ClientFactory, ReadOnlyViolation
from controlmap.sources.aws.scanner import resolve_regions
from controlmap.sources.aws.session import SessionOptions, build_session, caller_account
from controlmap.sources.config.casefold import decode_json_text
from controlmap.sources.config.items import ConfigItem, ItemProblem, parse_items, tags_of
from controlmap.sources.config.mappers import mapped_types
from controlmap.sources.config.scan import ConfigData

BATCH = 100  # BatchGet(Aggregate)ResourceConfig takes at most 100 keys
GLOBAL_TYPES = frozenset({"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role", "AWS::IAM::Policy"})

Progress = Callable[[str, int, int], None]


@dataclass
class LiveConfigOptions:
    session: SessionOptions = field(default_factory=SessionOptions)
    regions: Sequence[str] | None = None  # None: the account's enabled regions
    aggregator: str | None = None
    resource_types: Sequence[str] = ()  # empty: every type controlmap maps
    client_hooks: Sequence[Callable[[Any], None]] = ()


class _Reader:
    def __init__(self, factory: ClientFactory, data: ConfigData) -> None:
        self.factory = factory
        self.data = data

    def call(self, region: str, operation: str, **params: Any) -> dict[str, Any] | None:
        client = self.factory.client("config", region)
        try:
            return dict(getattr(client, operation)(**params))
        except ReadOnlyViolation:
            raise
        except ClientError as exc:
            error = exc.response.get("Error", {})
            self.fail(region, operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")))
        except BotoCoreError as exc:
            self.fail(region, operation, type(exc).__name__, str(exc))
        return None

    def fail(self, region: str, operation: str, code: str, message: str) -> None:
        api = self.factory.client("config", region).meta.method_to_api_mapping.get(operation, operation)
        self.data.problems.append(
            ItemProblem(
                f"aws-config:{region}",
                f"config:{api} failed with {code}" + (f" ({message[:200]})" if message else ""),
                code=code,
            )
        )

    def pages(self, region: str, operation: str, key: str, token: str, **params: Any) -> list[Any] | None:
        out: list[Any] = []
        while True:
            page = self.call(region, operation, **params)
            if page is None:
                return None
            out += page.get(key, [])
            if not page.get(token):
                return out
            params[token] = page[token]

    def add(self, raw: list[Any], region: str) -> list[ConfigItem]:
        items, problems = parse_items(raw, f"aws-config:{region}")
        self.data.items += items
        self.data.problems += problems
        return items

    def tags(
        self, region: str, items: list[ConfigItem], types: Sequence[str], aggregator: str | None = None
    ) -> None:
        """Fill the tags batch answers leave out, with one advanced query (paginated)."""
        if not items:
            return
        listed = ", ".join(f"'{t}'" for t in sorted(types))
        expression = (
            f"SELECT resourceId, resourceType, accountId, awsRegion, tags WHERE resourceType IN ({listed})"
        )
        if aggregator:
            rows = self.pages(
                region,
                "select_aggregate_resource_config",
                "Results",
                "NextToken",
                Expression=expression,
                ConfigurationAggregatorName=aggregator,
            )
        else:
            rows = self.pages(region, "select_resource_config", "Results", "NextToken", Expression=expression)
        found: dict[tuple[str, str], dict[str, str]] = {}
        for row in rows or []:
            parsed = decode_json_text(row)
            if isinstance(parsed, dict) and parsed.get("resourceId") and parsed.get("resourceType"):
                key = (str(parsed["resourceType"]), str(parsed["resourceId"]))
                found[key] = tags_of(parsed.get("tags"))
        for item in items:
            if item.tags is None and (item.resource_type, item.resource_id) in found:
                item.tags = found[(item.resource_type, item.resource_id)]


def read_config(options: LiveConfigOptions, progress: Progress | None = None) -> ConfigData:
    session = build_session(options.session)
    factory = ClientFactory(session, client_hooks=options.client_hooks)
    home = session.region_name or "us-east-1"
    data = ConfigData(sources=["aws-config"])
    reader = _Reader(factory, data)
    types = list(options.resource_types) or mapped_types()
    if options.aggregator:
        _read_aggregator(reader, home, options.aggregator, types, progress)
        data.sources = [f"aws-config aggregator {options.aggregator}"]
    else:
        account = caller_account(factory, home)
        regions = resolve_regions(factory, home, options.regions)
        data.regions = list(regions)
        data.accounts = [account]
        for done, region in enumerate(regions, start=1):
            _read_region(reader, account, region, types)
            if progress is not None:
                progress(f"config ({region})", done, len(regions))
    data.api_calls = factory.counter.snapshot()
    return data


def recorded_types(recorder: dict[str, Any], types: Sequence[str]) -> frozenset[str]:
    """The mapped types a recorder's recording group records."""
    group = recorder.get("recordingGroup") or {}
    strategy = (group.get("recordingStrategy") or {}).get("useOnly")
    if strategy == "INCLUSION_BY_RESOURCE_TYPES" or (
        strategy is None and not group.get("allSupported", True)
    ):
        return frozenset(t for t in types if t in set(group.get("resourceTypes") or []))
    excluded = set((group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or [])
    recorded = {t for t in types if t not in excluded}
    if strategy is None and group.get("includeGlobalResourceTypes") is False:
        recorded -= GLOBAL_TYPES
    return frozenset(recorded)


def _read_region(reader: _Reader, account: str, region: str, types: Sequence[str]) -> None:
    data = reader.data
    answer = reader.call(region, "describe_configuration_recorders")
    recorders = (answer or {}).get("ConfigurationRecorders") or []
    if answer is not None and not recorders:
        data.problems.append(
            ItemProblem(
                f"aws-config:{region}",
                "no configuration recorder in this region: AWS Config records nothing here",
                code="NoConfigurationRecorder",
            )
        )
        data.coverage.recorded[(account, region)] = frozenset()
        return
    if recorders:
        recorded = recorded_types(recorders[0], types)
        data.coverage.recorded[(account, region)] = recorded - GLOBAL_TYPES
        globals_here = recorded & GLOBAL_TYPES
        if globals_here:
            previous = data.coverage.recorded.get((account, None), frozenset())
            data.coverage.recorded[(account, None)] = previous | globals_here
    else:
        recorded = frozenset(types)  # the recorder could not be read: ask for everything
    read: list[ConfigItem] = []
    wanted = [t for t in types if t in recorded]
    for resource_type in wanted:
        listed = reader.pages(
            region,
            "list_discovered_resources",
            "resourceIdentifiers",
            "nextToken",
            resourceType=resource_type,
        )
        keys = [
            {"resourceType": resource_type, "resourceId": r["resourceId"]}
            for r in listed or []
            if "resourceId" in r
        ]
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            got = reader.call(region, "batch_get_resource_config", resourceKeys=batch)
            if got is None:
                continue
            read += reader.add(got.get("baseConfigurationItems", []), region)
            for key in got.get("unprocessedResourceKeys") or []:
                data.problems.append(
                    ItemProblem(
                        f"aws-config:{region}",
                        "AWS Config did not return this item (unprocessed); run again",
                        resource_id=str(key.get("resourceId")),
                        code="Unprocessed",
                    )
                )
    reader.tags(region, read, wanted)


def _read_aggregator(
    reader: _Reader, region: str, name: str, types: Sequence[str], progress: Progress | None
) -> None:
    read: list[ConfigItem] = []
    for done, resource_type in enumerate(types, start=1):
        listed = reader.pages(
            region,
            "list_aggregate_discovered_resources",
            "ResourceIdentifiers",
            "NextToken",
            ConfigurationAggregatorName=name,
            ResourceType=resource_type,
        )
        identifiers = [
            {
                k: r[k]
                for k in ("SourceAccountId", "SourceRegion", "ResourceId", "ResourceType", "ResourceName")
                if k in r
            }
            for r in listed or []
        ]
        for start in range(0, len(identifiers), BATCH):
            got = reader.call(
                region,
                "batch_get_aggregate_resource_config",
                ConfigurationAggregatorName=name,
                ResourceIdentifiers=identifiers[start : start + BATCH],
            )
            if got is None:
                continue
            read += reader.add(got.get("BaseConfigurationItems", []), f"{region} aggregator {name}")
            for key in got.get("UnprocessedResourceIdentifiers") or []:
                reader.data.problems.append(
                    ItemProblem(
                        f"aws-config aggregator {name}",
                        "AWS Config did not return this item (unprocessed); run again",
                        resource_id=str(key.get("ResourceId")),
                        code="Unprocessed",
                    )
                )
        if progress is not None:
            progress(f"config aggregator {name}: {resource_type}", done, len(types))
    reader.tags(region, read, types, aggregator=name)
