"""Collectors: one function per AWS service that reads the account and fills resource models.

A collector is registered with the resource types it produces and whether it runs once per
account (global services: IAM, the S3 bucket list, CloudFront) or once per region. It reads
through ``CollectContext``, which hands out guarded clients, paginates, turns AWS errors into
``CollectionError`` values (never exceptions), and fans per-resource calls out to a bounded pool.

Writing a collector::

    @collector("kms", produces=[KmsKey], scope=Scope.REGIONAL)
    def collect_kms(ctx: CollectContext) -> None:
        keys = ctx.paginate("kms", "list_keys", "Keys", produces=[KmsKey])
        if keys is None:
            return                                  # the failure is recorded; checks report ERROR
        for key in ctx.map(lambda k: _describe(ctx, k), keys):
            ctx.add(key)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from controlmap.checks.registry import Inventory
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.base import CollectionError, Resource
from controlmap.sources.aws.clients import ClientFactory, ReadOnlyViolation, one_line

T = TypeVar("T")
U = TypeVar("U")


# Failures on the way to or from AWS that are not an AWS error response: connection and
# credential problems (BotoCoreError), and a body botocore cannot parse, such as a proxy's HTML
# error page or a truncated response (ResponseParserError is not a BotoCoreError).
TRANSPORT_FAILURES: tuple[type[Exception], ...] = (BotoCoreError, ResponseParserError)


class Scope(str, Enum):
    GLOBAL = "global"  # once per account
    REGIONAL = "regional"  # once per account and enabled region


@dataclass(frozen=True)
class CollectorSpec:
    name: str
    service: str  # catalog service key, for --services
    produces: tuple[str, ...]  # resource type ids
    scope: Scope
    func: Callable[[CollectContext], None]
    facts: tuple[str, ...] = ()  # AwsAccount/AwsRegion facts it fills (selects it when a check needs them)


_COLLECTORS: dict[str, CollectorSpec] = {}


def collector(
    name: str,
    *,
    service: str,
    produces: Iterable[type[Resource]] = (),
    scope: Scope,
    facts: Iterable[str] = (),
) -> Callable[[Callable[[CollectContext], None]], Callable[[CollectContext], None]]:
    def decorate(func: Callable[[CollectContext], None]) -> Callable[[CollectContext], None]:
        _COLLECTORS[name] = CollectorSpec(
            name=name,
            service=service,
            produces=tuple(m.resource_type for m in produces),
            scope=scope,
            func=func,
            facts=tuple(facts),
        )
        return func

    return decorate


def collectors() -> dict[str, CollectorSpec]:
    import controlmap.sources.aws.services  # noqa: F401  (side effect: registers collectors)

    return dict(_COLLECTORS)


class CallResult(NamedTuple):
    data: dict[str, Any] | None
    error: CollectionError | None
    absent: bool  # AWS answered "not configured" (e.g. NoSuchBucketPolicy): a known absence


@dataclass
class CollectContext:
    factory: ClientFactory
    account_id: str
    region: str  # the region this run reads; the home region for global collectors
    regions: Sequence[str]  # every region in scope
    inventory: Inventory
    account: AwsAccount
    region_settings: dict[str, AwsRegion]
    settings: Any
    pool: ThreadPoolExecutor  # for per-resource calls; distinct from the collector pool
    wanted_facts: frozenset[str] | None = None  # None: every fact
    collector_name: str = ""

    # ---- reading AWS ---------------------------------------------------------------------
    def client(self, service: str, region: str | None = None) -> Any:
        return self.factory.client(service, region or self.region)

    def call(
        self,
        service: str,
        operation: str,
        *,
        region: str | None = None,
        absent: Sequence[str] = (),
        resource_id: str | None = None,
        **params: Any,
    ) -> CallResult:
        """Call one operation (snake_case name); AWS errors come back as values, not exceptions."""
        client = self.client(service, region)
        try:
            return CallResult(getattr(client, operation)(**params), None, False)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in absent:
                return CallResult(None, None, True)
            error = self._error(service, client, operation, exc, code, region, resource_id)
            return CallResult(None, error, False)
        except ReadOnlyViolation:
            raise  # a programming error, never swallowed
        except TRANSPORT_FAILURES as exc:
            return CallResult(
                None,
                self._error(service, client, operation, exc, type(exc).__name__, region, resource_id),
                False,
            )

    def paginate(
        self,
        service: str,
        operation: str,
        result_key: str,
        *,
        region: str | None = None,
        produces: Iterable[type[Resource]] = (),
        **params: Any,
    ) -> list[Any] | None:
        """All items of a paginated listing, or None after recording the failure.

        A failed listing hides every resource it would have returned, so it is recorded on the
        inventory against ``produces``: checks of those types then report ERROR for this region.
        """
        items, _ = self.listing(service, operation, result_key, region=region, produces=produces, **params)
        return items

    def listing(
        self,
        service: str,
        operation: str,
        result_key: str,
        *,
        region: str | None = None,
        produces: Iterable[type[Resource]] = (),
        **params: Any,
    ) -> tuple[list[Any] | None, CollectionError | None]:
        """Like :meth:`paginate`, also returning the recorded failure, for a collector that marks
        the facts the listing would have filled (so their checks report ERROR with its code)."""
        client = self.client(service, region)
        items: list[Any] = []
        try:
            if client.can_paginate(operation):
                for page in client.get_paginator(operation).paginate(**params):
                    items.extend(page.get(result_key, []))
            else:
                items.extend(getattr(client, operation)(**params).get(result_key, []))
            return items, None
        except ReadOnlyViolation:
            raise
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            error = self._error(service, client, operation, exc, code, region, None, produces)
        except TRANSPORT_FAILURES as exc:
            error = self._error(service, client, operation, exc, type(exc).__name__, region, None, produces)
        self.record_error(error)
        return None, error

    def pages(
        self,
        service: str,
        operation: str,
        *,
        region: str | None = None,
        produces: Iterable[type[Resource]] = (),
        **params: Any,
    ) -> list[dict[str, Any]] | None:
        """Every page of a listing with several result keys, or None after recording the failure."""
        client = self.client(service, region)
        try:
            return list(client.get_paginator(operation).paginate(**params))
        except ReadOnlyViolation:
            raise
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            error = self._error(service, client, operation, exc, code, region, None, produces)
        except TRANSPORT_FAILURES as exc:
            error = self._error(service, client, operation, exc, type(exc).__name__, region, None, produces)
        self.record_error(error)
        return None

    def _error(
        self,
        service: str,
        client: Any,
        operation: str,
        exc: Exception,
        code: str,
        region: str | None,
        resource_id: str | None,
        produces: Iterable[type[Resource]] = (),
    ) -> CollectionError:
        op_name = client.meta.method_to_api_mapping.get(operation, operation)
        return CollectionError(
            service=service,
            operation=op_name,
            code=code,
            message=one_line(exc),
            region=region or self.region,
            account_id=self.account_id,
            resource_types=tuple(m.resource_type for m in produces),
            resource_id=resource_id,
        )

    # ---- results -------------------------------------------------------------------------
    def add(self, resource: Resource) -> None:
        self.inventory.add(resource)

    def record_error(self, error: CollectionError) -> None:
        self.inventory.add_error(error)

    def wants(self, *facts: str) -> bool:
        """Whether any selected check reads one of these facts (skip calls nobody needs)."""
        return self.wanted_facts is None or any(f in self.wanted_facts for f in facts)

    def map(self, func: Callable[[T], U], items: Iterable[T]) -> list[U]:
        """Run ``func`` over items on the shared bounded pool; results in input order."""
        return list(self.pool.map(func, items))

    @property
    def regional(self) -> AwsRegion:
        return self.region_settings[self.region]
