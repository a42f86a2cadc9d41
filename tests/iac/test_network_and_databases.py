"""EC2/VPC and RDS models built from templates, judged by the registered checks.

These run the checks directly (the catalog decides which control each serves), so they hold
whatever the catalog wiring of those services is at the moment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.resources.ec2 import SecurityGroup
from controlmap.settings import Settings
from controlmap.sources.iac.cloudformation.reader import read_template
from controlmap.sources.iac.scan import IacOptions, scan_iac
from controlmap.sources.iac.terraform.reader import read_root

from .conftest import FIXTURES, resource, run_check


@pytest.fixture(scope="module")
def cfn_network():  # type: ignore[no-untyped-def]
    return read_template(FIXTURES / "cloudformation/network.yaml", "network.yaml")


@pytest.fixture(scope="module")
def tf_network():  # type: ignore[no-untyped-def]
    return read_root(FIXTURES / "terraform/network", "network")


def _statuses(check: str, model, result) -> list[Status]:  # type: ignore[no-untyped-def]
    return [o.status for o in run_check(check, model, result.variants[0].resources)]


def test_cfn_inline_world_ssh_fails(cfn_network) -> None:  # type: ignore[no-untyped-def]
    group = resource(cfn_network, "OpenSsh")
    assert Status.FAIL in _statuses("ec2_security_group_no_world_admin_ingress", group, cfn_network)


def test_cfn_rule_defined_as_separate_resource_joins_its_group(cfn_network) -> None:  # type: ignore[no-untyped-def]
    group = resource(cfn_network, "WebGroup")
    assert isinstance(group, SecurityGroup) and group.ingress is not None
    assert {r.from_port for r in group.ingress} == {443, 3389}
    outcomes = run_check(
        "ec2_security_group_no_world_admin_ingress", group, cfn_network.variants[0].resources
    )
    assert any(o.status is Status.FAIL and "3389" in o.reason for o in outcomes)


def test_cfn_unresolved_cidr_is_unknown(cfn_network) -> None:  # type: ignore[no-untyped-def]
    group = resource(cfn_network, "AdminGroup")
    outcomes = run_check(
        "ec2_security_group_no_world_admin_ingress", group, cfn_network.variants[0].resources
    )
    assert [o.status for o in outcomes] == [Status.UNKNOWN]
    assert "AdminCidr" in outcomes[0].reason


def test_cfn_vpc_flow_logs_endpoints_and_volumes(cfn_network) -> None:  # type: ignore[no-untyped-def]
    vpc = resource(cfn_network, "Vpc")
    assert _statuses("ec2_vpc_flow_logs_enabled", vpc, cfn_network) == [Status.PASS]
    assert vpc.endpoints and vpc.endpoints[0].short_service == "s3"  # type: ignore[attr-defined]
    assert _statuses("ec2_volume_encrypted", resource(cfn_network, "EncryptedVolume"), cfn_network) == [
        Status.PASS
    ]
    unknown = run_check(
        "ec2_volume_encrypted", resource(cfn_network, "Volume"), cfn_network.variants[0].resources
    )
    assert unknown[0].status is Status.UNKNOWN and "encryption by default" in unknown[0].reason
    assert Status.FAIL in _statuses(
        "ec2_network_acl_no_world_admin_ingress", resource(cfn_network, "Acl"), cfn_network
    )


def test_tf_rules_from_every_kind_of_resource(tf_network) -> None:  # type: ignore[no-untyped-def]
    web = resource(tf_network, "aws_security_group.web")
    assert isinstance(web, SecurityGroup) and web.ingress is not None
    assert sorted(r.from_port or 0 for r in web.ingress) == [443, 3389]
    assert web.egress == []  # Terraform removes the default allow-all egress rule
    assert Status.FAIL in _statuses("ec2_security_group_no_world_admin_ingress", web, tf_network)
    bastion = resource(tf_network, "aws_security_group.bastion")
    assert Status.FAIL in _statuses("ec2_security_group_no_world_admin_ingress", bastion, tf_network)
    office = run_check(
        "ec2_security_group_no_world_admin_ingress",
        resource(tf_network, "aws_security_group.office"),
        tf_network.variants[0].resources,
    )
    assert office[0].status is Status.UNKNOWN and "var.office_cidr" in office[0].reason


def test_tf_instance_volume_and_region_default(tf_network) -> None:  # type: ignore[no-untyped-def]
    instance = resource(tf_network, "aws_instance.app")
    assert _statuses("ec2_instance_imdsv2_required", instance, tf_network) == [Status.PASS]
    # The same configuration turns EBS encryption by default on, so the plain volume is encrypted.
    assert _statuses("ec2_volume_encrypted", resource(tf_network, "aws_ebs_volume.data"), tf_network) == [
        Status.PASS
    ]
    region = resource(tf_network, "aws_ebs_encryption_by_default.this")
    assert _statuses("ec2_region_ebs_encryption_by_default", region, tf_network) == [Status.PASS]
    vpc = resource(tf_network, "aws_vpc.main")
    assert vpc.interface_count == 2  # type: ignore[attr-defined]
    assert _statuses("ec2_vpc_flow_logs_enabled", vpc, tf_network) == [Status.PASS]


@pytest.mark.parametrize("kind", ["cloudformation", "terraform"])
def test_aurora_encryption_is_set_on_the_cluster(kind: str) -> None:
    if kind == "cloudformation":
        result = read_template(FIXTURES / "cloudformation/rds.yaml", "rds.yaml")
        cluster, member = resource(result, "Cluster"), resource(result, "ClusterInstance")
    else:
        result = read_root(FIXTURES / "terraform/rds", "rds")
        cluster, member = (
            resource(result, "aws_rds_cluster.aurora"),
            resource(result, "aws_rds_cluster_instance.aurora[0]"),
        )
    resources = result.variants[0].resources
    assert [o.status for o in run_check("rds_cluster_storage_encrypted", cluster, resources)] == [Status.PASS]
    member_outcome = run_check("rds_instance_storage_encrypted", member, resources)[0]
    assert member_outcome.status is Status.NOT_APPLICABLE and "cluster" in member_outcome.reason
    assert member.storage_encrypted is True  # type: ignore[attr-defined]
    assert [o.status for o in run_check("rds_cluster_tls_enforced", cluster, resources)] == [Status.PASS]
    assert [o.status for o in run_check("rds_cluster_iam_auth_enabled", cluster, resources)] == [Status.PASS]


def test_public_unencrypted_instance_fails() -> None:
    result = read_template(FIXTURES / "cloudformation/rds.yaml", "rds.yaml")
    resources = result.variants[0].resources
    legacy = resource(result, "LegacyDb")
    assert run_check("rds_instance_storage_encrypted", legacy, resources)[0].status is Status.FAIL
    assert run_check("rds_instance_not_publicly_accessible", legacy, resources)[0].status is Status.FAIL
    assert run_check("rds_instance_backup_retention", legacy, resources)[0].status is Status.FAIL
    groups = run_check("rds_instance_security_groups_restricted", legacy, resources)
    assert (groups[0].status is Status.FAIL and "3306" in groups[0].reason) or "0.0.0.0/0" in groups[0].reason
    tf = read_root(FIXTURES / "terraform/rds", "rds")
    reporting = resource(tf, "aws_db_instance.reporting")
    assert (
        run_check("rds_instance_not_publicly_accessible", reporting, tf.variants[0].resources)[0].status
        is Status.FAIL
    )
    # PostgreSQL 14 with the default parameter group does not force TLS.
    assert (
        run_check("rds_instance_tls_enforced", reporting, tf.variants[0].resources)[0].status is Status.FAIL
    )


def test_paths_are_relative_to_fixtures() -> None:
    assert Path(FIXTURES / "cloudformation/network.yaml").is_file()


def test_launch_templates(cfn_network, tf_network) -> None:  # type: ignore[no-untyped-def]
    cfn = resource(cfn_network, "AppTemplate")
    assert _statuses("ec2_launch_template_imdsv2_required", cfn, cfn_network) == [Status.FAIL]
    # Encrypted: false still yields an encrypted volume when the region encrypts by default,
    # which a template does not declare: unknown, not failed.
    ebs = run_check("ec2_launch_template_ebs_encrypted", cfn, cfn_network.variants[0].resources)
    assert ebs[0].status is Status.UNKNOWN and "/dev/xvda" in ebs[0].reason
    tf = resource(tf_network, "aws_launch_template.app")
    assert _statuses("ec2_launch_template_imdsv2_required", tf, tf_network) == [Status.PASS]
    assert _statuses("ec2_launch_template_ebs_encrypted", tf, tf_network) == [Status.PASS]


def test_restored_database_inherits_encryption(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_db_instance" "copy" {\n  identifier = "copy"\n  engine = "postgres"\n'
        '  instance_class = "db.t3.micro"\n  snapshot_identifier = "prod-snapshot"\n}\n'
    )
    result = read_root(tmp_path, "root")
    copy = resource(result, "aws_db_instance.copy")
    outcome = run_check("rds_instance_storage_encrypted", copy, result.variants[0].resources)[0]
    assert outcome.status is Status.UNKNOWN and "snapshot_identifier" in outcome.reason


@pytest.mark.parametrize(
    ("engine", "version", "status", "says"),
    [
        (
            "aurora-postgresql",
            None,
            "FAIL",
            "engine default for aurora-postgresql, whichever version AWS picks",
        ),
        ("aurora-postgresql", "16.4", "FAIL", "engine default for aurora-postgresql 16.4;"),
        ("postgres", None, "UNKNOWN", "depends on the engine version, which is not known"),
        ("postgres", "16.4", "PASS", "engine default for postgres 16.4;"),
    ],
)
def test_tls_default_without_an_engine_version(
    tmp_path: Path, engine: str, version: str | None, status: str, says: str
) -> None:
    kind = "AWS::RDS::DBCluster" if engine.startswith("aurora") else "AWS::RDS::DBInstance"
    template = tmp_path / "db.yaml"
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Resources:",
        "  Db:",
        f"    Type: {kind}",
        "    Properties:",
        f"      Engine: {engine}",
        "      StorageEncrypted: true",
        "      DBInstanceClass: db.t4g.micro",
    ]
    if version:
        lines.append(f'      EngineVersion: "{version}"')
    template.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = scan_iac([template], load_catalog(), Settings(), options=IacOptions(workers=1))
    check = "rds_cluster_tls_enforced" if engine.startswith("aurora") else "rds_instance_tls_enforced"
    tls = [f for f in result.findings if f.check_id == check]
    assert len(tls) == 1 and tls[0].status.value == status and says in tls[0].reason, tls[0].reason
    assert "None" not in tls[0].reason
