"""DDB-02: a table's resource policy names the table by its ARN, however the template writes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac

from .conftest import finding

CATALOG = load_catalog()
CHECK = "dynamodb_table_policy_denies_insecure_transport"

TABLE = """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      TableName: {{Type: String}}
    Resources:
      Orders:
        Type: AWS::DynamoDB::Table
        Properties:
          TableName: {name}
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
          KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
          ResourcePolicy:
            PolicyDocument:
              Statement:
                - Effect: Deny
                  Principal: "*"
                  Action: "dynamodb:*"
                  Resource: {resource}
                  Condition: {{Bool: {{"aws:SecureTransport": "false"}}}}
"""


def _scan(tmp_path: Path, name: str, text: str) -> IacScan:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return scan_iac([tmp_path / name], CATALOG, Settings(), options=IacOptions(workers=1))


@pytest.mark.parametrize(
    ("name", "resource", "status"),
    [
        (
            "orders",
            "!Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders",
            Status.PASS,
        ),
        ("orders", "!GetAtt Orders.Arn", Status.PASS),
        ("orders", '"*"', Status.PASS),
        ("orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", Status.PASS),
        ("orders", "arn:aws:dynamodb:*:*:table/ord*", Status.PASS),
        # another table, or only an index of this one: the table itself is not covered
        ("orders", "!Sub arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/payments", Status.FAIL),
        (
            "orders",
            "!Sub arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders/index/*",
            Status.FAIL,
        ),
        # the table's name is a parameter: a literal ARN may or may not be this table's
        (
            "!Ref TableName",
            "!Sub arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders",
            Status.UNKNOWN,
        ),
        (
            "!Ref TableName",
            "!Sub arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
            Status.UNKNOWN,
        ),
        ("!Ref TableName", '"*"', Status.PASS),
    ],
)
def test_cloudformation_table_policy_names_the_table(
    tmp_path: Path, name: str, resource: str, status: Status
) -> None:
    result = _scan(tmp_path, "stack.yaml", TABLE.format(name=name, resource=resource))
    assert not result.problems, result.problems
    tls = finding(result.findings, "Orders", CHECK)
    assert tls.status is status, tls.reason


GLOBAL_TABLE = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Orders:
        Type: AWS::DynamoDB::GlobalTable
        Properties:
          TableName: orders
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
          KeySchema: [{AttributeName: pk, KeyType: HASH}]
          StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
          SSESpecification: {SSEEnabled: true, SSEType: KMS}
          Replicas:
            - Region: eu-west-1
              SSESpecification: {KMSMasterKeyId: !GetAtt Key.Arn}
              PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
              ResourcePolicy:
                PolicyDocument:
                  Statement:
                    - Effect: Deny
                      Principal: "*"
                      Action: "dynamodb:*"
                      Resource: !Sub arn:aws:dynamodb:eu-west-1:${AWS::AccountId}:table/orders
                      Condition: {Bool: {"aws:SecureTransport": "false"}}
            - Region: us-east-1
              SSESpecification: {KMSMasterKeyId: alias/aws/dynamodb}
      Key:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
"""


def test_global_table_replicas_are_judged_one_by_one(tmp_path: Path) -> None:
    result = _scan(tmp_path, "global.yaml", GLOBAL_TABLE)
    assert not result.problems, result.problems
    europe, america = "Orders (eu-west-1)", "Orders (us-east-1)"
    assert finding(result.findings, europe, CHECK).status is Status.PASS
    assert finding(result.findings, america, CHECK).status is Status.FAIL
    assert finding(result.findings, europe, "dynamodb_table_encrypted_cmk").status is Status.PASS
    assert finding(result.findings, america, "dynamodb_table_encrypted_cmk").status is Status.FAIL
    assert finding(result.findings, europe, "dynamodb_table_pitr_enabled").status is Status.PASS
    assert finding(result.findings, america, "dynamodb_table_pitr_enabled").status is Status.FAIL
    tables = [f for f in result.findings if f.check_id == CHECK]
    assert {f.region for f in tables} == {"eu-west-1", "us-east-1"}


TERRAFORM = """
    variable "table" {{}}
    resource "aws_dynamodb_table" "orders" {{
      name         = "orders"
      billing_mode = "PAY_PER_REQUEST"
      hash_key     = "pk"
      attribute {{
        name = "pk"
        type = "S"
      }}
    }}
    resource "aws_dynamodb_resource_policy" "orders" {{
      resource_arn = {target}
      policy = jsonencode({{
        Version = "2012-10-17"
        Statement = [{{
          Effect    = "Deny"
          Principal = "*"
          Action    = "dynamodb:*"
          Resource  = {resource}
          Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
        }}]
      }})
    }}
"""


@pytest.mark.parametrize(
    ("target", "resource", "status"),
    [
        ("aws_dynamodb_table.orders.arn", "aws_dynamodb_table.orders.arn", Status.PASS),
        (
            '"arn:aws:dynamodb:eu-west-1:123456789012:table/orders"',
            '"arn:aws:dynamodb:eu-west-1:123456789012:table/orders"',
            Status.PASS,
        ),
        (
            "aws_dynamodb_table.orders.arn",
            '"arn:aws:dynamodb:eu-west-1:123456789012:table/payments"',
            Status.FAIL,
        ),
        # a policy for a table given by a variable may be this table's
        ("var.table", '"*"', Status.UNKNOWN),
    ],
)
def test_terraform_resource_policy_names_the_table(
    tmp_path: Path, target: str, resource: str, status: Status
) -> None:
    (tmp_path / "root").mkdir()
    result = _scan(tmp_path / "root", "main.tf", TERRAFORM.format(target=target, resource=resource))
    tls = finding(result.findings, "aws_dynamodb_table.orders", CHECK)
    assert tls.status is status, tls.reason
