"""aws_kms_key, aws_kms_external_key (imported key material), aliases and separate key policies."""

from __future__ import annotations

from datetime import datetime

from controlmap.resources.base import Resource
from controlmap.resources.cloudtrail import CloudTrailTrail
from controlmap.resources.ec2 import Volume
from controlmap.resources.kms import KmsKey
from controlmap.resources.policy import OWN_ACCOUNT, parse_policy
from controlmap.resources.rds import DBCluster, DBInstance
from controlmap.resources.s3 import S3Bucket
from controlmap.sources.iac.common import Unresolved
from controlmap.sources.iac.facts import put, to_bool, to_int, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, companion, finisher, primary
from controlmap.sources.iac.terraform.mappers._common import base
from controlmap.sources.iac.terraform.mappers.s3 import parse_document

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


@primary("aws_kms_key", "aws_kms_external_key")
def key(item: TfItem, build: TfBuild) -> list[Resource]:
    external = item.type == "aws_kms_external_key"
    model = KmsKey(**base(item, build), key_manager="CUSTOMER", aliases=[])
    enabled = to_bool(item.get("enabled" if external else "is_enabled", True))
    put(model, "key_state", enabled, "is_enabled", lambda v: "Enabled" if v else "Disabled")
    put(
        model,
        "key_spec",
        "SYMMETRIC_DEFAULT" if external else item.get("customer_master_key_spec", "SYMMETRIC_DEFAULT"),
        "customer_master_key_spec",
    )
    put(
        model,
        "key_usage",
        "ENCRYPT_DECRYPT" if external else item.get("key_usage", "ENCRYPT_DECRYPT"),
        "key_usage",
    )
    model.origin = "EXTERNAL" if external else "AWS_KMS"
    put(model, "multi_region", to_bool(item.get("multi_region", False)), "multi_region")
    if external:
        model.rotation_enabled = False  # imported key material cannot rotate automatically
        valid_to = item.get("valid_to")
        model.expiration_model = "KEY_MATERIAL_EXPIRES" if valid_to else "KEY_MATERIAL_DOES_NOT_EXPIRE"
        if isinstance(valid_to, Unresolved):
            unknown(model, "valid_to", "valid_to", valid_to)
            if valid_to.opaque:  # may be null: the material may not expire at all
                unknown(model, "expiration_model", "valid_to", valid_to)
        elif isinstance(valid_to, str):
            try:
                model.valid_to = datetime.fromisoformat(valid_to.replace("Z", "+00:00"))
            except ValueError:
                model.unknown["valid_to"] = f"valid_to {valid_to!r} is not an RFC 3339 time"
    else:
        rotation = to_bool(item.get("enable_key_rotation", False))
        put(model, "rotation_enabled", rotation, "enable_key_rotation")
        if rotation is True:
            put(
                model,
                "rotation_period_days",
                to_int(item.get("rotation_period_in_days", 365)),
                "rotation_period_in_days",
            )
    put(
        model,
        "deletion_window_days",
        to_int(item.get("deletion_window_in_days", 30)),
        "deletion_window_in_days",
    )
    raw = item.get("policy")
    if raw is None:
        model.policy = parse_policy(DEFAULT_KEY_POLICY)
    else:
        model.policy = parse_document(raw, "policy", item.source.line_start)
        if model.policy is None:
            unknown(
                model, "policy", "policy", raw if isinstance(raw, Unresolved) else "a value known after apply"
            )
    return [model]


@companion("aws_kms_alias")
def alias(item: TfItem, build: TfBuild) -> None:
    target = build.target(item.get("target_key_id"), KmsKey, None, item)
    name = item.get("name")
    if target is not None and isinstance(name, str) and target.aliases is not None:
        target.aliases.append(name)


@companion("aws_kms_key_policy")
def key_policy(item: TfItem, build: TfBuild) -> None:
    target = build.target(item.get("key_id"), KmsKey, None, item)
    if target is None:
        return
    target.policy = parse_document(item.get("policy"), "policy", item.source.line_start)
    if target.policy is None:
        unknown(target, "policy", f"{item.address}.policy", "a value known after apply")


@finisher
def _key_references(build: TfBuild) -> None:
    """Key references written as ``aws_kms_key.k.arn`` become the key model's id, as live scans use ARNs."""
    keys = {k.source.address: k.id for k in build.all(KmsKey) if k.source.address}

    def resolve(value: str | None) -> str | None:
        if not value:
            return value
        for address, key_id in keys.items():
            if value == address or value.startswith(address + "."):
                return key_id
        return value

    for bucket in build.all(S3Bucket):
        if bucket.encryption is not None:
            bucket.encryption.kms_key_id = resolve(bucket.encryption.kms_key_id)
    for trail in build.all(CloudTrailTrail):
        trail.kms_key_id = resolve(trail.kms_key_id)
    for db in [*build.all(DBInstance), *build.all(DBCluster)]:
        db.kms_key_id = resolve(db.kms_key_id)
    for volume in build.all(Volume):
        volume.kms_key_id = resolve(volume.kms_key_id)
