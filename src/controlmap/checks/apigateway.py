"""API Gateway checks (APIGW-01 … APIGW-05) for REST (v1), HTTP and WebSocket (v2) APIs.

Allowances, written down so that nobody has to guess:

* ``OPTIONS`` methods may have authorization NONE (browsers send CORS preflight requests
  without credentials); ``apigateway.allow_unauthenticated_options`` turns this off.
* An API key (``apiKeyRequired``) identifies a client for usage plans; it is not
  authentication, so a method with an API key and authorization NONE still fails.
* WebSocket APIs authorize only the ``$connect`` route; other routes cannot carry an
  authorizer and are not judged.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controlmap.checks.policy import public_doubt, public_grants
from controlmap.checks.registry import (
    CheckContext,
    FactUnavailable,
    Outcome,
    Status,
    check,
    failed,
    need,
    not_applicable,
    passed,
    unknown,
)
from controlmap.resources.apigateway import (
    ApiGatewayRestApi,
    ApiGatewayStage,
    ApiGatewayV2Api,
    ApiGatewayV2Stage,
    ApiMethod,
    ApiStageBase,
)
from controlmap.settings import register_section

# Execution logging levels API Gateway stages can have besides OFF.
EXECUTION_LOGGING_LEVELS = ("ERROR", "INFO")


class ApiGatewaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow_unauthenticated_options: bool = True
    # APIGW-03: when set, stage limits above these fail (requests per second, burst).
    max_rate_limit: float | None = Field(default=None, ge=0)
    max_burst_limit: int | None = Field(default=None, ge=0)
    # APIGW-05: execution logging levels that count as on (ERROR, INFO).
    execution_logging_levels: list[str] = Field(default_factory=lambda: list(EXECUTION_LOGGING_LEVELS))

    @field_validator("execution_logging_levels")
    @classmethod
    def _levels(cls, levels: list[str]) -> list[str]:
        wanted = [level.strip().upper() for level in levels]
        bad = [level for level in wanted if level not in EXECUTION_LOGGING_LEVELS]
        if bad or not wanted:
            raise ValueError(
                f"must list {' and/or '.join(EXECUTION_LOGGING_LEVELS)} (the levels that log), not "
                f"{', '.join(bad) or 'nothing'}"
            )
        return wanted


register_section("apigateway", ApiGatewaySettings)


def _settings(ctx: CheckContext) -> ApiGatewaySettings:
    return ctx.config(ApiGatewaySettings, "apigateway")


def _list(methods: list[ApiMethod], limit: int = 8) -> str:
    labels = [m.label for m in methods]
    return ", ".join(labels[:limit]) + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


# ---- APIGW-01: authentication --------------------------------------------------------------------


def _unauthenticated(methods: list[ApiMethod], ctx: CheckContext) -> tuple[list[ApiMethod], list[ApiMethod]]:
    """(methods with authorization NONE that fail, OPTIONS methods allowed as CORS preflight)."""
    allow_options = _settings(ctx).allow_unauthenticated_options
    none = [
        m for m in methods if m.authorization_type.upper() == "NONE" and "authorization" not in m.unresolved
    ]
    preflight = [m for m in none if allow_options and (m.http_method or "").upper() == "OPTIONS"]
    return [m for m in none if m not in preflight], preflight


def _authentication(methods: list[ApiMethod], ctx: CheckContext, noun: str) -> Outcome:
    if not methods:
        return not_applicable(f"the API has no {noun}s")
    failing, preflight = _unauthenticated(methods, ctx)
    counts: dict[str, int] = {}
    for method in methods:
        counts[method.authorization_type] = counts.get(method.authorization_type, 0) + 1
    evidence = {"authorization_types": counts, "cors_preflight_allowed": [m.label for m in preflight]}
    if failing:
        keyed = [m for m in failing if m.api_key_required]
        note = (
            f" ({_list(keyed)} require an API key, which identifies a client but does not authenticate it)"
            if keyed
            else ""
        )
        return failed(
            f"{len(failing)} of {len(methods)} {noun}s have authorization NONE: {_list(failing)}{note}; "
            "attach an "
            "IAM, Cognito/JWT or Lambda authorizer, or record intentionally public ones as exceptions",
            **evidence,
            unauthenticated=[m.label for m in failing],
        )
    undecided = [m for m in methods if "authorization" in m.unresolved]
    if undecided:
        return unknown(
            f"no {noun} is known to have authorization NONE, but "
            + "; ".join(f"{m.label}: {m.unresolved['authorization']}" for m in undecided[:4]),
            **evidence,
        )
    allowance = f" ({len(preflight)} OPTIONS {noun}s allowed as CORS preflight)" if preflight else ""
    return passed(f"every {noun} requires IAM, Cognito/JWT or Lambda authorization{allowance}", **evidence)


@check(
    "apigateway_rest_methods_authenticated",
    ApiGatewayRestApi,
    title="No REST API method has authorization NONE",
    facts=("methods",),
)
def rest_authenticated(api: ApiGatewayRestApi, ctx: CheckContext) -> Outcome:
    return _authentication(need(api, "methods"), ctx, "method")


@check(
    "apigateway_v2_routes_authenticated",
    ApiGatewayV2Api,
    title="No HTTP API route, and no WebSocket $connect route, has authorization NONE",
    facts=("routes",),
)
def v2_authenticated(api: ApiGatewayV2Api, ctx: CheckContext) -> Outcome:
    routes = need(api, "routes")
    if api.protocol_type == "WEBSOCKET":
        connect = [r for r in routes if r.path == "$connect"]
        if not connect:
            return failed(
                "the WebSocket API has no $connect route, the only route that can authorize a connection"
            )
        return _authentication(connect, ctx, "$connect route")
    return _authentication(routes, ctx, "route")


# ---- APIGW-02: authorization ---------------------------------------------------------------------


@check(
    "apigateway_rest_policy_no_public_invoke",
    ApiGatewayRestApi,
    title="The REST API's resource policy does not grant unrestricted invoke",
    facts=("resource_policy", "endpoint_types"),
)
def rest_policy(api: ApiGatewayRestApi, ctx: CheckContext) -> Outcome:
    document = need(api, "resource_policy")
    if document.is_empty:
        if "PRIVATE" in api.endpoint_types:
            return failed(
                "the private API has no resource policy; restrict it to your VPC endpoints (aws:SourceVpce)"
            )
        return passed("the API has no resource policy (access is governed by method authorization)")
    grants = public_grants(document, action_filter=["execute-api:*"])
    undecided = public_doubt(document, grants, action_filter=["execute-api:*"])
    if undecided:
        return unknown(f"whether the resource policy grants invoke to everyone depends on {undecided}")
    if grants:
        return failed(
            "; ".join(g.describe() for g in grants)
            + " with no condition restricting the caller (aws:SourceVpce, aws:SourceIp, aws:PrincipalOrgID…)",
            grants=[g.evidence() for g in grants],
        )
    return passed(
        "the resource policy grants invoke only to specific principals or under restricting conditions"
    )


def _scopes(methods: list[ApiMethod], kinds: tuple[str, ...], what: str) -> Outcome:
    token = [
        m for m in methods if m.authorization_type.upper() in kinds and "authorization" not in m.unresolved
    ]
    unscoped = [m for m in token if not m.authorization_scopes and "scopes" not in m.unresolved]
    undecided = [
        m for m in methods if "authorization" in m.unresolved or (m in token and "scopes" in m.unresolved)
    ]
    if undecided and not unscoped:
        return unknown(
            f"whether the {what}-authorized methods or routes require scopes depends on "
            + "; ".join(f"{m.label}: {'; '.join(m.unresolved.values())}" for m in undecided[:4])
        )
    if not token:
        return not_applicable(f"no {what}-authorized methods or routes")
    if unscoped:
        return failed(
            f"{len(unscoped)} of {len(token)} {what}-authorized methods or routes accept any valid token (no "
            f"authorization scopes): {_list(unscoped)}; set AuthorizationScopes so that each operation "
            "requires a "
            "scope",
            unscoped=[m.label for m in unscoped],
        )
    return passed(f"all {len(token)} {what}-authorized methods or routes require authorization scopes")


@check(
    "apigateway_rest_cognito_methods_scoped",
    ApiGatewayRestApi,
    title="Cognito-authorized REST methods require OAuth scopes",
    facts=("methods",),
)
def rest_scopes(api: ApiGatewayRestApi, ctx: CheckContext) -> Outcome:
    return _scopes(need(api, "methods"), ("COGNITO_USER_POOLS",), "Cognito")


@check(
    "apigateway_v2_jwt_routes_scoped",
    ApiGatewayV2Api,
    title="JWT-authorized HTTP API routes require OAuth scopes",
    facts=("routes",),
)
def v2_scopes(api: ApiGatewayV2Api, ctx: CheckContext) -> Outcome:
    return _scopes(need(api, "routes"), ("JWT",), "JWT")


# ---- APIGW-03: throttling ------------------------------------------------------------------------


def _limit_problems(
    throttle_rate: float | None, throttle_burst: int | None, config: ApiGatewaySettings
) -> list[str]:
    problems = []
    if config.max_rate_limit is not None and (throttle_rate is None or throttle_rate > config.max_rate_limit):
        problems.append(
            f"rate limit {throttle_rate} is above apigateway.max_rate_limit ({config.max_rate_limit})"
        )
    if config.max_burst_limit is not None and (
        throttle_burst is None or throttle_burst > config.max_burst_limit
    ):
        problems.append(
            f"burst limit {throttle_burst} is above apigateway.max_burst_limit ({config.max_burst_limit})"
        )
    return problems


# The regional account-level limits every stage gets when nothing lower is set.
ACCOUNT_DEFAULT_RATE = 10000.0
ACCOUNT_DEFAULT_BURST = 5000


def _throttled(stage: ApiStageBase, ctx: CheckContext, plans: list[str] | None) -> Outcome:
    config = _settings(ctx)
    throttle = stage.throttle
    if throttle is not None and throttle.set:
        evidence = {"rate_limit": throttle.rate_limit, "burst_limit": throttle.burst_limit}
        if (throttle.rate_limit is None or throttle.rate_limit >= ACCOUNT_DEFAULT_RATE) and (
            throttle.burst_limit is None or throttle.burst_limit >= ACCOUNT_DEFAULT_BURST
        ):
            if not plans:
                return failed(
                    f"stage throttling (rate {throttle.rate_limit}/s, burst {throttle.burst_limit}) is not "
                    "below the "
                    f"account default ({ACCOUNT_DEFAULT_RATE:g}/s, burst {ACCOUNT_DEFAULT_BURST}), as the "
                    "console writes "
                    "it when logging is turned on; set limits the backend can take",
                    **evidence,
                )
            return passed(f"throttled by usage plan {', '.join(plans)}", usage_plans=plans, **evidence)
        problems = _limit_problems(throttle.rate_limit, throttle.burst_limit, config)
        if problems:
            return failed("stage throttling is set but " + "; ".join(problems), **evidence)
        return passed(
            f"stage throttling: rate {throttle.rate_limit}/s, burst {throttle.burst_limit}", **evidence
        )
    if plans:
        return passed(f"throttled by usage plan {', '.join(plans)}", usage_plans=plans)
    need(stage, "throttle")
    return failed(
        "no stage-level throttling"
        + (" and no usage plan with a throttle covers the stage" if plans is not None else "")
        + "; only the account-wide default limit applies. Set default method throttling on the stage"
        + (" or a usage plan throttle" if plans is not None else ""),
    )


def _keyless_methods(stage: ApiGatewayStage, ctx: CheckContext) -> list[ApiMethod]:
    """Methods of the stage's API that a usage plan does not throttle: those without an API key.

    A usage plan's limits apply to the requests that present one of its API keys; requests to a
    method that does not require a key are limited only by the stage and the account. OPTIONS
    preflights are left out when they are allowed without authorization (APIGW-01).
    """
    apis = ctx.inventory.index(ApiGatewayRestApi, "api_id", account_id=stage.account_id, region=stage.region)
    api = apis.get(stage.api_id)
    if api is None:
        raise FactUnavailable(unknown(f"REST API {stage.api_id} of the stage was not collected"))
    methods = need(api, "methods")
    _, preflight = _unauthenticated(methods, ctx)
    undecided = [m for m in methods if "api key" in m.unresolved or "authorization" in m.unresolved]
    keyless = [m for m in methods if not m.api_key_required and m not in preflight and m not in undecided]
    if undecided and not keyless:
        raise FactUnavailable(
            unknown(
                "whether every method requires an API key of the usage plan depends on "
                + "; ".join(f"{m.label}: {'; '.join(m.unresolved.values())}" for m in undecided[:4])
            )
        )
    return keyless


@check(
    "apigateway_stage_throttled",
    ApiGatewayStage,
    title="The REST API stage is throttled at stage or usage-plan level",
    uses=(ApiGatewayRestApi,),
    facts=("throttle", "usage_plan_throttles", "methods"),
)
def rest_throttled(stage: ApiGatewayStage, ctx: CheckContext) -> Outcome:
    plans = stage.usage_plan_throttles
    if stage.throttle is None or not stage.throttle.set:
        plans = need(stage, "usage_plan_throttles")
    keyless = _keyless_methods(stage, ctx) if plans else []
    if plans and keyless:
        outcome = _throttled(stage, ctx, None)  # judged as if no plan covered it
        if outcome.status is not Status.FAIL:
            return outcome
        return failed(
            f"{outcome.reason.rstrip('.')}. Usage plan {', '.join(plans)} covers the stage, but a usage "
            "plan only throttles requests that present one of its API keys, and "
            f"{len(keyless)} method(s) do not require one: {_list(keyless)}",
            usage_plans=plans,
            methods_without_api_key=[m.label for m in keyless],
            **outcome.evidence,
        )
    return _throttled(stage, ctx, plans)


@check(
    "apigateway_v2_stage_throttled",
    ApiGatewayV2Stage,
    title="The HTTP/WebSocket API stage has default route throttling",
    facts=("throttle",),
)
def v2_throttled(stage: ApiGatewayV2Stage, ctx: CheckContext) -> Outcome:
    return _throttled(stage, ctx, None)


# ---- APIGW-04: WAF -------------------------------------------------------------------------------


@check(
    "apigateway_stage_waf_enabled",
    ApiGatewayStage,
    title="A web ACL is associated with the REST API stage",
    facts=("web_acl_arn",),
)
def rest_waf(stage: ApiGatewayStage, ctx: CheckContext) -> Outcome:
    acl = need(stage, "web_acl_arn")
    if acl:
        return passed(f"web ACL {acl} is associated", web_acl=acl)
    return failed("no AWS WAF web ACL is associated with the stage; associate a regional WAFv2 web ACL")


@check(
    "apigateway_v2_default_endpoint_disabled",
    ApiGatewayV2Api,
    title="HTTP/WebSocket API cannot be reached around a WAF (default execute-api endpoint disabled)",
    facts=("disable_execute_api_endpoint",),
)
def v2_waf_bypass(api: ApiGatewayV2Api, ctx: CheckContext) -> Outcome:
    # AWS WAF cannot attach to HTTP or WebSocket APIs; the only way to put a web ACL in front
    # is CloudFront (or an ALB) on a custom domain, which protects nothing while clients can
    # still call the default https://{api-id}.execute-api endpoint directly.
    if need(api, "disable_execute_api_endpoint"):
        return passed(
            f"the default execute-api endpoint of this {api.protocol_type} API is disabled, so traffic must "
            "come through its custom domain, where CloudFront and a web ACL can inspect it"
        )
    return failed(
        f"AWS WAF cannot attach to {api.protocol_type} APIs, and the default execute-api endpoint is "
        "enabled, so clients can bypass any CloudFront + web ACL in front; set "
        "DisableExecuteApiEndpoint: true and serve the API through a custom domain behind CloudFront "
        "with AWS WAF",
        disable_execute_api_endpoint=False,
    )


# ---- APIGW-05: logging ---------------------------------------------------------------------------


@check(
    "apigateway_stage_logging_enabled",
    ApiGatewayStage,
    title="The REST API stage has execution and access logging",
    facts=("execution_logging_level", "access_log_destination"),
)
def rest_logging(stage: ApiGatewayStage, ctx: CheckContext) -> Outcome:
    return _logging(stage, ctx, execution=True)


@check(
    "apigateway_v2_stage_logging_enabled",
    ApiGatewayV2Stage,
    title="The HTTP/WebSocket API stage has access logging (and execution logging for WebSocket)",
    facts=("execution_logging_level", "access_log_destination", "protocol_type"),
)
def v2_logging(stage: ApiGatewayV2Stage, ctx: CheckContext) -> Outcome:
    # HTTP APIs have no execution logs; WebSocket APIs have both.
    return _logging(stage, ctx, execution=stage.protocol_type == "WEBSOCKET")


def _logging(stage: ApiStageBase, ctx: CheckContext, *, execution: bool) -> Outcome:
    access = need(stage, "access_log_destination")
    problems = []
    level = None
    if execution:
        level = need(stage, "execution_logging_level")
        if level.upper() not in [lvl.upper() for lvl in _settings(ctx).execution_logging_levels]:
            problems.append(f"execution logging is {level} (set the stage's logging level to ERROR or INFO)")
    if not access:
        problems.append("access logging is off (set an access log destination and format)")
    evidence = {"execution_logging_level": level, "access_log_destination": access or None}
    if problems:
        return failed("; ".join(problems), **evidence)
    what = f"execution logging {level} and " if execution else ""
    return passed(f"{what}access logs to {access}", **evidence)
