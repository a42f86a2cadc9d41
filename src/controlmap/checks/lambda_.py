"""Lambda checks (LAMBDA-01 … LAMBDA-06).

LAMBDA-06 reads the runtime deprecation table in ``checks/data/lambda-runtimes.yaml``. A runtime
inside the warning window (``lambda.runtime_warning_days``, 90 by default) FAILS with a reason
that says it is not deprecated *yet*: a finding with a due date is what gets a migration
planned; set the window to 0 to fail only once AWS has deprecated the runtime.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controlmap.checks.policy import (
    Statement,
    admin_statements,
    could_be,
    doubt,
    is_restricting,
    public_doubt,
    public_grants,
)
from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    Status,
    check,
    failed,
    need,
    not_applicable,
    passed,
    stop_if_unknown,
    unknown,
)
from controlmap.resources.base import CollectionError
from controlmap.resources.cloudfront import CloudFrontDistribution
from controlmap.resources.iam import IamRole
from controlmap.resources.lambda_ import EnvironmentFacts, LambdaFunction
from controlmap.resources.policy import PolicyDocument, action_matches
from controlmap.settings import register_section
from controlmap.yamlfile import read_yaml

# Actions that do not support resource-level permissions (AWS requires Resource "*"): a "*"
# resource on them is not over-broad. The ENI actions are what a VPC-attached function needs.
NO_RESOURCE_LEVEL_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "cloudwatch:PutMetricData",
    "logs:CreateLogGroup",
)


class LambdaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # LAMBDA-06: fail this many days before a runtime's deprecation date (0: only once deprecated).
    runtime_warning_days: int = 90
    # LAMBDA-03: extra regular expressions for secret variable names / values (case-insensitive names).
    secret_name_patterns: list[str] = []
    secret_value_patterns: list[str] = []
    # Bits per character (a random base64 key has about 5-6, English text and hex digests under 4.2).
    secret_entropy_threshold: float = Field(default=4.2, gt=0, le=8)
    secret_entropy_min_length: int = Field(default=20, ge=8)
    # LAMBDA-01: managed policies whose "*" resources are accepted (AWS's Lambda service-role
    # policies only grant logging, ENI and tracing actions that need "*").
    allowed_managed_policies: list[str] = [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaENIManagementAccess",
        "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    ]
    # LAMBDA-01: actions accepted on Resource "*" (they have no resource-level permissions).
    wildcard_resource_actions_allowed: list[str] = list(NO_RESOURCE_LEVEL_ACTIONS)

    @field_validator("secret_name_patterns", "secret_value_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return patterns

    @field_validator("runtime_warning_days")
    @classmethod
    def _not_negative(cls, days: int) -> int:
        if days < 0:
            raise ValueError("must be 0 or more")
        return days


register_section("lambda", LambdaSettings)


def lambda_settings(ctx: CheckContext) -> LambdaSettings:
    return ctx.config(LambdaSettings, "lambda")


# ---- LAMBDA-01: execution role and resource policy ---------------------------------------------


def _wildcard_problems(label: str, statements: list[Statement], allowed_actions: list[str]) -> list[str]:
    problems = []
    for statement in statements:
        if not statement.is_allow:
            continue
        where = f"{label} {statement.label}"
        if statement.not_actions is not None:
            continue  # reported as administrator access
        wild = [a for a in statement.actions if a.strip() == "*" or a.strip().endswith(":*")]
        if wild:
            problems.append(f"{where} allows every action of {', '.join(wild)}")
            continue
        if statement.not_resources is not None or any(r.strip() == "*" for r in statement.resources):
            broad = [
                a for a in statement.actions if not any(a.lower() == ok.lower() for ok in allowed_actions)
            ]
            if broad:
                shown = ", ".join(broad[:4]) + (f" and {len(broad) - 4} more" if len(broad) > 4 else "")
                problems.append(f'{where} allows {shown} on Resource "*"')
    return problems


@check(
    "lambda_function_role_least_privilege",
    LambdaFunction,
    title="The function's execution role has no wildcard actions or resources",
    uses=[IamRole],
    facts=("role_arn", "inline_policies", "attached_policies"),
)
def role_least_privilege(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    role_arn = need(function, "role_arn")
    role = ctx.inventory.by_id(role_arn)
    if not isinstance(role, IamRole):
        return unknown(
            f"the execution role {role_arn} is not in the scanned inventory (another account, or IAM was "
            "not read); its policies cannot be judged",
            role=role_arn,
        )
    config = lambda_settings(ctx)
    problems: list[str] = []
    unseen: list[str] = []
    for label, document in role.policy_documents():
        if (
            label.startswith("managed policy ")
            and label.removeprefix("managed policy ") in config.allowed_managed_policies
        ):
            continue
        if document is None:
            unseen.append(label)
            continue
        admin = admin_statements(document)
        for grant in admin:
            problems.append(
                f"{label} {grant.statement.label} grants administrator access ({', '.join(grant.actions)})"
            )
        admin_indexes = {g.statement.index for g in admin}
        rest = [s for s in document.statements if s.index not in admin_indexes and not s.unknown]
        problems += _wildcard_problems(label, rest, config.wildcard_resource_actions_allowed)
        # A statement with unknown parts may be a wildcard grant; only Denies are ruled out.
        undecided = doubt([s for s in document.undecided() if could_be(s, "Allow")])
        if undecided:
            unseen.append(f"{label} ({undecided})")
    evidence: dict[str, Any] = {"role": role_arn, "policies": [label for label, _ in role.policy_documents()]}
    if problems:
        return failed(
            f"execution role {role.name}: "
            + "; ".join(problems[:6])
            + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
            + "; grant only the actions and resource ARNs the function's code uses",
            **evidence,
            problems=problems,
        )
    if role.inline_policies is None and role.attached_policies is None:
        return unknown(f"the policies of execution role {role.name} were not read", **evidence)
    if unseen:
        return unknown(
            f"execution role {role.name} has no wildcard grant in the policies read, but "
            f"{', '.join(unseen)} could not be read",
            **evidence,
        )
    return passed(f"execution role {role.name} grants no wildcard actions or resources", **evidence)


@check(
    "lambda_function_policy_not_public",
    LambdaFunction,
    title="The function's resource-based policy does not let everyone invoke it",
    facts=("resource_policy",),
)
def policy_not_public(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    document = need(function, "resource_policy")
    if document.is_empty:
        return passed("the function has no resource-based policy")
    grants = public_grants(document, action_filter=["lambda:*"])
    undecided = public_doubt(document, grants, action_filter=["lambda:*"])
    if undecided:
        return unknown(
            f"whether the resource-based policy lets everyone invoke the function depends on {undecided}"
        )
    if grants:
        return failed(
            "; ".join(g.describe() for g in grants)
            + " with no condition restricting the caller (add AWS:SourceArn / AWS:SourceAccount, "
            "or remove the statement)",
            grants=[g.evidence() for g in grants],
        )
    unscoped = _s3_invocations_without_source_account(document)
    if unscoped:
        return failed(
            "; ".join(f"{st.label} lets s3.amazonaws.com invoke the function" for st in unscoped)
            + " without an AWS:SourceAccount condition: a bucket name is not tied to an account, so "
            "a bucket of that name in any account could invoke it (AWS Config "
            "lambda-function-public-access-prohibited); add --source-account with your account ID",
            statements=[st.index for st in unscoped],
        )
    return passed("no statement of the resource-based policy grants invocation to everyone")


def _s3_invocations_without_source_account(document: PolicyDocument) -> list[Statement]:
    """Allows to the S3 service principal with no fixed aws:SourceAccount (or SourceOwner)."""
    out = []
    for statement in document.allows():
        principal = statement.principal
        services = [s.lower() for s in (principal.entries.get("Service", ()) if principal else ())]
        if "s3.amazonaws.com" not in services:
            continue
        if statement.not_actions is None and not any(
            action_matches(pattern, "lambda:InvokeFunction") for pattern in statement.actions
        ):
            continue
        scoped = any(
            c.key_lower in ("aws:sourceaccount", "aws:sourceowner") and is_restricting(c)
            for c in statement.conditions
        )
        if not scoped:
            out.append(statement)
    return out


# ---- LAMBDA-02: VPC ----------------------------------------------------------------------------


def _edge_distributions(function: LambdaFunction, ctx: CheckContext) -> list[str]:
    """Distributions that run this function at the edge (Lambda@Edge functions live in us-east-1)."""
    if function.region not in (None, "us-east-1"):
        return []
    base = function.unqualified_arn
    names = []
    for distribution in ctx.inventory.of_type(CloudFrontDistribution):
        for behavior in distribution.cache_behaviors or []:
            if any(arn == base or arn.startswith(base + ":") for arn in behavior.lambda_function_arns):
                names.append(distribution.name)
                break
    return names


def _distributions_unseen(function: LambdaFunction, ctx: CheckContext) -> CollectionError | None:
    """The failed CloudFront listing that hides whether this function is used at the edge."""
    if function.region not in (None, "us-east-1"):
        return None
    for error in ctx.inventory.errors:
        if CloudFrontDistribution.resource_type in getattr(error, "resource_types", ()):
            return error
    return None


@check(
    "lambda_function_in_vpc",
    LambdaFunction,
    title="The function runs attached to a VPC",
    uses=[CloudFrontDistribution],
    facts=("vpc", "cache_behaviors"),
)
def in_vpc(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    edge = _edge_distributions(function, ctx)
    if edge:
        return not_applicable(
            f"Lambda@Edge function (used by CloudFront distribution {', '.join(edge)}): edge functions "
            "cannot "
            "be attached to a VPC",
            distributions=edge,
        )
    vpc = need(function, "vpc")
    if vpc.attached:
        return passed(
            f"attached to {vpc.vpc_id or 'a VPC'} through {len(vpc.subnet_ids)} subnets",
            vpc=vpc.vpc_id,
            subnets=vpc.subnet_ids,
            security_groups=vpc.security_group_ids,
        )
    unseen = _distributions_unseen(function, ctx)
    if unseen is not None:
        # Without the distributions an unattached us-east-1 function may be a Lambda@Edge
        # function, which cannot be attached: failing it would be a guess.
        return Outcome(
            Status.ERROR,
            "the function is not attached to a VPC, and whether it runs at the edge (Lambda@Edge, which "
            f"cannot be attached) is not known: {unseen.describe()}",
            {},
            None,
            unseen.code,
        )
    return failed(
        "the function is not attached to a VPC (VpcConfig has no subnets); attach it to private subnets "
        "with a "
        "security group that allows only the egress it needs"
    )


# ---- LAMBDA-03: environment variables ------------------------------------------------------------


def _unreadable(environment: EnvironmentFacts) -> str:
    return (
        f"Lambda could not decrypt the environment variables for the scan ({environment.unreadable}); "
        "allow the scanning role kms:Decrypt on the function's key (a condition on "
        "kms:EncryptionContext:aws:lambda:FunctionArn limits it to the function) or have someone who "
        "can read them review the variables"
    )


@check(
    "lambda_function_env_encrypted_cmk",
    LambdaFunction,
    title="Environment variables are encrypted with a customer managed KMS key",
    facts=("environment",),
)
def env_cmk(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    environment = need(function, "environment")
    if environment.unreadable and environment.kms_key_arn:
        return passed(
            f"environment variables are encrypted with customer managed key {environment.kms_key_arn}; "
            f"the scan could not decrypt them ({environment.unreadable}), so LAMBDA-03's secret check "
            "is UNKNOWN",
            kms_key=environment.kms_key_arn,
        )
    if environment.unreadable:
        return unknown(_unreadable(environment), error_code=environment.unreadable)
    if not environment.variable_names:
        return not_applicable("the function has no environment variables")
    count = len(environment.variable_names)
    if not environment.kms_key_arn:
        stop_if_unknown(function, "environment.kms_key_arn")
    if environment.kms_key_arn:
        return passed(
            f"{count} environment variables encrypted with customer managed key {environment.kms_key_arn}",
            kms_key=environment.kms_key_arn,
        )
    return failed(
        f"{count} environment variables are encrypted with the AWS managed key aws/lambda; set KMSKeyArn to "
        "a "
        "customer managed key so that key policy and CloudTrail control who can read them",
        variables=environment.variable_names,
    )


@check(
    "lambda_function_env_no_plaintext_secrets",
    LambdaFunction,
    title="Environment variables hold no plaintext secrets",
    facts=("environment",),
)
def env_no_secrets(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    environment = need(function, "environment")
    if environment.unreadable:
        return unknown(_unreadable(environment), error_code=environment.unreadable)
    if not environment.variable_names:
        return not_applicable("the function has no environment variables")
    if environment.suspicious:
        shown = "; ".join(f"{v.name}: {v.detail}" for v in environment.suspicious)
        return failed(
            f"{len(environment.suspicious)} environment variables look like secrets ({shown}); move them to "
            "Secrets Manager or Parameter Store and keep only a reference in the variable",
            variables=[v.model_dump() for v in environment.suspicious],
        )
    if environment.undetermined:
        return unknown(
            "no environment variable is known to hold a secret, but "
            + "; ".join(environment.undetermined.values())
            + " (a secret passed this way is stored in plain text in the function's configuration; "
            "pass a Secrets Manager or Parameter Store reference instead)",
            variables=sorted(environment.undetermined),
        )
    return passed(
        f"none of the {len(environment.variable_names)} environment variables looks like a secret "
        "(known secret formats, secret-like names, high entropy)"
    )


# ---- LAMBDA-04: code signing ---------------------------------------------------------------------


def _image(function: LambdaFunction) -> Outcome | None:
    if function.package_type == "Image":
        return not_applicable(
            "container image function: code signing and managed runtimes apply to .zip packages"
        )
    return None


@check(
    "lambda_function_code_signing_enforced",
    LambdaFunction,
    title="Code signing is configured and enforced",
    facts=("code_signing", "package_type"),
)
def code_signing(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    if (na := _image(function)) is not None:
        return na
    signing = need(function, "code_signing")
    if signing.config_arn is None:
        return failed(
            "no code signing configuration is attached; attach one with allowed signing profiles and "
            "UntrustedArtifactOnDeployment Enforce"
        )
    evidence = {"config": signing.config_arn, "allowed_publishers": signing.allowed_publishers}
    policy = signing.untrusted_artifact_on_deployment
    if policy is None:
        return unknown(
            f"the policy of code signing configuration {signing.config_arn} is not known", **evidence
        )
    if policy == "Enforce":
        return passed(f"code signing configuration {signing.config_arn} enforces signatures", **evidence)
    return failed(
        f"code signing configuration {signing.config_arn} has UntrustedArtifactOnDeployment {policy}: "
        "unsigned "
        "code is deployed with only a log entry; set it to Enforce",
        **evidence,
    )


# ---- LAMBDA-05: failure handling -----------------------------------------------------------------


@check(
    "lambda_function_failure_destination",
    LambdaFunction,
    title="Asynchronous invocations have a dead-letter queue or an on-failure destination",
    facts=("dead_letter", "on_failure"),
)
def failure_destination(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    dead_letter = function.dead_letter
    if dead_letter is not None and dead_letter.arn:
        return passed(f"dead-letter queue {dead_letter.arn}", dead_letter=dead_letter.arn)
    on_failure = need(function, "on_failure")
    if on_failure.arn:
        return passed(f"on-failure destination {on_failure.arn}", on_failure=on_failure.arn)
    need(function, "dead_letter")
    return failed(
        "no dead-letter queue (DeadLetterConfig) and no on-failure destination (EventInvokeConfig); events "
        "from "
        "asynchronous invocations (S3, SNS, EventBridge…) that fail every retry are dropped. Only "
        "asynchronously "
        "invoked functions need one: synchronous callers see the error, event source mappings have their own "
        "failure settings; record those as exceptions"
    )


# ---- LAMBDA-06: runtime --------------------------------------------------------------------------


class RuntimeSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deprecated: date
    block_create: date | None = None
    block_update: date | None = None


class RuntimeTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewed: date
    runtimes: dict[str, RuntimeSchedule]


@lru_cache(maxsize=1)
def runtime_table() -> RuntimeTable:
    path = resources.files("controlmap.checks") / "data" / "lambda-runtimes.yaml"
    with resources.as_file(path) as real:
        return RuntimeTable.model_validate(read_yaml(real))


@check(
    "lambda_function_runtime_supported",
    LambdaFunction,
    title="The function's runtime is not deprecated or close to deprecation",
    facts=("runtime", "package_type"),
)
def runtime_supported(function: LambdaFunction, ctx: CheckContext) -> Outcome:
    if (na := _image(function)) is not None:
        return na
    runtime = need(function, "runtime")
    table = runtime_table()
    schedule = table.runtimes.get(runtime)
    if schedule is None:
        return unknown(
            f"runtime {runtime} is not in the runtime table (reviewed {table.reviewed}); check AWS's Lambda "
            "runtimes "
            "page and update checks/data/lambda-runtimes.yaml",
            runtime=runtime,
        )
    today = ctx.now.date()
    evidence = {
        "runtime": runtime,
        "deprecated": schedule.deprecated.isoformat(),
        "block_create": schedule.block_create.isoformat() if schedule.block_create else None,
        "block_update": schedule.block_update.isoformat() if schedule.block_update else None,
        "table_reviewed": table.reviewed.isoformat(),
    }
    blocks = []
    for what, when in (("creating", schedule.block_create), ("updating", schedule.block_update)):
        if when is not None:
            verb = "blocks" if when > today else "has blocked"
            blocks.append(f"AWS {verb} {what} functions on it {'from' if when > today else 'since'} {when}")
    tail = (f" ({'; '.join(blocks)})" if blocks else "") + "; move to a supported runtime"
    if schedule.deprecated <= today:
        return failed(
            f"runtime {runtime} has been deprecated since {schedule.deprecated}: no more security "
            f"patches{tail}",
            **evidence,
        )
    days = (schedule.deprecated - today).days
    warning = lambda_settings(ctx).runtime_warning_days
    if days <= warning:
        return failed(
            f"runtime {runtime} is still supported but will be deprecated in {days} days, on "
            f"{schedule.deprecated} "
            f"(inside lambda.runtime_warning_days, {warning}){tail}",
            **evidence,
        )
    return passed(f"runtime {runtime} is supported until {schedule.deprecated}", **evidence)
