"""The shipped catalog's data against what AWS and the standards really name things.

Resource type names are checked against AWS's own models on disk (botocore's AWS Config service
model, cfn-lint's CloudFormation provider schemas); correction lines against the framework titles.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import botocore
import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.catalog.correspondence import builtin_correspondence

CATALOG = load_catalog()


def _config_resource_types() -> set[str]:
    base = Path(os.path.dirname(botocore.__file__)) / "data" / "config"
    model_file = sorted(base.glob("*/service-2.json*"))[-1]
    opener = gzip.open if model_file.suffix == ".gz" else open
    with opener(model_file, "rt", encoding="utf-8") as handle:
        model = json.load(handle)
    return set(model["shapes"]["ResourceType"]["enum"])


def test_aws_config_names_are_aws_config_resource_types() -> None:
    recorded = _config_resource_types()
    # AWS::::Account is what AWS Config reports account-level evaluations against; it is not a
    # recorded type, so it is not in the ResourceType enum.
    wrong = {
        r.id: r.config
        for r in CATALOG.resource_types.values()
        if r.config and r.config not in recorded and r.config != "AWS::::Account"
    }
    assert not wrong


def test_cloudformation_names_are_cloudformation_types() -> None:
    cfnlint = pytest.importorskip("cfnlint")
    schemas = Path(os.path.dirname(cfnlint.__file__)) / "data" / "schemas" / "providers"
    known: set[str] = set()
    for region_file in schemas.glob("*.json"):
        known |= set(json.loads(region_file.read_text(encoding="utf-8")))
    assert "AWS::S3::Bucket" in known
    names = {
        name
        for r in CATALOG.resource_types.values()
        for name in [r.cloudformation or "", *r.cloudformation_also]
        if name and not name.startswith("AWS::Serverless::")  # SAM macros are not registry types
    }
    assert not sorted(names - known)
    # An id that is a real CloudFormation type must say so in `cloudformation`.
    unlabelled = [r.id for r in CATALOG.resource_types.values() if r.cloudformation is None and r.id in known]
    assert not unlabelled


def test_every_type_the_iac_scanner_reads_is_a_catalog_name() -> None:
    """`catalog list --resource-type X` must know every type `scan iac` evaluates."""
    from controlmap.sources.iac.cloudformation import build as cfn_build
    from controlmap.sources.iac.cloudformation import mappers as _cfn_mappers  # noqa: F401
    from controlmap.sources.iac.terraform import build as tf_build
    from controlmap.sources.iac.terraform import mappers as _tf_mappers  # noqa: F401

    sam = {"AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Serverless::HttpApi"}
    sam.add("AWS::Serverless::SimpleTable")  # the SAM types sam.expand_sam deploys
    read = {*cfn_build.PRIMARY, *cfn_build.COMPANION, *tf_build.PRIMARY, *tf_build.COMPANION, *sam}
    assert "aws_kms_external_key" in read and "AWS::EC2::SecurityGroupIngress" in read
    assert not sorted(t for t in read if CATALOG.resource_type(t) is None)


def test_companion_types_find_the_controls_of_what_they_configure() -> None:
    ids = {c.id for c in CATALOG.controls_for_type("AWS::EC2::SecurityGroupIngress")}
    assert {"EC2-01", "RDS-04"} <= ids
    assert "KMS-05" in {c.id for c in CATALOG.controls_for_type("aws_kms_external_key")}
    assert "LAMBDA-04" in {c.id for c in CATALOG.controls_for_type("AWS::Serverless::Function")}


def _iso_titles() -> dict[str, set[str]]:
    """Each ISO ID with the titles it may be cited under: its 2022 title, or its 2013 one."""
    titles: dict[str, set[str]] = {}
    for requirement in CATALOG.frameworks["iso27001:2022"].requirements:
        titles.setdefault(requirement.id, set()).add(requirement.title.lower())
    corr = builtin_correspondence()
    for clause in corr.clauses:
        titles.setdefault(clause.id, set()).add(clause.title.lower())
        for control in clause.controls:
            titles.setdefault(control.id, set()).add(control.title.lower())
    return titles


def test_correction_lines_give_iso_controls_their_real_titles() -> None:
    """'A.5.15 (Access control policy)' cites A.5.15 under the 2013 A.9.1.1 title: an auditor stops there."""
    titles = _iso_titles()
    wrong = []
    for control in CATALOG.ordered():
        for line in control.corrections:
            for ident, title in re.findall(r"\b(A\.\d+\.\d+(?:\.\d+)?) \(([^)]+)\)", line):
                if not title[:1].isupper():
                    continue  # "(2013: ...)", "(from A.9.2.3)", "(the 2013 ...)": prose, not a title
                if title.lower() not in titles.get(ident, set()):
                    wrong.append(f"{control.id}: {ident} ({title})")
    assert not wrong


# Checks that test exactly what a Security Hub CSPM control tests (titles from the CSPM control
# reference): a control running the check must name that Security Hub control among its equivalents.
_SAME_TEST_AS_SECURITY_HUB = {
    "ec2_instance_imdsv2_required": "EC2.8",  # EC2 instances should use IMDSv2
    "ec2_launch_template_imdsv2_required": "EC2.170",  # EC2 launch templates should use IMDSv2
    "ec2_snapshot_not_public": "EC2.1",  # Amazon EBS snapshots should not be publicly restorable
    "ec2_volume_encrypted": "EC2.3",  # Attached Amazon EBS volumes should be encrypted at-rest
    "ec2_region_ebs_encryption_by_default": "EC2.7",  # EBS default encryption should be enabled
    "ec2_vpc_flow_logs_enabled": "EC2.6",  # VPC flow logging should be enabled in all VPCs
    "ec2_security_group_default_restricts_all": "EC2.2",  # VPC default security groups ...
    "rds_snapshot_not_public": "RDS.1",  # RDS snapshot should be private
    "rds_instance_not_publicly_accessible": "RDS.2",  # RDS DB instances should prohibit public access
    "rds_instance_storage_encrypted": "RDS.3",  # RDS DB instances should have encryption at-rest
    "rds_instance_iam_auth_enabled": "RDS.10",  # IAM authentication should be configured for instances
    "s3_bucket_tls_required": "S3.5",  # S3 general purpose buckets should require requests to use SSL
    "s3_bucket_access_logging_enabled": "S3.9",  # ... should have server access logging enabled
    "kms_key_rotation_enabled": "KMS.4",  # AWS KMS key rotation should be enabled
    "kms_key_policy_no_public_access": "KMS.5",  # KMS keys should not be publicly accessible
    "iam_user_access_keys_rotated": "IAM.3",  # IAM users' access keys should be rotated every 90 days
    "iam_root_no_access_keys": "IAM.4",  # IAM root user access key should not exist
    "iam_access_analyzer_enabled": "IAM.28",  # IAM Access Analyzer external access analyzer enabled
    "cloudtrail_trail_log_file_validation": "CloudTrail.4",  # CloudTrail log file validation enabled
    "lambda_function_policy_not_public": "Lambda.1",  # Lambda function policies should prohibit public access
    "lambda_function_runtime_supported": "Lambda.2",  # Lambda functions should use supported runtimes
    "dynamodb_table_pitr_enabled": "DynamoDB.2",  # DynamoDB tables should have point-in-time recovery
    "dax_cluster_encrypted_at_rest": "DynamoDB.3",  # DAX clusters should be encrypted at rest
}


def test_controls_name_the_security_hub_controls_their_checks_match() -> None:
    from controlmap.checks.registry import registry

    assert set(_SAME_TEST_AS_SECURITY_HUB) <= set(registry())
    missing = [
        f"{control.id}: {check} = {_SAME_TEST_AS_SECURITY_HUB[check]}"
        for control in CATALOG.ordered()
        for check in control.checks
        if check in _SAME_TEST_AS_SECURITY_HUB
        and _SAME_TEST_AS_SECURITY_HUB[check] not in control.equivalents.security_hub
    ]
    assert not missing
