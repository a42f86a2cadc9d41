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
    ApiStageBase,
    ThrottleLimits,
)
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, finisher, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.cloudformation.mappers.iam import document
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved, opaque
from controlmap.sources.iac.facts import as_list, dig, reference_text, text, to_bool, to_int, unknown


def _ref_id(value: Any, build: CfnBuild) -> str | None:
    if isinstance(value, ResourceRef):
        return build.resource_id(value.address)
    if isinstance(value, Unresolved):
        # Unknown, but the same expression names the same API wherever it is written.
        return value.placeholder or f"(given by {value.depends_on})"
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


def stage_settings(
    model: ApiStageBase, rate: Any, burst: Any, level: Any, where: str, names: tuple[str, str, str]
) -> None:
    """A stage's throttle and execution logging level; a value the scan cannot know makes its
    fact unknown (an unset throttle or ``OFF`` would be a guess)."""
    missing = first_unresolved([rate, burst])
    if missing is not None:
        unknown(model, "throttle", f"{where}{names[0]}", missing)
    else:
        model.throttle = throttle(rate, burst)
    if isinstance(level, Unresolved):
        unknown(model, "execution_logging_level", f"{where}{names[2]}", level)
    else:
        model.execution_logging_level = str(text(level) or "OFF").upper()


def api_method(
    path: str,
    http_method: str | None,
    authorization: Any,
    authorizer_id: str | None,
    scopes: Any,
    api_key: Any,
    where: str,
    names: tuple[str, str, str],
) -> ApiMethod:
    """A method or route; a part the scan cannot know is recorded on it (``ApiMethod.unresolved``)."""
    unresolved: dict[str, str] = {}
    if isinstance(authorization, Unresolved):
        unresolved["authorization"] = f"{where}.{names[0]} depends on {authorization.depends_on}"
    missing = opaque(scopes) or next((opaque(s) for s in as_list(scopes) if opaque(s)), None)
    if missing is not None:
        unresolved["scopes"] = f"{where}.{names[1]} depends on {missing.depends_on}"
    key = to_bool(api_key)
    if isinstance(key, Unresolved):
        unresolved["api key"] = f"{where}.{names[2]} depends on {key.depends_on}"
    return ApiMethod(
        path=path,
        http_method=http_method,
        authorization_type="NONE"
        if isinstance(authorization, Unresolved)
        else str(text(authorization) or "NONE").upper(),
        authorizer_id=authorizer_id,
        authorization_scopes=[
            s for s in (v.placeholder if isinstance(v, Unresolved) else text(v) for v in as_list(scopes)) if s
        ],
        api_key_required=key is True,
        unresolved=unresolved,
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


_METHOD_NAMES = ("AuthorizationType", "AuthorizationScopes", "ApiKeyRequired")


def add_maybe_methods(candidates: list[tuple[Any, str]], fact: str, who: str) -> None:
    """A method (or route) whose API is not known may be any API's: each gets a method named after
    the companion, nothing of which is known."""
    for api, why in candidates:
        methods = getattr(api, fact)
        if methods is not None:
            methods.append(
                ApiMethod(path=who, unresolved={"authorization": why, "scopes": why, "api key": why})
            )


@companion("AWS::ApiGateway::Method")
def method(item: CfnItem, build: CfnBuild) -> None:
    value = item.props.get("RestApiId")
    api = _api(value, build)
    if api is None:
        add_maybe_methods(
            build.maybe_targets(value, ApiGatewayRestApi, item, None), "methods", item.logical_id
        )
        return
    if api.methods is None:
        return
    props = item.props
    path = text(props.get("x-path")) or _resource_path(props.get("ResourceId"), build)
    authorizer = props.get("AuthorizerId")
    api.methods.append(
        api_method(
            path,
            str(text(props.get("HttpMethod")) or "ANY").upper(),
            props.get("AuthorizationType"),
            _ref_id(authorizer, build) if authorizer is not None else None,
            props.get("AuthorizationScopes"),
            props.get("ApiKeyRequired", False),
            item.logical_id,
            _METHOD_NAMES,
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
    level = star.get("LoggingLevel", top.get("LoggingLevel"))
    stage_settings(model, rate, burst, level, "", ("ThrottlingRateLimit", "", "LoggingLevel"))


def _rest_stage(
    item: CfnItem, build: CfnBuild, api_value: Any, name: Any, settings: dict[str, Any]
) -> ApiGatewayStage:
    stage_name = text(name) or (
        name.placeholder if isinstance(name, Unresolved) and name.placeholder else "?"
    )
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
    if opaque(api_value) is not None:
        model.unknown["api_id"] = f"its RestApiId depends on {api_value.depends_on}"
    if isinstance(name, Unresolved) and not name.exact:
        model.unknown["stage_name"] = f"its StageName depends on {name.depends_on}"
    settings_list = settings.get("MethodSettings")
    if isinstance(settings_list, Unresolved):
        unknown(model, "throttle", "MethodSettings", settings_list)
        unknown(model, "execution_logging_level", "MethodSettings", settings_list)
    else:
        _stage_settings(model, as_list(settings_list), settings)
    access_log(
        model, dig(settings, "AccessLogSetting", "DestinationArn"), build, "AccessLogSetting.DestinationArn"
    )
    return model


def access_log(model: ApiStageBase, destination: Any, build: Any, where: str) -> None:
    if opaque(destination) is not None:
        unknown(model, "access_log_destination", where, destination)
        return
    model.access_log_destination = (
        "" if destination is None else (_ref_id(destination, build) or "(computed)")
    )


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
    model = _rest_stage(
        item, build, item.props.get("RestApiId"), name, description if isinstance(description, dict) else {}
    )
    if isinstance(description, Unresolved):
        for fact in ("throttle", "execution_logging_level", "access_log_destination"):
            unknown(model, fact, "StageDescription", description)
    return [model]


def _stages(
    build: CfnBuild, api_value: Any, stage_value: Any, who: str
) -> tuple[list[ApiGatewayStage], list[tuple[ApiGatewayStage, str]]]:
    """The stages a usage plan names, and those it may name (with why) when its API or stage,
    or the stage's own, is a value the scan cannot know."""
    stage_name = text(stage_value)
    named: ApiGatewayStage | None = None
    if isinstance(stage_value, ResourceRef):
        named = build.target(ResourceRef(stage_value.address), ApiGatewayStage)
        stage_item = build.items.get(stage_value.address)
        stage_name = text(stage_item.props.get("StageName")) if stage_item is not None else None
    return match_stages(
        build.all(ApiGatewayStage), _ref_id(api_value, build), api_value, stage_name, stage_value, named, who
    )


def match_stages(
    stages: list[ApiGatewayStage],
    api_id: str | None,
    api_value: Any,
    stage_name: str | None,
    stage_value: Any,
    named: ApiGatewayStage | None,
    who: str,
) -> tuple[list[ApiGatewayStage], list[tuple[ApiGatewayStage, str]]]:
    sure: list[ApiGatewayStage] = []
    maybe: list[tuple[ApiGatewayStage, str]] = []
    api_unknown = opaque(api_value)
    stage_unknown = opaque(stage_value)
    for stage in stages:
        if (
            named is not None
            and stage is named
            and (api_unknown or "api_id" in stage.unknown or stage.api_id == api_id)
        ):
            sure.append(stage)  # names the stage itself; the API is the stage's
            continue
        api_match = stage.api_id == api_id
        name_match = stage_name is None or stage.stage_name == stage_name
        if api_match and name_match and stage_unknown is None and "stage_name" not in stage.unknown:
            sure.append(stage)
            continue
        why = None
        if (api_unknown or "api_id" in stage.unknown) and (
            name_match or stage_unknown or "stage_name" in stage.unknown
        ):
            why = api_unknown.depends_on if api_unknown else stage.unknown["api_id"]
        elif api_match and (stage_unknown or "stage_name" in stage.unknown):
            why = stage_unknown.depends_on if stage_unknown else stage.unknown["stage_name"]
        if why is not None:
            maybe.append(
                (stage, f"{who} may configure this stage ({why}, which a static scan cannot resolve)")
            )
    return sure, maybe


def _has_plan(stage: ApiGatewayStage) -> bool:
    return bool(stage.usage_plan_throttles)


@companion("AWS::ApiGateway::UsagePlan")
def usage_plan(item: CfnItem, build: CfnBuild) -> None:
    plan_name = text(item.props.get("UsagePlanName")) or item.logical_id
    plan_throttle = item.props.get("Throttle")
    for entry in as_list(item.props.get("ApiStages")):
        if not isinstance(entry, dict):
            continue
        if not (plan_throttle or entry.get("Throttle")):
            continue
        sure, maybe = _stages(build, entry.get("ApiId"), entry.get("Stage"), item.logical_id)
        for stage in sure:
            if stage.usage_plan_throttles is not None:
                stage.usage_plan_throttles.append(plan_name)
        for stage, why in maybe:
            build.links.pending.append((stage, "usage_plan_throttles", why, _has_plan))


def _has_acl(stage: ApiGatewayStage) -> bool:
    return bool(stage.web_acl_arn)


@companion("AWS::WAFv2::WebACLAssociation")
def web_acl_association(item: CfnItem, build: CfnBuild) -> None:
    arn = item.props.get("ResourceArn")
    shown = arn.placeholder if isinstance(arn, Unresolved) else text(arn)
    if opaque(arn) is not None:
        for stage, why in build.maybe_targets(arn, ApiGatewayStage, item, None):
            build.links.pending.append((stage, "web_acl_arn", why, _has_acl))
        return
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
    value = item.props.get("ApiId")
    api = build.target(value, ApiGatewayV2Api, "api_id")
    if api is None:
        add_maybe_methods(build.maybe_targets(value, ApiGatewayV2Api, item, None), "routes", item.logical_id)
        return
    if api.routes is None:
        return
    props = item.props
    authorizer_value = props.get("AuthorizerId")
    api.routes.append(
        api_method(
            str(text(props.get("RouteKey")) or "?"),
            None,
            props.get("AuthorizationType"),
            _ref_id(authorizer_value, build) if authorizer_value is not None else None,
            props.get("AuthorizationScopes"),
            props.get("ApiKeyRequired", False),
            item.logical_id,
            _METHOD_NAMES,
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
    )
    stage_settings(
        model,
        dig(settings, "ThrottlingRateLimit"),
        dig(settings, "ThrottlingBurstLimit"),
        dig(settings, "LoggingLevel"),
        "DefaultRouteSettings.",
        ("ThrottlingRateLimit", "ThrottlingBurstLimit", "LoggingLevel"),
    )
    access_log(
        model, dig(props, "AccessLogSettings", "DestinationArn"), build, "AccessLogSettings.DestinationArn"
    )
    return [model]


@finisher
def _stage_protocols(build: CfnBuild) -> None:
    apis = {a.api_id: a for a in build.all(ApiGatewayV2Api)}
    for stage in build.all(ApiGatewayV2Stage):
        api = apis.get(stage.api_id)
        stage.protocol_type = api.protocol_type if api is not None else None
