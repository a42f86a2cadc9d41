"""Item shapes as AWS Config really writes them: Java SDK nulls, odd forms, engines the RDS API shares."""

from __future__ import annotations

import json

import config_samples as samples
from config_helpers import build, statuses

from controlmap.resources.ec2 import Instance, NetworkAcl, SecurityGroup
from controlmap.resources.rds import DBCluster, DBInstance
from controlmap.resources.s3 import S3Bucket


def _locked_bucket(lock: dict[str, object]) -> dict[str, object]:
    bucket = samples.bucket_compliant("acme-worm-archive")
    bucket["tags"] = {"controlmap:object-lock": "required"}
    bucket["supplementaryConfiguration"]["ObjectLockConfiguration"] = lock
    return bucket


def test_object_lock_without_default_retention_is_read_not_an_item_error() -> None:
    # Object Lock on, no default retention: the Java SDK writes the unset rule as null.
    built = build([_locked_bucket({"objectLockEnabled": "Enabled", "rule": None})])
    assert built.problems == []
    [bucket] = built.inventory.of_type(S3Bucket)
    assert bucket.object_lock is not None and bucket.object_lock.enabled
    assert bucket.object_lock.default_mode is None
    # The bucket is tagged as WORM storage: a lock with no default retention fails, as live.
    assert statuses(built.inventory, "s3_bucket_object_lock_enabled") == {"acme-worm-archive": "FAIL"}
    assert statuses(built.inventory, "s3_bucket_versioning_enabled") == {"acme-worm-archive": "PASS"}


def test_null_default_retention_and_null_encryption_default_are_not_set() -> None:
    bucket = _locked_bucket({"objectLockEnabled": "Enabled", "rule": {"defaultRetention": None}})
    bucket["supplementaryConfiguration"]["ServerSideEncryptionConfiguration"] = {
        "rules": [{"applyServerSideEncryptionByDefault": None, "bucketKeyEnabled": None}]
    }
    built = build([bucket])
    assert built.problems == []
    [model] = built.inventory.of_type(S3Bucket)
    assert model.encryption is not None and model.encryption.algorithm == "none"


def test_acl_grantee_with_null_fields() -> None:
    bucket = samples.bucket_public("acme-null-grantee")
    bucket["supplementaryConfiguration"]["AccessControlList"] = json.dumps(
        {
            "grantSet": None,
            "grantList": [
                {"grantee": {"id": samples.OWNER["id"], "displayName": None}, "permission": "FullControl"},
                {"grantee": {"identifier": None, "emailAddress": None, "id": None}, "permission": "Write"},
                {"grantee": "AllUsers", "permission": "Read"},
            ],
            "owner": samples.OWNER,
            "isRequesterCharged": False,
        }
    )
    built = build([bucket])
    assert built.problems == []
    assert statuses(built.inventory, "s3_bucket_acl_not_public") == {"acme-null-grantee": "FAIL"}


def test_nulls_in_ec2_items_are_unset_fields() -> None:
    group = samples.security_group("sg-0a0a0a0a0a0a0a0a0", "app", [samples.ssh_from_world()])
    group["configuration"]["ipPermissions"][0]["userIdGroupPairs"] = [
        {"groupId": "sg-0b0b0b0b0b0b0b0b0", "userId": samples.ACCOUNT, "peeringStatus": None}
    ]
    acl = samples.network_acl(
        "acl-0c0c0c0c0c0c0c0c0",
        [{**samples.nacl_entry(100, "allow", "0.0.0.0/0", "6", (22, 22)), "ipv6CidrBlock": None}],
    )
    instance = samples.instance("i-0d0d0d0d0d0d0d0d0", tokens="required")
    instance["configuration"].update({"iamInstanceProfile": None, "keyName": None, "platform": None})
    built = build([group, acl, instance])
    assert built.problems == []
    [model] = built.inventory.of_type(SecurityGroup)
    assert model.ingress[0].source_groups == ["sg-0b0b0b0b0b0b0b0b0"]
    [nacl] = built.inventory.of_type(NetworkAcl)
    assert nacl.entries[0].cidr == "0.0.0.0/0" and nacl.entries[0].to_port == 22
    [ec2] = built.inventory.of_type(Instance)
    assert ec2.iam_instance_profile is None and ec2.key_name is None


def test_documentdb_and_neptune_items_are_not_rds_databases() -> None:
    # AWS Config records DocumentDB and Neptune as AWS::RDS::DB* (they share the RDS API); the live
    # scan leaves them out of the RDS controls, so the Config source does too.
    docdb = samples.db_cluster("catalog-docdb")
    docdb["configuration"]["engine"] = "docdb"
    neptune = samples.db_instance("graph-2", public=False, encrypted=False, backup_days=1, engine="neptune")
    postgres = samples.db_instance("orders-db-1", public=True, encrypted=False, backup_days=0)
    built = build([docdb, neptune, postgres])
    assert built.problems == []
    assert [i.name for i in built.inventory.of_type(DBInstance)] == ["orders-db-1"]
    assert built.inventory.of_type(DBCluster) == []
    assert built.skipped_types == {}


def test_documentdb_snapshots_are_left_out_too() -> None:
    snapshot = samples.db_cluster_snapshot("catalog-docdb-2026-11-01", restore=["all"])
    snapshot["configuration"]["engine"] = "docdb"
    public = samples.db_snapshot("orders-db-1-manual-2026-11-01", restore=["all"], encrypted=False)
    built = build([snapshot, public])
    assert statuses(built.inventory, "rds_snapshot_not_public") == {"orders-db-1-manual-2026-11-01": "FAIL"}
    assert statuses(built.inventory, "rds_cluster_snapshot_not_public") == {}


def test_an_empty_supplementary_configuration_shows_no_bucket_settings() -> None:
    bucket = samples.bucket_public("acme-extract")
    bucket["supplementaryConfiguration"] = {}
    built = build([bucket])
    [model] = built.inventory.of_type(S3Bucket)
    assert model.public_access_block is None and model.object_lock is None
    assert statuses(built.inventory, "s3_bucket_public_access_blocked") == {"acme-extract": "UNKNOWN"}


def test_an_account_id_that_is_not_12_digits_or_a_region_that_is_not_one_is_an_item_problem() -> None:
    """A snapshot passed through a spreadsheet or jq can carry 12345678901 (leading zero lost)
    or a number as region; each such item would form an "account" of its own in every verdict,
    exception selector and the history's scope, so it is reported, and the rest is read."""
    from controlmap.sources.config.items import parse_items

    good = samples.bucket_compliant("acme-good")
    short = samples.bucket_compliant("acme-short-account")
    short["awsAccountId"] = 11112222333
    boolean = samples.bucket_compliant("acme-bool-account")
    boolean["awsAccountId"] = True
    region = samples.bucket_compliant("acme-bad-region")
    region["awsRegion"] = 5
    numeric = samples.bucket_compliant("acme-numeric-account")
    numeric["awsAccountId"] = int(numeric["awsAccountId"])  # 12 digits as a JSON number: fine
    global_ = samples.bucket_compliant("acme-global")
    global_["awsRegion"] = "global"
    items, problems = parse_items([good, short, boolean, region, numeric, global_], "snapshot.json")
    assert sorted(i.resource_id for i in items) == ["acme-global", "acme-good", "acme-numeric-account"]
    messages = {p.resource_id: p.message for p in problems}
    assert "account ID '11112222333' is not 12 digits" in messages["acme-short-account"]
    assert "account ID 'True' is not 12 digits" in messages["acme-bool-account"]
    assert "awsRegion 5 is not an AWS region" in messages["acme-bad-region"]
    where = {p.resource_id: (p.account_id, p.region) for p in problems}
    assert where["acme-short-account"] == (None, samples.REGION)  # its ERROR findings: no bogus account
    assert where["acme-bad-region"] == (samples.ACCOUNT, None)
