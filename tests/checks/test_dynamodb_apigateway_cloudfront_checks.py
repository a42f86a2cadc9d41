"""DynamoDB, API Gateway and CloudFront checks on models built directly: unknown facts, the
template-style inputs an IaC source produces, and policy edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from controlmap.checks.apigateway import ApiGatewaySettings
from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, Status, registry
from controlmap.resources.apigateway import (
    ApiGatewayRestApi,
    ApiGatewayStage,
    ApiGatewayV2Stage,
    ApiMethod,
    ThrottleLimits,
)
from controlmap.resources.base import Resource, SourceKind, SourceRef
from controlmap.resources.cloudfront import CloudFrontDistribution, GeoRestriction, Origin
from controlmap.resources.dynamodb import DaxCluster, DynamoDbTable, TableEncryption
from controlmap.resources.ec2 import SecurityGroup, SgRule
from controlmap.resources.iam import IamRole, InlinePolicy
from controlmap.resources.policy import PolicyDocument
from controlmap.settings import Settings

TABLE = "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
TEMPLATE = SourceRef(kind=SourceKind.CLOUDFORMATION, file="stack.yaml", line_start=3, address="Orders")


def run(check_id: str, resource: Resource, *extra: Resource, settings: Settings | None = None) -> Outcome:
    inventory = Inventory()
    for item in (resource, *extra):
        inventory.add(item)
    ctx = CheckContext(inventory=inventory, settings=settings or Settings(), now=datetime.now(UTC))
    try:
        result = registry()[check_id].func(resource, ctx)
    except FactUnavailable as missing:
        return missing.outcome
    assert isinstance(result, Outcome)
    return result


def table(**facts: object) -> DynamoDbTable:
    return DynamoDbTable(id=TABLE, name="orders", region="us-east-1", table_name="orders", **facts)


def doc(*statements: dict[str, object]) -> PolicyDocument:
    return PolicyDocument.model_validate({"Version": "2012-10-17", "Statement": list(statements)})


DENY_HTTP = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "dynamodb:*",
    "Resource": TABLE,
    "Condition": {"Bool": {"aws:SecureTransport": False}},
}


def test_table_encryption_owners() -> None:
    assert run("dynamodb_table_encrypted_cmk", table()).status is Status.UNKNOWN
    unknown_key = table(encryption=TableEncryption(kms_key_arn="arn:aws:kms:us-east-1:1:key/x"))
    assert run("dynamodb_table_encrypted_cmk", unknown_key).status is Status.UNKNOWN
    disabled = table(
        encryption=TableEncryption(
            owner="CUSTOMER", kms_key_arn="k", status="INACCESSIBLE_ENCRYPTION_CREDENTIALS"
        )
    )
    assert run("dynamodb_table_encrypted_cmk", disabled).status is Status.FAIL
    template = DynamoDbTable(id="Orders", name="Orders", table_name="Orders", source=TEMPLATE)
    outcome = run("dynamodb_table_encrypted_cmk", template)
    assert outcome.status is Status.UNKNOWN and "not declared in the template" in outcome.reason


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (DENY_HTTP, Status.PASS),
        ({**DENY_HTTP, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, Status.FAIL),
        ({**DENY_HTTP, "Action": "dynamodb:GetItem"}, Status.FAIL),  # other actions still allowed over HTTP
        ({**DENY_HTTP, "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"}}, Status.FAIL),
        ({**DENY_HTTP, "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/other"}, Status.FAIL),
        ({**DENY_HTTP, "Action": "*"}, Status.PASS),
    ],
)
def test_secure_transport_statements(statement: dict[str, object], expected: Status) -> None:
    assert (
        run("dynamodb_table_policy_denies_insecure_transport", table(resource_policy=doc(statement))).status
        is expected
    )


def test_wildcard_grants_on_principals() -> None:
    def role(*statements: dict[str, object], linked: bool = False) -> IamRole:
        return IamRole(
            id="arn:aws:iam::1:role/r",
            name="r",
            service_linked=linked,
            inline_policies=[InlinePolicy(name="p", document=doc(*statements))],
            attached_policies=[],
        )

    check = "dynamodb_iam_role_no_wildcard_grants"
    assert run(check, role({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})).status is Status.FAIL
    assert run(check, role({"Effect": "Allow", "Action": "*", "Resource": "*"})).status is Status.FAIL
    assert run(check, role({"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"})).status is Status.PASS
    metadata = role(
        {"Effect": "Allow", "Action": ["dynamodb:ListTables", "dynamodb:DescribeTable"], "Resource": "*"}
    )
    assert run(check, metadata).status is Status.PASS
    items = role({"Effect": "Allow", "Action": ["dynamodb:ListTables", "dynamodb:GetItem"], "Resource": "*"})
    assert "dynamodb:GetItem" in run(check, items).reason
    assert (
        run(check, role({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}, linked=True)).status
        is Status.NOT_APPLICABLE
    )
    unread = IamRole(
        id="arn:aws:iam::1:role/u", name="u", inline_policies=[InlinePolicy(name="p")], attached_policies=[]
    )
    assert run(check, unread).status is Status.UNKNOWN
    assert run(check, IamRole(id="arn:aws:iam::1:role/n", name="n")).status is Status.UNKNOWN


def test_dax_groups_unknown_and_open() -> None:
    cluster = DaxCluster(
        id="arn:dax", name="c", region="us-east-1", cluster_name="c", security_group_ids=["sg-1"]
    )
    assert run("dax_cluster_security_groups_restricted", cluster).status is Status.UNKNOWN
    group = SecurityGroup(
        id="arn:sg-1",
        name="g",
        region="us-east-1",
        group_id="sg-1",
        ingress=[SgRule(protocol="tcp", from_port=0, to_port=65535, ipv4_ranges=["0.0.0.0/0"])],
    )
    assert run("dax_cluster_security_groups_restricted", cluster, group).status is Status.FAIL
    assert run("dax_cluster_encrypted_in_transit", cluster).status is Status.UNKNOWN


def test_api_gateway_edge_cases() -> None:
    api = ApiGatewayRestApi(
        id="arn:api", name="api", api_id="a", methods=[], resource_policy=PolicyDocument()
    )
    assert run("apigateway_rest_methods_authenticated", api).status is Status.NOT_APPLICABLE
    assert (
        run("apigateway_rest_methods_authenticated", ApiGatewayRestApi(id="x", name="x", api_id="x")).status
        is Status.UNKNOWN
    )
    custom = api.model_copy(
        update={"methods": [ApiMethod(path="/a", http_method="GET", authorization_type="CUSTOM")]}
    )
    assert run("apigateway_rest_methods_authenticated", custom).status is Status.PASS
    stage = ApiGatewayStage(id="s", name="api/prod", api_id="a", stage_name="prod", throttle=ThrottleLimits())
    assert run("apigateway_stage_throttled", stage).status is Status.UNKNOWN  # usage plans not known
    covered = stage.model_copy(update={"usage_plan_throttles": []})
    assert run("apigateway_stage_throttled", covered).status is Status.FAIL
    burst_only = stage.model_copy(update={"throttle": ThrottleLimits(burst_limit=100)})
    assert run("apigateway_stage_throttled", burst_only).status is Status.PASS
    http = ApiGatewayV2Stage(
        id="v", name="h/live", api_id="h", stage_name="live", protocol_type="HTTP", access_log_destination=""
    )
    assert run("apigateway_v2_stage_logging_enabled", http).status is Status.FAIL
    assert (
        run(
            "apigateway_v2_stage_logging_enabled",
            http.model_copy(update={"access_log_destination": "arn:logs"}),
        ).status
        is Status.PASS
    )


def test_cloudfront_edge_cases() -> None:
    dist = CloudFrontDistribution(id="arn:cf", name="E1")
    for check in ("cloudfront_viewer_https_only", "cloudfront_origin_https_only", "cloudfront_waf_enabled"):
        assert run(check, dist).status is Status.UNKNOWN
    website = dist.model_copy(
        update={
            "origins": [
                Origin(origin_id="w", domain_name="b.s3-website.eu-west-1.amazonaws.com", kind="custom")
            ]
        }
    )
    assert run("cloudfront_origin_https_only", website).status is Status.FAIL  # no protocol policy declared
    assert run("cloudfront_s3_origin_access_control", website).status is Status.NOT_APPLICABLE
    geo = dist.model_copy(
        update={"geo_restriction": GeoRestriction(restriction_type="whitelist", locations=["DE"])}
    )
    blocked = Settings.model_validate({"cloudfront": {"blocked_countries": ["RU"]}})
    assert run("cloudfront_geo_restriction_policy", geo, settings=blocked).status is Status.PASS


def test_rest_policy_as_api_gateway_returns_it() -> None:
    """GetRestApis returns the policy JSON-escaped; the collector undoes that."""
    from controlmap.sources.aws.services.apigateway import rest_policy

    raw = (
        '{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[{\\"Effect\\":\\"Allow\\",'
        '\\"Principal\\":\\"*\\",\\"Action\\":\\"execute-api:Invoke\\",'
        '\\"Resource\\":\\"arn:aws:execute-api:us-east-1:111122223333:abc\\/*\\"}]}'
    )
    document = rest_policy(raw)
    assert document.statements[0].resources == ("arn:aws:execute-api:us-east-1:111122223333:abc/*",)
    assert rest_policy(None).is_empty and rest_policy("").is_empty


def test_usage_plan_throttles_only_methods_with_an_api_key() -> None:
    """A usage plan limits the requests presenting its API keys; keyless methods stay unthrottled."""
    stage = ApiGatewayStage(
        id="s",
        name="api/v1",
        api_id="a",
        stage_name="v1",
        throttle=ThrottleLimits(),
        usage_plan_throttles=["p"],
    )

    def api(*methods: ApiMethod) -> ApiGatewayRestApi:
        return ApiGatewayRestApi(id="arn:api", name="api", api_id="a", methods=list(methods))

    keyed = ApiMethod(path="/q", http_method="GET", authorization_type="AWS_IAM", api_key_required=True)
    preflight = ApiMethod(path="/q", http_method="OPTIONS")
    keyless = ApiMethod(path="/r", http_method="POST", authorization_type="AWS_IAM")
    assert run("apigateway_stage_throttled", stage, api(keyed, preflight)).status is Status.PASS
    failing = run("apigateway_stage_throttled", stage, api(keyed, keyless))
    assert failing.status is Status.FAIL and "POST /r" in failing.reason and "API key" in failing.reason
    assert failing.evidence["methods_without_api_key"] == ["POST /r"]
    # A stage limit below the account default throttles every method, keys or not.
    limited = stage.model_copy(update={"throttle": ThrottleLimits(rate_limit=50.0, burst_limit=20)})
    assert run("apigateway_stage_throttled", limited, api(keyless)).status is Status.PASS
    # The API (its methods) is needed to credit the plan: unknown without it.
    assert run("apigateway_stage_throttled", stage).status is Status.UNKNOWN
    assert run(
        "apigateway_stage_throttled", stage, ApiGatewayRestApi(id="x", name="x", api_id="a")
    ).status is (Status.UNKNOWN)


def test_private_api_policy_denying_all_but_a_vpc_endpoint_is_not_public() -> None:
    allow = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*",
    }
    unless = {**allow, "Effect": "Deny", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}
    unrelated = {
        **allow,
        "Effect": "Deny",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
    }

    def api(*statements: dict[str, object]) -> ApiGatewayRestApi:
        return ApiGatewayRestApi(
            id="arn:api", name="api", api_id="a", endpoint_types=["PRIVATE"], resource_policy=doc(*statements)
        )

    assert run("apigateway_rest_policy_no_public_invoke", api(allow, unless)).status is Status.PASS
    assert run("apigateway_rest_policy_no_public_invoke", api(allow, unrelated)).status is Status.FAIL
    assert run("apigateway_rest_policy_no_public_invoke", api(allow)).status is Status.FAIL
    table_allow = {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": TABLE}
    table_unless = {
        **table_allow,
        "Effect": "Deny",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}},
    }
    narrowed = table(resource_policy=doc(table_allow, table_unless))
    assert run("dynamodb_table_policy_no_public_access", narrowed).status is Status.PASS
    assert run("dynamodb_table_policy_no_public_access", table(resource_policy=doc(table_allow))).status is (
        Status.FAIL
    )


@pytest.mark.parametrize(
    ("policy", "status", "recommend"),
    [
        ("TLSv1.2_2019", Status.PASS, True),
        ("TLSv1.2_2021", Status.PASS, False),
        ("TLSv1.3_2025", Status.PASS, False),
        ("TLSv1.2_2027", Status.PASS, False),  # a policy AWS adds later is judged by its name
        ("TLSv1.1_2016", Status.FAIL, False),
        ("TLSv1_2016", Status.FAIL, False),
        ("SSLv3", Status.FAIL, False),
    ],
)
def test_viewer_security_policies(policy: str, status: Status, recommend: bool) -> None:
    dist = CloudFrontDistribution(
        id="arn:cf", name="E1", default_certificate=False, minimum_protocol_version=policy
    )
    outcome = run("cloudfront_viewer_tls_minimum", dist)
    assert outcome.status is status
    assert ("recommended" in outcome.reason) is recommend


def test_bad_lambda_and_api_gateway_settings_name_file_and_line(tmp_path: Any) -> None:
    """Values that would make a check fail everything (or nothing) are refused where they stand."""
    from controlmap.settings import load_settings
    from controlmap.yamlfile import FileError

    path = tmp_path / "controlmap.yaml"
    path.write_text(
        "apigateway:\n  max_rate_limit: -5\n  max_burst_limit: -1\n  execution_logging_levels: [DEBUG]\n"
        "lambda:\n  secret_entropy_threshold: 0\n  secret_entropy_min_length: -3\n"
    )
    with pytest.raises(FileError) as caught:
        load_settings(path)
    lines = {(p.line, p.message.split(":")[0]) for p in caught.value.problems}
    assert lines == {
        (2, "apigateway.max_rate_limit"),
        (3, "apigateway.max_burst_limit"),
        (4, "apigateway.execution_logging_levels"),
        (6, "lambda.secret_entropy_threshold"),
        (7, "lambda.secret_entropy_min_length"),
    }
    assert "DEBUG" in " ".join(p.message for p in caught.value.problems)
    fine = tmp_path / "fine.yaml"
    fine.write_text("apigateway:\n  execution_logging_levels: [error]\n")
    assert load_settings(fine).section("apigateway", ApiGatewaySettings).execution_logging_levels == ["ERROR"]
