"""Plan and run a live scan: which collectors, which regions, how many at once.

Only collectors whose resource types (or account/region facts) the selected checks read are
run, so ``--controls S3-01`` never lists Lambda functions. Collectors run concurrently on a
bounded pool (one task per collector and region; global collectors once), and per-resource
calls fan out on a second bounded pool, so a slow service does not block the others while the
total stays within what AWS's throttling tolerates (adaptive retries absorb the rest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from controlmap.catalog.models import Control
from controlmap.checks.registry import CheckSpec, Inventory, registry
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.base import CollectionError
from controlmap.sources.aws.clients import CallCounter, ClientFactory, EndpointConfigError, ReadOnlyViolation
from controlmap.sources.aws.collector import CollectContext, CollectorSpec, Scope, collectors
from controlmap.sources.aws.session import (
    CALL_FAILURES,
    SessionError,
    SessionOptions,
    build_session,
    caller_account,
    one_line,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (description, done, total)

ACCOUNT_TYPES = frozenset({AwsAccount.resource_type, AwsRegion.resource_type})


@dataclass
class AwsScanOptions:
    session: SessionOptions = field(default_factory=SessionOptions)
    regions: Sequence[str] | None = None  # None or ["all"]: every enabled region
    services: Sequence[str] = ()  # catalog service keys; empty: all
    concurrency: int = 8  # collector tasks at once
    detail_concurrency: int = 16  # per-resource calls at once
    client_hooks: Sequence[Callable[[Any], None]] = ()  # see ClientFactory.client_hooks


@dataclass
class AwsScanOutcome:
    inventory: Inventory
    account_id: str
    regions: list[str]
    collectors_run: list[str]
    factory: ClientFactory


def selected_checks(controls: Sequence[Control]) -> list[CheckSpec]:
    checks = registry()
    ids = dict.fromkeys(c for control in controls for c in control.checks)
    return [checks[i] for i in ids if i in checks]


def plan_collectors(
    checks: Sequence[CheckSpec], services: Sequence[str] = ()
) -> tuple[list[CollectorSpec], frozenset[str] | None]:
    """The collectors the checks need, and the facts they read (None if some check reads all)."""
    wanted_types = {c.resource_type for c in checks} | {u for c in checks for u in c.uses}
    facts: set[str] | None = set()
    for check_spec in checks:
        if not check_spec.facts:
            facts = None
            break
        assert facts is not None
        facts.update(check_spec.facts)
    chosen: list[CollectorSpec] = []
    for spec in collectors().values():
        if services and spec.service not in services:
            continue
        produces_needed = wanted_types & (set(spec.produces) - ACCOUNT_TYPES)
        fills_needed = bool(wanted_types & ACCOUNT_TYPES) and (facts is None or bool(set(spec.facts) & facts))
        if produces_needed or (spec.facts and fills_needed):
            chosen.append(spec)
    return chosen, (frozenset(facts) if facts is not None else None)


def resolve_regions(
    factory: ClientFactory, home: str, requested: Sequence[str] | None, *, validate: bool = False
) -> list[str]:
    """Explicit regions (checked with ``validate``); otherwise the account's enabled regions
    (ec2:DescribeRegions).

    An explicit region AWS does not know (``us-east-9``) or that the account has not opted in
    to (``ap-east-1``) would make every call there fail: ``validate`` refuses it up front.
    """
    explicit = sorted(
        dict.fromkeys(r.strip() for r in requested or [] if r.strip() and r.strip().lower() != "all")
    )
    if requested and explicit and not any(r.strip().lower() == "all" for r in requested):
        if validate:
            _check_regions(factory, home, explicit)
        return explicit
    try:
        response = factory.client("ec2", home).describe_regions(
            Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
        )
    except CALL_FAILURES as exc:
        raise SessionError(
            f"cannot list the account's enabled regions (ec2:DescribeRegions): {one_line(exc)}; "
            "pass --regions explicitly"
        ) from None
    return sorted(r["RegionName"] for r in response["Regions"])


def _check_regions(factory: ClientFactory, home: str, regions: Sequence[str]) -> None:
    try:
        listed = factory.client("ec2", home).describe_regions(AllRegions=True)["Regions"]
    except CALL_FAILURES:
        # DescribeRegions denied: fall back to the regions this botocore knows of, any partition.
        known = {
            region
            for partition in factory.session.get_available_partitions()
            for region in factory.session.get_available_regions("ec2", partition_name=partition)
        }
        unknown = [r for r in regions if r not in known]
        if unknown:
            raise SessionError(f"unknown region(s): {', '.join(unknown)}") from None
        return
    status = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in listed}
    unknown = [r for r in regions if r not in status]
    if unknown:
        raise SessionError(
            f"unknown region(s): {', '.join(unknown)} (this account's regions: {', '.join(sorted(status))})"
        )
    disabled = [r for r in regions if status[r] == "not-opted-in"]
    if disabled:
        raise SessionError(
            f"region(s) not enabled in this account: {', '.join(disabled)}; enable them "
            "(Account settings, AWS Regions) or leave them out of --regions"
        )


def run_aws_scan(
    options: AwsScanOptions,
    controls: Sequence[Control],
    settings: Any,
    progress: ProgressCallback | None = None,
) -> AwsScanOutcome:
    counter = CallCounter()  # sts:AssumeRole (--role-arn) is counted with the scan's own calls
    session = build_session(options.session, counter)
    factory = ClientFactory(
        session,
        max_pool_connections=max(10, options.detail_concurrency + 4),
        counter=counter,
        client_hooks=options.client_hooks,
    )
    home = session.region_name or "us-east-1"
    account_id = caller_account(factory, home)
    regions = resolve_regions(factory, home, options.regions, validate=True)

    inventory = Inventory()
    account = AwsAccount(id=f"arn:aws:::account/{account_id}", name=account_id, account_id=account_id)
    account.regions = regions
    inventory.add(account)
    region_settings = {}
    for region in regions:
        region_settings[region] = AwsRegion(
            id=f"arn:aws:::region/{account_id}/{region}", name=region, account_id=account_id, region=region
        )
        inventory.add(region_settings[region])

    specs, facts = plan_collectors(selected_checks(controls), options.services)
    tasks: list[tuple[CollectorSpec, str]] = []
    for spec in specs:
        targets = [home] if spec.scope is Scope.GLOBAL else regions
        tasks += [(spec, region) for region in targets]

    with (
        ThreadPoolExecutor(max_workers=options.detail_concurrency, thread_name_prefix="cm-detail") as pool,
        ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="cm-collect") as runner,
    ):

        def run(spec: CollectorSpec, region: str) -> None:
            ctx = CollectContext(
                factory=factory,
                account_id=account_id,
                region=region,
                regions=regions,
                inventory=inventory,
                account=account,
                region_settings=region_settings,
                settings=settings,
                pool=pool,
                wanted_facts=facts,
                collector_name=spec.name,
            )
            spec.func(ctx)

        futures = {runner.submit(run, spec, region): (spec, region) for spec, region in tasks}
        for done, future in enumerate(as_completed(futures), start=1):
            spec, region = futures[future]
            try:
                future.result()
            except (ReadOnlyViolation, EndpointConfigError):
                raise
            except Exception as exc:  # one broken collector must not sink the scan
                # A bug, not the user's input: the ERROR findings and the summary say so; the
                # traceback goes to the debug log only (never to the user's terminal).
                log.debug("collector %s failed in %s", spec.name, region, exc_info=True)
                inventory.add_error(
                    CollectionError(
                        service=spec.service,
                        operation=f"collector {spec.name}",
                        code=type(exc).__name__,
                        message=f"{str(exc)[:240]} (a controlmap bug: please report it)",
                        region=region if spec.scope is Scope.REGIONAL else None,
                        account_id=account_id,
                        resource_types=spec.produces,
                    )
                )
            if progress is not None:
                where = region if spec.scope is Scope.REGIONAL else "global"
                progress(f"{spec.service} ({where})", done, len(tasks))

    inventory.api_calls = factory.counter.snapshot()
    return AwsScanOutcome(inventory, account_id, regions, [s.name for s in specs], factory)
