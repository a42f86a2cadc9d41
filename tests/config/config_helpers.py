"""Helpers for the AWS Config source tests: build an inventory from items and run one check."""

from __future__ import annotations

from typing import Any

import boto3

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import CheckContext, FactUnavailable, Inventory, Outcome, registry
from controlmap.settings import Settings
from controlmap.sources.config.build import BuildResult, build_inventory
from controlmap.sources.config.items import parse_items
from controlmap.sources.config.scan import controls_reader


def build(items: list[dict[str, Any]], source: str = "snapshot.json") -> BuildResult:
    parsed, problems = parse_items(items, source)
    assert problems == []
    return build_inventory(parsed, controls_for=controls_reader(load_catalog()))


def run_check(inventory: Inventory, check_id: str) -> dict[str, list[Outcome]]:
    """Outcomes of one check per resource name, with the engine's handling of missing facts."""
    spec = registry()[check_id]
    ctx = CheckContext(inventory=inventory, settings=Settings())
    out: dict[str, list[Outcome]] = {}
    for resource in inventory.of_type(spec.model):
        try:
            result = spec.func(resource, ctx)
            outcomes = [result] if isinstance(result, Outcome) else list(result)
        except FactUnavailable as missing:
            outcomes = [missing.outcome]
        out.setdefault(resource.name, []).extend(outcomes)
    return out


def statuses(inventory: Inventory, check_id: str) -> dict[str, str]:
    """One status per resource (the worst of its outcomes is enough for these tests)."""
    order = ["ERROR", "FAIL", "UNKNOWN", "PASS", "MANUAL", "NOT_APPLICABLE"]
    return {
        name: min((o.status.value for o in outcomes), key=order.index)
        for name, outcomes in run_check(inventory, check_id).items()
    }


def start_recorder(
    session: boto3.Session, region: str, group: dict[str, Any], *, recording: bool = True
) -> None:
    """A configuration recorder with this recording group in one region, recording (or stopped)."""
    config = session.client("config", region_name=region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/aws-config",
            "recordingGroup": group,
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-delivery"})
    if recording:
        config.start_configuration_recorder(ConfigurationRecorderName="default")
