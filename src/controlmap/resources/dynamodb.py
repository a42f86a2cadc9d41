"""DynamoDB tables and DAX clusters, normalized."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument

AWS_MANAGED_DYNAMODB_ALIAS = "alias/aws/dynamodb"


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableEncryption(_Facts):
    """Which key protects a table at rest.

    ``owner``: ``AWS_OWNED`` (the default, a key in a DynamoDB service account),
    ``AWS_MANAGED`` (``alias/aws/dynamodb`` in the account) or ``CUSTOMER`` (a customer managed
    KMS key). ``None`` when a KMS key is named but whether AWS or the customer manages it is
    not known (e.g. a key ARN in a template that is not in the scan).
    """

    owner: str | None = None
    kms_key_arn: str | None = None
    status: str | None = None  # ENABLED, UPDATING, DISABLED… (live only)


class DynamoDbTable(Resource):
    resource_type: ClassVar[str] = "AWS::DynamoDB::Table"

    table_name: str
    status: str | None = None
    encryption: TableEncryption | None = None
    point_in_time_recovery: bool | None = None
    # The table's resource-based policy; an empty document when it has none.
    resource_policy: PolicyDocument | None = None


class DaxCluster(Resource):
    resource_type: ClassVar[str] = "AWS::DAX::Cluster"

    cluster_name: str
    status: str | None = None
    encrypted_at_rest: bool | None = None  # SSEDescription.Status ENABLED
    # ClusterEndpointEncryptionType: TLS or NONE (the default when a cluster is created).
    endpoint_encryption: str | None = None
    security_group_ids: list[str] | None = None
    subnet_group: str | None = None
