"""Configuration items through the very checks the live scan runs: pass, fail and unknown per type."""

from __future__ import annotations

import config_samples as samples
import pytest
from config_helpers import build, run_check, statuses

from controlmap.checks.registry import Inventory
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.base import SourceKind
from controlmap.resources.ec2 import Instance, SecurityGroup, Vpc
from controlmap.resources.iam import IamGroup, IamRole, IamUser
from controlmap.resources.kms import KmsKey
from controlmap.resources.rds import DBInstance
from controlmap.resources.s3 import S3Bucket


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build(samples.account_items()).inventory


def test_every_resource_is_marked_as_coming_from_aws_config(inventory: Inventory) -> None:
    kinds = {r.source.kind for r in inventory.all()}
    assert kinds == {SourceKind.AWS_CONFIG}
    assert all(r.source.file == "snapshot.json" for r in inventory.of_type(S3Bucket))


# ---- S3 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        # The account block is recorded with only BlockPublicAcls on: the public bucket's own settings count.
        ("s3_bucket_public_access_blocked", {"acme-prod-ledger": "PASS", "acme-marketing-site": "FAIL"}),
        ("s3_bucket_policy_not_public", {"acme-prod-ledger": "PASS", "acme-marketing-site": "FAIL"}),
        ("s3_bucket_acl_not_public", {"acme-prod-ledger": "PASS", "acme-marketing-site": "FAIL"}),
        ("s3_bucket_acls_disabled", {"acme-prod-ledger": "UNKNOWN", "acme-marketing-site": "UNKNOWN"}),
        ("s3_bucket_tls_required", {"acme-prod-ledger": "PASS", "acme-marketing-site": "FAIL"}),
        ("s3_bucket_versioning_enabled", {"acme-prod-ledger": "PASS", "acme-marketing-site": "FAIL"}),
        ("s3_bucket_access_logging_enabled", {"acme-prod-ledger": "PASS", "acme-marketing-site": "FAIL"}),
    ],
)
def test_s3_checks(inventory: Inventory, check_id: str, expected: dict[str, str]) -> None:
    assert statuses(inventory, check_id) == expected


def test_s3_facts_as_recorded(inventory: Inventory) -> None:
    buckets = {b.name: b for b in inventory.of_type(S3Bucket)}
    assert "acme-old-export" not in buckets  # its latest item says ResourceDeleted
    good, public = buckets["acme-prod-ledger"], buckets["acme-marketing-site"]
    assert good.encryption is not None and good.encryption.kms_key_id == samples.KEY_ARN
    assert good.mfa_delete is True and public.mfa_delete is False
    assert good.object_lock is not None and good.object_lock.default_mode == "COMPLIANCE"
    assert good.object_lock.default_days == 365
    assert public.object_lock is not None and not public.object_lock.enabled
    assert public.public_access_block is not None and public.public_access_block.disabled() == [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ]
    assert good.tags["retention"] == "required"
    assert (
        "Object Ownership" in public.unknown["object_ownership"]
        and "S3-02" in public.unknown["object_ownership"]
    )
    [account] = inventory.of_type(AwsAccount)
    assert account.s3_public_access_block is not None
    assert (
        account.s3_public_access_block.block_public_acls
        and not account.s3_public_access_block.block_public_policy
    )


def test_acl_grantees_and_permissions_are_translated(inventory: Inventory) -> None:
    public = next(b for b in inventory.of_type(S3Bucket) if b.name == "acme-marketing-site")
    grants = {(g.grantee_type, g.permission) for g in public.acl_grants or []}
    assert grants == {("CanonicalUser", "FULL_CONTROL"), ("Group", "READ")}


def test_account_block_absent_from_data_is_unknown_not_assumed_off() -> None:
    inventory = build([samples.bucket_compliant()]).inventory
    [account] = inventory.of_type(AwsAccount)
    assert account.s3_public_access_block is None
    assert "AWS::S3::AccountPublicAccessBlock" in account.unknown["s3_public_access_block"]


# ---- IAM ------------------------------------------------------------------------------------------


def test_iam_least_privilege(inventory: Inventory) -> None:
    assert statuses(inventory, "iam_user_no_admin_access") == {"alice": "FAIL", "bob": "PASS"}
    # AdministratorAccess is an AWS managed policy: its document is known by heart.
    assert statuses(inventory, "iam_group_no_admin_access") == {"admins": "FAIL", "readers": "PASS"}
    assert statuses(inventory, "iam_role_no_admin_access") == {
        "ledger-app": "PASS",
        "ci-deploy": "UNKNOWN",  # ReadOnlyAccess: AWS managed, not recorded by AWS Config
        "AWSServiceRoleForSupport": "NOT_APPLICABLE",
    }
    assert statuses(inventory, "iam_policy_no_admin_statements") == {
        "ledger-read": "PASS",
        "legacy-everything": "FAIL",
    }


def test_iam_documents_are_url_decoded_and_joined(inventory: Inventory) -> None:
    bob = next(u for u in inventory.of_type(IamUser) if u.name == "bob")
    [attached] = bob.attached_policies or []
    assert attached.document is not None and attached.document.statements[0].actions == (
        "s3:GetObject",
        "s3:ListBucket",
    )
    role = next(r for r in inventory.of_type(IamRole) if r.name == "ledger-app")
    assert role.trust_policy is not None and role.trust_policy.statements[0].principal is not None
    assert role.last_used is not None and role.last_used.year == 2026
    groups = {g.name: g.members for g in inventory.of_type(IamGroup)}
    assert groups == {"admins": ["alice"], "readers": ["bob"]}


def test_credential_report_facts_are_unknown_with_the_live_scan_named(inventory: Inventory) -> None:
    assert set(statuses(inventory, "iam_user_console_mfa_enabled").values()) == {"UNKNOWN"}
    [outcome] = run_check(inventory, "iam_user_access_keys_rotated")["alice"]
    assert "AWS Config does not record the IAM credential report" in outcome.reason
    assert "IAM-06" in outcome.reason and "controlmap scan aws" in outcome.reason
    [root] = run_check(inventory, "iam_root_mfa_enabled")["111122223333"]
    assert root.status.value == "UNKNOWN" and "IAM-01" in root.reason
    [policy] = run_check(inventory, "iam_password_policy_strong")["111122223333"]
    assert policy.status.value == "UNKNOWN" and "password policy" in policy.reason


# ---- CloudTrail, KMS -------------------------------------------------------------------------------


def test_cloudtrail(inventory: Inventory) -> None:
    assert statuses(inventory, "cloudtrail_trail_log_file_validation") == {
        "org-trail": "PASS",
        "dev-trail": "FAIL",
    }
    assert statuses(inventory, "cloudtrail_trail_logs_encrypted") == {
        "org-trail": "PASS",
        "dev-trail": "FAIL",
    }
    # Config does not record whether a trail is logging: never a FAIL on that guess.
    assert statuses(inventory, "cloudtrail_multi_region_trail") == {"111122223333": "UNKNOWN"}
    assert statuses(inventory, "cloudtrail_region_logged") == {"eu-west-1": "UNKNOWN"}
    assert statuses(inventory, "cloudtrail_s3_data_events") == {"111122223333": "UNKNOWN"}


def test_default_event_selectors_are_known_custom_ones_are_not(inventory: Inventory) -> None:
    from controlmap.resources.cloudtrail import CloudTrailTrail

    trails = {t.name: t for t in inventory.of_type(CloudTrailTrail)}
    org, dev = trails["org-trail"], trails["dev-trail"]
    assert org.event_selectors is not None and org.event_selectors[0].include_management_events
    assert org.advanced_event_selectors == [] and org.multi_region and org.kms_key_id == samples.KEY_ARN
    assert dev.event_selectors is None and "custom event selectors" in dev.unknown["event_selectors"]
    assert org.is_logging is None and "GetTrailStatus" in org.unknown["is_logging"]


def test_kms(inventory: Inventory) -> None:
    assert statuses(inventory, "kms_key_rotation_enabled") == {
        "1f8e3c2a-5b7d-4e9f-a0c1-2d3e4f5a6b7c": "PASS",
        "7c6b5a4f-3e2d-4c1b-9a0f-8e7d6c5b4a39": "FAIL",
        "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d": "NOT_APPLICABLE",
    }
    policy = statuses(inventory, "kms_key_policy_no_public_access")
    assert policy["1f8e3c2a-5b7d-4e9f-a0c1-2d3e4f5a6b7c"] == "UNKNOWN"


def test_kms_rotation_missing_and_pending_deletion_dates() -> None:
    inventory = build(
        [
            samples.kms_key("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", rotation=None),
            samples.kms_key("9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b", state="PendingDeletion", rotation=False),
        ]
    ).inventory
    keys = {k.name: k for k in inventory.of_type(KmsKey)}
    missing = keys["5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"]
    assert missing.rotation_enabled is None and "KeyRotationStatus" in missing.unknown["rotation_enabled"]
    pending = keys["9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b"]
    assert pending.deletion_date is not None and pending.deletion_date.year == 2026
    assert (
        statuses(inventory, "kms_key_rotation_enabled")["5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"] == "UNKNOWN"
    )


# ---- EC2 / VPC --------------------------------------------------------------------------------------


def test_security_groups_and_nacls(inventory: Inventory) -> None:
    assert statuses(inventory, "ec2_security_group_no_world_admin_ingress") == {"web": "FAIL", "db": "PASS"}
    assert statuses(inventory, "ec2_network_acl_no_world_admin_ingress") == {"acl-0a1b2c3d4e5f60718": "FAIL"}
    web = next(g for g in inventory.of_type(SecurityGroup) if g.name == "web")
    assert web.ingress is not None and web.ingress[1].ipv6_ranges == ["::/0"]
    assert [a.instance_id for a in web.attachments or []] == ["i-0abc1234def567890"]


def test_vpc_joins(inventory: Inventory) -> None:
    [vpc] = inventory.of_type(Vpc)
    assert [f.flow_log_id for f in vpc.flow_logs or []] == ["fl-0a1b2c3d4e5f60718"]
    assert [e.short_service for e in vpc.endpoints or []] == ["s3"] and vpc.endpoints[0].state == "available"
    assert vpc.interface_count == 1
    assert statuses(inventory, "ec2_vpc_flow_logs_enabled") == {"prod": "PASS"}


def test_vpc_joins_unknown_when_the_data_cannot_show_absence() -> None:
    inventory = build([samples.vpc()]).inventory
    [vpc] = inventory.of_type(Vpc)
    assert vpc.flow_logs is None and "AWS::EC2::FlowLog" in vpc.unknown["flow_logs"]
    assert statuses(inventory, "ec2_vpc_flow_logs_enabled") == {"prod": "UNKNOWN"}
    # One flow log item elsewhere in the region shows the type is recorded: no flow log is a FAIL.
    other = samples.flow_log("fl-0ffffffffffffffff", vpc_id="vpc-0999999999999999")
    assert statuses(build([samples.vpc(), other]).inventory, "ec2_vpc_flow_logs_enabled") == {"prod": "FAIL"}


def test_instances_and_volumes(inventory: Inventory) -> None:
    assert statuses(inventory, "ec2_instance_imdsv2_required") == {"app-7890": "FAIL", "app-3456": "PASS"}
    assert statuses(inventory, "ec2_volume_encrypted") == {
        "vol-0a1b2c3d4e5f60718": "PASS",
        "vol-0f1e2d3c4b5a69788": "FAIL",
    }
    instance = next(i for i in inventory.of_type(Instance) if i.instance_id == "i-0abc1234def567890")
    assert instance.state == "running" and instance.security_group_ids == ["sg-0123456789abcdef0"]
    assert instance.launch_time is not None and instance.account_id == samples.ACCOUNT
    assert "AMIs" in instance.unknown["image"]
    assert statuses(inventory, "ec2_instance_ami_approved") == {"app-7890": "UNKNOWN", "app-3456": "UNKNOWN"}


def test_ssm_managed_from_inventory_items() -> None:
    managed = samples.item(
        "AWS::SSM::ManagedInstanceInventory",
        "i-0def5678abc123456",
        {"AWS:InstanceInformation": {"Content": {}}},
    )
    inventory = build(
        [
            samples.instance("i-0abc1234def567890", tokens="required"),
            samples.instance("i-0def5678abc123456", tokens="required"),
            managed,
        ]
    ).inventory
    assert {i.instance_id: i.ssm_managed for i in inventory.of_type(Instance)} == {
        "i-0abc1234def567890": False,
        "i-0def5678abc123456": True,
    }


def test_region_facts_config_does_not_record(inventory: Inventory) -> None:
    [region] = inventory.of_type(AwsRegion)
    assert statuses(inventory, "ec2_region_ebs_encryption_by_default") == {"eu-west-1": "UNKNOWN"}
    assert "EBS encryption by default" in region.unknown["ebs_encryption_by_default"]


# ---- RDS ----------------------------------------------------------------------------------------------


def test_rds(inventory: Inventory) -> None:
    assert statuses(inventory, "rds_instance_storage_encrypted") == {
        "orders-db-1": "FAIL",
        "orders-db-2": "PASS",
    }
    assert statuses(inventory, "rds_instance_not_publicly_accessible") == {
        "orders-db-1": "FAIL",
        "orders-db-2": "PASS",
    }
    assert statuses(inventory, "rds_cluster_storage_encrypted") == {"ledger-aurora": "PASS"}
    assert statuses(inventory, "rds_snapshot_not_public") == {
        "orders-db-1-manual-2026-11-01": "FAIL",
        "orders-db-2-manual-2026-11-01": "PASS",
    }
    assert statuses(inventory, "rds_snapshot_encrypted") == {
        "orders-db-1-manual-2026-11-01": "FAIL",
        "orders-db-2-manual-2026-11-01": "PASS",
    }
    assert statuses(inventory, "rds_instance_backup_retention") == {
        "orders-db-1": "FAIL",
        "orders-db-2": "PASS",
    }
    [shared] = run_check(inventory, "rds_cluster_snapshot_not_public")["ledger-aurora-2026-11-01"]
    assert shared.status.value == "PASS" and shared.evidence["shared_with"] == ["444455556666"]
    assert statuses(inventory, "rds_cluster_iam_auth_enabled") == {"ledger-aurora": "PASS"}
    # Config does not record parameter groups: TLS is UNKNOWN, and the reason names the group.
    [tls] = run_check(inventory, "rds_instance_tls_enforced")["orders-db-2"]
    assert tls.status.value == "UNKNOWN" and "parameter group" in tls.reason and "RDS-02" in tls.reason


def test_rds_odd_casing_is_read(inventory: Inventory) -> None:
    db = next(d for d in inventory.of_type(DBInstance) if d.identifier == "orders-db-2")
    assert db.port == 5432 and db.vpc_security_group_ids == ["sg-0fedcba9876543210"]
    assert db.parameter_groups == ["prod-postgres16"] and db.backup_retention_days == 14
    assert db.id == f"arn:aws:rds:{samples.REGION}:{samples.ACCOUNT}:db:orders-db-2"


def test_launch_templates() -> None:
    from controlmap.resources.ec2 import LaunchTemplate

    inventory = build(
        [
            samples.launch_template("lt-0a1b2c3d4e5f60718", "web-v2", tokens="required", encrypted=True),
            samples.launch_template("lt-0f1e2d3c4b5a69788", "legacy", tokens="optional", encrypted=False),
        ]
    ).inventory
    assert statuses(inventory, "ec2_launch_template_imdsv2_required") == {"web-v2": "PASS", "legacy": "FAIL"}
    # An unencrypted mapping may still be encrypted by the region's default, which Config does not record.
    [legacy] = run_check(inventory, "ec2_launch_template_ebs_encrypted")["legacy"]
    assert legacy.status.value == "UNKNOWN" and "encryption by default is not known" in legacy.reason
    assert statuses(inventory, "ec2_launch_template_ebs_encrypted")["web-v2"] == "PASS"
    template = next(t for t in inventory.of_type(LaunchTemplate) if t.name == "web-v2")
    assert (
        template.version == 3 and template.ebs_volumes and template.ebs_volumes[0].device_name == "/dev/xvda"
    )


def test_access_analyzer_per_region() -> None:
    analyzer = samples.item(
        "AWS::AccessAnalyzer::Analyzer",
        f"arn:aws:access-analyzer:{samples.REGION}:{samples.ACCOUNT}:analyzer/org-external",
        {
            "AnalyzerName": "org-external",
            "Type": "ORGANIZATION",
            "ArchiveRules": [],
            "Arn": f"arn:aws:access-analyzer:{samples.REGION}:{samples.ACCOUNT}:analyzer/org-external",
        },
        name="org-external",
    )
    unused = samples.item(
        "AWS::AccessAnalyzer::Analyzer",
        f"arn:aws:access-analyzer:us-east-1:{samples.ACCOUNT}:analyzer/unused",
        {"AnalyzerName": "unused", "Type": "ACCOUNT_UNUSED_ACCESS"},
        name="unused",
        region="us-east-1",
    )
    other_region = samples.vpc("vpc-0b0b0b0b0b0b0b0b0")
    other_region["awsRegion"] = "eu-central-1"
    inventory = build([samples.vpc(), analyzer, unused, other_region]).inventory
    assert statuses(inventory, "iam_access_analyzer_enabled") == {
        "eu-west-1": "PASS",  # an organization analyzer is recorded
        "us-east-1": "FAIL",  # analyzers are recorded there, but only one for unused access
        "eu-central-1": "UNKNOWN",  # no analyzer item for that region: the data cannot tell
    }
