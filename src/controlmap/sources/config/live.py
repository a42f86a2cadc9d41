"""Read configuration items from AWS Config itself, read-only, through controlmap's client factory.

Per region: the configuration recorder's recording group (which types it records: the data can
then show that a recorded type has no resource), ``ListDiscoveredResources`` per type the selected
controls need and ``BatchGetResourceConfig`` in batches of 100. The global IAM types are listed
once, in the first region whose recorder records them. With ``--aggregator``, the aggregator's
``ListAggregateDiscoveredResources`` and ``BatchGetAggregateResourceConfig`` cover every source
account and region from one place. Batch answers carry no tags (S3-07 and approved exceptions
select on them), so one advanced query per region (``SelectResourceConfig``, or
``SelectAggregateResourceConfig``) reads the tags of the same resources. Every call goes through
the read-only guard. A failed listing or batch is reported, and the type is then never taken as
absent where it failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from controlmap.sources.aws.clients import ClientFactory, ReadOnlyViolation
from controlmap.sources.aws.collector import TRANSPORT_FAILURES
from controlmap.sources.aws.scanner import resolve_regions
from controlmap.sources.aws.session import SessionOptions, build_session, caller_account
from controlmap.sources.config.casefold import decode_json_text
from controlmap.sources.config.coverage import HOME_REGION, IAM_TYPES, recorded_types
from controlmap.sources.config.items import ConfigItem, ItemProblem, item_region, parse_items, tags_of
from controlmap.sources.config.mappers import mapped_types
from controlmap.sources.config.scan import ConfigData

BATCH = 100  # BatchGet(Aggregate)ResourceConfig takes at most 100 keys

Progress = Callable[[str, int, int], None]
NO_AGGREGATOR = "NoSuchConfigurationAggregatorException"
RECORDER = "AWS::Config::ConfigurationRecorder"


class AggregatorNotFound(Exception):
    """The aggregator named on the command line does not exist: nothing can be read."""


@dataclass
class LiveConfigOptions:
    session: SessionOptions = field(default_factory=SessionOptions)
    regions: Sequence[str] | None = None  # None: the account's enabled regions
    aggregator: str | None = None
    resource_types: Sequence[str] = ()  # empty: every type controlmap maps
    client_hooks: Sequence[Callable[[Any], None]] = ()


@dataclass(frozen=True)
class _Scope:
    """Where a read happens and what it is for, so that a failure is kept against the right type."""

    region: str
    account: str | None = None
    resource_types: tuple[str, ...] = ()  # a batch may hold keys of several types
    source: str = ""

    @property
    def name(self) -> str:
        return self.source or f"aws-config:{self.region}"


class _Reader:
    def __init__(self, factory: ClientFactory, data: ConfigData) -> None:
        self.factory = factory
        self.data = data
        self.globals_read: set[str] = set()  # IAM types read in full in some region

    def call(self, scope: _Scope, operation: str, **params: Any) -> dict[str, Any] | None:
        client = self.factory.client("config", scope.region)
        try:
            return dict(getattr(client, operation)(**params))
        except ReadOnlyViolation:
            raise
        except ClientError as exc:
            error = exc.response.get("Error", {})
            self.fail(scope, operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")))
        except TRANSPORT_FAILURES as exc:
            self.fail(scope, operation, type(exc).__name__, str(exc))
        return None

    def fail(self, scope: _Scope, operation: str, code: str, message: str) -> None:
        api = self.factory.client("config", scope.region).meta.method_to_api_mapping.get(operation, operation)
        text = f"config:{api} failed with {code}" + (f" ({message[:200]})" if message else "")
        for resource_type in scope.resource_types or (None,):
            region = None if scope.source else item_region(resource_type, scope.region)
            if resource_type:
                self.data.coverage.fail(resource_type, scope.account, region, text, code)
            self.data.problems.append(
                ItemProblem(
                    scope.name,
                    text,
                    code=code,
                    resource_type=resource_type,
                    account_id=scope.account,
                    region=region,
                )
            )

    def unprocessed(self, scope: _Scope, keys: list[dict[str, Any]], account: str | None = None) -> None:
        for key in keys:
            resource_type = str(key.get("resourceType") or key.get("ResourceType") or "")
            resource_id = str(key.get("resourceId") or key.get("ResourceId") or "")
            where_account = str(key.get("SourceAccountId") or account or "") or None
            region = item_region(resource_type, str(key.get("SourceRegion") or scope.region))
            message = f"AWS Config did not return the {resource_type} item (unprocessed); run again"
            self.data.coverage.fail(resource_type, where_account, region, message, "Unprocessed")
            self.data.problems.append(
                ItemProblem(
                    scope.name,
                    message,
                    resource_id=resource_id,
                    code="Unprocessed",
                    resource_type=resource_type or None,
                    account_id=where_account,
                    region=region,
                )
            )

    def pages(self, scope: _Scope, operation: str, key: str, token: str, **params: Any) -> list[Any] | None:
        out: list[Any] = []
        while True:
            page = self.call(scope, operation, **params)
            if page is None:
                return None
            out += page.get(key, [])
            if not page.get(token):
                return out
            params[token] = page[token]

    def add(self, raw: list[Any], source: str) -> list[ConfigItem]:
        items, problems = parse_items(raw, source)
        self.data.items += items
        self.data.problems += problems
        return items

    def tags(
        self, scope: _Scope, items: list[ConfigItem], types: Sequence[str], aggregator: str | None = None
    ) -> None:
        """Fill the tags batch answers leave out, with one advanced query (paginated)."""
        if not items:
            return
        listed = ", ".join(f"'{t}'" for t in sorted({i.resource_type for i in items} & set(types)))
        expression = (
            f"SELECT resourceId, resourceType, accountId, awsRegion, tags WHERE resourceType IN ({listed})"
        )
        if aggregator:
            rows = self.pages(
                scope,
                "select_aggregate_resource_config",
                "Results",
                "NextToken",
                Expression=expression,
                ConfigurationAggregatorName=aggregator,
            )
        else:
            rows = self.pages(scope, "select_resource_config", "Results", "NextToken", Expression=expression)
        # Keyed by account and region too: an aggregator's "orders" table or Lambda function may
        # exist in several accounts, and each keeps its own tags.
        found: dict[tuple[str, str, str | None, str | None], dict[str, str]] = {}
        for row in rows or []:
            parsed = decode_json_text(row)
            if isinstance(parsed, dict) and parsed.get("resourceId") and parsed.get("resourceType"):
                resource_type = str(parsed["resourceType"])
                account = parsed.get("accountId")
                region = item_region(resource_type, parsed.get("awsRegion"))
                key = (resource_type, str(parsed["resourceId"]), account, region)
                found[key] = tags_of(parsed.get("tags"))
        for item in items:
            key = (item.resource_type, item.resource_id, item.account_id, item.region)
            if item.tags is None and key in found:
                item.tags = found[key]


def read_config(options: LiveConfigOptions, progress: Progress | None = None) -> ConfigData:
    session = build_session(options.session)
    factory = ClientFactory(session, client_hooks=options.client_hooks)
    home = session.region_name or "us-east-1"
    data = ConfigData(sources=["aws-config"])
    reader = _Reader(factory, data)
    types = list(options.resource_types) or mapped_types()
    if options.aggregator:
        # The source accounts' recorders are items too: their recording groups show what is absent.
        _read_aggregator(reader, home, options.aggregator, [*types, RECORDER], progress)
        data.sources = [f"aws-config aggregator {options.aggregator}"]
    else:
        account = caller_account(factory, home)
        regions = resolve_regions(factory, home, options.regions)
        data.regions = list(regions)
        data.accounts = [account]
        total = len(regions) * len(types)
        for number, region in enumerate(regions):

            def step(done: int, what: str, number: int = number, region: str = region) -> None:
                if progress is not None:
                    progress(f"config {region}: {what}", number * len(types) + done, total)

            _read_region(reader, account, region, types, step)
    data.api_calls = factory.counter.snapshot()
    return data


def _read_region(
    reader: _Reader, account: str, region: str, types: Sequence[str], step: Callable[[int, str], None]
) -> None:
    data = reader.data
    data.coverage.regions.add((account, region))
    here = _Scope(region, account)
    answer = reader.call(here, "describe_configuration_recorders")
    recorders = (answer or {}).get("ConfigurationRecorders") or []
    if answer is not None and not recorders:
        data.problems.append(
            ItemProblem(
                here.name,
                "no configuration recorder in this region: AWS Config records nothing here",
                code="NoConfigurationRecorder",
                account_id=account,
                region=region,
            )
        )
        data.coverage.recorded[(account, region)] = frozenset()
        data.coverage.no_recorder.add((account, region))
        step(len(types), "no recorder")
        return
    if recorders:
        recorded = recorded_types(recorders[0], types)
        not_recording = _not_recording(reader, here, recorders[0])
        data.coverage.note_recorder(account, region, recorded, not_recording)
    else:
        recorded = frozenset(types)  # the recorder could not be read: ask for everything
        not_recording = "could not be read"
    read: list[ConfigItem] = []
    # The global IAM types are one set per account: read them once, where first recorded; CloudFront
    # distributions are recorded in us-east-1 only.
    wanted = [
        t
        for t in types
        if t in recorded and t not in reader.globals_read and HOME_REGION.get(t, region) == region
    ]
    keys: list[dict[str, str]] = []
    complete: set[str] = set()
    for done, resource_type in enumerate(wanted):
        step(done * len(types) // max(len(wanted), 1), resource_type)
        listed = reader.pages(
            _Scope(region, account, (resource_type,)),
            "list_discovered_resources",
            "resourceIdentifiers",
            "nextToken",
            resourceType=resource_type,
        )
        if listed is not None:
            complete.add(resource_type)
        keys += [
            {"resourceType": resource_type, "resourceId": r["resourceId"]}
            for r in listed or []
            if "resourceId" in r
        ]
    # A batch takes 100 keys of any types: an account with a few resources of many types needs a
    # call or two, not one per type.
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        scope = _Scope(region, account, tuple(sorted({k["resourceType"] for k in batch})))
        got = reader.call(scope, "batch_get_resource_config", resourceKeys=batch)
        if got is None:
            complete -= set(scope.resource_types)
            continue
        read += reader.add(got.get("baseConfigurationItems", []), here.name)
        reader.unprocessed(scope, got.get("unprocessedResourceKeys") or [], account)
    if not_recording is None:  # else a recording recorder elsewhere may hold fresher IAM items
        reader.globals_read |= complete & IAM_TYPES
    step(len(types) - 1, "tags")
    reader.tags(here, read, wanted)
    step(len(types), "done")


def _not_recording(reader: _Reader, here: _Scope, recorder: dict[str, Any]) -> str | None:
    """None if the recorder is recording; else why not. A stopped recorder has recorded nothing
    since it stopped, so a resource created since has no item and its absence proves nothing."""
    name = recorder.get("name")
    answer = reader.call(
        here,
        "describe_configuration_recorder_status",
        **({"ConfigurationRecorderNames": [name]} if name else {}),
    )
    if answer is None:
        return "status could not be read"  # the failed call is reported
    states = answer.get("ConfigurationRecordersStatus") or []
    if states and states[0].get("recording"):
        return None
    stopped = states[0].get("lastStopTime") if states else None
    since = f" since {stopped:%Y-%m-%d %H:%M} UTC" if hasattr(stopped, "strftime") else ""
    reader.data.problems.append(
        ItemProblem(
            here.name,
            f"the configuration recorder {name or ''} is not recording{since}: its items may be out of "
            "date and resources created since have none, so absence is not shown here; start it "
            "(aws configservice start-configuration-recorder) or run `controlmap scan aws`",
            code="RecorderStopped",
            account_id=here.account,
            region=here.region,
        )
    )
    return "is not recording"


def _read_aggregator(
    reader: _Reader, region: str, name: str, types: Sequence[str], progress: Progress | None
) -> None:
    source = f"aws-config aggregator {name}"
    read: list[ConfigItem] = []
    identifiers: list[dict[str, Any]] = []
    for done, resource_type in enumerate(types, start=1):
        # The source accounts are not known before listing: a failure is kept for every account.
        before = len(reader.data.problems)
        listed = reader.pages(
            _Scope(region, None, (resource_type,), source),
            "list_aggregate_discovered_resources",
            "ResourceIdentifiers",
            "NextToken",
            ConfigurationAggregatorName=name,
            ResourceType=resource_type,
        )
        if listed is None and any(p.code == NO_AGGREGATOR for p in reader.data.problems[before:]):
            raise AggregatorNotFound(
                f"no configuration aggregator named {name!r} in {region} (AWS Config answered "
                f"{NO_AGGREGATOR}); check the name (aws configservice describe-configuration-aggregators) "
                "and the region of the session, where the aggregator lives"
            )
        identifiers += [
            {
                k: r[k]
                for k in ("SourceAccountId", "SourceRegion", "ResourceId", "ResourceType", "ResourceName")
                if k in r
            }
            for r in listed or []
        ]
        if progress is not None:
            progress(f"config aggregator {name}: {resource_type}", done, len(types) + 1)
    for start in range(0, len(identifiers), BATCH):
        batch = identifiers[start : start + BATCH]
        scope = _Scope(region, None, tuple(sorted({str(i.get("ResourceType")) for i in batch})), source)
        got = reader.call(
            scope,
            "batch_get_aggregate_resource_config",
            ConfigurationAggregatorName=name,
            ResourceIdentifiers=batch,
        )
        if got is None:
            continue
        read += reader.add(got.get("BaseConfigurationItems", []), source)
        reader.unprocessed(scope, got.get("UnprocessedResourceIdentifiers") or [])
    reader.tags(_Scope(region, source=source), read, types, aggregator=name)
    if progress is not None:
        progress(f"config aggregator {name}: done", len(types) + 1, len(types) + 1)
