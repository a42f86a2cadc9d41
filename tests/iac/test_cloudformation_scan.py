"""CloudFormation and SAM templates through the whole pipeline: models, checks, findings with lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from controlmap.checks.registry import Status
from controlmap.resources.base import SourceKind
from controlmap.sources.iac.scan import IacScan

from .conftest import finding

Scan = Callable[..., IacScan]


def test_secure_bucket_passes_with_file_and_lines(scan: Scan) -> None:
    result = scan("cloudformation/s3_secure.yaml")
    assert result.problems == []
    for check in (
        "s3_bucket_public_access_blocked",
        "s3_bucket_policy_not_public",
        "s3_bucket_acls_disabled",
        "s3_bucket_default_encryption_kms",
        "s3_bucket_tls_required",
        "s3_bucket_versioning_enabled",
        "s3_bucket_access_logging_enabled",
        "s3_bucket_object_lock_enabled",
    ):
        assert finding(result.findings, "DataBucket", check).status is Status.PASS, check
    data = finding(result.findings, "DataBucket", "s3_bucket_tls_required")
    assert data.source is not None and data.source.kind is SourceKind.CLOUDFORMATION
    assert (data.source.file, data.source.line_start, data.source.line_end) == (
        "cloudformation/s3_secure.yaml",
        34,
        63,
    )
    assert data.resource_id == "arn:aws:s3:::acme-data"


def test_mfa_delete_is_unknown_not_failed(scan: Scan) -> None:
    result = scan("cloudformation/s3_secure.yaml")
    mfa = finding(result.findings, "DataBucket", "s3_bucket_mfa_delete_enabled")
    assert mfa.status is Status.UNKNOWN
    assert "root user" in mfa.reason


def test_insecure_json_template_fails_each_control(scan: Scan) -> None:
    result = scan("cloudformation/s3_insecure.json")
    web = "WebsiteBucket"
    # The bucket turns its own block off: S3-01 asks for it at the bucket level whatever the
    # account-level block (which the template does not show) does, so it fails, naming both.
    pab = finding(result.findings, web, "s3_bucket_public_access_blocked")
    assert pab.status is Status.FAIL and "does not show the account-level block" in pab.reason
    assert "PublicRead" in finding(result.findings, web, "s3_bucket_policy_not_public").reason
    assert "AllUsers" in finding(result.findings, web, "s3_bucket_acl_not_public").reason
    assert finding(result.findings, web, "s3_bucket_acls_disabled").status is Status.FAIL
    # S3 encrypts new objects with SSE-S3 by default; that is not SSE-KMS.
    sse = finding(result.findings, web, "s3_bucket_default_encryption_kms")
    assert sse.status is Status.FAIL and "SSE-S3" in sse.reason
    assert finding(result.findings, web, "s3_bucket_versioning_enabled").status is Status.FAIL
    source = finding(result.findings, web, "s3_bucket_acls_disabled").source
    assert source is not None and source.line_start == 5


def test_access_log_target_bucket(scan: Scan) -> None:
    secure = scan("cloudformation/s3_secure.yaml")
    logged = finding(secure.findings, "DataBucket", "s3_bucket_access_logging_enabled")
    assert "acme-access-logs" in logged.reason
    # The log bucket itself is exempt through a reasoned skip: SUPPRESSED, never hidden.
    target = finding(secure.findings, "LogBucket", "s3_bucket_access_logging_enabled")
    assert target.status is Status.SUPPRESSED
    assert target.exception is not None and "access-log target" in target.exception["reason"]
    insecure = scan("cloudformation/s3_insecure.json")
    self_logging = finding(insecure.findings, "SelfLoggingBucket", "s3_bucket_access_logging_enabled")
    assert self_logging.status is Status.FAIL and "itself" in self_logging.reason


def test_deny_only_statements_grant_nothing(scan: Scan) -> None:
    secure = scan("cloudformation/s3_secure.yaml")
    assert finding(secure.findings, "DataBucket", "s3_bucket_policy_not_public").status is Status.PASS
    iam = scan("cloudformation/iam.yaml")
    assert (
        finding(iam.findings, "DenyEverythingPolicy", "iam_policy_no_admin_statements").status is Status.PASS
    )
    assert finding(iam.findings, "GuardRole", "iam_role_no_admin_access").status is Status.PASS


def test_condition_branches_fail_only_the_reachable_failing_branch(scan: Scan) -> None:
    result = scan("cloudformation/conditions.yaml")
    sse = finding(result.findings, "ReportsBucket", "s3_bucket_default_encryption_kms")
    assert sse.status is Status.FAIL
    assert "condition IsProd is false" in sse.reason and "Environment='dev'" in sse.reason
    trail = finding(result.findings, "Trail", "cloudtrail_trail_log_file_validation")
    assert trail.status is Status.FAIL and "condition IsProd is false" in trail.reason
    # Given the parameter, only one branch is reachable: prod encrypts with KMS.
    prod = scan("cloudformation/conditions.yaml", parameters={"Environment": "prod"})
    assert finding(prod.findings, "ReportsBucket", "s3_bucket_default_encryption_kms").status is Status.PASS
    assert finding(prod.findings, "ReportsBucket", "s3_bucket_versioning_enabled").status is Status.PASS


def test_resource_condition_is_named(scan: Scan) -> None:
    result = scan("cloudformation/conditions.yaml")
    audit = finding(result.findings, "AuditBucket", "s3_bucket_default_encryption_kms")
    assert audit.status is Status.FAIL and "condition CreateAudit is true" in audit.reason
    dev = scan("cloudformation/conditions.yaml", parameters={"Environment": "dev"})
    assert not [f for f in dev.findings if f.resource_name == "AuditBucket"]


def test_unresolved_values_give_unknown_naming_the_dependency(scan: Scan) -> None:
    result = scan("cloudformation/conditions.yaml")
    imported = finding(result.findings, "UnknownEncryptionBucket", "s3_bucket_default_encryption_kms")
    assert imported.status is Status.UNKNOWN
    assert "Fn::ImportValue shared-sse-algorithm" in imported.reason
    # A key given by a parameter is still SSE-KMS: the algorithm is known.
    external = finding(result.findings, "ExternalKeyBucket", "s3_bucket_default_encryption_kms")
    assert external.status is Status.PASS and "KeyArn" in external.reason


def test_sam_function_expands_to_function_and_role(scan: Scan) -> None:
    result = scan("cloudformation/sam.yaml")
    admin = finding(result.findings, "AdminFunctionRole", "iam_role_no_admin_access")
    assert admin.status is Status.FAIL
    read = finding(result.findings, "ReadFunctionRole", "iam_role_no_admin_access")
    assert read.status is Status.PASS  # the basic execution role's document is known
    assert admin.source is not None and admin.source.line_start == 27  # the SAM function's lines


def test_iam_principals_and_attachments(scan: Scan) -> None:
    result = scan("cloudformation/iam.yaml")
    assert finding(result.findings, "AdminRole", "iam_role_no_admin_access").status is Status.FAIL
    user_admin = finding(result.findings, "Deployer", "iam_user_no_admin_access")
    assert user_admin.status is Status.FAIL and "via group Operators" in user_admin.reason
    assert (
        finding(result.findings, "S3WildcardPolicy", "iam_policy_no_service_wildcards").status is Status.FAIL
    )
    assert finding(result.findings, "ReadOnlyPolicy", "iam_policy_no_service_wildcards").status is Status.PASS
    keys = finding(result.findings, "Deployer", "iam_user_no_active_access_keys")
    assert keys.status is Status.FAIL
    mfa = finding(result.findings, "Deployer", "iam_user_console_mfa_enabled")
    assert mfa.status is Status.UNKNOWN


def test_kms_rotation_symmetric_asymmetric_hmac(scan: Scan) -> None:
    result = scan("cloudformation/kms.yaml")
    assert finding(result.findings, "RotatedKey", "kms_key_rotation_enabled").status is Status.PASS
    assert finding(result.findings, "UnrotatedKey", "kms_key_rotation_enabled").status is Status.FAIL
    assert finding(result.findings, "SigningKey", "kms_key_rotation_enabled").status is Status.NOT_APPLICABLE
    assert finding(result.findings, "MacKey", "kms_key_rotation_enabled").status is Status.NOT_APPLICABLE
    assert finding(result.findings, "OpenKey", "kms_key_policy_no_public_access").status is Status.FAIL
    assert finding(result.findings, "UnrotatedKey", "kms_key_deletion_window").status is Status.FAIL


def test_cloudtrail_links_bucket_and_key(scan: Scan) -> None:
    result = scan("cloudformation/cloudtrail.yaml")
    assert finding(result.findings, "GoodTrail", "cloudtrail_trail_log_file_validation").status is Status.PASS
    assert finding(result.findings, "GoodTrail", "cloudtrail_trail_logs_encrypted").status is Status.PASS
    access = finding(result.findings, "GoodTrail", "cloudtrail_trail_bucket_access_logging")
    assert access.status is Status.PASS and "acme-trail" in access.reason
    assert finding(result.findings, "GoodTrail", "cloudtrail_trail_cloudwatch_logs").status is Status.PASS
    weak = finding(result.findings, "WeakTrail", "cloudtrail_trail_bucket_not_public")
    assert weak.status is Status.UNKNOWN  # the bucket lives in another stack or account


def test_condition_on_a_companion_is_named(scan: Scan) -> None:
    result = scan("cloudformation/conditional_policy.yaml")
    tls = finding(result.findings, "Bucket", "s3_bucket_tls_required")
    assert tls.status is Status.FAIL
    assert tls.reason.startswith("when condition IsProd is false (Env='dev'):")
    prod = scan("cloudformation/conditional_policy.yaml", parameters={"Env": "prod"})
    assert finding(prod.findings, "Bucket", "s3_bucket_tls_required").status is Status.PASS


def test_a_control_failing_in_every_branch_names_no_condition(scan: Scan, tmp_path: Path) -> None:
    """A policy only when IsPublic is true: TLS is not required in either branch (in different
    words), so no condition is why, and none is named; a branch-dependent failure still is."""
    template = tmp_path / "site.yaml"
    template.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Parameters:\n  Public:\n    Type: String\n    AllowedValues: ['true', 'false']\n"
        "Conditions:\n  IsPublic: !Equals [!Ref Public, 'true']\n"
        "Resources:\n"
        "  Site:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      VersioningConfiguration:\n        Status: !If [IsPublic, Suspended, Enabled]\n"
        "  SitePolicy:\n    Type: AWS::S3::BucketPolicy\n    Condition: IsPublic\n    Properties:\n"
        "      Bucket: !Ref Site\n      PolicyDocument:\n        Statement:\n"
        "          - Effect: Allow\n            Principal: {AWS: arn:aws:iam::111122223333:root}\n"
        "            Action: s3:GetObject\n            Resource: !Sub '${Site.Arn}/*'\n"
    )
    result = scan(str(template))
    tls = finding(result.findings, "Site", "s3_bucket_tls_required")
    assert tls.status is Status.FAIL
    assert not tls.reason.startswith("when "), tls.reason
    versioning = finding(result.findings, "Site", "s3_bucket_versioning_enabled")
    assert versioning.reason.startswith("when condition IsPublic is true (Public='true'): ")


def test_cdk_construct_path_is_shown(scan: Scan, tmp_path: Path) -> None:
    template = tmp_path / "App.template.json"
    template.write_text(
        '{"Resources": {"DataBucketE3889A50": {"Type": "AWS::S3::Bucket",'
        ' "Metadata": {"aws:cdk:path": "App/Data/Resource"}}}}'
    )
    result = scan(str(template))
    names = {f.resource_name for f in result.findings}
    assert names == {"DataBucketE3889A50 (App/Data/Resource)"}


def test_any_other_value_branch_keeps_one_finding_per_resource(scan: Scan) -> None:
    result = scan("cloudformation/other_value.yaml")
    versioning = [f for f in result.findings if f.check_id == "s3_bucket_versioning_enabled"]
    assert len(versioning) == 1  # the bucket's name differs by branch; it is still one resource
    assert versioning[0].status is Status.FAIL
    assert "Env=another value" in versioning[0].reason
    assert "\x00" not in " ".join(f.resource_id + f.reason for f in result.findings)


def test_conditions_on_the_region_are_branched(scan: Scan) -> None:
    result = scan("cloudformation/region_condition.yaml")
    trail = finding(result.findings, "Trail", "cloudtrail_trail_log_file_validation")
    assert trail.status is Status.FAIL and "AWS::Region=another value" in trail.reason
    home = scan("cloudformation/region_condition.yaml", parameters={"AWS::Region": "eu-west-1"})
    assert finding(home.findings, "Trail", "cloudtrail_trail_log_file_validation").status is Status.PASS


def test_identical_branches_are_evaluated_once(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controlmap.sources.iac import scan as scan_module

    calls = []
    real = scan_module.evaluate
    monkeypatch.setattr(scan_module, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    template = tmp_path / "t.yaml"
    template.write_text(
        "Parameters:\n  Env: {Type: String, AllowedValues: [dev, prod]}\n"
        "Conditions:\n  IsProd: !Equals [!Ref Env, prod]\n"
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !If [IsProd, a, b]\n"
    )
    result = scan(str(template))
    assert len(calls) == 1
    assert finding(result.findings, "Bucket", "s3_bucket_versioning_enabled").reason.startswith(
        "versioning is"
    )


def test_reasons_name_other_resources_by_their_address(scan: Scan, tmp_path: Path) -> None:
    template = tmp_path / "db.yaml"
    template.write_text(
        "Resources:\n"
        "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: db\n"
        "      SecurityGroupIngress:\n"
        "        - {IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 0.0.0.0/0}\n"
        "  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: postgres\n"
        "      DBInstanceClass: db.t3.micro\n      VPCSecurityGroups: [!GetAtt Sg.GroupId]\n"
    )
    result = scan(str(template))
    port = [f for f in result.findings if f.resource_name == "Db" and f.control_id == "RDS-04"]
    assert port and all(f"{template}#" not in f.reason for f in port)
    assert any("Sg tcp/5432 from 0.0.0.0/0" in f.reason for f in port), [f.reason for f in port]
