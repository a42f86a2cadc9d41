"""``--from-aws``: AWS Config read through the read-only client factory, against moto server.

moto implements AWS Config for S3 buckets, the account public access block, IAM roles and
customer managed policies; the EC2 and RDS items it lacks come from a botocore-level fake that
answers ListDiscoveredResources / BatchGetResourceConfig with recorded items, after the
read-only guard and the call counter have run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import config_samples as samples
import pytest
from config_helpers import start_recorder
from typer.testing import CliRunner

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.cli.app import app
from controlmap.demo.fakes import error_response, json_response
from controlmap.resources.ec2 import SecurityGroup
from controlmap.resources.iam import IamRole
from controlmap.resources.s3 import S3Bucket
from controlmap.settings import Settings
from controlmap.sources.config.live import AggregatorNotFound, LiveConfigOptions, read_config, recorded_types
from controlmap.sources.config.scan import run_config_scan

PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::acme-live-site/*",
        }
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class FakeConfigItems:
    """Answers AWS Config listings for resource types moto does not record, from delivered items."""

    def __init__(self, items: list[dict[str, Any]], denied_types: frozenset[str] = frozenset()) -> None:
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            self.by_type.setdefault(item["resourceType"], []).append(item)
        self.denied_types = denied_types

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name != "config":
            return
        events = client.meta.events
        events.register("before-send.config-service.ListDiscoveredResources", self._respond(self._list))
        events.register("before-send.config-service.BatchGetResourceConfig", self._respond(self._batch))
        events.register("before-send.config-service.SelectResourceConfig", self._select)

    def _select(self, request: Any, **_: Any) -> Any:
        """Tags of the fake's resources, as the advanced query returns them (JSON text per row)."""
        rows = [
            json.dumps(
                {
                    "resourceId": i["resourceId"],
                    "resourceType": i["resourceType"],
                    "accountId": samples.ACCOUNT,
                    "awsRegion": samples.REGION,
                    "tags": [{"key": k, "value": v, "tag": f"{k}={v}"} for k, v in i["tags"].items()],
                }
            )
            for items in self.by_type.values()
            for i in items
        ]
        return json_response(
            request.url, {"Results": rows, "QueryInfo": {"SelectFields": [{"Name": "tags"}]}}
        )

    def _respond(self, answer: Callable[[dict[str, Any], Any], dict[str, Any] | None]) -> Callable[..., Any]:
        def handler(request: Any, **_: Any) -> Any:
            body = json.loads(request.body or b"{}")
            types = {body.get("resourceType")} | {k["resourceType"] for k in body.get("resourceKeys", [])}
            if types & self.denied_types:
                return error_response(
                    request.url, "AccessDeniedException", "not authorized to read config", 400
                )
            if not types & set(self.by_type):
                return None  # moto answers the types it records
            payload = answer(body, request)
            return json_response(request.url, payload) if payload is not None else None

        return handler

    def _list(self, body: dict[str, Any], _request: Any) -> dict[str, Any]:
        items = self.by_type[body["resourceType"]]
        return {
            "resourceIdentifiers": [
                {
                    "resourceType": i["resourceType"],
                    "resourceId": i["resourceId"],
                    "resourceName": i["resourceName"],
                }
                for i in items
            ]
        }

    def _batch(self, body: dict[str, Any], request: Any) -> dict[str, Any]:
        wanted = {(k["resourceType"], k["resourceId"]) for k in body["resourceKeys"]}
        found = [
            samples.as_api_item(i, with_tags=False)
            for items in self.by_type.values()
            for i in items
            if (i["resourceType"], i["resourceId"]) in wanted
        ]
        # A batch mixes types: the keys of the types moto records are answered by moto itself.
        others = [k for k in body["resourceKeys"] if k["resourceType"] not in self.by_type]
        if others:
            # The signing scope names the region: Credential=<key>/<date>/<region>/config/aws4_request
            region = str(request.headers.get("Authorization", b"")).split("/")[2]
            moto = boto3.client("config", region_name=region, endpoint_url=request.url.rstrip("/"))
            found += moto.batch_get_resource_config(resourceKeys=others)["baseConfigurationItems"]
        return {"baseConfigurationItems": found, "unprocessedResourceKeys": []}


def _seed(session: boto3.Session) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="acme-live-site")
    s3.put_bucket_policy(Bucket="acme-live-site", Policy=json.dumps(PUBLIC_POLICY))
    s3.create_bucket(Bucket="acme-live-ledger")
    s3.put_public_access_block(
        Bucket="acme-live-ledger",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    iam = session.client("iam")
    iam.create_role(RoleName="batch-worker", AssumeRolePolicyDocument=json.dumps(TRUST))
    arn = iam.create_policy(PolicyName="legacy-everything", PolicyDocument=json.dumps(EVERYTHING))["Policy"][
        "Arn"
    ]
    iam.attach_role_policy(RoleName="batch-worker", PolicyArn=arn)


def test_reads_moto_config_and_the_shared_checks_judge_it(aws: Any, aws_session: boto3.Session) -> None:
    _seed(aws_session)
    start_recorder(aws_session, "us-east-1", {"allSupported": True, "includeGlobalResourceTypes": True})
    web = samples.security_group("sg-0123456789abcdef0", "web", [samples.ssh_from_world()])
    web["tags"] = {"team": "payments", "environment": "prod"}
    fake = FakeConfigItems([web])
    data = read_config(LiveConfigOptions(regions=["us-east-1"], client_hooks=[fake.install]))
    assert data.problems == []
    types = {i.resource_type for i in data.items}
    assert {"AWS::S3::Bucket", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::EC2::SecurityGroup"} <= types
    # Only reads, all counted: recorder once, a listing per mapped type, batches of at most 100.
    assert set(data.api_calls) <= {
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
        "config:ListDiscoveredResources",
        "config:BatchGetResourceConfig",
        "config:SelectResourceConfig",
        "sts:GetCallerIdentity",
    }
    assert data.api_calls["config:DescribeConfigurationRecorders"] == 1

    catalog = load_catalog()
    controls = [catalog.get(c) for c in ("S3-01", "S3-02", "IAM-03", "EC2-01", "RDS-01")]
    result, built = run_config_scan(data, catalog, Settings(), [c for c in controls if c is not None])
    assert result.kind == "aws-config" and result.complete
    buckets = {b.name: b for b in built.inventory.of_type(S3Bucket)}
    assert set(buckets) == {"acme-live-site", "acme-live-ledger"}
    by_check = {(f.check_id, f.resource_name): f for f in result.findings}
    assert by_check[("s3_bucket_policy_not_public", "acme-live-site")].status is Status.FAIL
    assert by_check[("s3_bucket_policy_not_public", "acme-live-ledger")].status is Status.PASS
    [role] = built.inventory.of_type(IamRole)
    assert role.attached_policies and role.attached_policies[0].document is not None
    assert by_check[("iam_role_no_admin_access", "batch-worker")].status is Status.FAIL
    assert by_check[("ec2_security_group_no_world_admin_ingress", "web")].status is Status.FAIL
    [group] = built.inventory.of_type(SecurityGroup)
    assert group.tags == {
        "team": "payments",
        "environment": "prod",
    }  # batch answers have none: the query adds them
    assert data.api_calls["config:SelectResourceConfig"] == 1
    # The recorder records RDS instances and none came back: not applicable, and the reason says why.
    rds = by_check[("rds_instance_storage_encrypted", "123456789012")]
    assert rds.status is Status.NOT_APPLICABLE and "no AWS::RDS::DBInstance configuration items" in rds.reason


def test_recording_group_limits_what_absence_proves(aws: Any, aws_session: boto3.Session) -> None:
    _seed(aws_session)
    start_recorder(
        aws_session,
        "us-east-1",
        {"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]},
    )
    data = read_config(LiveConfigOptions(regions=["us-east-1"]))
    assert {i.resource_type for i in data.items} == {"AWS::S3::Bucket"}
    assert data.api_calls["config:ListDiscoveredResources"] == 1  # only the recorded type is listed
    catalog = load_catalog()
    controls = [c for c in (catalog.get("RDS-01"), catalog.get("IAM-03")) if c is not None]
    result, _built = run_config_scan(data, catalog, Settings(), controls)
    rds = next(f for f in result.findings if f.check_id == "rds_instance_storage_encrypted")
    assert rds.status is Status.UNKNOWN
    assert "AWS Config does not record AWS::RDS::DBInstance in 123456789012/us-east-1," in rds.reason
    iam = next(f for f in result.findings if f.check_id == "iam_role_no_admin_access")
    assert iam.status is Status.UNKNOWN


def test_region_without_recorder_and_denied_listing_are_reported(
    aws: Any, aws_session: boto3.Session
) -> None:
    _seed(aws_session)
    start_recorder(aws_session, "us-east-1", {"allSupported": True, "includeGlobalResourceTypes": True})
    fake = FakeConfigItems([samples.vpc()], denied_types=frozenset({"AWS::KMS::Key"}))
    data = read_config(LiveConfigOptions(regions=["us-east-1", "eu-west-1"], client_hooks=[fake.install]))
    messages = [p.describe() for p in data.problems]
    assert (
        "aws-config:eu-west-1: no configuration recorder in this region: AWS Config records nothing here"
        in messages
    )
    denied = [p for p in data.problems if p.code == "AccessDeniedException"]
    assert (
        len(denied) == 1
        and "config:ListDiscoveredResources failed with AccessDeniedException" in denied[0].message
    )
    assert {i.resource_type for i in data.items} >= {"AWS::S3::Bucket", "AWS::EC2::VPC"}  # the rest was read


def test_aggregator(aws: Any, aws_session: boto3.Session) -> None:
    _seed(aws_session)
    config = aws_session.client("config")
    config.put_configuration_aggregator(
        ConfigurationAggregatorName="org",
        AccountAggregationSources=[{"AccountIds": ["123456789012"], "AllAwsRegions": True}],
    )
    data = read_config(LiveConfigOptions(aggregator="org", resource_types=["AWS::S3::Bucket"]))
    assert sorted(i.resource_id for i in data.items) == ["acme-live-ledger", "acme-live-site"]
    assert set(data.api_calls) == {
        "config:ListAggregateDiscoveredResources",
        "config:BatchGetAggregateResourceConfig",
        "config:SelectAggregateResourceConfig",  # the tags batch answers leave out
    }
    assert data.sources == ["aws-config aggregator org"]


def test_unknown_aggregator_is_a_usage_error_not_an_empty_pass(aws: Any) -> None:
    with pytest.raises(AggregatorNotFound, match="no configuration aggregator named 'missing' in us-east-1"):
        read_config(
            LiveConfigOptions(aggregator="missing", resource_types=["AWS::S3::Bucket", "AWS::KMS::Key"])
        )
    # On the command line: one message and exit code 2 (it was 30 warnings, no findings and exit 0).
    result = CliRunner().invoke(
        app, ["scan", "config", "--from-aws", "--aggregator", "missing", "--no-store"]
    )
    assert result.exit_code == 2
    assert result.output.count("no configuration aggregator named 'missing'") == 1
    assert "warning" not in result.output


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ({"allSupported": True, "includeGlobalResourceTypes": True}, {"AWS::S3::Bucket", "AWS::IAM::Role"}),
        ({"allSupported": True, "includeGlobalResourceTypes": False}, {"AWS::S3::Bucket"}),
        ({"allSupported": False, "resourceTypes": ["AWS::IAM::Role"]}, {"AWS::IAM::Role"}),
        (
            {
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::IAM::Role"]},
            },
            {"AWS::S3::Bucket"},
        ),
    ],
)
def test_recorded_types(group: dict[str, Any], expected: set[str]) -> None:
    assert recorded_types({"recordingGroup": group}, ["AWS::S3::Bucket", "AWS::IAM::Role"]) == expected


def test_progress_is_reported_per_type_and_region(aws: Any, aws_session: boto3.Session) -> None:
    start_recorder(aws_session, "us-east-1", {"allSupported": True, "includeGlobalResourceTypes": True})
    steps: list[tuple[str, int, int]] = []
    read_config(
        LiveConfigOptions(
            regions=["us-east-1", "eu-west-1"], resource_types=["AWS::S3::Bucket", "AWS::KMS::Key"]
        ),
        lambda what, done, total: steps.append((what, done, total)),
    )
    assert {total for _what, _done, total in steps} == {4}
    assert [done for _what, done, _total in steps] == sorted(done for _what, done, _total in steps)
    assert steps[-1][1:] == (4, 4)
    assert any(what == "config eu-west-1: no recorder" for what, _done, _total in steps)
    assert any(what == "config us-east-1: AWS::KMS::Key" for what, _done, _total in steps)
