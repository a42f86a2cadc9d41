"""aws_dynamodb_table (with aws_dynamodb_resource_policy) and aws_dax_cluster."""

from __future__ import annotations

from controlmap.resources.base import Resource
from controlmap.resources.dynamodb import DaxCluster, DynamoDbTable
from controlmap.resources.policy import PolicyDocument
from controlmap.sources.iac.cloudformation.mappers.dynamodb import bind_table_policy, table_encryption
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, put, to_bool, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, primary
from controlmap.sources.iac.terraform.mappers._common import base, first, ref_text
from controlmap.sources.iac.terraform.mappers.ec2 import group_id
from controlmap.sources.iac.terraform.mappers.s3 import parse_document


@primary("aws_dynamodb_table")
def table(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("name")
    fields = base(item, build, name)
    model = DynamoDbTable(**fields, table_name=fields["name"], resource_policy=PolicyDocument())
    sse = first(item.get("server_side_encryption"))
    enabled = to_bool(sse.get("enabled")) if isinstance(sse, dict) else False
    key = sse.get("kms_key_arn") if isinstance(sse, dict) else None
    key_id = (
        build.resource_id(key.address)
        if isinstance(key, ResourceRef)
        and key.address.split(".")[-2:-1] in (["aws_kms_key"], ["aws_kms_external_key"])
        else None
    )
    encryption = table_encryption(enabled, key, key_id)
    if isinstance(encryption, Unresolved):
        unknown(model, "encryption", "server_side_encryption.enabled", encryption)
    else:
        model.encryption = encryption
    pitr = first(item.get("point_in_time_recovery"))
    value = to_bool(pitr.get("enabled")) if isinstance(pitr, dict) else False
    put(model, "point_in_time_recovery", False if value is None else value, "point_in_time_recovery.enabled")
    return [model]


@companion("aws_dynamodb_resource_policy")
def resource_policy(item: TfItem, build: TfBuild) -> None:
    arn = item.get("resource_arn")
    target = build.target(arn, DynamoDbTable, "table_name", item)
    if target is None and isinstance(arn, str) and ":table/" in arn:  # the table's literal ARN
        target = build.target(arn.split(":table/", 1)[1].split("/", 1)[0], DynamoDbTable, "table_name", item)
    if target is None:
        # A policy of a table the scan cannot name may be any table's.
        for candidate, why in build.maybe_targets(arn, DynamoDbTable, item, "table_name"):
            build.links.pending.append((candidate, "resource_policy", why, None))
        return
    build.declared.add((target.id, "resource_policy"))
    policy = parse_document(item.get("policy"), "policy", item.source.line_start)
    if policy is None:
        unknown(
            target,
            "resource_policy",
            f"{item.address}.policy",
            item.get("policy") if isinstance(item.get("policy"), Unresolved) else "a value known after apply",
        )
        return
    address = target.source.address or ""
    target.resource_policy = bind_table_policy(
        policy, target, ("${" + address + ".arn}", "${" + address + "}")
    )


@primary("aws_dax_cluster")
def dax(item: TfItem, build: TfBuild) -> list[Resource]:
    name = item.get("cluster_name")
    fields = base(item, build, name)
    model = DaxCluster(
        **fields, cluster_name=fields["name"], subnet_group=ref_text(item.get("subnet_group_name"))
    )
    sse = first(item.get("server_side_encryption"))
    enabled = to_bool(sse.get("enabled")) if isinstance(sse, dict) else False
    put(model, "encrypted_at_rest", False if enabled is None else enabled, "server_side_encryption.enabled")
    put(
        model,
        "endpoint_encryption",
        item.get("cluster_endpoint_encryption_type", "NONE"),
        "cluster_endpoint_encryption_type",
    )
    groups = item.get("security_group_ids")
    missing = first_unresolved(groups)
    if missing is not None and not isinstance(groups, list):
        unknown(model, "security_group_ids", "security_group_ids", missing)
    else:
        model.security_group_ids = [g for g in (group_id(v, build, item) for v in as_list(groups)) if g]
    return [model]
