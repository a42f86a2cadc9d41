"""Lambda functions, from their configuration items (GetFunctionConfiguration's shape).

Environment variable values, when an item carries them, are reduced to verdicts here with the
same classifier as the live collector, and dropped from the item: no value outlives the mapper.
AWS Config records the function's settings and its resource-based policy (supplementary
``Policy``); it does not record code signing or asynchronous invocation (on-failure) settings.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.lambda_ import (
    EnvironmentFacts,
    LambdaFunction,
    Target,
    VpcFacts,
    classify_environment,
)
from controlmap.resources.policy import PolicyDocument, PolicyParseError, parse_policy
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, base, mapper


def _settings(ctx: MapContext) -> Any:
    from controlmap.checks.lambda_ import LambdaSettings

    if ctx.settings is None:
        return LambdaSettings()
    return ctx.settings.section("lambda", LambdaSettings)


def _environment(raw: Any, ctx: MapContext, kms_key: str | None) -> EnvironmentFacts | None:
    if raw is None:
        return None
    # Not folded: variable names are data, their case matters.
    variables = (
        next((v for k, v in raw.items() if str(k).lower() == "variables"), None)
        if isinstance(raw, dict)
        else None
    )
    variables = variables if isinstance(variables, dict) else {}
    config = _settings(ctx)
    facts = EnvironmentFacts(
        variable_names=sorted(str(k) for k in variables),
        kms_key_arn=kms_key,
        suspicious=classify_environment(
            {str(k): v for k, v in variables.items()},
            extra_name_patterns=config.secret_name_patterns,
            extra_value_patterns=config.secret_value_patterns,
            entropy_threshold=config.secret_entropy_threshold,
            entropy_min_length=config.secret_entropy_min_length,
        ),
    )
    variables.clear()
    return facts


@mapper("AWS::Lambda::Function")
def function(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    # The environment leaves the item first: its values go no further than _environment.
    raw_environment = next(
        (item.configuration.pop(k) for k in list(item.configuration) if k.lower() == "environment"), None
    )
    config = fold(item.configuration)
    environment = _environment(raw_environment, ctx, config.get("kmsKeyArn") or None)
    name = str(config.get("functionName") or item.resource_name or item.resource_id)
    package = str(config.get("packageType") or "Zip")
    vpc = config.get("vpcConfig") or {}
    model = LambdaFunction(
        **base(item, name=name, id=config.get("functionArn") or item.arn),
        function_name=name,
        package_type=package,
        runtime=config.get("runtime") if package != "Image" else None,
        role_arn=config.get("role"),
        vpc=VpcFacts(
            vpc_id=vpc.get("vpcId") or None,
            subnet_ids=list(vpc.get("subnetIds") or []),
            security_group_ids=list(vpc.get("securityGroupIds") or []),
        ),
        environment=environment,
        dead_letter=Target(arn=(config.get("deadLetterConfig") or {}).get("targetArn") or None),
    )
    if environment is None:
        model.mark_unknown("environment", "the configuration item does not record the function's environment")
    policy = item.supplement("Policy")
    if item.supplementary is not None and "Policy" not in item.supplementary:
        model.resource_policy = PolicyDocument()  # Config records the policy when there is one
    elif policy is not None:
        try:
            model.resource_policy = parse_policy(policy)
        except PolicyParseError as exc:
            model.mark_unknown("resource_policy", f"the recorded resource policy could not be parsed: {exc}")
    else:
        model.mark_unknown("resource_policy", "the configuration item carries no supplementaryConfiguration")
    ctx.not_recorded(model, ["code_signing"], "Lambda code signing configurations")
    ctx.not_recorded(
        model, ["on_failure"], "Lambda asynchronous invocation (on-failure destination) settings"
    )
    return [model]
