"""The SAM transform, by hand, for what the controls read.

``AWS::Serverless::*`` resources are replaced by what SAM deploys, under the logical IDs SAM
gives them: a function becomes ``AWS::Lambda::Function`` plus ``<Id>Role`` (unless it names a
Role) and ``AWS::Lambda::EventInvokeConfig``; an Api becomes a RestApi and its ``<Id><Stage>Stage``;
implicit APIs from ``Api``/``HttpApi`` events become ``ServerlessRestApi``/``ServerlessHttpApi``;
a SimpleTable becomes a DynamoDB table. Expansion works on the raw template (intrinsics intact),
so conditions and references resolve afterwards exactly as for hand-written resources. Globals
are merged first. The generated resources keep the lines of the SAM resource they come from.
"""

from __future__ import annotations

import copy
from typing import Any

from controlmap.sources.iac.aws_managed import managed_policy_arn
from controlmap.sources.iac.cloudformation.template import CfnResource, Template
from controlmap.sources.iac.common import Unresolved

_LAMBDA_PROPERTIES = (
    "FunctionName",
    "Runtime",
    "Handler",
    "MemorySize",
    "Timeout",
    "Environment",
    "KmsKeyArn",
    "VpcConfig",
    "CodeSigningConfigArn",
    "Architectures",
    "Layers",
    "ReservedConcurrentExecutions",
    "PackageType",
    "ImageConfig",
    "EphemeralStorage",
    "FileSystemConfigs",
    "Description",
    "LoggingConfig",
    "SnapStart",
    "RuntimeManagementConfig",
)
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}
    ],
}


def _merge(base: Any, override: Any) -> Any:
    """SAM's Globals merge: mappings merge key by key, lists concatenate, scalars are replaced."""
    if isinstance(base, dict) and isinstance(override, dict) and not _is_intrinsic(override):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(override, list):
        return [*base, *override]
    return override


def _is_intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def expand_sam(template: Template) -> None:
    out: dict[str, CfnResource] = {}
    implicit_rest: CfnResource | None = None
    implicit_http: CfnResource | None = None
    for logical_id, resource in template.resources.items():
        kind = resource.type
        globals_for = {
            "AWS::Serverless::Function": "Function",
            "AWS::Serverless::Api": "Api",
            "AWS::Serverless::HttpApi": "HttpApi",
            "AWS::Serverless::SimpleTable": "SimpleTable",
        }.get(kind)
        props = resource.properties
        if globals_for and isinstance(template.globals.get(globals_for), dict):
            props = _merge(copy.deepcopy(template.globals[globals_for]), props)
        if kind == "AWS::Serverless::Function":
            for generated in _function(resource, props):
                out[generated.logical_id] = generated
            events = props.get("Events") or {}
            for event_name, event in events.items() if isinstance(events, dict) else []:
                if not isinstance(event, dict):
                    continue
                event_props = event.get("Properties") or {}
                if event.get("Type") == "Api" and "RestApiId" not in event_props and implicit_rest is None:
                    implicit_rest = resource
                if event.get("Type") == "HttpApi" and "ApiId" not in event_props and implicit_http is None:
                    implicit_http = resource
                for generated in _event_endpoint(template, resource, str(event_name), event):
                    out[generated.logical_id] = generated
        elif kind == "AWS::Serverless::Api":
            for generated in _rest_api(template, resource, props, logical_id):
                out[generated.logical_id] = generated
        elif kind == "AWS::Serverless::HttpApi":
            for generated in _http_api(template, resource, props, logical_id):
                out[generated.logical_id] = generated
        elif kind == "AWS::Serverless::SimpleTable":
            out[logical_id] = _derived(resource, logical_id, "AWS::DynamoDB::Table", _table(props))
        else:
            out[logical_id] = resource
    # The implicit APIs take the Globals of their kind, as declared APIs do.
    if implicit_rest is not None and "ServerlessRestApi" not in out:
        rest_props = {"StageName": "Prod", **_globals_of(template, "Api")}
        for generated in _rest_api(template, implicit_rest, rest_props, "ServerlessRestApi"):
            out[generated.logical_id] = generated
    if implicit_http is not None and "ServerlessHttpApi" not in out:
        for generated in _http_api(
            template, implicit_http, _globals_of(template, "HttpApi"), "ServerlessHttpApi"
        ):
            out[generated.logical_id] = generated
    template.resources = out


def _globals_of(template: Template, kind: str) -> dict[str, Any]:
    found = template.globals.get(kind)
    return copy.deepcopy(found) if isinstance(found, dict) else {}


def _api_auth(template: Template, api_id: str) -> dict[str, Any]:
    api = template.resources.get(api_id)
    auth = api.properties.get("Auth") if api is not None else None
    if not isinstance(auth, dict):
        globals_for = "HttpApi" if api is not None and api.type.endswith("HttpApi") else "Api"
        auth = (
            (template.globals.get(globals_for) or {}).get("Auth")
            if isinstance(template.globals.get(globals_for), dict)
            else None
        )
    return auth if isinstance(auth, dict) else {}


def _event_endpoint(
    template: Template, function: CfnResource, event_name: str, event: dict[str, Any]
) -> list[CfnResource]:
    """The method (REST) or route (HTTP API) an Api/HttpApi event adds, with its authorization."""
    kind = event.get("Type")
    if kind not in ("Api", "HttpApi"):
        return []
    props = event.get("Properties") or {}
    rest = kind == "Api"
    api_ref = props.get("RestApiId" if rest else "ApiId")
    api_id = (
        api_ref["Ref"]
        if isinstance(api_ref, dict) and "Ref" in api_ref
        else ("ServerlessRestApi" if rest else "ServerlessHttpApi")
    )
    api_auth = _api_auth(template, api_id)
    raw_auth = props.get("Auth")
    event_auth: dict[str, Any] = raw_auth if isinstance(raw_auth, dict) else {}
    chosen = event_auth.get("Authorizer", api_auth.get("DefaultAuthorizer", "NONE"))
    raw_authorizers = api_auth.get("Authorizers")
    authorizers: dict[str, Any] = raw_authorizers if isinstance(raw_authorizers, dict) else {}
    generated: list[CfnResource] = []
    authorization: dict[str, Any]
    if not isinstance(chosen, str) or chosen == "NONE":
        authorization = {"AuthorizationType": "NONE"}
    elif chosen == "AWS_IAM":
        authorization = {"AuthorizationType": "AWS_IAM"}
    else:
        raw_spec = authorizers.get(chosen)
        spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
        if rest:
            kind_of = "COGNITO_USER_POOLS" if "UserPoolArn" in spec else "CUSTOM"
            authorizer_type = "COGNITO_USER_POOLS" if "UserPoolArn" in spec else "TOKEN"
            target = "AWS::ApiGateway::Authorizer"
            owner = {"RestApiId": {"Ref": api_id}}
        else:
            kind_of = "JWT" if "JwtConfiguration" in spec else "CUSTOM"
            authorizer_type = "JWT" if "JwtConfiguration" in spec else "REQUEST"
            target = "AWS::ApiGatewayV2::Authorizer"
            owner = {"ApiId": {"Ref": api_id}}
        authorizer_id = f"{api_id}{chosen}Authorizer"
        if authorizer_id not in template.resources:
            props_out = {**owner, "Name": chosen, ("Type" if rest else "AuthorizerType"): authorizer_type}
            generated.append(_derived(function, authorizer_id, target, props_out))
        authorization = {"AuthorizationType": kind_of, "AuthorizerId": {"Ref": authorizer_id}}
        scopes = event_auth.get("AuthorizationScopes")
        if scopes:
            authorization["AuthorizationScopes"] = scopes
    method = str(props.get("Method", "ANY")).upper()
    path = props.get("Path")
    if rest:
        body = {"RestApiId": {"Ref": api_id}, "x-path": path or "/", "HttpMethod": method, **authorization}
        if event_auth.get("ApiKeyRequired") or api_auth.get("ApiKeyRequired"):
            body["ApiKeyRequired"] = True
        generated.append(
            _derived(function, f"{function.logical_id}{event_name}Method", "AWS::ApiGateway::Method", body)
        )
    else:
        route_key = f"{method} {path}" if path else "$default"
        body = {"ApiId": {"Ref": api_id}, "RouteKey": route_key, **authorization}
        generated.append(
            _derived(function, f"{function.logical_id}{event_name}Route", "AWS::ApiGatewayV2::Route", body)
        )
    return generated


def _derived(source: CfnResource, logical_id: str, rtype: str, props: dict[str, Any]) -> CfnResource:
    return CfnResource(
        logical_id=logical_id,
        type=rtype,
        properties=props,
        line_start=source.line_start,
        line_end=source.line_end,
        condition=source.condition,
        metadata=source.metadata,
        metadata_line=source.metadata_line,
    )


def _function(resource: CfnResource, props: dict[str, Any]) -> list[CfnResource]:
    lid = resource.logical_id
    fn = {k: props[k] for k in _LAMBDA_PROPERTIES if k in props}
    if isinstance(props.get("Tracing"), str):
        fn["TracingConfig"] = {"Mode": props["Tracing"]}
    dlq = props.get("DeadLetterQueue")
    if isinstance(dlq, dict) and "TargetArn" in dlq:
        fn["DeadLetterConfig"] = {"TargetArn": dlq["TargetArn"]}
    tags = props.get("Tags")
    if isinstance(tags, dict):
        fn["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    generated = []
    if "Role" in props:
        fn["Role"] = props["Role"]
    else:
        fn["Role"] = {"Fn::GetAtt": [f"{lid}Role", "Arn"]}
        generated.append(_derived(resource, f"{lid}Role", "AWS::IAM::Role", _role(props)))
    out = [_derived(resource, lid, "AWS::Lambda::Function", fn), *generated]
    invoke = props.get("EventInvokeConfig")
    if isinstance(invoke, dict):
        config = {
            k: v for k, v in invoke.items() if k in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts")
        }
        destination = invoke.get("DestinationConfig")
        if isinstance(destination, dict):
            config["DestinationConfig"] = {
                key: {"Destination": value.get("Destination")}
                for key, value in destination.items()
                if isinstance(value, dict) and "Destination" in value
            }
        config["FunctionName"] = {"Ref": lid}
        config["Qualifier"] = "$LATEST"
        out.append(_derived(resource, f"{lid}EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", config))
    url = props.get("FunctionUrlConfig")
    if isinstance(url, dict):
        out.append(
            _derived(resource, f"{lid}Url", "AWS::Lambda::Url", {**url, "TargetFunctionArn": {"Ref": lid}})
        )
        if url.get("AuthType") == "NONE":
            # SAM grants everyone lambda:InvokeFunctionUrl, as the console does for a public URL.
            permission = {
                "Action": "lambda:InvokeFunctionUrl",
                "FunctionName": {"Ref": lid},
                "FunctionUrlAuthType": "NONE",
                "Principal": "*",
            }
            out.append(
                _derived(resource, f"{lid}UrlPublicPermissions", "AWS::Lambda::Permission", permission)
            )
    return out


def _role(props: dict[str, Any]) -> dict[str, Any]:
    managed: list[Any] = [BASIC_EXECUTION]
    if "VpcConfig" in props:
        managed.append(VPC_EXECUTION)
    if props.get("Tracing") == "Active":
        managed.append(XRAY_WRITE)
    inline: list[Any] = []
    policies = props.get("Policies")
    items = policies if isinstance(policies, list) else [policies] if policies is not None else []
    for index, policy in enumerate(items, start=1):
        if isinstance(policy, str):
            arn = managed_policy_arn(policy)
            if arn not in managed:
                managed.append(arn)
        elif isinstance(policy, dict) and "Statement" in policy:
            inline.append({"PolicyName": f"{index - 1}-inline", "PolicyDocument": policy})
        elif isinstance(policy, dict) and _is_intrinsic(policy):
            managed.append(policy)
        elif isinstance(policy, dict) and policy:
            name = next(iter(policy))
            inline.append(
                {
                    "PolicyName": name,
                    "PolicyDocument": Unresolved(
                        f"the SAM policy template {name} (expanded by the SAM transform)"
                    ),
                }
            )
    role: dict[str, Any] = {"AssumeRolePolicyDocument": LAMBDA_TRUST, "ManagedPolicyArns": managed}
    if inline:
        role["Policies"] = inline
    if "PermissionsBoundary" in props:
        role["PermissionsBoundary"] = props["PermissionsBoundary"]
    return role


def _rest_api(
    template: Template, resource: CfnResource, props: dict[str, Any], lid: str
) -> list[CfnResource]:
    names = ("Name", "EndpointConfiguration", "Description", "BinaryMediaTypes")
    api: dict[str, Any] = {k: props[k] for k in names if k in props}
    auth = props.get("Auth")
    if isinstance(auth, dict) and isinstance(auth.get("ResourcePolicy"), dict):
        custom = auth["ResourcePolicy"].get("CustomStatements")
        if custom is not None:
            api["Policy"] = {"Version": "2012-10-17", "Statement": custom}
    if isinstance(auth, dict):
        api["x-sam-auth"] = auth  # read by the API Gateway mapper: default authorizer, API keys
    stage_name = props.get("StageName", "Prod")
    stage: dict[str, Any] = {"RestApiId": {"Ref": lid}, "StageName": stage_name}
    for key in ("MethodSettings", "AccessLogSetting", "TracingEnabled", "CacheClusterEnabled", "Variables"):
        if key in props:
            stage[key] = props[key]
    stage_id = f"{lid}{_stage_part(template, stage_name)}Stage"
    return [
        _derived(resource, lid, "AWS::ApiGateway::RestApi", api),
        _derived(resource, stage_id, "AWS::ApiGateway::Stage", stage),
    ]


def _stage_part(template: Template, stage_name: Any) -> str:
    """The stage name as SAM puts it in the stage's logical ID (a parameter's default included)."""
    if isinstance(stage_name, dict) and set(stage_name) == {"Ref"}:
        stage_name = (template.parameters.get(str(stage_name["Ref"])) or {}).get("Default")
    return "".join(ch for ch in stage_name if ch.isalnum()) if isinstance(stage_name, str) else ""


def _http_api(
    template: Template, resource: CfnResource, props: dict[str, Any], lid: str
) -> list[CfnResource]:
    api = {"Name": props.get("Name", lid), "ProtocolType": "HTTP"}
    if isinstance(props.get("Auth"), dict):
        api["x-sam-auth"] = props["Auth"]
    stage: dict[str, Any] = {"ApiId": {"Ref": lid}, "StageName": props.get("StageName", "$default")}
    for key in ("AccessLogSettings", "DefaultRouteSettings", "RouteSettings", "StageVariables"):
        if key in props:
            stage[key] = props[key]
    # SAM: <Api><StageName>Stage when StageName is given, else <Api>ApiGatewayDefaultStage
    named = _stage_part(template, props.get("StageName")) if "StageName" in props else ""
    stage_id = f"{lid}{named}Stage" if named and named != "default" else f"{lid}ApiGatewayDefaultStage"
    return [
        _derived(resource, lid, "AWS::ApiGatewayV2::Api", api),
        _derived(resource, stage_id, "AWS::ApiGatewayV2::Stage", stage),
    ]


def _table(props: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if "TableName" in props:
        table["TableName"] = props["TableName"]
    if "SSESpecification" in props:
        table["SSESpecification"] = props["SSESpecification"]
    if "Tags" in props and isinstance(props["Tags"], dict):
        table["Tags"] = [{"Key": k, "Value": v} for k, v in props["Tags"].items()]
    primary = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    if isinstance(primary, dict):
        table["KeySchema"] = [{"AttributeName": primary.get("Name", "id"), "KeyType": "HASH"}]
    table["BillingMode"] = "PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST"
    return table
