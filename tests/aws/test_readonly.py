"""Read-only by construction: any operation that is not a read is refused before it is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from controlmap.demo.server import LocalAws
from controlmap.sources.aws.clients import ClientFactory, ReadOnlyViolation, is_read_operation

WRITES = [
    ("s3", "create_bucket", {"Bucket": "must-not-exist"}),
    ("s3", "put_bucket_policy", {"Bucket": "existing-bucket", "Policy": "{}"}),
    ("s3", "delete_bucket", {"Bucket": "existing-bucket"}),
    ("iam", "create_user", {"UserName": "intruder"}),
    ("iam", "delete_account_password_policy", {}),
    ("kms", "schedule_key_deletion", {"KeyId": "alias/anything", "PendingWindowInDays": 7}),
    ("cloudtrail", "stop_logging", {"Name": "trail"}),
    ("ec2", "terminate_instances", {"InstanceIds": ["i-0123456789abcdef0"]}),
    (
        "s3control",
        "put_public_access_block",
        {"AccountId": "123456789012", "PublicAccessBlockConfiguration": {}},
    ),
    # Named like reads, but they return secrets, data or credentials, or create something.
    ("secretsmanager", "get_secret_value", {"SecretId": "prod/db"}),
    ("ssm", "get_parameter", {"Name": "/prod/db-password", "WithDecryption": True}),
    ("s3", "get_object", {"Bucket": "existing-bucket", "Key": "customer-data.csv"}),
    ("ec2", "get_password_data", {"InstanceId": "i-0123456789abcdef0"}),
    ("sts", "get_session_token", {}),
    ("cognito-identity", "get_id", {"IdentityPoolId": "us-east-1:00000000-0000-0000-0000-000000000000"}),
    ("ecr", "get_authorization_token", {}),
    (
        "redshift",
        "get_cluster_credentials",
        {"DbUser": "admin", "ClusterIdentifier": "c", "AutoCreate": True},
    ),
]


@pytest.fixture(scope="module")
def aws_session(moto_server: LocalAws) -> Iterator[boto3.Session]:
    """One bucket; the writes below must leave it, and everything else, as it is."""
    moto_server.reset()
    session = boto3.Session(region_name="us-east-1")
    session.client("s3").create_bucket(Bucket="existing-bucket")
    yield session
    moto_server.reset()


@pytest.mark.parametrize("service, operation, params", WRITES, ids=[f"{s}:{o}" for s, o, _ in WRITES])
def test_writes_are_refused_before_any_request(
    aws_session: boto3.Session, service: str, operation: str, params: dict[str, Any]
) -> None:
    factory = ClientFactory(boto3.Session(region_name="us-east-1"))
    client = factory.client(service, "us-east-1")
    sent: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))

    with pytest.raises(ReadOnlyViolation, match="read-only"):
        getattr(client, operation)(**params)

    assert sent == []  # nothing reached the wire
    assert factory.counter.total_calls == 0 and sum(factory.counter.attempts.values()) == 0
    # and the local account is untouched
    names = [b["Name"] for b in aws_session.client("s3").list_buckets()["Buckets"]]
    assert names == ["existing-bucket"]
    assert aws_session.client("iam").list_users()["Users"] == []


def test_reads_go_through_and_are_counted(aws_session: boto3.Session) -> None:
    factory = ClientFactory(boto3.Session(region_name="us-east-1"))
    client = factory.client("s3", "us-east-1")
    sent: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["existing-bucket"]
    assert len(sent) == 1
    assert factory.counter.snapshot() == {"s3:ListBuckets": 1}
    assert factory.counter.attempts["s3:ListBuckets"] == 1


@pytest.mark.parametrize(
    "service, operation, allowed",
    [
        ("s3", "GetBucketPolicy", True),
        ("iam", "ListUsers", True),
        ("ec2", "DescribeInstances", True),
        ("iam", "GenerateCredentialReport", True),  # builds the report we read; changes nothing
        ("sts", "AssumeRole", True),
        ("s3", "PutObject", False),
        ("iam", "UpdateAccountPasswordPolicy", False),
        ("kms", "Decrypt", False),  # uses a key: not a configuration read
        ("lambda", "Invoke", False),
        ("s3", "RestoreObject", False),
        ("s3", "GetObject", False),  # data, not configuration
        ("secretsmanager", "GetSecretValue", False),
        ("secretsmanager", "DescribeSecret", True),  # metadata only
        ("sts", "GetCallerIdentity", True),
        ("sts", "GetSessionToken", False),
        # customer data, code links and secret configuration values, named like reads
        ("dynamodb", "GetItem", False),
        ("dynamodb", "BatchGetItem", False),
        ("dynamodb", "DescribeTable", True),
        ("logs", "GetLogEvents", False),
        ("kinesis", "GetRecords", False),
        ("lambda", "GetFunction", False),
        ("lambda", "GetPolicy", True),
        ("apigateway", "GetApiKeys", False),
        ("apigateway", "GetRestApis", True),
        ("glue", "GetConnections", False),
        ("ec2", "GetConsoleOutput", False),
        ("ec2", "GetLaunchTemplateData", False),
        ("kms", "GetParametersForImport", False),
    ],
)
def test_read_operation_classification(service: str, operation: str, allowed: bool) -> None:
    assert is_read_operation(service, operation) is allowed


def test_not_reads_match_by_boto3_service_name_where_the_endpoint_prefix_differs() -> None:
    assert is_read_operation("api.ecr", "DescribeRepositories", service_name="ecr")
    assert not is_read_operation("api.ecr", "GetAuthorizationToken", service_name="ecr")
    assert not is_read_operation("streams.dynamodb", "GetRecords", service_name="dynamodbstreams")


def test_no_collector_operation_is_refused() -> None:
    """Every operation the collectors call (the IAM policy's table) passes the guard."""
    from controlmap.sources.aws.permissions import OPERATION_ACTIONS

    refused = [op for op in OPERATION_ACTIONS if not is_read_operation(*op.split(":", 1))]
    assert refused == []


def test_customer_data_reads_are_refused_before_any_request(aws_session: boto3.Session) -> None:
    """dynamodb:GetItem is named like a read but returns a customer's data: never sent."""
    factory = ClientFactory(boto3.Session(region_name="us-east-1"))
    client = factory.client("dynamodb", "us-east-1")
    sent: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    with pytest.raises(ReadOnlyViolation, match="dynamodb:GetItem"):
        client.get_item(TableName="customers", Key={"id": {"S": "1"}})
    with pytest.raises(ReadOnlyViolation, match="dynamodb:BatchGetItem"):
        client.batch_get_item(RequestItems={"customers": {"Keys": [{"id": {"S": "1"}}]}})
    assert sent == [] and factory.counter.total_calls == 0


@pytest.mark.parametrize(
    "operation, params",
    [
        ("put_object", {"Bucket": "existing-bucket", "Key": "planted.txt"}),
        ("delete_bucket", {"Bucket": "existing-bucket"}),
        ("get_object", {"Bucket": "existing-bucket", "Key": "customer-data.csv"}),  # a data link
    ],
)
def test_no_presigned_url_for_what_the_guard_refuses(
    aws_session: boto3.Session, operation: str, params: dict[str, Any]
) -> None:
    """generate_presigned_url skips before-call: the same guard refuses to sign."""
    client = ClientFactory(boto3.Session(region_name="us-east-1")).client("s3", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="refused to sign"):
        client.generate_presigned_url(operation, Params=params)


def test_no_presigned_post(aws_session: boto3.Session) -> None:
    client = ClientFactory(boto3.Session(region_name="us-east-1")).client("s3", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="s3:PutObject"):
        client.generate_presigned_post("existing-bucket", "planted.txt")


def test_a_presigned_read_of_configuration_is_still_allowed(aws_session: boto3.Session) -> None:
    client = ClientFactory(boto3.Session(region_name="us-east-1")).client("s3", "us-east-1")
    assert "existing-bucket" in client.generate_presigned_url(
        "get_bucket_policy", Params={"Bucket": "existing-bucket"}
    )
