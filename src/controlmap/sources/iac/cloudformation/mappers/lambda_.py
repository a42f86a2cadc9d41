"""AWS::Lambda::Function with its companions: EventInvokeConfig, Permission, CodeSigningConfig.

Environment variable values are reduced to secret verdicts here and dropped (see lambda_env).
A function without a DeadLetterConfig, EventInvokeConfig, code signing configuration or
permission has none: those are known absences in a template.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.lambda_ import CodeSigningFacts, LambdaFunction, Target, VpcFacts
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, finisher, primary
from controlmap.sources.iac.cloudformation.mappers._common import known_texts, note_name, region_of, tags
from controlmap.sources.iac.cloudformation.mappers.ec2 import group_id_of
from controlmap.sources.iac.cloudformation.mappers.s3 import key_reference
from controlmap.sources.iac.common import ResourceRef, Unresolved, opaque
from controlmap.sources.iac.facts import as_list, dig, policy_document, reference_text, text, unknown
from controlmap.sources.iac.lambda_env import environment_facts

_PERMISSIONS = "_cfn_lambda_permissions"


def target_text(value: Any) -> str | None:
    if isinstance(value, Unresolved):
        return value.placeholder or f"(given by {value.depends_on})"
    return reference_text(value)


@primary("AWS::Lambda::Function")
def function(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("FunctionName")
    shown = name if isinstance(name, str) else item.logical_id
    model = LambdaFunction(
        id=build.resource_id(item.logical_id),
        name=shown,
        function_name=shown,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
    )
    package = props.get("PackageType", "Zip")
    model.package_type = package if isinstance(package, str) else None
    runtime = props.get("Runtime")
    if isinstance(runtime, Unresolved):
        unknown(model, "runtime", "Runtime", runtime)
    else:
        model.runtime = text(runtime)
    role = props.get("Role")
    if isinstance(role, ResourceRef):
        model.role_arn = build.resource_id(role.address)  # the role model's id, as checks look it up
    elif isinstance(role, Unresolved):
        unknown(model, "role_arn", "Role", role)
    else:
        model.role_arn = text(role)
    note_name(model, item, "FunctionName")
    vpc = props.get("VpcConfig")
    subnets, missing = known_texts(dig(vpc, "SubnetIds"))
    if isinstance(vpc, Unresolved):
        unknown(model, "vpc", "VpcConfig", vpc)
    elif missing is not None and not subnets:
        # Subnets given by a parameter may be none at all, so the attachment is unknown.
        unknown(model, "vpc", "VpcConfig.SubnetIds", missing)
    else:
        groups = [g for g in (group_id_of(v, build) for v in as_list(dig(vpc, "SecurityGroupIds"))) if g]
        model.vpc = VpcFacts(subnet_ids=subnets, security_group_ids=groups)
    key = key_reference(props.get("KmsKeyArn"), build)
    facts = environment_facts(
        dig(props, "Environment", "Variables"), None if opaque(key) else target_text(key)
    )
    if isinstance(facts, Unresolved):
        unknown(model, "environment", "Environment.Variables", facts)
    else:
        model.environment = facts
        if opaque(key) is not None and facts.variable_names:
            unknown(model, "environment.kms_key_arn", "KmsKeyArn", key)
    signing = props.get("CodeSigningConfigArn")
    if signing is None:
        model.code_signing = CodeSigningFacts(config_arn=None)
    elif isinstance(signing, ResourceRef):
        model.code_signing = CodeSigningFacts(
            config_arn=build.resource_id(signing.address)
        )  # settled by a finisher
    elif opaque(signing) is not None:
        unknown(model, "code_signing", "CodeSigningConfigArn", signing)
    else:
        model.code_signing = CodeSigningFacts(config_arn=target_text(signing))
    dead_letter = dig(props, "DeadLetterConfig", "TargetArn")
    if opaque(dead_letter) is not None:
        unknown(model, "dead_letter", "DeadLetterConfig.TargetArn", dead_letter)
    else:
        model.dead_letter = Target(arn=target_text(dead_letter) if dead_letter is not None else None)
    model.on_failure = Target(arn=None)
    return [model]


def _has_destination(function: LambdaFunction) -> bool:
    return bool(function.on_failure and function.on_failure.arn)


@companion("AWS::Lambda::EventInvokeConfig")
def event_invoke_config(item: CfnItem, build: CfnBuild) -> None:
    target = build.link(
        item,
        item.props.get("FunctionName"),
        LambdaFunction,
        ("on_failure",),
        "function_name",
        _has_destination,
    )
    if target is None:
        return
    destination = dig(item.props, "DestinationConfig", "OnFailure", "Destination")
    if opaque(destination) is not None:
        unknown(target, "on_failure", f"{item.logical_id}.DestinationConfig", destination)
    elif destination is not None:
        target.on_failure = Target(arn=target_text(destination))


def permission_statement(
    principal: Any,
    action: Any,
    source_arn: Any,
    source_account: Any,
    resource: str,
    url_auth_type: Any = None,
) -> dict[str, Any]:
    """A Lambda permission as the statement AWS adds to the function's resource-based policy.

    A value of which nothing is known stays an Unresolved, so the statement's element is unknown.
    """

    def value(raw: Any) -> Any:
        return raw if isinstance(raw, Unresolved) and not raw.exact else target_text(raw)

    who = value(principal) or "*"
    if isinstance(who, Unresolved):
        shown: Any = who
    elif who == "*":
        shown = "*"
    elif who.endswith(".amazonaws.com"):
        shown = {"Service": who}
    else:
        shown = {"AWS": who}
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": shown,
        "Action": value(action) or "lambda:InvokeFunction",
        "Resource": resource,
    }
    conditions: dict[str, Any] = {}
    if source_arn is not None:
        conditions["ArnLike"] = {"AWS:SourceArn": value(source_arn)}
    if source_account is not None:
        conditions["StringEquals"] = {"AWS:SourceAccount": value(source_account)}
    if url_auth_type is not None:  # the condition Lambda adds for a function URL permission
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = value(url_auth_type)
    if conditions:
        statement["Condition"] = conditions
    return statement


@companion("AWS::Lambda::Permission")
def permission(item: CfnItem, build: CfnBuild) -> None:
    value = item.props.get("FunctionName")
    target = build.target(value, LambdaFunction, "function_name")
    statements: dict[str, list[dict[str, Any]]] = getattr(build, _PERMISSIONS, {})
    setattr(build, _PERMISSIONS, statements)
    if target is None:
        # A permission for a function the scan cannot name may be any function's.
        if not isinstance(value, ResourceRef):
            for candidate, why in build.maybe_targets(value, LambdaFunction, item, "function_name"):
                statements.setdefault(candidate.id, []).append(
                    {"Effect": "Allow", "Principal": Unresolved(why), "Action": "lambda:InvokeFunction"}
                )
        return
    props = item.props
    statements.setdefault(target.id, []).append(
        permission_statement(
            props.get("Principal"),
            props.get("Action"),
            props.get("SourceArn"),
            props.get("SourceAccount"),
            target.id,
            props.get("FunctionUrlAuthType"),
        )
    )
    setattr(build, _PERMISSIONS, statements)


@finisher
def _policies_and_signing(build: CfnBuild) -> None:
    statements: dict[str, list[dict[str, Any]]] = getattr(build, _PERMISSIONS, {})
    configs = {
        build.resource_id(item.logical_id): item
        for item in build.items.values()
        if item.type == "AWS::Lambda::CodeSigningConfig"
    }
    for model in build.all(LambdaFunction):
        found = statements.get(model.id)
        model.resource_policy = (
            policy_document({"Version": "2012-10-17", "Statement": found}) if found else PolicyDocument()
        )
        signing = model.code_signing
        if signing is not None and signing.config_arn in configs:
            config = configs[signing.config_arn]
            policy = dig(config.props, "CodeSigningPolicies", "UntrustedArtifactOnDeployment")
            publishers = dig(config.props, "AllowedPublishers", "SigningProfileVersionArns")
            model.code_signing = CodeSigningFacts(
                config_arn=signing.config_arn,
                untrusted_artifact_on_deployment=policy
                if isinstance(policy, str)
                else "Warn"
                if policy is None
                else None,
                allowed_publishers=[t for t in (target_text(p) for p in as_list(publishers)) if t],
            )
