"""Demo DynamoDB tables and DAX clusters: compliant and non-compliant examples for DDB-01 … DDB-06.

moto creates the key behind ``alias/aws/dynamodb`` as a *customer* managed key (in AWS it is an
AWS managed key, ``KeyManager: AWS``) and gives every DAX cluster a made-up security group.
``install_dynamodb_emulation`` corrects both in the in-process moto server, so AWS-owned,
AWS-managed and customer managed keys can be told apart as in a real account. Only processes
that import this module (the demo, the tests) see it.
"""

from __future__ import annotations

import json
from typing import Any

from controlmap.demo.seed import SeedContext, seeder


def install_dynamodb_emulation() -> None:
    from moto.dynamodb.models.table import Table
    from moto.kms import kms_backends

    if getattr(Table, "_controlmap_demo", False):
        return
    original = Table._get_default_encryption_key

    def aws_managed_default_key(self: Any, account_id: str, region: str) -> str:
        arn: str = original(self, account_id, region)
        kms_backends[account_id][region].describe_key("alias/aws/dynamodb").key_manager = "AWS"
        return arn

    Table._get_default_encryption_key = aws_managed_default_key  # type: ignore[method-assign]
    Table._controlmap_demo = True  # type: ignore[attr-defined]

    # moto's DAX CreateCluster invents a security group instead of keeping SecurityGroupIds.
    from moto.dax.responses import DAXResponse

    create = DAXResponse.create_cluster

    def create_cluster_keeping_groups(self: Any) -> str:
        answer: str = create(self)
        params = json.loads(self.body)
        groups = params.get("SecurityGroupIds")
        if groups:
            cluster = self.dax_backend.clusters[params["ClusterName"]]
            cluster.security_groups = [{"SecurityGroupIdentifier": g, "Status": "active"} for g in groups]
        return answer

    DAXResponse.create_cluster = create_cluster_keeping_groups  # type: ignore[method-assign]


install_dynamodb_emulation()

_KEY = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
}


def create_table(ddb: Any, name: str, **params: Any) -> str:
    return str(
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **_KEY, **params)["TableDescription"][
            "TableArn"
        ]
    )


def tls_only_policy(table_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "dynamodb:*",
                    "Resource": [table_arn, f"{table_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


@seeder("dynamodb")
def seed_dynamodb(ctx: SeedContext) -> None:
    home = ctx.regions[0]
    account = ctx.account_id
    ddb, kms, iam = ctx.client("dynamodb", home), ctx.client("kms", home), ctx.client("iam", home)
    key = kms.create_key(Description="demo: DynamoDB orders")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/demo-orders-table", TargetKeyId=key)
    # Compliant: customer managed key, PITR, a resource policy denying plain HTTP.
    orders = create_table(
        ddb, "demo-orders", SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    )
    ddb.update_continuous_backups(
        TableName="demo-orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.put_resource_policy(ResourceArn=orders, Policy=tls_only_policy(orders))
    # Non-compliant: the AWS managed key alias/aws/dynamodb, no PITR, a public read policy.
    sessions = create_table(ddb, "demo-sessions", SSESpecification={"Enabled": True, "SSEType": "KMS"})
    ddb.put_resource_policy(
        ResourceArn=sessions,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": sessions}
                ],
            }
        ),
    )
    # Non-compliant: the default AWS owned key, no resource policy.
    create_table(ddb, "demo-audit-scratch")
    # DDB-03: a role with dynamodb:* on every table (the Lambda demo's role also has one).
    iam.create_role(
        RoleName="demo-analytics",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "glue.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam.put_role_policy(
        RoleName="demo-analytics",
        PolicyName="read-everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["dynamodb:Scan", "dynamodb:Query"],
                        "Resource": f"arn:aws:dynamodb:{home}:{account}:table/*",
                    }
                ],
            }
        ),
    )
    # DDB-06: DAX with encryption at rest and TLS, and one without either, whose security group
    # admits the world to the DAX port.
    ec2 = ctx.client("ec2", home)
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.43.1.0/24")
    app = ec2.create_security_group(GroupName="demo-dax-app", Description="DAX from app tier", VpcId=vpc)[
        "GroupId"
    ]
    world = ec2.create_security_group(GroupName="demo-dax-open", Description="DAX open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=world,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8111, "ToPort": 8111, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{home}.dynamodb", VpcEndpointType="Gateway"
    )
    role = f"arn:aws:iam::{account}:role/demo-analytics"
    dax = ctx.client("dax", home)
    dax.create_cluster(
        ClusterName="demo-cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=role,
        SecurityGroupIds=[app],
        SSESpecification={"Enabled": True},
        ClusterEndpointEncryptionType="TLS",
    )
    dax.create_cluster(
        ClusterName="demo-legacy-cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=role,
        SecurityGroupIds=[world],
        ClusterEndpointEncryptionType="NONE",
    )
