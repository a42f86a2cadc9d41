"""Lambda, DynamoDB/DAX, API Gateway and CloudFront from CloudFormation, SAM and Terraform."""

from __future__ import annotations

import json
from collections.abc import Callable

from controlmap.checks.registry import Status
from controlmap.sources.iac.scan import IacScan

from .conftest import finding

Scan = Callable[..., IacScan]


def test_lambda_from_cloudformation(scan: Scan) -> None:
    result = scan("cloudformation/serverless.yaml")
    orders, legacy = "OrdersFunction", "LegacyFunction"
    assert finding(result.findings, orders, "lambda_function_role_least_privilege").status is Status.PASS
    assert finding(result.findings, orders, "lambda_function_code_signing_enforced").status is Status.PASS
    assert finding(result.findings, orders, "lambda_function_failure_destination").status is Status.PASS
    secrets = finding(result.findings, orders, "lambda_function_env_no_plaintext_secrets")
    assert secrets.status is Status.FAIL
    assert "DB_PASSWORD" in secrets.reason and "STRIPE_KEY" in secrets.reason
    assert "DB_PASSWORD_REF" not in secrets.reason  # a !Ref is a reference, not a secret
    public = finding(result.findings, legacy, "lambda_function_policy_not_public")
    assert public.status is Status.FAIL
    assert finding(result.findings, orders, "lambda_function_policy_not_public").status is Status.PASS
    assert finding(result.findings, legacy, "lambda_function_runtime_supported").status is Status.FAIL
    role = finding(result.findings, legacy, "lambda_function_role_least_privilege")
    assert role.status is Status.UNKNOWN  # a role ARN from outside the template


def test_secret_values_never_reach_findings(scan: Scan) -> None:
    result = scan("cloudformation/serverless.yaml", "terraform/serverless")
    dumped = json.dumps([f.to_json() for f in result.findings])
    for value in (
        "hunter2-but-longer",
        "sk_live_abcdefghijklmnop1234",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ):
        assert value not in dumped


def test_lambda_from_terraform_and_sam(scan: Scan) -> None:
    result = scan("terraform/serverless")
    fn = "aws_lambda_function.orders"
    assert finding(result.findings, fn, "lambda_function_in_vpc").status is Status.PASS
    assert finding(result.findings, fn, "lambda_function_failure_destination").status is Status.PASS
    assert "API_TOKEN" in finding(result.findings, fn, "lambda_function_env_no_plaintext_secrets").reason
    # The role is found through aws_iam_role.fn.arn; AmazonS3FullAccess's document is known.
    assert finding(result.findings, fn, "lambda_function_role_least_privilege").status is Status.FAIL
    sam = scan("cloudformation/sam.yaml")
    assert finding(sam.findings, "AdminFunction", "lambda_function_failure_destination").status is Status.PASS
    assert finding(sam.findings, "ReadFunction", "lambda_function_failure_destination").status is Status.FAIL


def test_dynamodb_key_owners_and_pitr(scan: Scan) -> None:
    result = scan("cloudformation/serverless.yaml", "terraform/serverless")
    assert finding(result.findings, "Orders", "dynamodb_table_encrypted_cmk").status is Status.PASS
    owned = finding(result.findings, "Sessions", "dynamodb_table_encrypted_cmk")
    assert owned.status is Status.FAIL and "AWS owned" in owned.reason
    managed = finding(result.findings, "aws_dynamodb_table.orders", "dynamodb_table_encrypted_cmk")
    assert managed.status is Status.FAIL and "alias/aws/dynamodb" in managed.reason
    assert finding(result.findings, "Orders", "dynamodb_table_pitr_enabled").status is Status.PASS
    assert finding(result.findings, "Sessions", "dynamodb_table_pitr_enabled").status is Status.FAIL
    assert finding(result.findings, "Cache", "dax_cluster_encrypted_in_transit").status is Status.PASS
    sam = scan("cloudformation/sam.yaml")
    assert finding(sam.findings, "Table", "dynamodb_table_pitr_enabled").status is Status.FAIL


def test_api_gateway_methods_stages_and_routes(scan: Scan) -> None:
    result = scan("cloudformation/serverless.yaml", "terraform/serverless")
    open_method = finding(result.findings, "Api", "apigateway_rest_methods_authenticated")
    assert open_method.status is Status.FAIL and "GET /" in open_method.reason
    assert finding(result.findings, "Api", "apigateway_rest_cognito_methods_scoped").status is Status.PASS
    # A Deployment's StageDescription configures the stage it creates.
    assert finding(result.findings, "Deployment", "apigateway_stage_throttled").status is Status.PASS
    assert finding(result.findings, "Deployment", "apigateway_stage_logging_enabled").status is Status.PASS
    assert finding(result.findings, "Deployment", "apigateway_stage_waf_enabled").status is Status.FAIL
    tf_stage = "aws_api_gateway_stage.prod"
    assert finding(result.findings, tf_stage, "apigateway_stage_waf_enabled").status is Status.PASS
    assert finding(result.findings, tf_stage, "apigateway_stage_throttled").status is Status.PASS
    assert (
        finding(
            result.findings, "aws_api_gateway_rest_api.orders", "apigateway_rest_methods_authenticated"
        ).status
        is Status.PASS
    )
    route = finding(result.findings, "aws_apigatewayv2_api.public", "apigateway_v2_routes_authenticated")
    assert route.status is Status.FAIL and "GET /status" in route.reason


def test_sam_events_become_methods(scan: Scan) -> None:
    result = scan("cloudformation/sam.yaml")
    implicit = finding(result.findings, "ServerlessRestApi", "apigateway_rest_methods_authenticated")
    assert implicit.status is Status.FAIL and "GET /items/{id}" in implicit.reason


def test_cloudfront(scan: Scan) -> None:
    result = scan("cloudformation/serverless.yaml", "terraform/serverless")
    cdn = "Cdn"
    assert "Default (*)" in finding(result.findings, cdn, "cloudfront_viewer_https_only").reason
    assert finding(result.findings, cdn, "cloudfront_origin_https_only").status is Status.FAIL
    assert finding(result.findings, cdn, "cloudfront_viewer_tls_minimum").status is Status.FAIL
    assert finding(result.findings, cdn, "cloudfront_waf_enabled").status is Status.FAIL
    assert finding(result.findings, cdn, "cloudfront_s3_origin_access_control").status is Status.PASS
    site = "aws_cloudfront_distribution.site"
    for check in ("cloudfront_viewer_https_only", "cloudfront_viewer_tls_minimum", "cloudfront_waf_enabled"):
        assert finding(result.findings, site, check).status is Status.PASS, check
