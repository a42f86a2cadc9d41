"""Lambda: every function of every region, with the settings LAMBDA-01 … 06 read.

ListFunctions gives almost everything (runtime, role, VPC, environment, KMS key, dead-letter
queue). Per function, and only when a selected check needs it: the asynchronous invocation
config (on-failure destination) and the resource policy. Code signing comes from the region's
configurations (ListCodeSigningConfigs, then ListFunctionsByCodeSigningConfig per
configuration), not from a call per function.

Environment variable values are classified here (``classify_environment``) and dropped: only
names and verdicts reach the model. botocore's own DEBUG wire log would print response bodies,
so a filter keeps Lambda configuration bodies out of it as well.
"""

from __future__ import annotations

import logging
from typing import Any

from controlmap.checks.lambda_ import LambdaSettings
from controlmap.resources.base import CollectionError
from controlmap.resources.lambda_ import (
    CodeSigningFacts,
    EnvironmentFacts,
    LambdaFunction,
    Target,
    VpcFacts,
    classify_environment,
)
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.aws.collector import CollectContext, Scope, collector


class _NoEnvironmentBodies(logging.Filter):
    """Drop botocore DEBUG records that would print a function configuration (with env values)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is not ours to judge
            return True
        return '"Variables"' not in text and "'Variables'" not in text


for _name in ("botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.auth"):
    logging.getLogger(_name).addFilter(_NoEnvironmentBodies())

_NOT_FOUND = ("ResourceNotFoundException",)


@collector("lambda", service="lambda", produces=[LambdaFunction], scope=Scope.REGIONAL)
def collect_lambda(ctx: CollectContext) -> None:
    listed = ctx.paginate("lambda", "list_functions", "Functions", produces=[LambdaFunction])
    if listed is None:
        return
    config: LambdaSettings = ctx.settings.section("lambda", LambdaSettings)
    functions = [_function(ctx, item, config) for item in listed]
    listed.clear()  # the raw configurations (with environment values) are not kept
    tags = resource_tags(ctx, "lambda:function")
    for function in functions:
        function.tags = tags.get(function.unqualified_arn, {})
    ctx.map(lambda f: _details(ctx, f), functions)
    if ctx.wants("code_signing"):
        _signing_policies(ctx, functions)
    for function in functions:
        ctx.add(function)


def resource_tags(
    ctx: CollectContext, resource_type: str, region: str | None = None
) -> dict[str, dict[str, str]]:
    """ARN -> tags for one resource type, from one Resource Groups Tagging API listing.

    Tags let approved exceptions select resources; one paginated call per region replaces a
    ListTags call per resource. A denied listing is reported as a scan error and leaves the
    resources untagged; no finding depends on it.
    """
    listed = ctx.paginate(
        "resourcegroupstaggingapi",
        "get_resources",
        "ResourceTagMappingList",
        region=region,
        ResourceTypeFilters=[resource_type],
    )
    return {
        item["ResourceARN"]: {t["Key"]: t["Value"] for t in item.get("Tags") or []} for item in listed or []
    }


def _function(ctx: CollectContext, item: dict[str, Any], config: LambdaSettings) -> LambdaFunction:
    package = item.get("PackageType") or "Zip"
    vpc = item.get("VpcConfig") or {}
    variables = (item.get("Environment") or {}).get("Variables") or {}
    error = (item.get("Environment") or {}).get("Error") or {}
    environment = EnvironmentFacts(
        variable_names=sorted(variables),
        kms_key_arn=item.get("KMSKeyArn") or None,
        # Only the error code: Lambda's message says why decryption failed, never a value.
        unreadable=(str(error.get("ErrorCode") or "EnvironmentError") if error and not variables else None),
        suspicious=classify_environment(
            variables,
            extra_name_patterns=config.secret_name_patterns,
            extra_value_patterns=config.secret_value_patterns,
            entropy_threshold=config.secret_entropy_threshold,
            entropy_min_length=config.secret_entropy_min_length,
        ),
    )
    dead_letter = (item.get("DeadLetterConfig") or {}).get("TargetArn")
    return LambdaFunction(
        id=item["FunctionArn"],
        name=item["FunctionName"],
        account_id=ctx.account_id,
        region=ctx.region,
        function_name=item["FunctionName"],
        package_type=package,
        runtime=item.get("Runtime") if package != "Image" else None,
        role_arn=item.get("Role"),
        vpc=VpcFacts(
            vpc_id=vpc.get("VpcId") or None,
            subnet_ids=list(vpc.get("SubnetIds") or []),
            security_group_ids=list(vpc.get("SecurityGroupIds") or []),
        ),
        environment=environment,
        dead_letter=Target(arn=dead_letter or None),
    )


def _details(ctx: CollectContext, function: LambdaFunction) -> None:
    name = function.function_name
    if ctx.wants("on_failure"):
        result = ctx.call(
            "lambda",
            "get_function_event_invoke_config",
            FunctionName=name,
            resource_id=function.id,
            absent=_NOT_FOUND,
        )
        if result.error is not None:
            function.mark_error("on_failure", result.error)
        elif result.absent or result.data is None:
            function.on_failure = Target()
        else:
            destination = ((result.data.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            function.on_failure = Target(arn=destination or None)
    if ctx.wants("resource_policy"):
        result = ctx.call(
            "lambda", "get_policy", FunctionName=name, resource_id=function.id, absent=_NOT_FOUND
        )
        if result.error is not None:
            function.mark_error("resource_policy", result.error)
        elif result.absent or result.data is None:
            function.resource_policy = PolicyDocument()
        else:
            try:
                function.resource_policy = parse_policy(result.data.get("Policy"))
            except PolicyParseError as exc:
                function.mark_unknown("resource_policy", f"the resource policy could not be parsed: {exc}")


def _signing_policies(ctx: CollectContext, functions: list[LambdaFunction]) -> None:
    """Code signing per function from the region's configurations, not one call per function.

    ListCodeSigningConfigs gives every configuration with its policy; for each,
    ListFunctionsByCodeSigningConfig names the functions using it. A .zip function in none of
    those lists has no code signing configuration.
    """
    packaged = [f for f in functions if f.package_type != "Image"]
    if not packaged:
        return
    configs, error = _listing(ctx, "list_code_signing_configs", "CodeSigningConfigs")
    if error is not None or configs is None:
        for function in packaged:
            if error is not None:
                function.mark_error("code_signing", error)
        return

    def users(config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        arn = config["CodeSigningConfigArn"]
        return config, _listing(
            ctx, "list_functions_by_code_signing_config", "FunctionArns", CodeSigningConfigArn=arn
        )

    by_function: dict[str, CodeSigningFacts] = {}
    failed: Any = None
    for config, (arns, error) in ctx.map(users, configs):
        if error is not None:
            failed = error
            continue
        policies = config.get("CodeSigningPolicies") or {}
        facts = CodeSigningFacts(
            config_arn=config["CodeSigningConfigArn"],
            untrusted_artifact_on_deployment=policies.get("UntrustedArtifactOnDeployment") or "Warn",
            allowed_publishers=list(
                (config.get("AllowedPublishers") or {}).get("SigningProfileVersionArns") or []
            ),
        )
        for arn in arns or []:
            by_function[_unqualified(arn)] = facts
    for function in packaged:
        found = by_function.get(function.unqualified_arn)
        if found is not None:
            function.code_signing = found
        elif failed is not None:
            function.mark_error("code_signing", failed)  # it may use the configuration we could not read
        else:
            function.code_signing = CodeSigningFacts()


def _listing(
    ctx: CollectContext, operation: str, key: str, **params: Any
) -> tuple[list[Any] | None, CollectionError | None]:
    """Every page of a Marker/NextMarker listing, or the error that stopped it."""
    items: list[Any] = []
    marker: str | None = None
    while True:
        extra = {"Marker": marker} if marker else {}
        result = ctx.call(
            "lambda", operation, resource_id=params.get("CodeSigningConfigArn"), **params, **extra
        )
        if result.error is not None:
            return None, result.error
        data = result.data or {}
        items.extend(data.get(key) or [])
        marker = data.get("NextMarker")
        if not marker:
            return items, None


def _unqualified(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn
