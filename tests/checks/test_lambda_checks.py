"""Lambda checks on models built directly: the cases a live account rarely shows (unknown and
errored facts, the runtime warning window, Lambda@Edge) and the secret classifier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controlmap.checks.lambda_ import LambdaSettings, runtime_table
from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, Status, registry
from controlmap.resources.base import CollectionError
from controlmap.resources.cloudfront import CacheBehavior, CloudFrontDistribution
from controlmap.resources.iam import AttachedPolicy, IamRole, InlinePolicy
from controlmap.resources.lambda_ import (
    CodeSigningFacts,
    EnvironmentFacts,
    LambdaFunction,
    Target,
    VpcFacts,
    classify_environment,
    shannon_entropy,
)
from controlmap.resources.policy import PolicyDocument
from controlmap.settings import Settings

ARN = "arn:aws:lambda:us-east-1:111122223333:function:fn"
ROLE = "arn:aws:iam::111122223333:role/fn"


def run(
    check_id: str,
    function: LambdaFunction,
    *extra: object,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Outcome:
    inventory = Inventory()
    inventory.add(function)
    for item in extra:
        inventory.add(item)  # type: ignore[arg-type]
    ctx = CheckContext(inventory=inventory, settings=settings or Settings(), now=now or datetime.now(UTC))
    try:
        result = registry()[check_id].func(function, ctx)
    except FactUnavailable as missing:
        return missing.outcome
    assert isinstance(result, Outcome)
    return result


def fn(**facts: object) -> LambdaFunction:
    return LambdaFunction(id=ARN, name="fn", region="us-east-1", function_name="fn", **facts)


# ---- runtime ----------------------------------------------------------------------------------


def test_runtime_deprecated_warning_window_and_supported() -> None:
    at = datetime(2027, 3, 1, tzinfo=UTC)  # nodejs22.x is deprecated on 2027-04-30: 60 days later
    warn = run("lambda_function_runtime_supported", fn(runtime="nodejs22.x", package_type="Zip"), now=at)
    assert warn.status is Status.FAIL and "still supported" in warn.reason and "in 60 days" in warn.reason
    off = Settings.model_validate({"lambda": {"runtime_warning_days": 30}})
    assert (
        run("lambda_function_runtime_supported", fn(runtime="nodejs22.x"), settings=off, now=at).status
        is Status.PASS
    )
    gone = run("lambda_function_runtime_supported", fn(runtime="python3.9"), now=at)
    assert gone.status is Status.FAIL and "deprecated since 2025-12-15" in gone.reason
    assert "blocks creating functions on it from 2027-07-29" in gone.reason


def test_runtime_not_in_table_and_unknown_and_container() -> None:
    odd = run("lambda_function_runtime_supported", fn(runtime="cobol85"))
    assert odd.status is Status.UNKNOWN and "not in the runtime table" in odd.reason
    assert run("lambda_function_runtime_supported", fn()).status is Status.UNKNOWN
    assert run("lambda_function_runtime_supported", fn(package_type="Image")).status is Status.NOT_APPLICABLE


def test_runtime_table_is_reviewed_and_consistent() -> None:
    table = runtime_table()
    assert (datetime.now(UTC).date() - table.reviewed).days < 400, "review checks/data/lambda-runtimes.yaml"
    for name, schedule in table.runtimes.items():
        if schedule.block_create and schedule.block_update:
            assert schedule.block_create <= schedule.block_update, name


def test_negative_warning_days_is_a_settings_error() -> None:
    with pytest.raises(ValueError):
        LambdaSettings.model_validate({"runtime_warning_days": -1})
    with pytest.raises(ValueError, match="regular expression"):
        LambdaSettings.model_validate({"secret_name_patterns": ["(unclosed"]})


# ---- execution role ------------------------------------------------------------------------------


def role(*statements: dict[str, object], managed: list[AttachedPolicy] | None = None) -> IamRole:
    doc = PolicyDocument.model_validate({"Version": "2012-10-17", "Statement": list(statements)})
    return IamRole(
        id=ROLE,
        name="fn",
        inline_policies=[InlinePolicy(name="p", document=doc)],
        attached_policies=managed or [],
    )


def test_role_checks() -> None:
    function = fn(role_arn=ROLE)
    assert run("lambda_function_role_least_privilege", function).status is Status.UNKNOWN  # role not scanned
    admin = run(
        "lambda_function_role_least_privilege",
        function,
        role({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    assert admin.status is Status.FAIL and "administrator access" in admin.reason
    eni = role(
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface", "xray:PutTraceSegments"],
            "Resource": "*",
        }
    )
    assert run("lambda_function_role_least_privilege", function, eni).status is Status.PASS
    hidden = role(managed=[AttachedPolicy(arn="arn:aws:iam::111122223333:policy/unread", name="unread")])
    assert run("lambda_function_role_least_privilege", function, hidden).status is Status.UNKNOWN
    assert run("lambda_function_role_least_privilege", fn()).status is Status.UNKNOWN  # role fact unknown


# ---- VPC and Lambda@Edge ---------------------------------------------------------------------------


def test_edge_functions_are_not_judged_on_vpc() -> None:
    distribution = CloudFrontDistribution(
        id="arn:aws:cloudfront::111122223333:distribution/E1",
        name="E1",
        cache_behaviors=[CacheBehavior(path_pattern="Default (*)", lambda_function_arns=[f"{ARN}:7"])],
    )
    edge = run("lambda_function_in_vpc", fn(vpc=VpcFacts()), distribution)
    assert edge.status is Status.NOT_APPLICABLE and "Lambda@Edge" in edge.reason
    other = LambdaFunction(
        id=ARN.replace("us-east-1", "eu-west-1"),
        name="fn",
        region="eu-west-1",
        function_name="fn",
        vpc=VpcFacts(),
    )
    inventory_result = run("lambda_function_in_vpc", other, distribution)
    assert inventory_result.status is Status.FAIL  # same name in another region is not the edge function
    assert run("lambda_function_in_vpc", fn()).status is Status.UNKNOWN


def test_unseen_distributions_leave_unattached_us_east_1_functions_undecided() -> None:
    """ListDistributions denied: an unattached us-east-1 function may be a Lambda@Edge function."""
    inventory = Inventory()
    denied = CollectionError(
        service="cloudfront",
        operation="ListDistributions",
        code="AccessDenied",
        resource_types=(CloudFrontDistribution.resource_type,),
    )
    inventory.add_error(denied)
    ctx = CheckContext(inventory=inventory, settings=Settings())
    check = registry()["lambda_function_in_vpc"].func
    outcome = check(fn(vpc=VpcFacts()), ctx)
    assert outcome.status is Status.ERROR and outcome.error_code == "AccessDenied"
    assert "Lambda@Edge" in outcome.reason
    attached = fn(vpc=VpcFacts(vpc_id="vpc-1", subnet_ids=["subnet-1"]))
    assert check(attached, ctx).status is Status.PASS  # attached: the edge question does not arise
    elsewhere = LambdaFunction(
        id=ARN.replace("us-east-1", "eu-west-1"), name="fn", region="eu-west-1", function_name="fn",
        vpc=VpcFacts(),
    )  # fmt: skip
    assert check(elsewhere, ctx).status is Status.FAIL  # edge functions live in us-east-1 only


# ---- environment, signing, failure handling ----------------------------------------------------


def test_environment_checks() -> None:
    empty = fn(environment=EnvironmentFacts())
    assert run("lambda_function_env_encrypted_cmk", empty).status is Status.NOT_APPLICABLE
    assert run("lambda_function_env_no_plaintext_secrets", empty).status is Status.NOT_APPLICABLE
    assert run("lambda_function_env_encrypted_cmk", fn()).status is Status.UNKNOWN


def test_code_signing_unknown_policy_and_errors() -> None:
    unknown = fn(package_type="Zip", code_signing=CodeSigningFacts(config_arn="arn:csc"))
    assert run("lambda_function_code_signing_enforced", unknown).status is Status.UNKNOWN
    errored = fn(package_type="Zip")
    errored.mark_error(
        "code_signing",
        CollectionError(service="lambda", operation="GetCodeSigningConfig", code="AccessDeniedException"),
    )
    outcome = run("lambda_function_code_signing_enforced", errored)
    assert outcome.status is Status.ERROR and outcome.error_code == "AccessDeniedException"


def test_failure_destination_needs_both_facts() -> None:
    assert run("lambda_function_failure_destination", fn(dead_letter=Target())).status is Status.UNKNOWN
    assert (
        run("lambda_function_failure_destination", fn(on_failure=Target(arn="arn:sqs"))).status is Status.PASS
    )
    assert (
        run("lambda_function_failure_destination", fn(on_failure=Target())).status is Status.UNKNOWN
    )  # DLQ unknown


# ---- the secret classifier ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("X", "AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
        ("CERT", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", "private-key"),
        ("GH", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "token"),
        ("HOOK", "xoxb-123456789012-abcdefghij", "token"),
        ("DB_URL", "mysql://admin:s3cret@db.internal:3306/app", "connection-string"),
        ("DB_PASSWORD", "correct horse", "secret-name"),
        ("stripeSecret", "whatever", "secret-name"),
        ("SERVICE_TOKEN_URL", "https://svc:hunter2pass@auth.example.com/", "connection-string"),
        ("SEED", "q8Zr4Lw2Nx7Vb1Kp9Ty3Hf6Jd0Gs5Mc", "high-entropy"),
    ],
)
def test_secret_formats(name: str, value: str, kind: str) -> None:
    [verdict] = classify_environment({name: value})
    assert verdict.kind == kind and verdict.name == name
    assert value not in verdict.model_dump_json()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCd"),
        ("API_TOKEN", "/prod/api/token"),
        ("API_TOKEN", "{{resolve:secretsmanager:prod/api:SecretString:token}}"),
        ("SECRET_ROTATION", "true"),
        ("PASSWORD", ""),
        ("COMMIT", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),  # hex digest
        ("REQUEST_ID", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        ("ENDPOINT", "https://api.example.com/v1/orders?region=eu-west-1&format=json"),
        ("GREETING", "Hello from the orders service, have a nice day"),
        ("TOKEN_TABLE_NAME", "tokens-table"),
        ("SECRET_ID", "prod/orders/db"),
        ("TOKEN_URL", "https://auth.example.com/oauth2/token"),
        ("API_KEY_HEADER", "x-api-key"),
    ],
)
def test_not_secrets(name: str, value: str) -> None:
    assert classify_environment({name: value}) == []


def test_extra_patterns_and_entropy() -> None:
    found = classify_environment({"LICENSE": "ACME-1234-5678"}, extra_value_patterns=[r"ACME-\d{4}-\d{4}"])
    assert [v.kind for v in found] == ["custom"]
    assert classify_environment({"MY_PIN": "1234x"}, extra_name_patterns=["_PIN$"])[0].kind == "secret-name"
    assert (
        shannon_entropy("") == 0 and shannon_entropy("aaaa") == 0 and round(shannon_entropy("ab"), 3) == 1.0
    )


def test_public_function_url_and_restricted_invoke() -> None:
    url = doc_of(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl",
            "Resource": ARN,
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        }
    )
    public = run("lambda_function_policy_not_public", fn(resource_policy=url))
    assert public.status is Status.FAIL and "lambda:InvokeFunctionUrl" in public.reason
    scoped = doc_of(
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": ARN,
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/nightly"}},
        }
    )
    assert run("lambda_function_policy_not_public", fn(resource_policy=scoped)).status is Status.PASS
    assert run("lambda_function_policy_not_public", fn()).status is Status.UNKNOWN


def doc_of(*statements: dict[str, object]) -> PolicyDocument:
    return PolicyDocument.model_validate({"Version": "2012-10-17", "Statement": list(statements)})


def test_variables_lambda_could_not_decrypt_are_not_an_absence() -> None:
    """Environment.Error instead of Variables: the variables exist, their names and values are unknown."""
    denied = EnvironmentFacts(
        kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/k", unreadable="KMSAccessDeniedException"
    )
    cmk = run("lambda_function_env_encrypted_cmk", fn(environment=denied))
    assert cmk.status is Status.PASS and "could not decrypt" in cmk.reason
    secrets = run("lambda_function_env_no_plaintext_secrets", fn(environment=denied))
    assert secrets.status is Status.UNKNOWN and "KMSAccessDeniedException" in secrets.reason
    no_key = EnvironmentFacts(unreadable="KMSDisabledException")
    assert run("lambda_function_env_encrypted_cmk", fn(environment=no_key)).status is Status.UNKNOWN
    assert run("lambda_function_env_no_plaintext_secrets", fn(environment=no_key)).status is Status.UNKNOWN


def s3_invoke(condition: dict[str, object] | None = None) -> PolicyDocument:
    statement: dict[str, object] = {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN,
    }
    if condition is not None:
        statement["Condition"] = condition
    return doc_of(statement)


@pytest.mark.parametrize(
    "condition",
    [
        None,
        {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}},  # a bucket name, in any account
        {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}, "StringLike": {"AWS:SourceAccount": "*"}},
    ],
)
def test_s3_invocation_without_source_account_fails(condition: dict[str, object] | None) -> None:
    """AWS Config lambda-function-public-access-prohibited / Security Hub Lambda.1."""
    out = run("lambda_function_policy_not_public", fn(resource_policy=s3_invoke(condition)))
    assert out.status is Status.FAIL
    assert "s3.amazonaws.com" in out.reason and "AWS:SourceAccount" in out.reason
    assert out.evidence["statements"] == [1]


def test_s3_invocation_with_source_account_passes() -> None:
    condition = {
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
        "StringEquals": {"AWS:SourceAccount": "111122223333"},
    }
    assert (
        run("lambda_function_policy_not_public", fn(resource_policy=s3_invoke(condition))).status
        is Status.PASS
    )
