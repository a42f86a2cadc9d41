"""From configuration items to an inventory of normalized resources.

Several items may describe one resource (a history file holds every change): the latest capture
wins, and a resource whose latest item says it was deleted is left out. Each item goes through
its type's mapper; a mapper that fails on a malformed item reports that item and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from controlmap.checks.registry import Inventory
from controlmap.resources.account import AwsAccount, AwsRegion, PublicAccessBlock
from controlmap.resources.base import Resource, SourceKind, SourceRef
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.coverage import Coverage, recorded_types
from controlmap.sources.config.items import ConfigItem, ItemProblem
from controlmap.sources.config.mappers import MapContext, finishers, mapped_types, mapper_for

log = logging.getLogger(__name__)

ACCOUNT_BLOCK = "AWS::S3::AccountPublicAccessBlock"
RECORDER = "AWS::Config::ConfigurationRecorder"
_OLDEST = datetime.min.replace(tzinfo=UTC)

# Normalized model type -> the AWS Config type its resources come from. A model type missing
# here is one AWS Config does not record (EBS snapshots, AMIs, key pairs, parameter groups...).
MODEL_SOURCES: dict[str, str] = {
    "AWS::S3::Bucket": "AWS::S3::Bucket",
    "AWS::IAM::User": "AWS::IAM::User",
    "AWS::IAM::Group": "AWS::IAM::Group",
    "AWS::IAM::Role": "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy": "AWS::IAM::Policy",
    "AWS::CloudTrail::Trail": "AWS::CloudTrail::Trail",
    "AWS::KMS::Key": "AWS::KMS::Key",
    "AWS::EC2::SecurityGroup": "AWS::EC2::SecurityGroup",
    "AWS::EC2::NetworkAcl": "AWS::EC2::NetworkAcl",
    "AWS::EC2::VPC": "AWS::EC2::VPC",
    "AWS::EC2::Instance": "AWS::EC2::Instance",
    "AWS::EC2::Volume": "AWS::EC2::Volume",
    "AWS::EC2::LaunchTemplate": "AWS::EC2::LaunchTemplate",
    "AWS::RDS::DBInstance": "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster": "AWS::RDS::DBCluster",
    "AWS::RDS::DBSnapshot": "AWS::RDS::DBSnapshot",
    "AWS::RDS::DBClusterSnapshot": "AWS::RDS::DBClusterSnapshot",
    "AWS::Lambda::Function": "AWS::Lambda::Function",
    "AWS::DynamoDB::Table": "AWS::DynamoDB::Table",
    "AWS::CloudFront::Distribution": "AWS::CloudFront::Distribution",
    "AWS::ApiGateway::RestApi": "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage": "AWS::ApiGateway::Stage",
    "AWS::ApiGatewayV2::Api": "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage": "AWS::ApiGatewayV2::Stage",
}


# Further AWS Config types read to complete a model: its joins (a VPC's flow logs), the documents
# of its attached policies, the key whose owner a table's encryption needs, the API a stage names.
JOINED_SOURCES: dict[str, tuple[str, ...]] = {
    "AWS::::Account": ("AWS::S3::AccountPublicAccessBlock",),
    "AWS::EC2::VPC": ("AWS::EC2::FlowLog", "AWS::EC2::VPCEndpoint", "AWS::EC2::NetworkInterface"),
    "AWS::EC2::SecurityGroup": ("AWS::EC2::NetworkInterface",),
    "AWS::EC2::Instance": ("AWS::SSM::ManagedInstanceInventory",),
    "AWS::IAM::User": ("AWS::IAM::Policy",),
    "AWS::IAM::Group": ("AWS::IAM::Policy", "AWS::IAM::User"),
    "AWS::IAM::Role": ("AWS::IAM::Policy",),
    "AWS::DynamoDB::Table": ("AWS::KMS::Key",),
    "AWS::ApiGateway::Stage": ("AWS::ApiGateway::RestApi",),
    "AWS::ApiGatewayV2::Stage": ("AWS::ApiGatewayV2::Api",),
    "AWS::RDS::DBParameterGroup": ("AWS::RDS::DBInstance",),
    "AWS::RDS::DBClusterParameterGroup": ("AWS::RDS::DBCluster",),
}


# Region-level facts that come from items of their own.
FACT_SOURCES: dict[str, str] = {"access_analyzer": "AWS::AccessAnalyzer::Analyzer"}


def config_types_for(model_types: Iterable[str], facts: Iterable[str] = ()) -> list[str]:
    """The AWS Config types to read for checks over these model types (and those they use)."""
    out: set[str] = {FACT_SOURCES[f] for f in facts if f in FACT_SOURCES}
    for model_type in model_types:
        if model_type in MODEL_SOURCES:
            out.add(MODEL_SOURCES[model_type])
        out.update(JOINED_SOURCES.get(model_type, ()))
    return sorted(out)


# AWS Config records these types, but controlmap does not read their items (yet).
RECORDED_NOT_MAPPED: frozenset[str] = frozenset()


@dataclass
class BuildResult:
    inventory: Inventory
    problems: list[ItemProblem] = field(default_factory=list)
    skipped_types: dict[str, int] = field(default_factory=dict)  # Config types with no mapper -> items
    deleted: int = 0


def latest_items(items: Iterable[ConfigItem]) -> tuple[list[ConfigItem], int]:
    """The newest item per resource, without deleted ones; and how many resources were deleted."""
    newest: dict[tuple[str, str | None, str | None, str], ConfigItem] = {}
    for item in items:
        current = newest.get(item.key)
        if current is None or (item.capture_time or _OLDEST) >= (current.capture_time or _OLDEST):
            newest[item.key] = item
    kept = [i for i in newest.values() if not i.gone]
    return kept, len(newest) - len(kept)


def build_inventory(
    items: Iterable[ConfigItem],
    coverage: Coverage | None = None,
    controls_for: Callable[[str, str], list[str]] | None = None,
    settings: object = None,
    accounts: Iterable[str] = (),
) -> BuildResult:
    current, deleted = latest_items(items)
    coverage = coverage or Coverage()
    _recorder_items(current, coverage)
    for item in current:
        coverage.present.add((item.resource_type, item.account_id, item.region))
        coverage.present.add((item.resource_type, item.account_id, None))
        if item.region is not None:
            coverage.regions.add((item.account_id, item.region))
    by_type: dict[str, list[ConfigItem]] = {}
    for item in current:
        by_type.setdefault(item.resource_type, []).append(item)
    ctx = MapContext(items=by_type, coverage=coverage, settings=settings)
    if controls_for is not None:
        ctx.controls_for = controls_for
    result = BuildResult(inventory=Inventory(), deleted=deleted)

    accounts = _accounts(current, ctx, accounts)
    seen: set[str] = set()
    # Newest first within a resource: when two items map to one resource ID, the newest is kept.
    ordered = sorted(current, key=lambda i: i.capture_time or _OLDEST, reverse=True)
    for item in sorted(ordered, key=lambda i: (i.resource_type, i.resource_id)):
        mapper = mapper_for(item.resource_type)
        if mapper is None:
            result.skipped_types[item.resource_type] = result.skipped_types.get(item.resource_type, 0) + 1
            continue
        try:
            resources = mapper(item, ctx)
        except Exception as exc:  # one malformed item must not sink the scan
            log.debug("mapping %s failed", item.where(), exc_info=True)
            ctx.item_failed(item, f"cannot read {item.resource_type}: {type(exc).__name__}: {exc}")
            continue
        for resource in resources:
            if isinstance(resource, AwsAccount):
                _merge_account(accounts, resource)
            elif resource.id not in seen:  # one resource recorded in several regions (or files)
                seen.add(resource.id)
                result.inventory.add(resource)
    for account in accounts.values():
        result.inventory.add(account)
    for region in _regions(current, ctx):
        result.inventory.add(region)
    for finish in finishers():
        try:
            finish(result.inventory, ctx)
        except Exception as exc:  # a join over malformed items must not sink the scan either
            log.debug("joining with %s failed", finish.__name__, exc_info=True)
            message = f"cannot join items ({finish.__name__}): {type(exc).__name__}: {exc}"
            ctx.problems.append(ItemProblem("aws-config data", message))
    _account_block_absence(accounts, ctx)
    result.problems += ctx.problems
    return result


def _recorder_items(items: list[ConfigItem], coverage: Coverage) -> None:
    """AWS Config records its own recorder (``AWS::Config::ConfigurationRecorder``, with its
    recording group): a snapshot that holds it shows which types its region records, so files
    get the same absence rules as a live read. A live read's own answer is kept."""
    for item in items:
        if item.resource_type != RECORDER or item.region is None:
            continue
        if (item.account_id, item.region) in coverage.recorded:
            continue
        config = fold(item.configuration)
        group = config.get("RecordingGroup")
        if not isinstance(group, dict):
            continue
        recording = config.get("Recording")
        stopped = (
            "was not recording when its item was captured" if str(recording).lower() == "false" else None
        )
        coverage.note_recorder(
            item.account_id, item.region, recorded_types({"recordingGroup": group}, mapped_types()), stopped
        )


def _accounts(items: list[ConfigItem], ctx: MapContext, known: Iterable[str]) -> dict[str, AwsAccount]:
    out: dict[str, AwsAccount] = {}
    for account_id in sorted({i.account_id for i in items if i.account_id} | set(known)):
        account = AwsAccount(
            id=f"arn:aws:::account/{account_id}",
            name=account_id,
            account_id=account_id,
            source=SourceRef(kind=SourceKind.AWS_CONFIG),
        )
        ctx.not_recorded(
            account, ["root"], "the root user (MFA, access keys, last use: the IAM credential report)"
        )
        ctx.not_recorded(
            account, ["password_policy", "password_policy_present"], "the IAM account password policy"
        )
        out[account_id] = account
    return out


def _merge_account(accounts: dict[str, AwsAccount], partial: AwsAccount) -> None:
    target = accounts.get(partial.account_id or "")
    if target is not None and partial.s3_public_access_block is not None:
        target.s3_public_access_block = partial.s3_public_access_block


def _account_block_absence(accounts: dict[str, AwsAccount], ctx: MapContext) -> None:
    for account_id, account in accounts.items():
        if account.s3_public_access_block is not None:
            continue
        if ctx.coverage.knows_absence_in_account(ACCOUNT_BLOCK, account_id):
            account.s3_public_access_block = PublicAccessBlock()  # recorded type, no item: none set
        else:
            account.mark_unknown(
                "s3_public_access_block", ctx.coverage.why_unknown_in_account(ACCOUNT_BLOCK, account_id)
            )


def _regions(items: list[ConfigItem], ctx: MapContext) -> list[Resource]:
    out: list[Resource] = []
    for account_id, region in sorted({(i.account_id, i.region) for i in items if i.account_id and i.region}):
        model = AwsRegion(
            id=f"arn:aws:::region/{account_id}/{region}",
            name=region,
            account_id=account_id,
            region=region,
            source=SourceRef(kind=SourceKind.AWS_CONFIG),
        )
        ctx.not_recorded(model, ["ebs_encryption_by_default"], "EBS encryption by default")
        ctx.not_recorded(model, ["macie_enabled"], "whether Amazon Macie is enabled")
        out.append(model)
    return out
