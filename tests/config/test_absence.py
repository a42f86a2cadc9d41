"""What the data can show is absent: recorders per region, failed reads, several accounts, bad items.

A false NOT_APPLICABLE ("there is none") is the worst answer an auditor can get from Config data:
these tests pin down when "none" is said, and what is said instead (UNKNOWN with the reason, or
ERROR when a read failed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import config_samples as samples
import pytest
from config_helpers import build, start_recorder
from test_live import FakeConfigItems
from typer.testing import CliRunner

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.cli.app import app
from controlmap.demo.fakes import error_response, json_response
from controlmap.findings.model import Finding
from controlmap.resources.ec2 import SecurityGroup, Vpc
from controlmap.resources.iam import IamGroup
from controlmap.settings import Settings
from controlmap.sources.config import live
from controlmap.sources.config.items import parse_items
from controlmap.sources.config.live import LiveConfigOptions, read_config, recorded_types
from controlmap.sources.config.scan import ConfigData, run_config_scan

ACCOUNT = "123456789012"  # moto's
OTHER = "444455556666"


def _scan(data: ConfigData, *control_ids: str) -> list[Finding]:
    catalog = load_catalog()
    controls = [c for c in (catalog.get(i) for i in control_ids) if c is not None]
    result, _built = run_config_scan(data, catalog, Settings(), controls)
    return result.findings


def _of(findings: list[Finding], check_id: str, account: str | None = None) -> list[Finding]:
    return [f for f in findings if f.check_id == check_id and (account is None or f.account_id == account)]


EVERYTHING = {"allSupported": True, "includeGlobalResourceTypes": True}


# ---- live: recorders per region ------------------------------------------------------------------


def test_a_region_without_recorder_keeps_none_from_being_claimed(
    aws: Any, aws_session: boto3.Session
) -> None:
    start_recorder(aws_session, "us-east-1", EVERYTHING)
    data = read_config(LiveConfigOptions(regions=["us-east-1", "eu-west-1"]))
    [kms] = _of(_scan(data, "KMS-01"), "kms_key_rotation_enabled")
    # No key in us-east-1 proves nothing about eu-west-1, where nothing is recorded.
    assert kms.status is Status.UNKNOWN
    assert "AWS::KMS::Key in 123456789012/eu-west-1 (no configuration recorder)" in kms.reason


def test_none_when_every_scanned_region_records_the_type(aws: Any, aws_session: boto3.Session) -> None:
    for region in ("us-east-1", "eu-west-1"):
        start_recorder(aws_session, region, EVERYTHING)
    data = read_config(LiveConfigOptions(regions=["us-east-1", "eu-west-1"]))
    [kms] = _of(_scan(data, "KMS-01"), "kms_key_rotation_enabled")
    assert kms.status is Status.NOT_APPLICABLE and "no AWS::KMS::Key configuration items" in kms.reason


def test_recorded_account_block_with_no_item_is_none_set(aws: Any, aws_session: boto3.Session) -> None:
    aws_session.client("s3").create_bucket(Bucket="acme-open")
    start_recorder(aws_session, "us-east-1", EVERYTHING)
    data = read_config(LiveConfigOptions(regions=["us-east-1"]))
    findings = _scan(data, "S3-01")
    account = next(f for f in findings if f.resource_type == "AWS::::Account" and f.check_id)
    assert account.status is Status.FAIL and "account-level Block Public Access" in account.reason
    bucket = next(f for f in findings if f.resource_name == "acme-open")
    assert bucket.status is Status.FAIL and "at both bucket and account level" in bucket.reason


def test_a_denied_listing_is_an_error_not_none(aws: Any, aws_session: boto3.Session) -> None:
    start_recorder(aws_session, "us-east-1", EVERYTHING)
    fake = FakeConfigItems([_in_account(samples.vpc(), ACCOUNT)], denied_types=frozenset({"AWS::KMS::Key"}))
    data = read_config(LiveConfigOptions(regions=["us-east-1"], client_hooks=[fake.install]))
    [kms] = _of(_scan(data, "KMS-01"), "kms_key_rotation_enabled")
    assert kms.status is Status.ERROR and kms.error_code == "AccessDeniedException"
    assert kms.resource_name == "all AWS::KMS::Key in 123456789012/us-east-1"
    assert "config:ListDiscoveredResources failed with AccessDeniedException" in kms.reason


def _deny_batch_for(resource_type: str) -> Any:
    def install(client: Any) -> None:
        if client.meta.service_model.service_name != "config":
            return

        def deny(request: Any, **_: Any) -> Any:
            keys = json.loads(request.body or b"{}").get("resourceKeys", [])
            if any(k["resourceType"] == resource_type for k in keys):
                return error_response(request.url, "ThrottlingException", "Rate exceeded", 400)
            return None

        client.meta.events.register("before-send.config-service.BatchGetResourceConfig", deny)

    return install


def test_a_failed_batch_is_an_error_finding_beside_the_resources_read(
    aws: Any, aws_session: boto3.Session
) -> None:
    aws_session.client("s3").create_bucket(Bucket="acme-unread")
    start_recorder(aws_session, "us-east-1", EVERYTHING)
    options = LiveConfigOptions(regions=["us-east-1"], client_hooks=[_deny_batch_for("AWS::S3::Bucket")])
    data = read_config(options)
    errors = [
        f for f in _of(_scan(data, "S3-05"), "s3_bucket_versioning_enabled") if f.status is Status.ERROR
    ]
    assert errors and errors[0].resource_name == "all AWS::S3::Bucket in 123456789012/us-east-1"
    assert errors[0].error_code == "ThrottlingException"
    assert not any(
        f.status is Status.NOT_APPLICABLE for f in _of(_scan(data, "S3-05"), "s3_bucket_versioning_enabled")
    )


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        # AWS leaves the global IAM types out of "all supported" unless they are asked for.
        (
            {"allSupported": True, "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}},
            {"AWS::S3::Bucket", "AWS::KMS::Key"},
        ),
        ({"allSupported": True}, {"AWS::S3::Bucket", "AWS::KMS::Key"}),
        (
            {
                "allSupported": True,
                "includeGlobalResourceTypes": True,
                "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"},
            },
            {"AWS::S3::Bucket", "AWS::IAM::Role", "AWS::KMS::Key"},
        ),
        # The exclusion strategy records the IAM types unless they are excluded, whatever the flag.
        (
            {
                "allSupported": False,
                "includeGlobalResourceTypes": False,
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::KMS::Key"]},
            },
            {"AWS::S3::Bucket", "AWS::IAM::Role"},
        ),
    ],
)
def test_recording_strategies(group: dict[str, Any], expected: set[str]) -> None:
    types = ["AWS::S3::Bucket", "AWS::IAM::Role", "AWS::KMS::Key"]
    assert recorded_types({"recordingGroup": group}, types) == expected


# ---- live: calls ------------------------------------------------------------------------------------


class _ListingsByType:
    def __init__(self) -> None:
        self.types: list[str] = []

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name == "config":
            client.meta.events.register("before-send.config-service.ListDiscoveredResources", self._seen)

    def _seen(self, request: Any, **_: Any) -> None:
        self.types.append(json.loads(request.body or b"{}")["resourceType"])


def test_global_types_are_listed_once(aws: Any, aws_session: boto3.Session) -> None:
    for region in ("us-east-1", "eu-west-1"):
        start_recorder(aws_session, region, EVERYTHING)
    seen = _ListingsByType()
    read_config(
        LiveConfigOptions(
            regions=["us-east-1", "eu-west-1"],
            resource_types=["AWS::IAM::Role", "AWS::S3::Bucket", "AWS::CloudFront::Distribution"],
            client_hooks=[seen.install],
        )
    )
    # Listed once: the IAM role (global) and CloudFront (us-east-1 only); buckets in each region.
    assert sorted(seen.types) == [
        "AWS::CloudFront::Distribution",
        "AWS::IAM::Role",
        "AWS::S3::Bucket",
        "AWS::S3::Bucket",
    ]


# ---- several accounts, bad items (files) ----------------------------------------------------------


def _in_account(item: dict[str, Any], account: str) -> dict[str, Any]:
    return json.loads(json.dumps(item).replace(samples.ACCOUNT, account))


def test_each_account_gets_its_own_verdict() -> None:
    items = [
        samples.db_instance("orders-db-1", public=True, encrypted=False, backup_days=0),
        _in_account(samples.bucket_compliant("acme-other-account"), OTHER),
    ]
    parsed, _problems = parse_items(items, "org-snapshot.json")
    findings = _scan(ConfigData(items=parsed, sources=["org-snapshot.json"]), "RDS-03")
    public = _of(findings, "rds_instance_not_publicly_accessible")
    assert {(f.account_id, f.status) for f in public} == {
        (samples.ACCOUNT, Status.FAIL),
        (OTHER, Status.UNKNOWN),  # the other account's data shows no RDS item, so nothing is known
    }
    other = next(f for f in public if f.account_id == OTHER)
    assert "no AWS::RDS::DBInstance configuration items for account 444455556666" in other.reason


def test_an_unreadable_item_is_an_error_finding_and_never_none() -> None:
    broken = samples.lambda_function("orders-fn")
    broken["configuration"]["vpcConfig"] = "subnet-0c1d2e3f4a5b6c7d8"  # not the recorded shape
    parsed, _problems = parse_items([broken], "snapshot.json")
    findings = _of(_scan(ConfigData(items=parsed), "LAMBDA-02"), "lambda_function_in_vpc")
    assert [(f.status, f.resource_name) for f in findings] == [(Status.ERROR, "orders-fn")]
    assert "snapshot.json: item 0 (orders-fn): cannot read AWS::Lambda::Function" in findings[0].reason


def test_an_unreadable_joined_item_is_reported_and_leaves_its_facts_unknown() -> None:
    eni = samples.network_interface("eni-0a1b2c3d4e5f60718", "sg-0123456789abcdef0", "i-0abc1234def567890")
    eni["configuration"]["attachment"] = "attached"  # a string where the item holds an object
    built = build(
        [
            eni,
            samples.security_group("sg-0123456789abcdef0", "web", [samples.ssh_from_world()]),
            samples.vpc(),
        ]
    )
    assert [p.detail() for p in built.problems] == [
        "item 0 (eni-0a1b2c3d4e5f60718): cannot read AWS::EC2::NetworkInterface: "
        "AttributeError: 'str' object has no attribute 'get'"
    ]
    [group] = built.inventory.of_type(SecurityGroup)
    [vpc] = built.inventory.of_type(Vpc)
    assert (
        group.attachments is None
        and "reading AWS::EC2::NetworkInterface failed" in group.unknown["attachments"]
    )
    assert vpc.interface_count is None and "interface_count" in vpc.unknown


def test_group_members_are_not_taken_from_another_accounts_users() -> None:
    user = samples.iam_user("alice", "AIDAEXAMPLEALICE00001", groups=["admins"])
    group = _in_account(samples.iam_group("admins", "AGPAEXAMPLEADMINS0001", []), OTHER)
    built = build([user, group])
    [model] = built.inventory.of_type(IamGroup)
    assert model.members is None and "members" in model.unknown


def test_services_limit_the_types_listed(
    aws: Any, aws_session: boto3.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_recorder(aws_session, "us-east-1", EVERYTHING)
    seen = _ListingsByType()
    factory = live.ClientFactory
    monkeypatch.setattr(
        live,
        "ClientFactory",
        lambda session, client_hooks=(): factory(session, client_hooks=[*client_hooks, seen.install]),
    )
    out = tmp_path / "s3.json"
    args = ["scan", "config", "--from-aws", "--regions", "us-east-1", "--services", "s3", "--no-store"]
    result = CliRunner().invoke(app, [*args, "-o", "json", "--output-file", str(out)])
    assert result.exit_code in (0, 1), result.output
    # S3-01..S3-08 read buckets and the account block, and S3-03 the KMS keys (to tell a
    # customer managed key from aws/s3); nothing else is listed.
    assert sorted(seen.types) == ["AWS::KMS::Key", "AWS::S3::AccountPublicAccessBlock", "AWS::S3::Bucket"]
    assert json.loads(out.read_text())["api_calls"]["config:ListDiscoveredResources"] == 3


def test_aggregated_tags_stay_with_their_account() -> None:
    table = samples.as_api_item(samples.dynamodb_table("orders", key_arn=None, pitr=True), with_tags=False)
    other = _in_account(table, OTHER)
    items, _problems = parse_items([table, other], "aws-config aggregator org")
    rows = [
        json.dumps(
            {
                "resourceId": "orders",
                "resourceType": "AWS::DynamoDB::Table",
                "accountId": account,
                "awsRegion": samples.REGION,
                "tags": [{"key": "team", "value": team}],
            }
        )
        for account, team in ((samples.ACCOUNT, "ledger"), (OTHER, "catalog"))
    ]

    class Rows(live._Reader):
        def __init__(self) -> None:
            pass

        def pages(self, *_: Any, **__: Any) -> list[Any]:
            return rows

    Rows().tags(live._Scope("us-east-1"), items, ["AWS::DynamoDB::Table"], aggregator="org")
    assert {i.account_id: i.tags for i in items} == {
        samples.ACCOUNT: {"team": "ledger"},
        OTHER: {"team": "catalog"},
    }


def test_a_stopped_recorder_shows_its_items_but_not_absence(aws: Any, aws_session: boto3.Session) -> None:
    aws_session.client("s3").create_bucket(Bucket="acme-before-the-stop")
    start_recorder(aws_session, "us-east-1", EVERYTHING, recording=False)
    data = read_config(LiveConfigOptions(regions=["us-east-1"]))
    assert [p.code for p in data.problems] == ["RecorderStopped"]
    assert "is not recording" in data.problems[0].message
    findings = _scan(data, "S3-02", "KMS-01")
    assert any(f.resource_name == "acme-before-the-stop" for f in findings)  # still read
    [kms] = _of(findings, "kms_key_rotation_enabled")
    assert kms.status is Status.UNKNOWN and "(the recorder is not recording)" in kms.reason


def test_a_batch_carries_keys_of_several_types(aws: Any, aws_session: boto3.Session) -> None:
    s3 = aws_session.client("s3")
    for i in range(120):
        s3.create_bucket(Bucket=f"acme-batch-{i:03d}")
    aws_session.client("iam").create_role(RoleName="worker", AssumeRolePolicyDocument="{}")
    start_recorder(aws_session, "us-east-1", EVERYTHING)
    data = read_config(
        LiveConfigOptions(regions=["us-east-1"], resource_types=["AWS::IAM::Role", "AWS::S3::Bucket"])
    )
    assert len(data.items) == 121 and data.problems == []
    assert data.api_calls["config:BatchGetResourceConfig"] == 2  # 121 keys, at most 100 a call


def test_an_account_with_only_global_items_gets_its_region_verdicts_too() -> None:
    items = [samples.vpc(), _in_account(samples.iam_user("bob", "AIDAEXAMPLEBOB0000002"), OTHER)]
    parsed, _problems = parse_items(items, "org-snapshot.json")
    findings = _of(_scan(ConfigData(items=parsed), "IAM-07"), "iam_access_analyzer_enabled")
    assert {f.account_id: f.status for f in findings} == {
        samples.ACCOUNT: Status.UNKNOWN,
        OTHER: Status.UNKNOWN,
    }
    other = next(f for f in findings if f.account_id == OTHER)
    assert "no regional configuration items for account 444455556666" in other.reason


def test_an_unreadable_recorder_status_proves_no_absence(aws: Any, aws_session: boto3.Session) -> None:
    start_recorder(aws_session, "us-east-1", EVERYTHING)

    def deny_status(client: Any) -> None:
        if client.meta.service_model.service_name == "config":
            client.meta.events.register(
                "before-send.config-service.DescribeConfigurationRecorderStatus",
                lambda request, **_: error_response(request.url, "AccessDeniedException", "denied", 400),
            )

    data = read_config(LiveConfigOptions(regions=["us-east-1"], client_hooks=[deny_status]))
    assert [p.code for p in data.problems] == ["AccessDeniedException"]
    [kms] = _of(_scan(data, "KMS-01"), "kms_key_rotation_enabled")
    assert kms.status is Status.UNKNOWN and "(the recorder status could not be read)" in kms.reason


def _recorder_item(group: dict[str, Any], *, recording: bool = True) -> dict[str, Any]:
    """AWS Config's item for its own recorder (CloudFormation-shaped, as the schema has it)."""
    return samples.item(
        "AWS::Config::ConfigurationRecorder",
        "default",
        {
            "Name": "default",
            "RoleARN": f"arn:aws:iam::{samples.ACCOUNT}:role/aws-config-role",
            "RecordingGroup": group,
            "RecordingMode": {"RecordingFrequency": "CONTINUOUS"},
            "Recording": recording,
        },
        arn=f"arn:aws:config:{samples.REGION}:{samples.ACCOUNT}:config-recorder/default",
    )


ALL_SUPPORTED = {
    "AllSupported": True,
    "IncludeGlobalResourceTypes": True,
    "ResourceTypes": [],
    "ExclusionByResourceTypes": {"ResourceTypes": []},
    "RecordingStrategy": {"UseOnly": "ALL_SUPPORTED_RESOURCE_TYPES"},
}


def _snapshot_scan(items: list[dict[str, Any]], *control_ids: str) -> list[Finding]:
    parsed, problems = parse_items(items, "ConfigSnapshot.json")
    assert problems == []
    return _scan(ConfigData(items=parsed), *control_ids)


def test_a_snapshot_with_its_recorder_item_gets_verdicts_for_absence() -> None:
    findings = _snapshot_scan([_recorder_item(ALL_SUPPORTED), samples.vpc()], "EC2-08", "KMS-01", "IAM-07")
    [flow] = _of(findings, "ec2_vpc_flow_logs_enabled")
    assert flow.status is Status.FAIL  # the recorder records flow logs and the data holds none
    [kms] = _of(findings, "kms_key_rotation_enabled")
    assert kms.status is Status.NOT_APPLICABLE
    [analyzer] = _of(findings, "iam_access_analyzer_enabled")
    assert analyzer.status is Status.FAIL


def test_a_recorder_item_that_leaves_a_type_out_or_is_not_recording() -> None:
    only_vpcs = {
        "AllSupported": False,
        "ResourceTypes": ["AWS::EC2::VPC"],
        "RecordingStrategy": {"UseOnly": "INCLUSION_BY_RESOURCE_TYPES"},
    }
    [flow] = _of(
        _snapshot_scan([_recorder_item(only_vpcs), samples.vpc()], "EC2-08"), "ec2_vpc_flow_logs_enabled"
    )
    assert flow.status is Status.UNKNOWN
    assert (
        "the configuration recorder in 111122223333/eu-west-1 does not record AWS::EC2::FlowLog"
        in flow.reason
    )
    stopped = _snapshot_scan([_recorder_item(ALL_SUPPORTED, recording=False), samples.vpc()], "EC2-08")
    [flow] = _of(stopped, "ec2_vpc_flow_logs_enabled")
    assert flow.status is Status.UNKNOWN and "was not recording when its item was captured" in flow.reason


def test_a_region_whose_recording_group_is_not_known_keeps_none_from_being_claimed() -> None:
    other_region = json.loads(json.dumps(samples.vpc()).replace(samples.REGION, "eu-central-1"))
    findings = _snapshot_scan([_recorder_item(ALL_SUPPORTED), other_region], "KMS-01")
    [kms] = _of(findings, "kms_key_rotation_enabled")
    assert kms.status is Status.UNKNOWN
    assert "111122223333/eu-central-1 (recording group not known)" in kms.reason


def test_a_denied_recorder_description_keeps_none_from_being_claimed(
    aws: Any, aws_session: boto3.Session
) -> None:
    for region in ("us-east-1", "eu-west-1"):
        start_recorder(aws_session, region, EVERYTHING)

    def deny_in_eu(client: Any) -> None:
        if client.meta.service_model.service_name == "config" and client.meta.region_name == "eu-west-1":
            client.meta.events.register(
                "before-send.config-service.DescribeConfigurationRecorders",
                lambda request, **_: error_response(request.url, "AccessDeniedException", "denied", 400),
            )

    data = read_config(LiveConfigOptions(regions=["us-east-1", "eu-west-1"], client_hooks=[deny_in_eu]))
    [kms] = _of(_scan(data, "KMS-01"), "kms_key_rotation_enabled")
    assert kms.status is Status.UNKNOWN and "123456789012/eu-west-1 (recording group not known)" in kms.reason


class _FakeAggregator:
    """An aggregator holding a source account's recorder item and a VPC (moto has neither)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name != "config":
            return
        events = client.meta.events
        events.register("before-send.config-service.ListAggregateDiscoveredResources", self._list)
        events.register("before-send.config-service.BatchGetAggregateResourceConfig", self._batch)
        events.register(
            "before-send.config-service.SelectAggregateResourceConfig",
            lambda request, **_: json_response(request.url, {"Results": []}),
        )

    def _list(self, request: Any, **_: Any) -> Any:
        wanted = json.loads(request.body)["ResourceType"]
        found = [
            {
                "SourceAccountId": i["awsAccountId"],
                "SourceRegion": i["awsRegion"],
                "ResourceId": i["resourceId"],
                "ResourceType": i["resourceType"],
            }
            for i in self.items
            if i["resourceType"] == wanted
        ]
        return json_response(request.url, {"ResourceIdentifiers": found})

    def _batch(self, request: Any, **_: Any) -> Any:
        keys = {(k["ResourceType"], k["ResourceId"]) for k in json.loads(request.body)["ResourceIdentifiers"]}
        found = [samples.as_api_item(i) for i in self.items if (i["resourceType"], i["resourceId"]) in keys]
        return json_response(
            request.url, {"BaseConfigurationItems": found, "UnprocessedResourceIdentifiers": []}
        )


def test_an_aggregator_reads_the_source_accounts_recorders(aws: Any) -> None:
    fake = _FakeAggregator([_recorder_item(ALL_SUPPORTED), samples.vpc()])
    data = read_config(
        LiveConfigOptions(
            aggregator="org",
            resource_types=["AWS::EC2::VPC", "AWS::EC2::FlowLog"],
            client_hooks=[fake.install],
        )
    )
    [flow] = _of(_scan(data, "EC2-08"), "ec2_vpc_flow_logs_enabled")
    assert flow.status is Status.FAIL and flow.account_id == samples.ACCOUNT
