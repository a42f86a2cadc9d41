"""AWS::KMS::Key (and AWS::KMS::Alias).

Defaults are the KMS API's: a symmetric ENCRYPT_DECRYPT key from AWS_KMS, rotation off, a
30-day deletion window and, without KeyPolicy, the default key policy (the account root).
"""

from __future__ import annotations

from controlmap.resources.base import Resource
from controlmap.resources.kms import KmsKey
from controlmap.resources.policy import OWN_ACCOUNT, parse_policy
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, companion, primary
from controlmap.sources.iac.cloudformation.mappers._common import region_of, tags
from controlmap.sources.iac.cloudformation.mappers.iam import document
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import put, to_bool, to_int, unknown

DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


@primary("AWS::KMS::Key")
def key(item: CfnItem, build: CfnBuild) -> list[Resource]:
    props = item.props
    model = KmsKey(
        id=build.resource_id(item.logical_id),
        name=item.logical_id,
        region=region_of(item, build),
        tags=tags(item),
        source=item.source,
        key_manager="CUSTOMER",
        aliases=[],
    )
    enabled = to_bool(props.get("Enabled", True))
    put(model, "key_state", enabled, "Enabled", lambda v: "Enabled" if v else "Disabled")
    put(model, "key_spec", props.get("KeySpec", "SYMMETRIC_DEFAULT"), "KeySpec")
    put(model, "key_usage", props.get("KeyUsage", "ENCRYPT_DECRYPT"), "KeyUsage")
    put(model, "origin", props.get("Origin", "AWS_KMS"), "Origin")
    put(model, "multi_region", to_bool(props.get("MultiRegion", False)), "MultiRegion")
    rotation = to_bool(props.get("EnableKeyRotation", False))
    put(model, "rotation_enabled", rotation, "EnableKeyRotation")
    if rotation is True:
        put(
            model,
            "rotation_period_days",
            to_int(props.get("RotationPeriodInDays", 365)),
            "RotationPeriodInDays",
        )
    put(model, "deletion_window_days", to_int(props.get("PendingWindowInDays", 30)), "PendingWindowInDays")
    raw_policy = props.get("KeyPolicy")
    if raw_policy is None:
        model.policy = parse_policy(DEFAULT_KEY_POLICY)
    elif isinstance(raw_policy, Unresolved):
        unknown(model, "policy", "KeyPolicy", raw_policy)
    else:
        model.policy = document(raw_policy, "KeyPolicy", item.raw.line_start, build)
    if model.origin == "EXTERNAL":
        model.unknown["expiration_model"] = "imported key material is uploaded after deployment"
        model.unknown["valid_to"] = model.unknown["expiration_model"]
    return [model]


@companion("AWS::KMS::Alias")
def alias(item: CfnItem, build: CfnBuild) -> None:
    target_value = item.props.get("TargetKeyId")
    target = build.target(target_value, KmsKey) if isinstance(target_value, ResourceRef) else None
    name = item.props.get("AliasName")
    if target is not None and isinstance(name, str) and target.aliases is not None:
        target.aliases.append(name)
