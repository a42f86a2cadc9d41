"""DynamoDB tables, DAX clusters and the DynamoDB checks that read the IAM and EC2 inventory,
through the local moto server."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
from controlmap.demo.seed_dynamodb import create_table, tls_only_policy
from controlmap.resources.dynamodb import DaxCluster, DynamoDbTable
from controlmap.resources.ec2 import Vpc

DDB_CHECKS = [
    "dynamodb_table_encrypted_cmk",
    "dynamodb_table_policy_denies_insecure_transport",
    "dynamodb_table_policy_no_public_access",
    "dynamodb_table_pitr_enabled",
]


@pytest.fixture
def tables(aws_session: boto3.Session) -> dict[str, str]:
    ddb, kms = aws_session.client("dynamodb"), aws_session.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    arns = {
        "cmk": create_table(
            ddb,
            "cmk",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
            Tags=[{"Key": "data", "Value": "pii"}],
        ),
        "managed": create_table(ddb, "managed", SSESpecification={"Enabled": True, "SSEType": "KMS"}),
        "owned": create_table(ddb, "owned"),
        "shared-key": create_table(
            ddb, "shared-key", SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
        ),
    }
    ddb.update_continuous_backups(
        TableName="cmk", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.put_resource_policy(ResourceArn=arns["cmk"], Policy=tls_only_policy(arns["cmk"]))
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": arns["managed"]},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "dynamodb:*",
                "Resource": arns["managed"],
                "Condition": {
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"aws:SourceVpce": "vpce-1"},
                },
            },
        ],
    }
    ddb.put_resource_policy(ResourceArn=arns["managed"], Policy=json.dumps(public))
    return arns


def test_table_checks(tables: dict[str, str]) -> None:
    scan = live_scan(DDB_CHECKS)
    by_name = {t.name: t for t in scan.inventory.of_type(DynamoDbTable)}
    assert set(by_name) == set(tables) and by_name["cmk"].tags == {"data": "pii"}
    check = "dynamodb_table_encrypted_cmk"
    assert status(scan, check, "cmk") is Status.PASS
    assert status(scan, check, "managed") is Status.FAIL
    assert "AWS managed key alias/aws/dynamodb" in reason(scan, check, "managed")
    assert status(scan, check, "owned") is Status.FAIL
    assert "AWS owned key" in reason(scan, check, "owned")
    # kms:DescribeKey once per distinct key (the CMK shared by two tables, and alias/aws/dynamodb).
    assert scan.factory.counter.snapshot()["kms:DescribeKey"] == 2

    transport = "dynamodb_table_policy_denies_insecure_transport"
    assert status(scan, transport, "cmk") is Status.PASS
    assert status(scan, transport, "owned") is Status.FAIL
    assert "also accept plain HTTP" in reason(scan, transport, "owned")
    assert status(scan, transport, "managed") is Status.FAIL  # the deny is narrowed by aws:SourceVpce

    assert status(scan, "dynamodb_table_policy_no_public_access", "managed") is Status.FAIL
    assert status(scan, "dynamodb_table_policy_no_public_access", "cmk") is Status.PASS  # deny only
    assert status(scan, "dynamodb_table_policy_no_public_access", "owned") is Status.PASS  # no policy

    assert status(scan, "dynamodb_table_pitr_enabled", "cmk") is Status.PASS
    assert status(scan, "dynamodb_table_pitr_enabled", "owned") is Status.FAIL


def test_table_read_errors(tables: dict[str, str]) -> None:
    scan = live_scan(
        DDB_CHECKS, hooks=[deny("dynamodb", "DescribeContinuousBackups"), deny("kms", "DescribeKey")]
    )
    found = outcomes(scan, "dynamodb_table_pitr_enabled")["cmk"][0]
    assert found.status is Status.ERROR and found.error_code == "AccessDenied"
    assert status(scan, "dynamodb_table_encrypted_cmk", "cmk") is Status.UNKNOWN  # key named, owner unknown
    assert status(scan, "dynamodb_table_encrypted_cmk", "owned") is Status.FAIL  # no key to ask about


def test_only_needed_calls(tables: dict[str, str]) -> None:
    scan = live_scan(["dynamodb_table_pitr_enabled"])
    calls = scan.factory.counter.snapshot()
    assert calls["dynamodb:DescribeContinuousBackups"] == 4
    assert "dynamodb:DescribeTable" not in calls and "dynamodb:GetResourcePolicy" not in calls


@pytest.fixture
def iam_and_network(aws_session: boto3.Session) -> dict[str, Any]:
    iam, ec2 = aws_session.client("iam"), aws_session.client("ec2")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )

    def role(name: str, *statements: dict[str, Any]) -> None:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        iam.put_role_policy(
            RoleName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )

    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
    role("scoped", {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": table})
    role("star-action", {"Effect": "Allow", "Action": "dynamodb:*", "Resource": table})
    role(
        "star-table",
        {"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": "arn:aws:dynamodb:*:*:table/*"},
    )
    role("other-service", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    iam.create_user(UserName="dev")
    iam.put_user_policy(
        UserName="dev",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}],
            }
        ),
    )
    used = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=used, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet)
    covered = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet2 = ec2.create_subnet(VpcId=covered, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet2)
    ec2.create_vpc_endpoint(
        VpcId=covered, ServiceName="com.amazonaws.us-east-1.dynamodb", VpcEndpointType="Gateway"
    )
    empty = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    open_group = ec2.create_security_group(GroupName="open", Description="open", VpcId=used)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=open_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 9111, "ToPort": 9111, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
        ],
    )
    closed = ec2.create_security_group(GroupName="closed", Description="closed", VpcId=used)["GroupId"]
    dax = aws_session.client("dax")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/scoped"
    dax.create_cluster(
        ClusterName="secure",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=role_arn,
        SecurityGroupIds=[closed],
        SSESpecification={"Enabled": True},
        ClusterEndpointEncryptionType="TLS",
    )
    dax.create_cluster(
        ClusterName="plain",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=role_arn,
        SecurityGroupIds=[open_group],
    )
    return {"used": used, "covered": covered, "empty": empty}


def test_iam_endpoint_and_dax_checks(iam_and_network: dict[str, Any]) -> None:
    checks = [
        "dynamodb_iam_role_no_wildcard_grants",
        "dynamodb_iam_user_no_wildcard_grants",
        "dynamodb_vpc_endpoint_present",
        "dax_cluster_encrypted_at_rest",
        "dax_cluster_encrypted_in_transit",
        "dax_cluster_security_groups_restricted",
    ]
    scan = live_scan(checks)
    role = "dynamodb_iam_role_no_wildcard_grants"
    assert status(scan, role, "scoped") is Status.PASS
    assert status(scan, role, "star-action") is Status.FAIL and "dynamodb:*" in reason(
        scan, role, "star-action"
    )
    assert status(scan, role, "star-table") is Status.FAIL
    assert "arn:aws:dynamodb:*:*:table/*" in reason(scan, role, "star-table")
    assert status(scan, role, "other-service") is Status.PASS  # s3:* is IAM-03's business, not DynamoDB's
    assert status(scan, "dynamodb_iam_user_no_wildcard_grants", "dev") is Status.FAIL

    vpcs = {v.vpc_id: v.name for v in scan.inventory.of_type(Vpc)}
    endpoint = "dynamodb_vpc_endpoint_present"
    assert status(scan, endpoint, vpcs[iam_and_network["used"]]) is Status.FAIL
    assert status(scan, endpoint, vpcs[iam_and_network["covered"]]) is Status.PASS
    assert status(scan, endpoint, vpcs[iam_and_network["empty"]]) is Status.NOT_APPLICABLE

    assert {c.name for c in scan.inventory.of_type(DaxCluster)} == {"secure", "plain"}
    assert status(scan, "dax_cluster_encrypted_at_rest", "secure") is Status.PASS
    assert status(scan, "dax_cluster_encrypted_at_rest", "plain") is Status.FAIL
    assert status(scan, "dax_cluster_encrypted_in_transit", "secure") is Status.PASS
    assert status(scan, "dax_cluster_encrypted_in_transit", "plain") is Status.FAIL
    assert status(scan, "dax_cluster_security_groups_restricted", "secure") is Status.PASS
    groups = reason(scan, "dax_cluster_security_groups_restricted", "plain")
    assert status(scan, "dax_cluster_security_groups_restricted", "plain") is Status.FAIL and "::/0" in groups
