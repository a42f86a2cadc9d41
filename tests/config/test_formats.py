"""Every form AWS Config hands items out in, recognised by content; bad input named precisely."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import config_samples as samples
import pytest

from controlmap.resources.s3 import S3Bucket
from controlmap.sources.config.build import build_inventory, latest_items
from controlmap.sources.config.items import ConfigDataError, read_file
from controlmap.sources.config.scan import read_files


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def _bucket_state(path: Path) -> S3Bucket:
    items, problems, _fmt = read_file(path)
    assert problems == []
    built = build_inventory(items)
    [bucket] = built.inventory.of_type(S3Bucket)
    return bucket


def test_delivery_snapshot_and_gzip(tmp_path: Path) -> None:
    document = samples.snapshot([samples.bucket_public()])
    plain = _write(tmp_path / "snap.json", document)
    packed = tmp_path / "111122223333_Config_eu-west-1_ConfigSnapshot_20261130T081402Z.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(document).encode()))
    for path in (plain, packed):
        items, problems, fmt = read_file(path)
        assert fmt == "snapshot/history" and problems == [] and len(items) == 1
        item = items[0]
        assert (item.account_id, item.region, item.arn) == (
            samples.ACCOUNT,
            samples.REGION,
            "arn:aws:s3:::acme-marketing-site",
        )
    bucket = _bucket_state(packed)
    assert bucket.versioning == "Disabled" and bucket.logging is not None and not bucket.logging.enabled


def test_batch_get_answer_has_configuration_as_text_and_no_tags(tmp_path: Path) -> None:
    api = samples.as_api_item(samples.bucket_compliant(), with_tags=False)
    assert isinstance(api["configuration"], str)
    path = _write(tmp_path / "batch.json", {"baseConfigurationItems": [api], "unprocessedResourceKeys": []})
    items, problems, fmt = read_file(path)
    assert fmt == "batch-get-resource-config" and problems == []
    assert items[0].tags is None  # batch-get carries no tags
    bucket = _bucket_state(path)
    assert bucket.encryption is not None and bucket.encryption.algorithm == "aws:kms"
    assert bucket.public_access_block is not None and bucket.public_access_block.all_enabled
    assert bucket.mfa_delete is True and bucket.object_lock is not None and bucket.object_lock.enabled


def test_aggregate_batch_get(tmp_path: Path) -> None:
    api = samples.as_api_item(samples.kms_key("7c6b5a4f-3e2d-4c1b-9a0f-8e7d6c5b4a39", rotation=False))
    path = _write(
        tmp_path / "agg.json", {"BaseConfigurationItems": [api], "UnprocessedResourceIdentifiers": []}
    )
    items, _problems, fmt = read_file(path)
    assert fmt == "batch-get-aggregate-resource-config" and items[0].resource_type == "AWS::KMS::Key"


def test_history_keeps_the_latest_capture_and_drops_deleted_resources(tmp_path: Path) -> None:
    old = samples.bucket_public()
    old["configurationItemCaptureTime"] = "2026-01-01T00:00:00.000Z"
    new = samples.bucket_compliant("acme-marketing-site")
    new["configurationItemCaptureTime"] = "2026-11-30T10:00:00.000Z"
    gone_before = samples.bucket_compliant("acme-tmp")
    gone = samples.item(
        "AWS::S3::Bucket",
        "acme-tmp",
        {},
        arn="arn:aws:s3:::acme-tmp",
        status="ResourceDeleted",
        capture="2026-12-01T00:00:00.000Z",
    )
    history = {"configurationItems": [samples.as_api_item(i) for i in (new, old, gone, gone_before)]}
    path = _write(tmp_path / "history.json", history)
    items, problems, fmt = read_file(path)
    assert fmt == "config history" and problems == [] and len(items) == 4
    current, deleted = latest_items(items)
    assert deleted == 1 and [i.resource_id for i in current] == ["acme-marketing-site"]
    bucket = _bucket_state(path)
    assert bucket.versioning == "Enabled"  # the newer capture, although it came first in the file


def _row(delivered: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An advanced query's row for a delivered item: its identity and configuration, and more."""
    return {
        "resourceId": delivered["resourceId"],
        "resourceType": delivered["resourceType"],
        "accountId": samples.ACCOUNT,
        "awsRegion": samples.REGION,
        "configuration": delivered["configuration"],
        **fields,
    }


def test_select_results_are_json_text(tmp_path: Path) -> None:
    delivered = samples.bucket_public()
    selected = _row(
        delivered,
        arn=delivered["ARN"],
        supplementaryConfiguration=delivered["supplementaryConfiguration"],
        tags=[{"key": "team", "value": "web", "tag": "team=web"}],
    )
    path = _write(
        tmp_path / "select.json", {"Results": [json.dumps(selected)], "QueryInfo": {"SelectFields": []}}
    )
    items, problems, fmt = read_file(path)
    assert fmt == "select-resource-config" and problems == []
    assert items[0].tags == {"team": "web"}
    bucket = _bucket_state(path)
    assert bucket.acl_grants is not None and any(g.grantee.endswith("AllUsers") for g in bucket.acl_grants)


def test_select_without_supplementary_configuration_leaves_bucket_settings_unknown(tmp_path: Path) -> None:
    selected = {
        "resourceId": "acme-x",
        "resourceType": "AWS::S3::Bucket",
        "accountId": samples.ACCOUNT,
        "awsRegion": samples.REGION,
        "configuration": {"name": "acme-x"},
    }
    bucket = _bucket_state(_write(tmp_path / "select.json", {"Results": [json.dumps(selected)]}))
    assert bucket.policy is None and bucket.versioning is None
    assert "supplementaryConfiguration" in bucket.unknown["policy"]


def test_change_notification_single_item_and_list(tmp_path: Path) -> None:
    one = samples.kms_key("1f8e3c2a-5b7d-4e9f-a0c1-2d3e4f5a6b7c")
    for name, document, fmt in (
        (
            "note.json",
            {"configurationItem": one, "messageType": "ConfigurationItemChangeNotification"},
            "change notification",
        ),
        ("one.json", one, "configuration item"),
        ("list.json", [one], "item list"),
    ):
        items, problems, got = read_file(_write(tmp_path / name, document))
        assert (got, len(items), problems) == (fmt, 1, [])


def test_notifications_as_sns_eventbridge_and_aggregate_lookups(tmp_path: Path) -> None:
    item = samples.bucket_public("acme-notified")
    notification = {
        "configurationItemDiff": {"changedProperties": {}, "changeType": "UPDATE"},
        "configurationItem": item,
        "notificationCreationTime": "2026-11-30T08:14:03.104Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    sns = {
        "Type": "Notification",
        "TopicArn": "arn:aws:sns:eu-west-1:111122223333:config",
        "Message": json.dumps(notification),
    }
    event = {
        "version": "0",
        "detail-type": "Config Configuration Item Change",
        "source": "aws.config",
        "account": samples.ACCOUNT,
        "region": samples.REGION,
        "detail": notification,
    }
    aggregate = {"ConfigurationItem": samples.as_api_item(item)}
    for name, document in (("sns.json", sns), ("event.json", event), ("aggregate.json", aggregate)):
        items, problems, fmt = read_file(_write(tmp_path / name, document))
        assert (fmt, [i.resource_id for i in items], problems) == (
            "change notification",
            ["acme-notified"],
            [],
        )
    items, problems, fmt = read_file(_write(tmp_path / "events.json", [event, sns]))
    assert (fmt, len(items), problems) == ("item list", 2, [])
    assert _bucket_state(_write(tmp_path / "event2.json", event)).policy is not None


def test_utf16_files_from_powershell_are_read(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(json.dumps(samples.snapshot([samples.bucket_public()])).encode("utf-16"))
    assert _bucket_state(path).name == "acme-marketing-site"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not json at all", "not valid JSON"),
        (b'{"Items": []}', "not AWS Config data"),
        (b'"a string"', "not AWS Config data"),
        (b"\x1f\x8b\x08\x00broken", "not a valid gzip file"),
        (b"\xff\xfe\x00", "not valid UTF-16 text"),
        (b"\xc3\x28{}", "not UTF-8 text"),
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b'{"configurationItems": {"a": 1}}', "configurationItems is not a list"),
    ],
)
def test_unusable_files_are_named(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ConfigDataError) as raised:
        read_file(path)
    assert str(path) in str(raised.value) and expected in str(raised.value)


def test_bad_items_name_file_index_and_resource_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = samples.bucket_public()
    no_type = {"resourceId": "acme-x", "configuration": {}}
    bad_config = {**samples.as_api_item(samples.bucket_compliant("acme-y")), "configuration": "{not json"}
    not_object = 42
    path = _write(tmp_path / "mixed.json", {"configurationItems": [good, no_type, bad_config, not_object]})
    data = read_files([path])
    assert len(data.items) == 1
    described = [p.describe() for p in data.problems]
    assert described[0] == f"{path}: item 1 (acme-x): configuration item has no resourceType"
    assert described[1].startswith(f"{path}: item 2 (acme-y): configuration of AWS::S3::Bucket acme-y")
    assert described[2] == f"{path}: item 3: not a configuration item (a JSON int)"


def test_select_result_that_is_not_json_is_reported(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "select.json", {"Results": ["{broken", json.dumps({"resourceType": "AWS::KMS::Key"})]}
    )
    data = read_files([path])
    assert [p.index for p in data.problems] == [0, 1]
    assert "no resourceId" in data.problems[1].message


def test_directories_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "AWSLogs").mkdir()
    _write(tmp_path / "AWSLogs" / "a.json", samples.snapshot([samples.bucket_public()]))
    (tmp_path / "AWSLogs" / "b.json.gz").write_bytes(
        gzip.compress(json.dumps(samples.snapshot([samples.bucket_compliant()])).encode())
    )
    (tmp_path / "AWSLogs" / "notes.txt").write_text("ignored")
    data = read_files([tmp_path / "AWSLogs", tmp_path / "missing.json"])
    assert len(data.items) == 2 and len(data.sources) == 3
    assert [p.describe() for p in data.problems] == [f"{tmp_path / 'missing.json'}: no such file"]


def test_a_mapper_failure_names_the_item_and_others_are_mapped(tmp_path: Path) -> None:
    broken = samples.security_group("sg-0aaaaaaaaaaaaaaa1", "broken", [])
    broken["configuration"]["ipPermissions"] = [{"ipProtocol": "tcp", "fromPort": "not-a-port", "toPort": 22}]
    data = read_files([_write(tmp_path / "snap.json", samples.snapshot([broken, samples.bucket_public()]))])
    built = build_inventory(data.items)
    assert len(built.inventory.of_type(S3Bucket)) == 1
    [problem] = built.problems
    assert problem.resource_id == "sg-0aaaaaaaaaaaaaaa1" and problem.index == 0
    assert "cannot read AWS::EC2::SecurityGroup" in problem.message


def test_global_resources_recorded_in_a_region_and_as_global_are_one(tmp_path: Path) -> None:
    older = samples.iam_user("alice", "AIDAEXAMPLEALICE00001", inline=samples.ADMIN_DOC)
    older["awsRegion"] = "us-east-1"  # items recorded before AWS Config's "global" region
    older["configurationItemCaptureTime"] = "2022-01-01T00:00:00.000Z"
    newer = samples.iam_user("alice", "AIDAEXAMPLEALICE00001")
    data = read_files([_write(tmp_path / "history.json", {"configurationItems": [newer, older]})])
    built = build_inventory(data.items)
    from controlmap.resources.iam import IamUser

    [user] = built.inventory.of_type(IamUser)
    assert user.region is None and user.inline_policies == []  # the newer item, without the admin policy


def _query(fields: list[str], rows: list[dict[str, object]]) -> dict[str, object]:
    """select-resource-config output as the CLI prints it: rows as JSON text, and what was selected."""
    return {
        "Results": [json.dumps(r) for r in rows],
        "QueryInfo": {"SelectFields": [{"Name": f} for f in fields]},
    }


def test_a_query_without_the_whole_configuration_is_not_judged(tmp_path: Path) -> None:
    group = samples.security_group("sg-0123456789abcdef0", "web", [samples.ssh_from_world()])
    row = {
        "resourceId": group["resourceId"],
        "resourceType": group["resourceType"],
        "configuration": {"groupName": "web"},  # the open SSH rule was not selected
    }
    path = _write(
        tmp_path / "q.json", _query(["resourceId", "resourceType", "configuration.groupName"], [row])
    )
    with pytest.raises(ConfigDataError) as raised:
        read_file(path)
    assert "selects configuration.groupName, not the whole configuration" in str(raised.value)


def test_part_of_the_supplementary_configuration_leaves_bucket_settings_unknown(tmp_path: Path) -> None:
    bucket = samples.bucket_compliant()
    # Only the policy was selected: no PublicAccessBlockConfiguration must not read as "none set".
    row = _row(
        bucket,
        supplementaryConfiguration={"BucketPolicy": bucket["supplementaryConfiguration"]["BucketPolicy"]},
    )
    fields = [
        "resourceId",
        "resourceType",
        "accountId",
        "awsRegion",
        "configuration",
        "supplementaryConfiguration.BucketPolicy",
    ]
    model = _bucket_state(_write(tmp_path / "q.json", _query(fields, [row])))
    assert model.public_access_block is None and "public_access_block" in model.unknown
    whole = _bucket_state(
        _write(tmp_path / "w.json", _query([*fields[:-1], "supplementaryConfiguration"], [row]))
    )
    assert whole.public_access_block is not None  # the whole supplement selected: absence means none set


def test_an_oversized_notification_names_where_the_item_went(tmp_path: Path) -> None:
    oversized = {
        "messageType": "OversizedConfigurationItemChangeNotification",
        "configurationItemSummary": {"resourceType": "AWS::IAM::Role", "resourceId": "AROAEXAMPLE"},
        "s3DeliverySummary": {
            "s3BucketLocation": "acme-config/AWSLogs/111122223333/Config/oversized.json.gz"
        },
    }
    path = _write(tmp_path / "sns.json", {"Type": "Notification", "Message": json.dumps(oversized)})
    with pytest.raises(ConfigDataError) as raised:
        read_file(path)
    assert str(raised.value) == (
        f"{path}: an oversized change notification for AWS::IAM::Role AROAEXAMPLE carries no item: AWS "
        "Config delivered it to acme-config/AWSLogs/111122223333/Config/oversized.json.gz; "
        "read that file instead"
    )
