"""API Gateway REST, HTTP and WebSocket APIs through the local moto server (whose stage
method-setting defaults are corrected to API Gateway's, see ``install_apigateway_emulation``)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
from controlmap.demo.fakes import answer_before_call
from controlmap.demo.seed_apigateway import http_api, rest_api, rest_stage, web_acl
from controlmap.resources.apigateway import ApiGatewayRestApi, ApiGatewayStage
from controlmap.settings import Settings

CHECKS = [
    "apigateway_rest_methods_authenticated",
    "apigateway_v2_routes_authenticated",
    "apigateway_rest_policy_no_public_invoke",
    "apigateway_rest_cognito_methods_scoped",
    "apigateway_v2_jwt_routes_scoped",
    "apigateway_stage_throttled",
    "apigateway_v2_stage_throttled",
    "apigateway_stage_waf_enabled",
    "apigateway_v2_default_endpoint_disabled",
    "apigateway_stage_logging_enabled",
    "apigateway_v2_stage_logging_enabled",
]
POOL = f"arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/us-east-1_Pool"
LOGS = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:api"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"


@pytest.fixture
def apis(aws_session: boto3.Session) -> None:
    apigw, v2, wafv2 = (aws_session.client(s) for s in ("apigateway", "apigatewayv2", "wafv2"))
    good = rest_api(
        apigw,
        "good",
        [("/a", "GET", "COGNITO_USER_POOLS", ["a/read"], False), ("/a", "OPTIONS", "NONE", [], False)],
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}},
                }
            ],
        },
        user_pool=POOL,
        endpoint="PRIVATE",
    )
    stage = rest_stage(apigw, good, "prod", log_level="INFO", access_log=LOGS, throttle=(100.0, 50))
    wafv2.associate_web_acl(WebACLArn=web_acl(wafv2, "acl"), ResourceArn=stage)
    bad = rest_api(
        apigw,
        "bad",
        [
            ("/b", "GET", "NONE", [], True),
            ("/b", "OPTIONS", "NONE", [], False),
            ("/c", "PUT", "COGNITO_USER_POOLS", [], False),
        ],
        policy={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:*", "Resource": "*"}],
        },
        user_pool=POOL,
    )
    rest_stage(apigw, bad, "prod", log_level="ERROR", throttle=(10000.0, 5000))  # the console's "defaults"
    rest_stage(apigw, bad, "dev")
    private = rest_api(apigw, "private-open", [("/p", "GET", "AWS_IAM", [], False)], endpoint="PRIVATE")
    rest_stage(apigw, private, "v1", log_level="ERROR", access_log=LOGS)
    apigw.create_usage_plan(
        name="plan", apiStages=[{"apiId": private, "stage": "v1"}], throttle={"rateLimit": 5.0}
    )
    # AWS's documented private API policy: Allow everyone, Deny unless through our VPC endpoint.
    invoke = {"Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    unless_vpce = {"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}}
    keyed = rest_api(
        apigw,
        "private-vpce",
        [("/k", "GET", "AWS_IAM", [], True), ("/k", "OPTIONS", "NONE", [], False)],
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", **invoke},
                {"Effect": "Deny", **invoke, "Condition": unless_vpce},
            ],
        },
        endpoint="PRIVATE",
    )
    rest_stage(apigw, keyed, "v1", log_level="ERROR", access_log=LOGS)
    apigw.create_usage_plan(
        name="keyed-plan", apiStages=[{"apiId": keyed, "stage": "v1"}], throttle={"burstLimit": 10}
    )
    http_api(
        v2, "http-good", [("GET /x", "JWT", ["x/read"])], issuer=ISSUER, throttle=(10.0, 5), access_log=LOGS
    )
    http_api(v2, "http-bad", [("GET /x", "JWT", []), ("POST /y", "NONE", [])], issuer=ISSUER)
    http_api(
        v2, "http-fronted", [("GET /x", "JWT", ["x/read"])], issuer=ISSUER, disable_default_endpoint=True
    )
    http_api(
        v2,
        "ws-good",
        [("$connect", "AWS_IAM", []), ("send", "NONE", [])],
        protocol="WEBSOCKET",
        throttle=(10.0, 5),
        access_log=LOGS,
        log_level="INFO",
    )
    http_api(v2, "ws-bad", [("$connect", "NONE", [])], protocol="WEBSOCKET", access_log=LOGS)
    http_api(v2, "ws-noconnect", [("$default", "NONE", [])], protocol="WEBSOCKET")


def test_api_gateway_checks(apis: None) -> None:
    scan = live_scan(CHECKS)
    auth = "apigateway_rest_methods_authenticated"
    assert status(scan, auth, "good") is Status.PASS  # OPTIONS allowed as CORS preflight
    assert "CORS preflight" in reason(scan, auth, "good")
    bad = reason(scan, auth, "bad")
    assert status(scan, auth, "bad") is Status.FAIL and "GET /b" in bad and "OPTIONS" not in bad.split(":")[1]
    assert "API key" in bad  # an API key is not authentication
    strict = Settings.model_validate({"apigateway": {"allow_unauthenticated_options": False}})
    assert status(scan, auth, "good", strict) is Status.FAIL

    v2 = "apigateway_v2_routes_authenticated"
    assert status(scan, v2, "http-good") is Status.PASS
    assert status(scan, v2, "http-bad") is Status.FAIL and "POST /y" in reason(scan, v2, "http-bad")
    assert status(scan, v2, "ws-good") is Status.PASS  # only $connect carries authorization
    assert status(scan, v2, "ws-bad") is Status.FAIL
    assert status(scan, v2, "ws-noconnect") is Status.FAIL

    policy = "apigateway_rest_policy_no_public_invoke"
    assert status(scan, policy, "good") is Status.PASS  # Principal * narrowed by aws:SourceVpce
    assert status(scan, policy, "bad") is Status.FAIL
    assert status(scan, policy, "private-open") is Status.FAIL  # private API without a policy
    assert status(scan, policy, "private-vpce") is Status.PASS  # Allow * narrowed by Deny unless vpce

    assert status(scan, "apigateway_rest_cognito_methods_scoped", "good") is Status.PASS
    assert status(scan, "apigateway_rest_cognito_methods_scoped", "bad") is Status.FAIL
    assert status(scan, "apigateway_rest_cognito_methods_scoped", "private-open") is Status.NOT_APPLICABLE
    assert status(scan, "apigateway_v2_jwt_routes_scoped", "http-good") is Status.PASS
    assert status(scan, "apigateway_v2_jwt_routes_scoped", "http-bad") is Status.FAIL

    throttle = "apigateway_stage_throttled"
    assert status(scan, throttle, "good/prod") is Status.PASS
    assert status(scan, throttle, "bad/prod") is Status.FAIL and "account default" in reason(
        scan, throttle, "bad/prod"
    )
    assert status(scan, throttle, "bad/dev") is Status.FAIL
    # A usage plan throttles only requests with one of its API keys: GET /p needs none.
    assert status(scan, throttle, "private-open/v1") is Status.FAIL
    assert "GET /p" in reason(scan, throttle, "private-open/v1")
    assert "API key" in reason(scan, throttle, "private-open/v1")
    assert status(scan, throttle, "private-vpce/v1") is Status.PASS  # every method needs a key
    assert "keyed-plan" in reason(scan, throttle, "private-vpce/v1")
    limits = Settings.model_validate({"apigateway": {"max_rate_limit": 50}})
    assert status(scan, throttle, "good/prod", limits) is Status.FAIL
    assert status(scan, "apigateway_v2_stage_throttled", "http-good/live") is Status.PASS
    assert status(scan, "apigateway_v2_stage_throttled", "http-bad/live") is Status.FAIL

    assert status(scan, "apigateway_stage_waf_enabled", "good/prod") is Status.PASS
    assert status(scan, "apigateway_stage_waf_enabled", "bad/prod") is Status.FAIL
    bypass = "apigateway_v2_default_endpoint_disabled"
    assert status(scan, bypass, "http-fronted") is Status.PASS
    assert status(scan, bypass, "http-bad") is Status.FAIL and "bypass" in reason(scan, bypass, "http-bad")

    logging = "apigateway_stage_logging_enabled"
    assert status(scan, logging, "good/prod") is Status.PASS
    assert status(scan, logging, "bad/prod") is Status.FAIL and "access logging is off" in reason(
        scan, logging, "bad/prod"
    )
    assert "execution logging is OFF" in reason(scan, logging, "bad/dev")
    v2log = "apigateway_v2_stage_logging_enabled"
    assert status(scan, v2log, "http-good/live") is Status.PASS  # HTTP APIs have no execution logs
    assert status(scan, v2log, "ws-good/live") is Status.PASS
    assert status(scan, v2log, "ws-bad/live") is Status.FAIL and "execution logging is OFF" in reason(
        scan, v2log, "ws-bad/live"
    )


def test_resources_follow_position_tokens(apis: None) -> None:
    """moto ignores ``limit``; a fake answers GetResources in two pages linked by ``position``."""
    pages: dict[str | None, dict[str, Any]] = {
        None: {
            "items": [
                {"id": "r1", "path": "/one", "resourceMethods": {"GET": {"authorizationType": "NONE"}}}
            ],
            "position": "p2",
        },
        "p2": {
            "items": [
                {"id": "r2", "path": "/two", "resourceMethods": {"POST": {"authorizationType": "AWS_IAM"}}}
            ]
        },
    }
    seen: list[Any] = []

    def install(client: Any) -> None:
        if client.meta.service_model.service_name != "apigateway":
            return

        def respond(params: dict[str, Any]) -> dict[str, Any]:
            token = (params.get("query_string") or {}).get("position")
            seen.append(token)
            return dict(pages[token])

        answer_before_call(client, "GetResources", respond)

    scan = live_scan(["apigateway_rest_methods_authenticated"], hooks=[install])
    api = next(a for a in scan.inventory.of_type(ApiGatewayRestApi) if a.name == "good")
    assert [m.label for m in api.methods or []] == ["GET /one", "POST /two"]
    assert None in seen and "p2" in seen


def test_read_errors(apis: None) -> None:
    scan = live_scan(
        CHECKS, hooks=[deny("api-gateway", "GetResources"), deny("api-gateway", "GetUsagePlans")]
    )
    found = outcomes(scan, "apigateway_rest_methods_authenticated")["bad"][0]
    assert found.status is Status.ERROR and found.error_code == "AccessDenied"
    # Stage throttling answers without the plans; a stage without it needs them -> ERROR.
    assert status(scan, "apigateway_stage_throttled", "good/prod") is Status.PASS
    assert status(scan, "apigateway_stage_throttled", "bad/dev") is Status.ERROR
    stages = live_scan(["apigateway_stage_logging_enabled"], hooks=[deny("api-gateway", "GetStages")])
    assert not stages.inventory.of_type(ApiGatewayStage)
    assert any(ApiGatewayStage.resource_type in e.resource_types for e in stages.inventory.errors)


def test_calls_per_api(apis: None) -> None:
    scan = live_scan(CHECKS)
    calls: dict[str, Any] = scan.factory.counter.snapshot()
    assert calls["apigateway:GetRestApis"] == 1 and calls["apigateway:GetUsagePlans"] == 1
    # v1 and v2 share the endpoint prefix "apigateway": 4 REST + 6 v2 APIs, one GetStages each.
    assert calls["apigateway:GetResources"] == 4 and calls["apigateway:GetStages"] == 10
    assert calls["apigateway:GetRoutes"] == 6
