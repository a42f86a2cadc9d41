"""API Gateway in Terraform: REST APIs (resources, methods, stages, method settings,
usage plans, policies, web ACL associations) and HTTP/WebSocket APIs (routes, stages)."""

from __future__ import annotations

from typing import Any

from controlmap.resources.apigateway import (
    ApiGatewayRestApi,
    ApiGatewayStage,
    ApiGatewayV2Api,
    ApiGatewayV2Stage,
    ApiMethod,
)
from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.mappers.apigateway import (
    access_log,
    add_maybe_methods,
    api_method,
    match_stages,
    stage_settings,
    throttle,
)
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import as_list, text, to_bool, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, finisher, primary
from controlmap.sources.iac.terraform.mappers._common import base, first, ref_text
from controlmap.sources.iac.terraform.mappers.s3 import parse_document


def _id(value: Any, build: TfBuild) -> str | None:
    if isinstance(value, ResourceRef):
        return build.resource_id(value.address)
    if isinstance(value, Unresolved) and value.opaque:
        # Unknown, but the same expression names the same API wherever it is written.
        return f"(given by {value.depends_on})"
    return ref_text(value)


@primary("aws_api_gateway_rest_api")
def rest_api(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("name")
    endpoint = first(item.get("endpoint_configuration"))
    types = endpoint.get("types") if isinstance(endpoint, dict) else None
    model = ApiGatewayRestApi(
        **base(item, build, name),
        api_id=build.resource_id(item.address),
        endpoint_types=[t for t in (text(v) for v in as_list(types)) if t] or ["EDGE"],
    )
    if item.get("body") is not None:
        model.unknown["methods"] = "the API's methods are defined in its OpenAPI body, which is not analysed"
    else:
        model.methods = []
    policy = item.get("policy")
    model.resource_policy = (
        PolicyDocument() if policy is None else parse_document(policy, "policy", item.source.line_start)
    )
    if model.resource_policy is None:
        unknown(model, "resource_policy", "policy", "a value known after apply")
    disabled = to_bool(item.get("disable_execute_api_endpoint", False))
    model.disable_execute_api_endpoint = disabled if isinstance(disabled, bool) else None
    return [model]


def _path(value: Any, build: TfBuild, item: TfItem, depth: int = 0) -> str:
    if depth > 30:
        return "/?"
    if isinstance(value, ResourceRef):
        if value.attribute == "root_resource_id":
            return "/"
        for candidate in build.items:
            if candidate.address == value.address and candidate.type == "aws_api_gateway_resource":
                parent = _path(candidate.get("parent_id"), build, candidate, depth + 1)
                return parent.rstrip("/") + "/" + str(text(candidate.get("path_part")) or "?")
    return f"/{ref_text(value) or '?'}"


_METHOD_NAMES = ("authorization", "authorization_scopes", "api_key_required")


@companion("aws_api_gateway_method")
def method(item: TfItem, build: TfBuild) -> None:
    value = item.get("rest_api_id")
    api = build.target(value, ApiGatewayRestApi, "api_id", item)
    if api is None:
        add_maybe_methods(build.maybe_targets(value, ApiGatewayRestApi, item, None), "methods", item.address)
        return
    if api.methods is None:
        return
    authorizer = item.get("authorizer_id")
    api.methods.append(
        api_method(
            _path(item.get("resource_id"), build, item),
            str(text(item.get("http_method")) or "ANY").upper(),
            item.get("authorization"),
            _id(authorizer, build) if authorizer is not None else None,
            item.get("authorization_scopes"),
            item.get("api_key_required", False),
            item.address,
            _METHOD_NAMES,
        )
    )


@companion("aws_api_gateway_rest_api_policy")
def rest_api_policy(item: TfItem, build: TfBuild) -> None:
    api = build.target(item.get("rest_api_id"), ApiGatewayRestApi, "api_id", item)
    if api is not None:
        api.resource_policy = parse_document(item.get("policy"), "policy", item.source.line_start)
        if api.resource_policy is None:
            unknown(api, "resource_policy", f"{item.address}.policy", "a value known after apply")


@primary("aws_api_gateway_stage")
def rest_stage(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("stage_name")
    stage_name = text(name) or (
        name.placeholder if isinstance(name, Unresolved) and name.placeholder else "?"
    )
    fields = base(item, build, stage_name)
    model = ApiGatewayStage(
        **fields,
        api_id=_id(item.get("rest_api_id"), build) or "?",
        stage_name=stage_name,
        throttle=throttle(None, None),
        execution_logging_level="OFF",
        web_acl_arn="",
        usage_plan_throttles=[],
    )
    api = item.get("rest_api_id")
    if isinstance(api, Unresolved) and api.opaque:
        model.unknown["api_id"] = f"its rest_api_id depends on {api.depends_on}"
    if isinstance(name, Unresolved) and not name.exact:
        model.unknown["stage_name"] = f"its stage_name depends on {name.depends_on}"
    logs = first(item.get("access_log_settings"))
    access_log(
        model, logs.get("destination_arn") if isinstance(logs, dict) else None, build, "access_log_settings"
    )
    return [model]


def _stages(
    build: TfBuild, api_value: Any, stage_value: Any, item: TfItem
) -> tuple[list[ApiGatewayStage], list[tuple[ApiGatewayStage, str]]]:
    stage_name = text(stage_value)
    named: ApiGatewayStage | None = None
    if isinstance(stage_value, ResourceRef):
        named = build.target(ResourceRef(stage_value.address), ApiGatewayStage, None, item)
        stage_name = named.stage_name if named is not None else None
    return match_stages(
        build.all(ApiGatewayStage),
        _id(api_value, build),
        api_value,
        stage_name,
        stage_value,
        named,
        item.address,
    )


_STAGE_FACTS = ("throttle", "execution_logging_level")


@companion("aws_api_gateway_method_settings")
def method_settings(item: TfItem, build: TfBuild) -> None:
    path = item.get("method_path")
    if text(path) not in ("*/*", None) and not isinstance(path, Unresolved):
        return
    settings = first(item.get("settings"))
    if not isinstance(settings, dict) and not isinstance(settings, Unresolved):
        return
    sure, maybe = _stages(build, item.get("rest_api_id"), item.get("stage_name"), item)
    for stage, why in maybe:
        build.links.pending.extend((stage, fact, why, None) for fact in _STAGE_FACTS)
    for stage in sure:
        build.declared.update((stage.id, fact) for fact in _STAGE_FACTS)
        missing = path if isinstance(path, Unresolved) else settings
        if not isinstance(settings, dict) or isinstance(missing, Unresolved):
            for fact in _STAGE_FACTS:
                unknown(
                    stage,
                    fact,
                    f"{item.address}.method_path",
                    missing if isinstance(missing, Unresolved) else "",
                )
            continue
        stage_settings(
            stage,
            settings.get("throttling_rate_limit"),
            settings.get("throttling_burst_limit"),
            settings.get("logging_level"),
            f"{item.address}.settings.",
            ("throttling_rate_limit", "throttling_burst_limit", "logging_level"),
        )


@companion("aws_api_gateway_usage_plan")
def usage_plan(item: TfItem, build: TfBuild) -> None:
    name = text(item.get("name")) or item.address
    plan_throttle = first(item.get("throttle_settings"))
    for entry in as_list(item.get("api_stages")):
        if not isinstance(entry, dict) or not (plan_throttle or entry.get("throttle")):
            continue
        sure, maybe = _stages(build, entry.get("api_id"), entry.get("stage"), item)
        for stage in sure:
            if stage.usage_plan_throttles is not None:
                stage.usage_plan_throttles.append(name)
        for stage, why in maybe:
            build.links.pending.append((stage, "usage_plan_throttles", why, _has_plan))


def _has_plan(stage: ApiGatewayStage) -> bool:
    return bool(stage.usage_plan_throttles)


def _has_acl(stage: ApiGatewayStage) -> bool:
    return bool(stage.web_acl_arn)


@companion("aws_wafv2_web_acl_association")
def web_acl_association(item: TfItem, build: TfBuild) -> None:
    arn = item.get("resource_arn")
    if isinstance(arn, Unresolved) and arn.opaque:
        for stage, why in build.maybe_targets(arn, ApiGatewayStage, item, None):
            build.links.pending.append((stage, "web_acl_arn", why, _has_acl))
        return
    if not isinstance(arn, ResourceRef):
        return
    target = build.target(ResourceRef(arn.address), ApiGatewayStage, None, item)
    if target is not None:
        target.web_acl_arn = _id(item.get("web_acl_arn"), build) or "(computed)"


@primary("aws_apigatewayv2_api")
def http_api(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("name")
    model = ApiGatewayV2Api(
        **base(item, build, name),
        api_id=build.resource_id(item.address),
        protocol_type=str(text(item.get("protocol_type")) or "HTTP"),
    )
    if item.get("body") is not None:
        model.unknown["routes"] = "the API's routes are defined in its OpenAPI body, which is not analysed"
    else:
        model.routes = [ApiMethod(path="$default")] if item.get("target") is not None else []
    disabled = to_bool(item.get("disable_execute_api_endpoint", False))
    model.disable_execute_api_endpoint = disabled if isinstance(disabled, bool) else None
    return [model]


@companion("aws_apigatewayv2_route")
def route(item: TfItem, build: TfBuild) -> None:
    value = item.get("api_id")
    api = build.target(value, ApiGatewayV2Api, "api_id", item)
    if api is None:
        add_maybe_methods(build.maybe_targets(value, ApiGatewayV2Api, item, None), "routes", item.address)
        return
    if api.routes is None:
        return
    authorizer_value = item.get("authorizer_id")
    api.routes.append(
        api_method(
            str(text(item.get("route_key")) or "?"),
            None,
            item.get("authorization_type"),
            _id(authorizer_value, build) if authorizer_value is not None else None,
            item.get("authorization_scopes"),
            item.get("api_key_required", False),
            item.address,
            ("authorization_type", "authorization_scopes", "api_key_required"),
        )
    )


@primary("aws_apigatewayv2_stage")
def http_stage(item: TfItem, build: TfBuild) -> list[Resource]:
    stage_name = text(item.get("name")) or "$default"
    settings = first(item.get("default_route_settings"))
    settings = settings if isinstance(settings, dict) else {}
    model = ApiGatewayV2Stage(
        **base(item, build, stage_name),
        api_id=_id(item.get("api_id"), build) or "?",
        stage_name=stage_name,
    )
    stage_settings(
        model,
        settings.get("throttling_rate_limit"),
        settings.get("throttling_burst_limit"),
        settings.get("logging_level"),
        "default_route_settings.",
        ("throttling_rate_limit", "throttling_burst_limit", "logging_level"),
    )
    logs = first(item.get("access_log_settings"))
    access_log(
        model, logs.get("destination_arn") if isinstance(logs, dict) else None, build, "access_log_settings"
    )
    return [model]


@finisher
def _stage_protocols(build: TfBuild) -> None:
    apis = {a.api_id: a for a in build.all(ApiGatewayV2Api)}
    for stage in build.all(ApiGatewayV2Stage):
        api = apis.get(stage.api_id)
        stage.protocol_type = api.protocol_type if api is not None else None
