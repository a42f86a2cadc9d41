"""Lambda functions and DynamoDB tables from configuration items, through the shared checks."""

from __future__ import annotations

import json

import config_samples as samples
from config_helpers import build, statuses

from controlmap.catalog.catalog import load_catalog
from controlmap.resources.dynamodb import DynamoDbTable
from controlmap.resources.lambda_ import LambdaFunction
from controlmap.settings import Settings
from controlmap.sources.config.items import parse_items
from controlmap.sources.config.scan import ConfigData, run_config_scan


def test_lambda_functions() -> None:
    inventory = build(
        [
            samples.lambda_function("orders-api", public=True),
            samples.lambda_function("orders-worker", secret=True),
            samples.lambda_function("orders-legacy", runtime="python3.7"),
        ]
    ).inventory
    assert statuses(inventory, "lambda_function_policy_not_public") == {
        "orders-api": "FAIL",
        "orders-worker": "PASS",
        "orders-legacy": "PASS",
    }
    assert statuses(inventory, "lambda_function_env_no_plaintext_secrets") == {
        "orders-api": "PASS",
        "orders-worker": "FAIL",
        "orders-legacy": "PASS",
    }
    assert statuses(inventory, "lambda_function_runtime_supported")["orders-legacy"] == "FAIL"
    assert statuses(inventory, "lambda_function_in_vpc")["orders-api"] == "PASS"
    assert set(statuses(inventory, "lambda_function_code_signing_enforced").values()) == {"UNKNOWN"}
    worker = next(f for f in inventory.of_type(LambdaFunction) if f.name == "orders-worker")
    assert worker.environment is not None and worker.environment.variable_names == [
        "LOG_LEVEL",
        "TABLE_NAME",
        "UPSTREAM_KEY_ID",
    ]
    assert "AWS Config does not record Lambda code signing" in worker.unknown["code_signing"]


def test_lambda_environment_values_never_leave_the_mapper() -> None:
    raw = [samples.lambda_function("orders-worker", secret=True)]
    items, _ = parse_items(raw, "snapshot.json")
    catalog = load_catalog()
    result, _built = run_config_scan(
        ConfigData(items=items), catalog, Settings(), catalog.filter(services=["lambda"])
    )
    assert samples.FAKE_ACCESS_KEY not in json.dumps(result.to_json())
    assert "environment" not in items[0].configuration  # dropped from the item once classified


def test_lambda_item_without_supplementary_policy_entry() -> None:
    inventory = build([samples.lambda_function("orders-api", public=False)]).inventory
    [function] = inventory.of_type(LambdaFunction)
    assert function.resource_policy is not None and function.resource_policy.is_empty


def test_dynamodb_tables_with_key_owners_joined() -> None:
    aws_key = "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
    inventory = build(
        [
            samples.kms_key("1f8e3c2a-5b7d-4e9f-a0c1-2d3e4f5a6b7c"),
            samples.kms_key(aws_key, manager="AWS", rotation=None),
            samples.dynamodb_table("orders", key_arn=samples.KEY_ARN, pitr=True),
            samples.dynamodb_table("sessions", key_arn=None, pitr=False),
            samples.dynamodb_table(
                "audit", key_arn=f"arn:aws:kms:{samples.REGION}:{samples.ACCOUNT}:key/{aws_key}", pitr=True
            ),
            samples.dynamodb_table(
                "imports", key_arn=f"arn:aws:kms:{samples.REGION}:444455556666:key/abc", pitr=True
            ),
        ]
    ).inventory
    assert statuses(inventory, "dynamodb_table_encrypted_cmk") == {
        "orders": "PASS",
        "sessions": "FAIL",
        "audit": "FAIL",
        "imports": "UNKNOWN",
    }
    assert statuses(inventory, "dynamodb_table_pitr_enabled") == {
        "orders": "PASS",
        "sessions": "FAIL",
        "audit": "PASS",
        "imports": "PASS",
    }
    imports = next(t for t in inventory.of_type(DynamoDbTable) if t.name == "imports")
    assert "AWS::KMS::Key" in imports.unknown["encryption.owner"]
    assert set(statuses(inventory, "dynamodb_table_policy_no_public_access").values()) == {"UNKNOWN"}


def test_cloudfront_distributions() -> None:
    from controlmap.resources.cloudfront import CloudFrontDistribution

    inventory = build(
        [
            samples.cloudfront_distribution("E2QWRUHAPOMQZL", https=True, oac="E3OACEXAMPLE12", waf=True),
            samples.cloudfront_distribution("E1LEGACYEXMPL1", https=False, oac="", waf=False),
            samples.cloudfront_distribution("E9UNRECORDED01", https=True, oac=None, waf=True),
        ]
    ).inventory
    good, legacy, unrecorded = (
        "e2qwruhapomqzl.example.com",
        "e1legacyexmpl1.example.com",
        "e9unrecorded01.example.com",
    )
    assert statuses(inventory, "cloudfront_viewer_https_only") == {
        good: "PASS",
        legacy: "FAIL",
        unrecorded: "PASS",
    }
    assert statuses(inventory, "cloudfront_waf_enabled") == {good: "PASS", legacy: "FAIL", unrecorded: "PASS"}
    assert statuses(inventory, "cloudfront_s3_origin_access_control") == {
        good: "PASS",
        legacy: "FAIL",
        unrecorded: "UNKNOWN",
    }
    by_id = {d.id.rsplit("/", 1)[-1]: d for d in inventory.of_type(CloudFrontDistribution)}
    first, second, third = by_id["E2QWRUHAPOMQZL"], by_id["E1LEGACYEXMPL1"], by_id["E9UNRECORDED01"]
    assert first.region is None and first.minimum_protocol_version == "TLSv1.2_2021"
    assert not first.default_certificate
    assert first.origins and first.origins[0].origin_access_control_id == "E3OACEXAMPLE12"
    assert second.cache_behaviors and second.cache_behaviors[0].viewer_protocol_policy == "allow-all"
    assert second.web_acl_id == "" and second.origins and second.origins[0].origin_access_control_id is None
    assert third.origins is None and "origin access control" in third.unknown["origins"]


def test_api_gateway() -> None:
    from controlmap.resources.apigateway import ApiGatewayRestApi, ApiGatewayV2Stage

    public_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
            }
        ],
    }
    inventory = build(
        [
            samples.rest_api("a1b2c3d4e5", "orders", public_policy),
            samples.rest_api("f6g7h8i9j0", "internal", None),
            samples.rest_stage("a1b2c3d4e5", "prod", throttled=True, waf=True, logging=True),
            samples.rest_stage("f6g7h8i9j0", "dev", throttled=False, waf=False, logging=False),
            samples.http_api("k1l2m3n4o5", "webhooks"),
            samples.http_stage("k1l2m3n4o5", "$default", throttled=False),
        ]
    ).inventory
    assert statuses(inventory, "apigateway_rest_policy_no_public_invoke") == {
        "orders": "FAIL",
        "internal": "PASS",
    }
    # No stage-wide throttle: a usage plan could still throttle it, and Config does not record usage plans.
    assert statuses(inventory, "apigateway_stage_throttled") == {
        "orders/prod": "PASS",
        "internal/dev": "UNKNOWN",
    }
    assert statuses(inventory, "apigateway_stage_waf_enabled") == {
        "orders/prod": "PASS",
        "internal/dev": "FAIL",
    }
    assert statuses(inventory, "apigateway_stage_logging_enabled") == {
        "orders/prod": "PASS",
        "internal/dev": "FAIL",
    }
    assert statuses(inventory, "apigateway_v2_stage_throttled") == {"webhooks/$default": "FAIL"}
    assert set(statuses(inventory, "apigateway_rest_methods_authenticated").values()) == {"UNKNOWN"}
    orders = next(a for a in inventory.of_type(ApiGatewayRestApi) if a.name == "orders")
    assert "API Gateway methods" in orders.unknown["methods"] and "APIGW-01" in orders.unknown["methods"]
    [stage] = inventory.of_type(ApiGatewayV2Stage)
    assert stage.protocol_type == "HTTP" and stage.api_id == "k1l2m3n4o5"
