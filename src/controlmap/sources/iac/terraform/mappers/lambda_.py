"""aws_lambda_function with its event invoke config, permissions and code signing configuration."""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.lambda_ import CodeSigningFacts, LambdaFunction, Target, VpcFacts
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.mappers.lambda_ import permission_statement
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import as_list, policy_document, text, unknown
from controlmap.sources.iac.lambda_env import environment_facts
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, finisher, primary
from controlmap.sources.iac.terraform.mappers._common import base, first, named, names, ref_text
from controlmap.sources.iac.terraform.mappers.ec2 import group_id

_PERMISSIONS = "tf_lambda_permissions"


@primary("aws_lambda_function")
def function(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("function_name")
    fields = base(item, build, name)
    model = LambdaFunction(**fields, function_name=fields["name"])
    package = item.get("package_type", "Zip")
    model.package_type = package if isinstance(package, str) else None
    runtime = item.get("runtime")
    if isinstance(runtime, Unresolved):
        unknown(model, "runtime", "runtime", runtime)
    else:
        model.runtime = text(runtime)
    role = item.get("role")
    if isinstance(role, ResourceRef):
        model.role_arn = build.resource_id(role.address)  # the role model's id, as checks look it up
    elif isinstance(role, Unresolved) and not role.placeholder:
        unknown(model, "role_arn", "role", role)
    else:
        model.role_arn = ref_text(role)
    vpc = item.block("vpc_config")
    subnets = names(vpc.get("subnet_ids")) if isinstance(vpc, dict) else vpc
    groups = vpc.get("security_group_ids") if isinstance(vpc, dict) else None
    if isinstance(subnets, Unresolved):
        # Unknown subnets may be none at all (a variable set to []), so the attachment is unknown.
        unknown(model, "vpc", "vpc_config.subnet_ids", subnets)
    else:
        model.vpc = VpcFacts(
            subnet_ids=subnets or [],
            security_group_ids=[g for g in (group_id(v, build, item) for v in as_list(groups)) if g],
        )
    environment = first(item.get("environment"))
    variables = environment.get("variables") if isinstance(environment, dict) else None
    key = named(item.get("kms_key_arn"))
    facts = environment_facts(variables, key if not isinstance(key, Unresolved) else None)
    if isinstance(facts, Unresolved):
        unknown(model, "environment", "environment.variables", facts)
    else:
        model.environment = facts
        if isinstance(key, Unresolved) and facts.variable_names:
            unknown(model, "environment.kms_key_arn", "kms_key_arn", key)
    signing = item.get("code_signing_config_arn")
    if signing is None:
        model.code_signing = CodeSigningFacts(config_arn=None)
    elif isinstance(signing, ResourceRef):
        model.code_signing = CodeSigningFacts(config_arn=build.resource_id(signing.address))
    elif isinstance(named(signing), Unresolved):
        unknown(model, "code_signing", "code_signing_config_arn", signing)
    else:
        model.code_signing = CodeSigningFacts(config_arn=ref_text(signing) or "(a computed configuration)")
    dead_letter = item.block("dead_letter_config")
    arn = dead_letter.get("target_arn") if isinstance(dead_letter, dict) else dead_letter
    missing = named(arn)
    if isinstance(missing, Unresolved):
        unknown(model, "dead_letter", "dead_letter_config.target_arn", missing)
    else:
        model.dead_letter = Target(arn=ref_text(arn) if arn is not None else None)
    model.on_failure = Target(arn=None)
    return [model]


def _has_destination(function: LambdaFunction) -> bool:
    return bool(function.on_failure and function.on_failure.arn)


@companion("aws_lambda_function_event_invoke_config")
def event_invoke_config(item: TfItem, build: TfBuild) -> None:
    target = build.link(
        item, item.get("function_name"), LambdaFunction, ("on_failure",), "function_name", _has_destination
    )
    if target is None:
        return
    config = first(item.get("destination_config"))
    on_failure = first(config.get("on_failure")) if isinstance(config, dict) else None
    destination = on_failure.get("destination") if isinstance(on_failure, dict) else None
    missing = named(destination)
    if isinstance(missing, Unresolved):
        unknown(target, "on_failure", f"{item.address}.destination_config.on_failure.destination", missing)
    elif destination is not None:
        target.on_failure = Target(arn=ref_text(destination) or "(a computed destination)")


@companion("aws_lambda_permission")
def permission(item: TfItem, build: TfBuild) -> None:
    value = item.get("function_name")
    target = build.target(value, LambdaFunction, "function_name", item)
    statements: dict[str, list[dict[str, Any]]] = build.notes.setdefault(_PERMISSIONS, {})
    if target is None:
        # A permission for a function the scan cannot name may be any function's.
        for candidate, why in build.maybe_targets(value, LambdaFunction, item, "function_name"):
            statements.setdefault(candidate.id, []).append(
                {"Effect": "Allow", "Principal": Unresolved(why), "Action": "lambda:InvokeFunction"}
            )
        return
    statements.setdefault(target.id, []).append(
        permission_statement(
            item.get("principal"),
            item.get("action"),
            item.get("source_arn"),
            item.get("source_account"),
            target.id,
            item.get("function_url_auth_type"),
        )
    )


@finisher
def _policies_and_signing(build: TfBuild) -> None:
    statements: dict[str, list[dict[str, Any]]] = build.notes.get(_PERMISSIONS, {})
    configs = {
        build.resource_id(i.address): i for i in build.items if i.type == "aws_lambda_code_signing_config"
    }
    for model in build.all(LambdaFunction):
        found = statements.get(model.id)
        model.resource_policy = (
            policy_document({"Version": "2012-10-17", "Statement": found}) if found else PolicyDocument()
        )
        signing = model.code_signing
        if signing is not None and signing.config_arn in configs:
            config = configs[signing.config_arn]
            policies = first(config.get("policies"))
            policy = policies.get("untrusted_artifact_on_deployment") if isinstance(policies, dict) else None
            publishers = first(config.get("allowed_publishers"))
            arns = publishers.get("signing_profile_version_arns") if isinstance(publishers, dict) else None
            model.code_signing = CodeSigningFacts(
                config_arn=signing.config_arn,
                untrusted_artifact_on_deployment=policy
                if isinstance(policy, str)
                else "Warn"
                if policy is None
                else None,
                allowed_publishers=[t for t in (ref_text(a) for a in as_list(arns)) if t],
            )
