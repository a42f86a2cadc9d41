"""API Gateway: REST APIs with their resources, methods (with their authorizer), stages (Stage or a
Deployment's StageDescription), usage plans and web ACL associations; HTTP/WebSocket APIs with
their routes and stages.

Methods and routes are kept inside their API, as the model asks. An API defined by an OpenAPI
``Body`` has its methods there: they are left unknown rather than guessed.
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
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, finisher, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.cloudformation.mappers.iam import document
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import as_list, dig, reference_text, text, to_bool, to_int, unknown


def _ref_id(value: Any, build: CfnBuild) -> str | None:
    if isinstance(value, ResourceRef):
        return build.resource_id(value.address)
    if isinstance(value, Unresolved):
        return value.placeholder
    return text(value)


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, Unresolved) else None
    except (TypeError, ValueError):
        return None


def throttle(rate: Any, burst: Any) -> ThrottleLimits:
    burst_value = to_int(burst)
    return ThrottleLimits(
        rate_limit=_number(rate), burst_limit=burst_value if isinstance(burst_value, int) else None
    )


@primary("AWS::ApiGateway::RestApi")
def rest_api(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("Name")
    model = ApiGatewayRestApi(
        id=build.resource_id(item.logical_id),
        name=name if isinstance(name, str) else item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        api_id=build.resource_id(item.logical_id),
        endpoint_types=[
            t for t in (text(v) for v in as_list(dig(props, "EndpointConfiguration", "Types"))) if t
        ]
        or ["EDGE"],
    )
    if "Body" in props or "BodyS3Location" in props:
        model.unknown["methods"] = "the API's methods are defined in its OpenAPI body, which is not analysed"
    else:
        model.methods = []
    policy = props.get("Policy")
    if policy is None:
        model.resource_policy = PolicyDocument()
    else:
        model.resource_policy = document(policy, "Policy", item.raw.line_start, build)
        if model.resource_policy is None:
            unknown(model, "resource_policy", "Policy", policy if isinstance(policy, Unresolved) else "")
    disabled = to_bool(props.get("DisableExecuteApiEndpoint", False))
    model.disable_execute_api_endpoint = disabled if isinstance(disabled, bool) else None
    return [model]


def _resource_path(value: Any, build: CfnBuild, depth: int = 0) -> str:
    if depth > 30:
        return "/?"
    if isinstance(value, ResourceRef):
        if value.attribute == "RootResourceId":
            return "/"
        item = build.items.get(value.address)
        if item is not None and item.type == "AWS::ApiGateway::Resource":
            parent = _resource_path(item.props.get("ParentId"), build, depth + 1)
            part = text(item.props.get("PathPart")) or "?"
            return parent.rstrip("/") + "/" + part
    return "/" if value is None else f"/{reference_text(value) or '?'}"


def _api(value: Any, build: CfnBuild) -> ApiGatewayRestApi | None:
    return build.target(value, ApiGatewayRestApi, "api_id")


@companion("AWS::ApiGateway::Method")
def method(item: CfnItem, build: CfnBuild) -> None:
    api = _api(item.props.get("RestApiId"), build)
    if api is None or api.methods is None:
        return
    props = item.props
    path = text(props.get("x-path")) or _resource_path(props.get("ResourceId"), build)
    authorizer = props.get("AuthorizerId")
    api.methods.append(
        ApiMethod(
            path=path,
            http_method=str(text(props.get("HttpMethod")) or "ANY").upper(),
            authorization_type=str(text(props.get("AuthorizationType")) or "NONE").upper(),
            authorizer_id=_ref_id(authorizer, build) if authorizer is not None else None,
            authorization_scopes=[
                s for s in (text(v) for v in as_list(props.get("AuthorizationScopes"))) if s
            ],
            api_key_required=bool(to_bool(props.get("ApiKeyRequired", False))),
        )
    )


def _stage_settings(model: ApiGatewayStage, settings: list[Any], top: dict[str, Any]) -> None:
    star = next(
        (
            s
            for s in settings
            if isinstance(s, dict) and s.get("ResourcePath", "/*") == "/*" and s.get("HttpMethod", "*") == "*"
        ),
        {},
    )
    rate = star.get("ThrottlingRateLimit", top.get("ThrottlingRateLimit"))
    burst = star.get("ThrottlingBurstLimit", top.get("ThrottlingBurstLimit"))
    model.throttle = throttle(rate, burst)
    level = star.get("LoggingLevel", top.get("LoggingLevel"))
    model.execution_logging_level = str(text(level) or "OFF").upper()


def _rest_stage(
    item: CfnItem, build: CfnBuild, api_value: Any, name: Any, settings: dict[str, Any]
) -> ApiGatewayStage:
    stage_name = text(name) or "?"
    model = ApiGatewayStage(
        id=build.resource_id(item.logical_id),
        name=stage_name,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        api_id=_ref_id(api_value, build) or "?",
        stage_name=stage_name,
        web_acl_arn="",
        usage_plan_throttles=[],
    )
    _stage_settings(model, as_list(settings.get("MethodSettings")), settings)
    destination = dig(settings, "AccessLogSetting", "DestinationArn")
    model.access_log_destination = (
        "" if destination is None else (_ref_id(destination, build) or "(computed)")
    )
    return model


@primary("AWS::ApiGateway::Stage")
def rest_stage(item: CfnItem, build: CfnBuild) -> list[Resource]:
    return [_rest_stage(item, build, item.props.get("RestApiId"), item.props.get("StageName"), item.props)]


@primary("AWS::ApiGateway::Deployment")
def deployment_stage(item: CfnItem, build: CfnBuild) -> list[Resource]:
    """A Deployment with StageName creates that stage, configured by its StageDescription."""
    name = item.props.get("StageName")
    if name is None:
        return []
    description = item.props.get("StageDescription") or {}
    return [
        _rest_stage(
            item,
            build,
            item.props.get("RestApiId"),
            name,
            description if isinstance(description, dict) else {},
        )
    ]


def _stages(build: CfnBuild, api_value: Any, stage_value: Any) -> list[ApiGatewayStage]:
    api_id = _ref_id(api_value, build)
    stage_name = text(stage_value)
    if isinstance(stage_value, ResourceRef):
        stage_item = build.items.get(stage_value.address)
        stage_name = text(stage_item.props.get("StageName")) if stage_item is not None else None
    return [
        s
        for s in build.all(ApiGatewayStage)
        if s.api_id == api_id and (stage_name is None or s.stage_name == stage_name)
    ]


@companion("AWS::ApiGateway::UsagePlan")
def usage_plan(item: CfnItem, build: CfnBuild) -> None:
    plan_name = text(item.props.get("UsagePlanName")) or item.logical_id
    plan_throttle = item.props.get("Throttle")
    for entry in as_list(item.props.get("ApiStages")):
        if not isinstance(entry, dict):
            continue
        if not (plan_throttle or entry.get("Throttle")):
            continue
        for stage in _stages(build, entry.get("ApiId"), entry.get("Stage")):
            if stage.usage_plan_throttles is not None:
                stage.usage_plan_throttles.append(plan_name)


@companion("AWS::WAFv2::WebACLAssociation")
def web_acl_association(item: CfnItem, build: CfnBuild) -> None:
    arn = item.props.get("ResourceArn")
    shown = arn.placeholder if isinstance(arn, Unresolved) else text(arn)
    if not shown or "/stages/" not in shown:
        return
    acl = item.props.get("WebACLArn")
    acl_text = _ref_id(acl, build) or "(computed)"
    for stage in build.all(ApiGatewayStage):
        api_item = stage.api_id.rsplit("#", 1)[-1]
        if shown.endswith(f"/stages/{stage.stage_name}") and (api_item in shown or stage.api_id in shown):
            stage.web_acl_arn = acl_text


@primary("AWS::ApiGatewayV2::Api")
def http_api(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("Name")
    model = ApiGatewayV2Api(
        id=build.resource_id(item.logical_id),
        name=name if isinstance(name, str) else item.logical_id,
        region=region_of(item, build),
        source=item.source,
        api_id=build.resource_id(item.logical_id),
        protocol_type=str(text(props.get("ProtocolType")) or "HTTP"),
    )
    if "Body" in props or "BodyS3Location" in props:
        model.unknown["routes"] = "the API's routes are defined in its OpenAPI body, which is not analysed"
    else:
        # Quick create (Target) makes a $default route without authorization.
        model.routes = [ApiMethod(path="$default")] if "Target" in props else []
    disabled = to_bool(props.get("DisableExecuteApiEndpoint", False))
    model.disable_execute_api_endpoint = disabled if isinstance(disabled, bool) else None
    return [model]


@companion("AWS::ApiGatewayV2::Route")
def route(item: CfnItem, build: CfnBuild) -> None:
    api = build.target(item.props.get("ApiId"), ApiGatewayV2Api, "api_id")
    if api is None or api.routes is None:
        return
    props = item.props
    authorizer_value = props.get("AuthorizerId")
    api.routes.append(
        ApiMethod(
            path=str(text(props.get("RouteKey")) or "?"),
            authorization_type=str(text(props.get("AuthorizationType")) or "NONE").upper(),
            authorizer_id=_ref_id(authorizer_value, build) if authorizer_value is not None else None,
            authorization_scopes=[
                s for s in (text(v) for v in as_list(props.get("AuthorizationScopes"))) if s
            ],
            api_key_required=bool(to_bool(props.get("ApiKeyRequired", False))),
        )
    )


@primary("AWS::ApiGatewayV2::Stage")
def http_stage(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    stage_name = text(props.get("StageName")) or "$default"
    settings = props.get("DefaultRouteSettings") or {}
    model = ApiGatewayV2Stage(
        id=build.resource_id(item.logical_id),
        name=stage_name,
        region=region_of(item, build),
        source=item.source,
        api_id=_ref_id(props.get("ApiId"), build) or "?",
        stage_name=stage_name,
        throttle=throttle(dig(settings, "ThrottlingRateLimit"), dig(settings, "ThrottlingBurstLimit")),
        execution_logging_level=str(text(dig(settings, "LoggingLevel")) or "OFF").upper(),
    )
    destination = dig(props, "AccessLogSettings", "DestinationArn")
    model.access_log_destination = (
        "" if destination is None else (_ref_id(destination, build) or "(computed)")
    )
    return [model]


@finisher
def _stage_protocols(build: CfnBuild) -> None:
    apis = {a.api_id: a for a in build.all(ApiGatewayV2Api)}
    for stage in build.all(ApiGatewayV2Stage):
        api = apis.get(stage.api_id)
        stage.protocol_type = api.protocol_type if api is not None else None
