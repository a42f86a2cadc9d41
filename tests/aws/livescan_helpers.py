"""Helpers for live-scan tests: run the real collectors over the local moto server, then the checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from botocore.awsrequest import AWSResponse

import controlmap.demo.seed_kms  # noqa: F401  (moto as AWS: alias/aws/* keys, KMS deletion events)
from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import CheckContext, FactUnavailable, Outcome, Status, registry
from controlmap.demo.fakes import EVENT_HISTORY, FakeAccessAnalyzer, _headers, _Raw, error_response
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions, AwsScanOutcome, run_aws_scan

ACCOUNT = "123456789012"


def live_scan(
    check_ids: Iterable[str],
    regions: Sequence[str] = ("us-east-1",),
    hooks: Sequence[Callable[[Any], None]] = (),
    settings: Settings | None = None,
) -> AwsScanOutcome:
    """Run exactly the collectors the controls serving these checks need, over HTTP to moto."""
    wanted = set(check_ids)
    controls = [c for c in load_catalog().ordered() if wanted & set(c.checks)]
    assert controls, f"no catalog control lists {sorted(wanted)}"
    analyzer = FakeAccessAnalyzer(ACCOUNT)
    # A test's own hooks first: one answering a call replaces the default fakes for it.
    options = AwsScanOptions(
        regions=list(regions), client_hooks=[*hooks, analyzer.install, EVENT_HISTORY.install]
    )
    return run_aws_scan(options, controls, settings or Settings())


def outcomes(
    scan: AwsScanOutcome, check_id: str, settings: Settings | None = None
) -> dict[str, list[Outcome]]:
    """Outcomes of one check per resource name (the engine's own handling of missing facts)."""
    spec = registry()[check_id]
    ctx = CheckContext(inventory=scan.inventory, settings=settings or Settings())
    out: dict[str, list[Outcome]] = {}
    for resource in scan.inventory.of_type(spec.model):
        try:
            result = spec.func(resource, ctx)
            out[resource.name] = [result] if isinstance(result, Outcome) else list(result)
        except FactUnavailable as missing:
            out[resource.name] = [missing.outcome]
    return out


def status(scan: AwsScanOutcome, check_id: str, name: str, settings: Settings | None = None) -> Status:
    found = outcomes(scan, check_id, settings)[name]
    assert len(found) == 1, found
    return found[0].status


def reason(scan: AwsScanOutcome, check_id: str, name: str, settings: Settings | None = None) -> str:
    return outcomes(scan, check_id, settings)[name][0].reason


def deny(
    service_id: str, operation: str, code: str = "AccessDenied", only: Callable[[Any], bool] | None = None
) -> Callable[[Any], None]:
    """A client hook making one operation fail with ``code`` (optionally only for some requests)."""

    def install(client: Any) -> None:
        if client.meta.service_model.service_id.hyphenize() != service_id:
            return

        def respond(request: Any, **_: Any) -> AWSResponse | None:
            if only is not None and not only(request):
                return None
            protocol = client.meta.service_model.protocol
            if protocol in ("rest-xml", "query"):
                error = f"<Error><Code>{code}</Code><Message>denied by test</Message></Error>"
                body = (
                    error if protocol == "rest-xml" else f"<ErrorResponse>{error}</ErrorResponse>"
                ).encode()
                return AWSResponse(request.url, 403, _headers({"Content-Type": "text/xml"}), _Raw(body))
            return error_response(request.url, code, "denied by test", 403)

        client.meta.events.register(f"before-send.{service_id}.{operation}", respond)

    return install


def page_size(service_id: str, operation: str, param: str, size: int) -> Callable[[Any], None]:
    """A client hook forcing small pages, so the collector must follow pagination tokens."""

    def install(client: Any) -> None:
        if client.meta.service_model.service_id.hyphenize() != service_id:
            return

        def shrink(params: dict[str, Any], **_: Any) -> None:
            params.setdefault(param, size)

        client.meta.events.register(f"before-parameter-build.{service_id}.{operation}", shrink)

    return install
