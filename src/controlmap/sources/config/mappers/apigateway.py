"""API Gateway REST and HTTP/WebSocket APIs and stages, from their configuration items.

AWS Config records an API's settings (endpoint types, resource policy) and each stage's
settings (method settings ``*/*`` for throttling and execution logging, access logs, the WAF web
ACL). It does not record methods, routes or their authorizers, nor usage plans: those checks
(APIGW-01, APIGW-02 scopes, usage-plan throttling) report UNKNOWN. A stage item names its API
only in its ARN (``/restapis/<id>/stages/<name>``), which is where the API ID is read from.
"""

from __future__ import annotations

import re

from controlmap.checks.registry import Inventory
from controlmap.resources.apigateway import (
    ApiGatewayRestApi,
    ApiGatewayStage,
    ApiGatewayV2Api,
    ApiGatewayV2Stage,
)
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyParseError
from controlmap.sources.aws.services.apigateway import _throttle, rest_policy
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, base, finisher, mapper

_STAGE_PATH = re.compile(r"/(?:restapis|apis)/([^/]+)/stages/([^/]+)$")


def _arn(item: ConfigItem, path: str) -> str:
    return item.arn or f"arn:aws:apigateway:{item.region or ''}::{path}"


def _api_and_stage(item: ConfigItem, stage_name: str | None) -> tuple[str, str]:
    for text in (item.arn or "", item.resource_id):
        match = _STAGE_PATH.search(text)
        if match:
            return match.group(1), stage_name or match.group(2)
    return "?", stage_name or item.resource_name or item.resource_id


@mapper("AWS::ApiGateway::RestApi")
def rest_api(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    api_id = str(config.get("id") or item.resource_id)
    model = ApiGatewayRestApi(
        **base(item, name=config.get("name") or api_id, id=_arn(item, f"/restapis/{api_id}")),
        api_id=api_id,
        endpoint_types=list((config.get("endpointConfiguration") or {}).get("types") or []),
        disable_execute_api_endpoint=config.get("disableExecuteApiEndpoint"),
    )
    try:
        model.resource_policy = rest_policy(config.get("policy"))
    except PolicyParseError as exc:
        model.mark_unknown("resource_policy", f"the recorded resource policy could not be parsed: {exc}")
    ctx.not_recorded(model, ["methods"], "API Gateway methods and their authorizers")
    return [model]


@mapper("AWS::ApiGateway::Stage")
def rest_stage(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    api_id, name = _api_and_stage(item, config.get("stageName"))
    settings = (config.get("methodSettings") or {}).get("*/*") or {}
    access = config.get("accessLogSettings") or {}
    model = ApiGatewayStage(
        **base(item, name=f"{api_id}/{name}", id=_arn(item, f"/restapis/{api_id}/stages/{name}")),
        api_id=api_id,
        stage_name=name,
        throttle=_throttle(settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")),
        execution_logging_level=str(settings.get("loggingLevel") or "OFF"),
        access_log_destination=access.get("destinationArn") or "",
        web_acl_arn=config.get("webAclArn") or "",
    )
    ctx.not_recorded(model, ["usage_plan_throttles"], "API Gateway usage plans")
    return [model]


@mapper("AWS::ApiGatewayV2::Api")
def v2_api(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    api_id = str(config.get("apiId") or item.resource_id)
    model = ApiGatewayV2Api(
        **base(item, name=config.get("name") or api_id, id=_arn(item, f"/apis/{api_id}")),
        api_id=api_id,
        protocol_type=str(config.get("protocolType") or "HTTP"),
        disable_execute_api_endpoint=config.get("disableExecuteApiEndpoint"),
    )
    ctx.not_recorded(model, ["routes"], "API Gateway routes and their authorizers")
    return [model]


@mapper("AWS::ApiGatewayV2::Stage")
def v2_stage(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    api_id, name = _api_and_stage(item, config.get("stageName"))
    api_id = str(config.get("apiId") or api_id)
    defaults = config.get("defaultRouteSettings") or {}
    access = config.get("accessLogSettings") or {}
    return [
        ApiGatewayV2Stage(
            **base(item, name=f"{api_id}/{name}", id=_arn(item, f"/apis/{api_id}/stages/{name}")),
            api_id=api_id,
            stage_name=name,
            throttle=_throttle(defaults.get("throttlingRateLimit"), defaults.get("throttlingBurstLimit")),
            execution_logging_level=str(defaults.get("loggingLevel") or "OFF"),
            access_log_destination=access.get("destinationArn") or "",
        )
    ]


@finisher
def stage_names_and_protocols(inventory: Inventory, ctx: MapContext) -> None:
    """Stages take their API's name (as in the live scan) and, for v2, its protocol."""
    rest = {(a.account_id, a.api_id): a for a in inventory.of_type(ApiGatewayRestApi)}
    for stage in inventory.of_type(ApiGatewayStage):
        api = rest.get((stage.account_id, stage.api_id))
        if api is not None:
            stage.name = f"{api.name}/{stage.stage_name}"
    v2 = {(a.account_id, a.api_id): a for a in inventory.of_type(ApiGatewayV2Api)}
    for v2_stage_model in inventory.of_type(ApiGatewayV2Stage):
        v2_api_model = v2.get((v2_stage_model.account_id, v2_stage_model.api_id))
        if v2_api_model is not None:
            v2_stage_model.name = f"{v2_api_model.name}/{v2_stage_model.stage_name}"
            v2_stage_model.protocol_type = v2_api_model.protocol_type
        else:
            v2_stage_model.mark_unknown(
                "protocol_type",
                f"the item of API {v2_stage_model.api_id} (AWS::ApiGatewayV2::Api) is not in the data",
            )
