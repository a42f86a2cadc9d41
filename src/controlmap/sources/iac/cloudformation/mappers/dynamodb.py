"""AWS::DynamoDB::Table and AWS::DAX::Cluster.

A table without SSESpecification is encrypted with the AWS owned key; ``SSEEnabled: true``
without a key uses the AWS managed key ``alias/aws/dynamodb``; a key of the template is customer
managed. PITR is off unless enabled. A DAX cluster is not encrypted at rest and its endpoint
does not use TLS unless the template says so.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.dynamodb import (
    AWS_MANAGED_DYNAMODB_ALIAS,
    DaxCluster,
    DynamoDbTable,
    TableEncryption,
)
from controlmap.resources.kms import KmsKey
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.cloudformation.mappers.ec2 import group_id_of
from controlmap.sources.iac.cloudformation.mappers.iam import document
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, dig, put, reference_text, to_bool, unknown


def table_encryption(enabled: Any, key: Any, key_model: KmsKey | None) -> TableEncryption | Unresolved:
    if isinstance(enabled, Unresolved):
        return enabled
    if not enabled:
        return TableEncryption(owner="AWS_OWNED")
    if key is None:
        return TableEncryption(owner="AWS_MANAGED", kms_key_arn=AWS_MANAGED_DYNAMODB_ALIAS)
    if key_model is not None:
        return TableEncryption(owner="CUSTOMER", kms_key_arn=key_model.id)
    if isinstance(key, str) and key.endswith("alias/aws/dynamodb"):
        return TableEncryption(owner="AWS_MANAGED", kms_key_arn=key)
    shown = key.placeholder if isinstance(key, Unresolved) and key.placeholder else reference_text(key)
    return TableEncryption(owner=None, kms_key_arn=shown or "(a computed key)")


@primary("AWS::DynamoDB::Table")
def table(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("TableName")
    shown = name if isinstance(name, str) else item.logical_id
    model = DynamoDbTable(
        id=build.resource_id(item.logical_id),
        name=shown,
        table_name=shown,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
    )
    sse = props.get("SSESpecification") or {}
    key = dig(sse, "KMSMasterKeyId")
    key_model = build.target(key, KmsKey) if isinstance(key, ResourceRef) else None
    encryption = table_encryption(to_bool(dig(sse, "SSEEnabled")), key, key_model)
    if isinstance(encryption, Unresolved):
        unknown(model, "encryption", "SSESpecification.SSEEnabled", encryption)
    else:
        model.encryption = encryption
    pitr = to_bool(dig(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"))
    put(model, "point_in_time_recovery", False if pitr is None else pitr, "PointInTimeRecoveryEnabled")
    policy = dig(props, "ResourcePolicy", "PolicyDocument")
    if policy is None:
        model.resource_policy = PolicyDocument()
    else:
        model.resource_policy = document(policy, "ResourcePolicy.PolicyDocument", item.raw.line_start, build)
        if model.resource_policy is None:
            unknown(
                model, "resource_policy", "ResourcePolicy", policy if isinstance(policy, Unresolved) else ""
            )
    return [model]


@primary("AWS::DAX::Cluster")
def dax(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    name = props.get("ClusterName")
    shown = name if isinstance(name, str) else item.logical_id
    model = DaxCluster(
        id=build.resource_id(item.logical_id),
        name=shown,
        cluster_name=shown,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        subnet_group=reference_text(props.get("SubnetGroupName")),
    )
    enabled = to_bool(dig(props, "SSESpecification", "SSEEnabled"))
    put(model, "encrypted_at_rest", False if enabled is None else enabled, "SSESpecification.SSEEnabled")
    put(
        model,
        "endpoint_encryption",
        props.get("ClusterEndpointEncryptionType", "NONE"),
        "ClusterEndpointEncryptionType",
    )
    groups = props.get("SecurityGroupIds")
    missing = first_unresolved(groups)
    if missing is not None:
        unknown(model, "security_group_ids", "SecurityGroupIds", missing)
    else:
        model.security_group_ids = [g for g in (group_id_of(v, build) for v in as_list(groups)) if g]
    return [model]
