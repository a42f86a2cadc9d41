"""Demo API Gateway APIs: compliant and non-compliant REST, HTTP and WebSocket APIs for
APIGW-01 … APIGW-05. The helpers are shared with the tests; the in-process moto server is
corrected where it differs from API Gateway (see ``install_apigateway_emulation``)."""

from __future__ import annotations

import json
from typing import Any

from controlmap.demo.seed import SeedContext, seeder


def install_apigateway_emulation() -> None:
    """moto fills a stage's "*/*" method settings with 1000/s and burst 2000 when any of them is
    patched; API Gateway shows the account-level defaults (10000/s, burst 5000) instead."""
    from moto.apigateway.models import Stage

    if getattr(Stage, "_controlmap_demo", False):
        return
    original = Stage._get_default_method_settings

    def account_defaults(self: Any) -> dict[str, Any]:
        settings: dict[str, Any] = original(self)
        settings.update(throttlingRateLimit=10000.0, throttlingBurstLimit=5000)
        return settings

    Stage._get_default_method_settings = account_defaults  # type: ignore[method-assign]
    Stage._controlmap_demo = True  # type: ignore[attr-defined]


install_apigateway_emulation()

# (path, HTTP method, authorization type, scopes, API key required)
Method = tuple[str, str, str, list[str], bool]


def rest_api(
    apigw: Any,
    name: str,
    methods: list[Method],
    *,
    policy: dict[str, Any] | None = None,
    user_pool: str | None = None,
    endpoint: str = "REGIONAL",
) -> str:
    params: dict[str, Any] = {"name": name, "endpointConfiguration": {"types": [endpoint]}}
    if policy is not None:
        params["policy"] = json.dumps(policy)
    api_id = str(apigw.create_rest_api(**params)["id"])
    authorizer = None
    if user_pool is not None:
        authorizer = apigw.create_authorizer(
            restApiId=api_id,
            name="users",
            type="COGNITO_USER_POOLS",
            providerARNs=[user_pool],
            identitySource="method.request.header.Authorization",
        )["id"]
    root = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")["id"]
    resources = {"/": root}
    for path, verb, auth, scopes, api_key in methods:
        if path not in resources:
            resources[path] = apigw.create_resource(
                restApiId=api_id, parentId=root, pathPart=path.strip("/")
            )["id"]
        extra: dict[str, Any] = {"authorizationScopes": scopes} if scopes else {}
        if auth in ("COGNITO_USER_POOLS", "CUSTOM") and authorizer:
            extra["authorizerId"] = authorizer
        apigw.put_method(
            restApiId=api_id,
            resourceId=resources[path],
            httpMethod=verb,
            authorizationType=auth,
            apiKeyRequired=api_key,
            **extra,
        )
        apigw.put_integration(restApiId=api_id, resourceId=resources[path], httpMethod=verb, type="MOCK")
    return api_id


def rest_stage(
    apigw: Any,
    api_id: str,
    stage: str,
    *,
    log_level: str | None = None,
    access_log: str | None = None,
    throttle: tuple[float, int] | None = None,
) -> str:
    apigw.create_deployment(restApiId=api_id, stageName=stage)
    ops: list[dict[str, str]] = []
    if log_level:
        ops.append({"op": "replace", "path": "/*/*/logging/loglevel", "value": log_level})
    if throttle:
        ops.append({"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(throttle[0])})
        ops.append({"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(throttle[1])})
    if access_log:
        ops.append({"op": "replace", "path": "/accessLogSettings/destinationArn", "value": access_log})
        ops.append({"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"})
    if ops:
        apigw.update_stage(restApiId=api_id, stageName=stage, patchOperations=ops)
    region = apigw.meta.region_name
    return f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}"


def web_acl(wafv2: Any, name: str) -> str:
    return str(
        wafv2.create_web_acl(
            Name=name,
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            Rules=[],
            VisibilityConfig={
                "SampledRequestsEnabled": True,
                "CloudWatchMetricsEnabled": True,
                "MetricName": name,
            },
        )["Summary"]["ARN"]
    )


def http_api(
    v2: Any,
    name: str,
    routes: list[tuple[str, str, list[str]]],
    *,
    protocol: str = "HTTP",
    issuer: str | None = None,
    stage: str = "live",
    throttle: tuple[float, int] | None = None,
    access_log: str | None = None,
    log_level: str | None = None,
    disable_default_endpoint: bool = False,
) -> str:
    params: dict[str, Any] = {"Name": name, "ProtocolType": protocol}
    if disable_default_endpoint:
        params["DisableExecuteApiEndpoint"] = True
    if protocol == "WEBSOCKET":
        params["RouteSelectionExpression"] = "$request.body.action"
    api_id = str(v2.create_api(**params)["ApiId"])
    authorizer = None
    if issuer:
        authorizer = v2.create_authorizer(
            ApiId=api_id,
            Name="jwt",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Audience": ["demo"], "Issuer": issuer},
        )["AuthorizerId"]
    for key, auth, scopes in routes:
        extra: dict[str, Any] = {"AuthorizationScopes": scopes} if scopes else {}
        if auth == "JWT" and authorizer:
            extra["AuthorizerId"] = authorizer
        v2.create_route(ApiId=api_id, RouteKey=key, AuthorizationType=auth, **extra)
    settings: dict[str, Any] = {}
    if throttle:
        settings.update(ThrottlingRateLimit=throttle[0], ThrottlingBurstLimit=throttle[1])
    if log_level:
        settings["LoggingLevel"] = log_level
    stage_params: dict[str, Any] = {"ApiId": api_id, "StageName": stage, "DefaultRouteSettings": settings}
    if access_log:
        stage_params["AccessLogSettings"] = {"DestinationArn": access_log, "Format": "$context.requestId"}
    v2.create_stage(**stage_params)
    return api_id


def _logs(account: str, region: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


@seeder("apigateway")
def seed_apigateway(ctx: SeedContext) -> None:
    home, account = ctx.regions[0], ctx.account_id
    apigw, v2, wafv2 = (
        ctx.client("apigateway", home),
        ctx.client("apigatewayv2", home),
        ctx.client("wafv2", home),
    )
    pool = f"arn:aws:cognito-idp:{home}:{account}:userpool/{home}_DemoPool1"
    # Compliant REST API: IAM and scoped Cognito authorization, an OPTIONS preflight, a policy
    # limited to the organisation, throttled, WAF, execution and access logs.
    orders = rest_api(
        apigw,
        "demo-orders-api",
        [
            ("/orders", "GET", "COGNITO_USER_POOLS", ["orders/read"], False),
            ("/orders", "POST", "AWS_IAM", [], False),
            ("/orders", "OPTIONS", "NONE", [], False),
        ],
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-demo12345"}},
                }
            ],
        },
        user_pool=pool,
    )
    stage = rest_stage(
        apigw,
        orders,
        "prod",
        log_level="ERROR",
        access_log=_logs(account, home, "demo-orders-api"),
        throttle=(200.0, 100),
    )
    wafv2.associate_web_acl(WebACLArn=web_acl(wafv2, "demo-api-acl"), ResourceArn=stage)
    # Non-compliant REST API: an unauthenticated method protected only by an API key, an
    # unscoped Cognito method, a public resource policy, no throttling below the account
    # default, no WAF, no access logs.
    legacy = rest_api(
        apigw,
        "demo-legacy-api",
        [
            ("/reports", "GET", "NONE", [], True),
            ("/reports", "DELETE", "COGNITO_USER_POOLS", [], False),
        ],
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}
            ],
        },
        user_pool=pool,
    )
    rest_stage(apigw, legacy, "prod", log_level="OFF", throttle=(10000.0, 5000))
    # Usage-plan throttling only (APIGW-03 PASS through the plan).
    partner = rest_api(apigw, "demo-partner-api", [("/quotes", "GET", "AWS_IAM", [], True)])
    rest_stage(apigw, partner, "v1", log_level="INFO", access_log=_logs(account, home, "demo-partner-api"))
    apigw.create_usage_plan(
        name="demo-partners",
        apiStages=[{"apiId": partner, "stage": "v1"}],
        throttle={"rateLimit": 50.0, "burstLimit": 20},
    )
    # HTTP APIs: JWT with scopes, throttled and logged; and an open, unlogged one.
    issuer = f"https://cognito-idp.{home}.amazonaws.com/{home}_DemoPool1"
    http_api(
        v2,
        "demo-mobile-http",
        [("GET /profile", "JWT", ["profile/read"]), ("OPTIONS /profile", "NONE", [])],
        issuer=issuer,
        throttle=(100.0, 50),
        access_log=_logs(account, home, "demo-mobile-http"),
        disable_default_endpoint=True,  # served only through CloudFront + WAF on a custom domain
    )
    http_api(
        v2, "demo-webhooks-http", [("POST /hook", "NONE", []), ("GET /status", "JWT", [])], issuer=issuer
    )
    # WebSocket APIs: $connect authorized with IAM, logged; and one whose $connect is open.
    http_api(
        v2,
        "demo-chat-ws",
        [("$connect", "AWS_IAM", []), ("sendMessage", "NONE", [])],
        protocol="WEBSOCKET",
        throttle=(100.0, 50),
        access_log=_logs(account, home, "demo-chat-ws"),
        log_level="ERROR",
    )
    http_api(v2, "demo-feed-ws", [("$connect", "NONE", []), ("$default", "NONE", [])], protocol="WEBSOCKET")
