"""API Gateway: REST APIs (v1) and HTTP/WebSocket APIs (v2) with their stages.

Per REST API: its resources with methods embedded (one paginated call) and its stages; usage
plans once per region. Per v2 API: routes and stages. Methods and routes carry their
authorization type and scopes, so authorizers themselves are not read. The REST
stage's ``webAclArn`` names its web ACL, so no WAF call is needed.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.apigateway import (
    ApiGatewayRestApi,
    ApiGatewayStage,
    ApiGatewayV2Api,
    ApiGatewayV2Stage,
    ApiMethod,
    ThrottleLimits,
)
from controlmap.resources.base import CollectionError
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.aws.collector import CollectContext, Scope, collector


def _arn(ctx: CollectContext, path: str) -> str:
    return f"arn:aws:apigateway:{ctx.region}::{path}"


def _all(
    ctx: CollectContext, service: str, operation: str, key: str, resource_id: str, **params: Any
) -> tuple[list[Any] | None, CollectionError | None]:
    """Every page of a per-API listing through ``ctx.call`` (v1 ``position``, v2 ``NextToken``)."""
    token_in, token_out = ("position", "position") if service == "apigateway" else ("NextToken", "NextToken")
    items: list[Any] = []
    token: str | None = None
    while True:
        extra = {token_in: token} if token else {}
        result = ctx.call(service, operation, resource_id=resource_id, **params, **extra)
        if result.error is not None:
            return None, result.error
        data = result.data or {}
        items.extend(data.get(key) or [])
        token = data.get(token_out)
        if not token:
            return items, None


def rest_policy(raw: str | None) -> PolicyDocument:
    """API Gateway returns the resource policy JSON-escaped (``{\\"Version\\":…``); undo that."""
    if not raw:
        return PolicyDocument()
    try:
        return parse_policy(raw)
    except PolicyParseError:
        return parse_policy(raw.replace('\\"', '"').replace("\\\\", "\\").replace("\\/", "/"))


def _throttle(rate: Any, burst: Any) -> ThrottleLimits:
    rate_value = float(rate) if rate is not None and float(rate) >= 0 else None
    burst_value = int(burst) if burst is not None and int(burst) >= 0 else None
    return ThrottleLimits(rate_limit=rate_value, burst_limit=burst_value)


@collector(
    "apigateway",
    service="apigateway",
    produces=[ApiGatewayRestApi, ApiGatewayStage, ApiGatewayV2Api, ApiGatewayV2Stage],
    scope=Scope.REGIONAL,
)
def collect_apigateway(ctx: CollectContext) -> None:
    _rest(ctx)
    _v2(ctx)


# ---- REST ------------------------------------------------------------------------------------


def _rest(ctx: CollectContext) -> None:
    apis = ctx.paginate("apigateway", "get_rest_apis", "items", produces=[ApiGatewayRestApi, ApiGatewayStage])
    if not apis:
        return
    plans: dict[tuple[str, str], list[str]] | None = None
    plan_error: CollectionError | None = None
    if ctx.wants("usage_plan_throttles"):
        listed, plan_error = _all(
            ctx, "apigateway", "get_usage_plans", "items", f"usage plans in {ctx.region}"
        )
        if listed is not None:
            plans = {}
            for plan in listed:
                plan_limits = _throttle(
                    (plan.get("throttle") or {}).get("rateLimit"),
                    (plan.get("throttle") or {}).get("burstLimit"),
                )
                for stage in plan.get("apiStages") or []:
                    if plan_limits.set or stage.get("throttle"):
                        key = (stage.get("apiId", ""), stage.get("stage", ""))
                        plans.setdefault(key, []).append(plan.get("name") or plan.get("id", "?"))
    for resources in ctx.map(lambda api: _rest_api(ctx, api, plans, plan_error), apis):
        for resource in resources:
            ctx.add(resource)


def _rest_api(
    ctx: CollectContext,
    item: dict[str, Any],
    plans: dict[tuple[str, str], list[str]] | None,
    plan_error: CollectionError | None,
) -> list[Any]:
    api_id = item["id"]
    api = ApiGatewayRestApi(
        id=_arn(ctx, f"/restapis/{api_id}"),
        name=item.get("name") or api_id,
        account_id=ctx.account_id,
        region=ctx.region,
        tags=dict(item.get("tags") or {}),
        api_id=api_id,
        endpoint_types=list((item.get("endpointConfiguration") or {}).get("types") or []),
        disable_execute_api_endpoint=item.get("disableExecuteApiEndpoint"),
    )
    try:
        api.resource_policy = rest_policy(item.get("policy"))
    except PolicyParseError as exc:
        api.mark_unknown("resource_policy", f"the resource policy could not be parsed: {exc}")
    if ctx.wants("methods"):
        resources, error = _all(
            ctx, "apigateway", "get_resources", "items", api.id, restApiId=api_id, embed=["methods"]
        )
        if error is not None:
            api.mark_error("methods", error)
        elif resources is not None:
            api.methods = [
                ApiMethod(
                    path=resource.get("path", "/"),
                    http_method=verb,
                    authorization_type=str(method.get("authorizationType") or "NONE"),
                    authorizer_id=method.get("authorizerId"),
                    authorization_scopes=list(method.get("authorizationScopes") or []),
                    api_key_required=bool(method.get("apiKeyRequired")),
                )
                for resource in resources
                for verb, method in sorted((resource.get("resourceMethods") or {}).items())
            ]
    out: list[Any] = [api]
    stages = ctx.call("apigateway", "get_stages", restApiId=api_id, resource_id=api.id)
    if stages.error is not None:
        # No stage can be listed: record it so that stage checks report ERROR for the region.
        ctx.record_error(stages.error.model_copy(update={"resource_types": (ApiGatewayStage.resource_type,)}))
        return out
    for stage in (stages.data or {}).get("item") or []:
        out.append(_rest_stage(ctx, api, stage, plans, plan_error))
    return out


def _rest_stage(
    ctx: CollectContext,
    api: ApiGatewayRestApi,
    item: dict[str, Any],
    plans: dict[tuple[str, str], list[str]] | None,
    plan_error: CollectionError | None,
) -> ApiGatewayStage:
    name = item.get("stageName", "?")
    settings = (item.get("methodSettings") or {}).get("*/*") or {}
    access = item.get("accessLogSettings") or {}
    stage = ApiGatewayStage(
        id=_arn(ctx, f"/restapis/{api.api_id}/stages/{name}"),
        name=f"{api.name}/{name}",
        account_id=ctx.account_id,
        region=ctx.region,
        tags=dict(item.get("tags") or {}),
        api_id=api.api_id,
        stage_name=name,
        throttle=_throttle(settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")),
        execution_logging_level=str(settings.get("loggingLevel") or "OFF"),
        access_log_destination=access.get("destinationArn") or "",
        web_acl_arn=item.get("webAclArn") or "",
    )
    if plans is not None:
        stage.usage_plan_throttles = sorted(plans.get((api.api_id, name), []))
    elif plan_error is not None:
        stage.mark_error("usage_plan_throttles", plan_error)
    return stage


# ---- v2 (HTTP and WebSocket) -----------------------------------------------------------------


def _v2(ctx: CollectContext) -> None:
    apis = ctx.paginate("apigatewayv2", "get_apis", "Items", produces=[ApiGatewayV2Api, ApiGatewayV2Stage])
    if not apis:
        return
    for resources in ctx.map(lambda api: _v2_api(ctx, api), apis):
        for resource in resources:
            ctx.add(resource)


def _route(item: dict[str, Any], protocol: str) -> ApiMethod:
    key = item.get("RouteKey", "?")
    verb, _, path = key.partition(" ")
    http = protocol == "HTTP" and bool(path)
    return ApiMethod(
        path=path if http else key,
        http_method=verb if http else None,
        authorization_type=str(item.get("AuthorizationType") or "NONE"),
        authorizer_id=item.get("AuthorizerId"),
        authorization_scopes=list(item.get("AuthorizationScopes") or []),
        api_key_required=bool(item.get("ApiKeyRequired")),
    )


def _v2_api(ctx: CollectContext, item: dict[str, Any]) -> list[Any]:
    api_id = item["ApiId"]
    protocol = item.get("ProtocolType", "HTTP")
    api = ApiGatewayV2Api(
        id=_arn(ctx, f"/apis/{api_id}"),
        name=item.get("Name") or api_id,
        account_id=ctx.account_id,
        region=ctx.region,
        tags=dict(item.get("Tags") or {}),
        api_id=api_id,
        protocol_type=protocol,
        disable_execute_api_endpoint=item.get("DisableExecuteApiEndpoint"),
    )
    if ctx.wants("routes"):
        routes, error = _all(ctx, "apigatewayv2", "get_routes", "Items", api.id, ApiId=api_id)
        if error is not None:
            api.mark_error("routes", error)
        elif routes is not None:
            api.routes = [_route(r, protocol) for r in routes]
    out: list[Any] = [api]
    stages, error = _all(ctx, "apigatewayv2", "get_stages", "Items", api.id, ApiId=api_id)
    if error is not None or stages is None:
        if error is not None:
            ctx.record_error(error.model_copy(update={"resource_types": (ApiGatewayV2Stage.resource_type,)}))
        return out
    for stage in stages:
        name = stage.get("StageName", "?")
        defaults = stage.get("DefaultRouteSettings") or {}
        access = stage.get("AccessLogSettings") or {}
        out.append(
            ApiGatewayV2Stage(
                id=_arn(ctx, f"/apis/{api_id}/stages/{name}"),
                name=f"{api.name}/{name}",
                account_id=ctx.account_id,
                region=ctx.region,
                tags=dict(stage.get("Tags") or {}),
                api_id=api_id,
                stage_name=name,
                protocol_type=protocol,
                throttle=_throttle(defaults.get("ThrottlingRateLimit"), defaults.get("ThrottlingBurstLimit")),
                execution_logging_level=str(defaults.get("LoggingLevel") or "OFF"),
                access_log_destination=access.get("DestinationArn") or "",
            )
        )
    return out
