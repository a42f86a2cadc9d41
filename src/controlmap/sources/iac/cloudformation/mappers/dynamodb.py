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
from controlmap.resources.policy import PolicyDocument, wildcard_match
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, primary
from controlmap.sources.iac.cloudformation.mappers._common import note_name, region_of, tags
from controlmap.sources.iac.cloudformation.mappers.ec2 import group_id_of
from controlmap.sources.iac.cloudformation.mappers.iam import document
from controlmap.sources.iac.common import IacProblem, ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, dig, put, reference_text, to_bool, unknown


def key_of(value: Any, build: CfnBuild) -> str | None:
    """The model id of a key of the template that ``value`` refers to (declared before or after)."""
    if isinstance(value, ResourceRef):
        resource = build.template.resources.get(value.address)
        if resource is not None and resource.type == "AWS::KMS::Key":
            return build.resource_id(value.address)
    return None


def table_encryption(enabled: Any, key: Any, key_id: str | None) -> TableEncryption | Unresolved:
    if isinstance(enabled, Unresolved):
        return enabled
    if not enabled:
        return TableEncryption(owner="AWS_OWNED")
    if key is None:
        return TableEncryption(owner="AWS_MANAGED", kms_key_arn=AWS_MANAGED_DYNAMODB_ALIAS)
    if key_id is not None:  # a key the configuration creates is customer managed
        return TableEncryption(owner="CUSTOMER", kms_key_arn=key_id)
    if isinstance(key, str) and key.endswith("alias/aws/dynamodb"):
        return TableEncryption(owner="AWS_MANAGED", kms_key_arn=key)
    shown = key.placeholder if isinstance(key, Unresolved) and key.placeholder else reference_text(key)
    return TableEncryption(owner=None, kms_key_arn=shown or "(a computed key)")


def names_table(resource: str, table_name: str, references: tuple[str, ...] = ()) -> bool:
    """Whether a Resource of a table's resource policy names the table: its ARN (region and account
    may be stand-ins or wildcards; DynamoDB accepts only the table's own ARN, or its indexes' and
    streams'), or a reference to it (``${aws_dynamodb_table.t.arn}``)."""
    if resource in references:
        return True
    # The region may be a stand-in with colons of its own (${AWS::Region}): the service is the
    # third field, the resource (table/<name>, no colon in a table name) the last.
    parts = resource.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not wildcard_match(parts[2], "dynamodb"):
        return False
    return wildcard_match(parts[-1], f"table/{table_name}", case_sensitive=True)


def bind_table_policy(
    document: PolicyDocument, model: DynamoDbTable, references: tuple[str, ...] = ()
) -> PolicyDocument:
    """A table's resource policy with every statement that names the table by ARN or reference
    also naming it by its model's id, as the checks compare it (a live table's id is its ARN)."""
    statements = []
    own_name = model.unknown.get("name")
    for statement in document.statements:
        named = any(names_table(r, model.table_name, references) for r in statement.resources)
        if named and model.id not in statement.resources:
            statement = statement.model_copy(update={"resources": (*statement.resources, model.id)})
        elif own_name and any(r.startswith("arn:") and ":table/" in r for r in statement.resources):
            # It names a table literally, and this table's own name is not known: it may be this one.
            statement = statement.model_copy(
                update={"unknown": {**statement.unknown, "Resource": f"the table's name ({own_name})"}}
            )
        statements.append(statement)
    return document.model_copy(update={"statements": tuple(statements)})


def _table_policy(model: DynamoDbTable, raw: Any, where: str, item: CfnItem, build: CfnBuild) -> None:
    if raw is None:
        model.resource_policy = PolicyDocument()
        return
    policy = document(raw, where, item.raw.line_start, build)
    if policy is None:
        unknown(model, "resource_policy", where, raw if isinstance(raw, Unresolved) else "a computed value")
        return
    model.resource_policy = bind_table_policy(policy, model, ("${" + item.logical_id + ".Arn}",))


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
    note_name(model, item, "TableName")
    sse = props.get("SSESpecification") or {}
    key = dig(sse, "KMSMasterKeyId")
    encryption = table_encryption(to_bool(dig(sse, "SSEEnabled")), key, key_of(key, build))
    if isinstance(encryption, Unresolved):
        unknown(model, "encryption", "SSESpecification.SSEEnabled", encryption)
    else:
        model.encryption = encryption
    pitr = to_bool(dig(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"))
    put(model, "point_in_time_recovery", False if pitr is None else pitr, "PointInTimeRecoveryEnabled")
    _table_policy(
        model, dig(props, "ResourcePolicy", "PolicyDocument"), "ResourcePolicy.PolicyDocument", item, build
    )
    return [model]


@primary("AWS::DynamoDB::GlobalTable")
def global_table(item: CfnItem, build: CfnBuild) -> list[Resource]:
    """One table per replica, in the replica's region, as a live scan of each region sees it:
    encryption is chosen for the global table (SSESpecification) with a key per replica, point
    in time recovery and the resource policy per replica."""
    props = item.props
    name = props.get("TableName")
    shown = name if isinstance(name, str) else item.logical_id
    sse = props.get("SSESpecification") or {}
    enabled = to_bool(dig(sse, "SSEEnabled"))
    replicas = props.get("Replicas")
    out: list[Resource] = []
    for index, replica in enumerate(replicas if isinstance(replicas, list) else []):
        if not isinstance(replica, dict):
            continue
        region = replica.get("Region")
        label = region if isinstance(region, str) else f"replica {index + 1}"
        model = DynamoDbTable(
            id=build.resource_id(item.logical_id, f"/{label}"),
            name=shown,
            table_name=shown,
            region=region if isinstance(region, str) else None,
            tags=tags(item),
            source=item.source.model_copy(update={"address": f"{item.source.address} ({label})"}),
        )
        note_name(model, item, "TableName")
        key = dig(replica, "SSESpecification", "KMSMasterKeyId")
        encryption = table_encryption(enabled, key, key_of(key, build))
        if isinstance(encryption, Unresolved):
            unknown(model, "encryption", "SSESpecification.SSEEnabled", encryption)
        else:
            model.encryption = encryption
        pitr = to_bool(dig(replica, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"))
        put(
            model,
            "point_in_time_recovery",
            False if pitr is None else pitr,
            f"Replicas[{index}].PointInTimeRecoverySpecification",
        )
        _table_policy(
            model,
            dig(replica, "ResourcePolicy", "PolicyDocument"),
            f"Replicas[{index}].ResourcePolicy",
            item,
            build,
        )
        out.append(model)
    if isinstance(replicas, Unresolved):
        build.problems.append(
            IacProblem(
                build.file,
                f"{item.logical_id}: Replicas depends on {replicas.depends_on}; its tables are not scanned",
                item.raw.line_start,
                "reference",
            )
        )
    return out


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
