"""Every control a template can express has a passing and a failing case among the fixtures,
and the controls that depend on deploy-time values have an unknown case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest

from controlmap.checks.registry import Status
from controlmap.sources.iac.scan import IacScan

Scan = Callable[..., IacScan]

# Checks whose facts a CloudFormation template or Terraform configuration declares.
EXPRESSIBLE = [
    "s3_bucket_public_access_blocked",
    "s3_account_public_access_blocked",
    "s3_bucket_policy_not_public",
    "s3_bucket_acl_not_public",
    "s3_bucket_acls_disabled",
    "s3_bucket_default_encryption_kms",
    "s3_bucket_tls_required",
    "s3_bucket_versioning_enabled",
    "s3_bucket_mfa_delete_enabled",
    "s3_bucket_access_logging_enabled",
    "s3_bucket_object_lock_enabled",
    "ec2_security_group_no_world_admin_ingress",
    "ec2_network_acl_no_world_admin_ingress",
    "ec2_vpc_flow_logs_enabled",
    "ec2_region_ebs_encryption_by_default",
    "ec2_volume_encrypted",
    "ec2_instance_imdsv2_required",
    "ec2_launch_template_imdsv2_required",
    "rds_instance_storage_encrypted",
    "rds_cluster_storage_encrypted",
    "rds_instance_tls_enforced",
    "rds_cluster_tls_enforced",
    "rds_instance_not_publicly_accessible",
    "rds_instance_security_groups_restricted",
    "rds_instance_backup_retention",
    "rds_instance_log_exports",
    "rds_instance_iam_auth_enabled",
    "iam_user_no_admin_access",
    "iam_role_no_admin_access",
    "iam_policy_no_admin_statements",
    "iam_policy_no_service_wildcards",
    "iam_user_no_active_access_keys",
    "iam_password_policy_strong",
    "cloudtrail_trail_log_file_validation",
    "cloudtrail_trail_logs_encrypted",
    "cloudtrail_trail_bucket_access_logging",
    "cloudtrail_trail_cloudwatch_logs",
    "cloudtrail_trail_logging",
    "cloudtrail_trail_multi_region",
    "cloudtrail_trail_data_events",
    "kms_key_rotation_enabled",
    "kms_key_policy_no_public_access",
    "kms_key_deletion_window",
    "kms_imported_key_material_expiry",
    "lambda_function_role_least_privilege",
    "lambda_function_policy_not_public",
    "lambda_function_in_vpc",
    "lambda_function_env_encrypted_cmk",
    "lambda_function_env_no_plaintext_secrets",
    "lambda_function_code_signing_enforced",
    "lambda_function_failure_destination",
    "lambda_function_runtime_supported",
    "cloudfront_viewer_https_only",
    "cloudfront_origin_tls_protocols",
    "cloudfront_viewer_tls_minimum",
    "cloudfront_waf_enabled",
    "cloudfront_s3_origin_access_control",
    "apigateway_rest_methods_authenticated",
    "apigateway_v2_routes_authenticated",
    "apigateway_rest_policy_no_public_invoke",
    "apigateway_stage_throttled",
    "apigateway_stage_waf_enabled",
    "apigateway_stage_logging_enabled",
    "dynamodb_table_encrypted_cmk",
    "dynamodb_table_policy_denies_insecure_transport",
    "dynamodb_table_policy_no_public_access",
    "dynamodb_table_pitr_enabled",
    "dax_cluster_encrypted_at_rest",
]

# Checks whose facts can depend on values only known at deploy time (or in the account).
CAN_BE_UNKNOWN = [
    "s3_bucket_public_access_blocked",
    "s3_bucket_default_encryption_kms",
    "s3_bucket_versioning_enabled",
    "s3_bucket_mfa_delete_enabled",
    "s3_bucket_object_lock_enabled",
    "ec2_security_group_no_world_admin_ingress",
    "ec2_volume_encrypted",
    "ec2_launch_template_ebs_encrypted",
    "ec2_instance_ami_approved",
    "ec2_instance_ssm_managed",
    "iam_user_console_mfa_enabled",
    "iam_user_access_keys_rotated",
    "cloudtrail_trail_bucket_not_public",
    "rds_instance_security_groups_restricted",
    "lambda_function_role_least_privilege",
]


@pytest.fixture(scope="module")
def statuses(catalog) -> dict[str, set[Status]]:  # type: ignore[no-untyped-def]
    from controlmap.settings import Settings
    from controlmap.sources.iac.scan import IacOptions, scan_iac

    from .conftest import FIXTURES

    paths = [FIXTURES / "cloudformation", FIXTURES / "terraform", FIXTURES / "plan"]
    result = scan_iac(paths, catalog, Settings(), options=IacOptions(workers=1))
    found: dict[str, set[Status]] = defaultdict(set)
    for item in result.findings:
        found[item.check_id or ""].add(item.status)
    return found


@pytest.mark.parametrize("check", EXPRESSIBLE)
def test_pass_and_fail_cases_exist(statuses: dict[str, set[Status]], check: str) -> None:
    assert {Status.PASS, Status.FAIL} <= statuses[check], (
        f"{check}: {sorted(s.value for s in statuses[check])}"
    )


@pytest.mark.parametrize("check", CAN_BE_UNKNOWN)
def test_unknown_cases_exist(statuses: dict[str, set[Status]], check: str) -> None:
    assert Status.UNKNOWN in statuses[check], f"{check}: {sorted(s.value for s in statuses[check])}"


def test_every_expressible_check_is_in_the_catalog(catalog) -> None:  # type: ignore[no-untyped-def]
    wired = {check for control in catalog.ordered() for check in control.checks}
    assert set(EXPRESSIBLE) <= wired
