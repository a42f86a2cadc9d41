"""Lambda: every function of every region, with the settings LAMBDA-01 … 06 read.

ListFunctions gives almost everything (runtime, role, VPC, environment, KMS key, dead-letter
queue). Per function, and only when a selected check needs it: the code signing configuration
link, the asynchronous invocation config (on-failure destination) and the resource policy.
Each distinct code signing configuration is then read once.

Environment variable values are classified here (``classify_environment``) and dropped: only
names and verdicts reach the model. botocore's own DEBUG wire log would print response bodies,
so a filter keeps Lambda configuration bodies out of it as well.
"""

from __future__ import annotations

import logging
from typing import Any

from controlmap.checks.lambda_ import LambdaSettings
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
    ctx.map(lambda f: _details(ctx, f), functions)
    if ctx.wants("code_signing"):
        _signing_policies(ctx, functions)
    for function in functions:
        ctx.add(function)


def _function(ctx: CollectContext, item: dict[str, Any], config: LambdaSettings) -> LambdaFunction:
    package = item.get("PackageType") or "Zip"
    vpc = item.get("VpcConfig") or {}
    variables = (item.get("Environment") or {}).get("Variables") or {}
    environment = EnvironmentFacts(
        variable_names=sorted(variables),
        kms_key_arn=item.get("KMSKeyArn") or None,
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
    if ctx.wants("code_signing") and function.package_type != "Image":
        result = ctx.call(
            "lambda",
            "get_function_code_signing_config",
            FunctionName=name,
            resource_id=function.id,
            absent=_NOT_FOUND,
        )
        if result.error is not None:
            function.mark_error("code_signing", result.error)
        elif result.data is not None:
            function.code_signing = CodeSigningFacts(
                config_arn=result.data.get("CodeSigningConfigArn") or None
            )
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
    """Read each distinct code signing configuration once and fill its policy into every user."""
    arns = sorted(
        {f.code_signing.config_arn for f in functions if f.code_signing and f.code_signing.config_arn}
    )

    def read(arn: str) -> tuple[str, Any]:
        return arn, ctx.call("lambda", "get_code_signing_config", CodeSigningConfigArn=arn, resource_id=arn)

    for arn, result in ctx.map(read, arns):
        users = [f for f in functions if f.code_signing and f.code_signing.config_arn == arn]
        for function in users:
            if result.error is not None:
                function.mark_error("code_signing", result.error)
                function.code_signing = None
                continue
            config = (result.data or {}).get("CodeSigningConfig") or {}
            policies = config.get("CodeSigningPolicies") or {}
            publishers = (config.get("AllowedPublishers") or {}).get("SigningProfileVersionArns") or []
            function.code_signing = CodeSigningFacts(
                config_arn=arn,
                untrusted_artifact_on_deployment=policies.get("UntrustedArtifactOnDeployment") or "Warn",
                allowed_publishers=list(publishers),
            )
