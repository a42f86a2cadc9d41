"""The EC2/VPC and RDS demo seeds give every check a passing and a failing example."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import boto3

from controlmap.checks.registry import CheckContext, Inventory, Status, registry
from controlmap.demo.seed import SeedContext
from controlmap.demo.seed_ec2 import seed_ec2
from controlmap.demo.seed_rds import seed_rds
from controlmap.demo.server import DEMO_ACCOUNT_ID, DEMO_REGIONS, LocalAws
from controlmap.findings.evaluate import _outcomes
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.settings import Settings
from controlmap.sources.aws.clients import ClientFactory
from controlmap.sources.aws.collector import CollectContext
from controlmap.sources.aws.scanner import plan_collectors

# moto stamps every AMI with the current time and owner alias "amazon", so no demo instance can
# run on an old or unapproved image; the failing cases are covered in tests/checks.
PASS_ONLY = {"ec2_instance_ami_approved"}


def test_demo_has_passing_and_failing_examples_for_every_check(aws: LocalAws) -> None:
    session = boto3.Session(region_name=DEMO_REGIONS[0])
    seed = SeedContext(session=session, regions=DEMO_REGIONS, account_id=DEMO_ACCOUNT_ID)
    seed_ec2(seed)
    seed_rds(seed)

    specs = [s for k, s in registry().items() if k.startswith(("ec2_", "rds_"))]
    chosen, facts = plan_collectors(specs)
    factory = ClientFactory(session)
    inventory = Inventory()
    account = AwsAccount(id="a", name=DEMO_ACCOUNT_ID, account_id=DEMO_ACCOUNT_ID)
    inventory.add(account)
    regions = {r: AwsRegion(id=f"r/{r}", name=r, account_id=DEMO_ACCOUNT_ID, region=r) for r in DEMO_REGIONS}
    for region in regions.values():
        inventory.add(region)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for spec in chosen:
            for name in DEMO_REGIONS:
                spec.func(
                    CollectContext(
                        factory,
                        DEMO_ACCOUNT_ID,
                        name,
                        DEMO_REGIONS,
                        inventory,
                        account,
                        regions,
                        Settings(),
                        pool,
                        facts,
                    )
                )
    assert inventory.errors == []

    ctx = CheckContext(inventory=inventory, settings=Settings())
    seen: dict[str, set[Status]] = defaultdict(set)
    for spec in specs:
        for resource in inventory.of_type(spec.model):
            for outcome in _outcomes(spec, resource, ctx):
                seen[spec.id].add(outcome.status)
    for spec in specs:
        assert Status.PASS in seen[spec.id], spec.id
        assert Status.ERROR not in seen[spec.id], spec.id
        if spec.id not in PASS_ONLY:
            assert Status.FAIL in seen[spec.id], spec.id
    assert Status.MANUAL in seen["rds_instance_tls_enforced"]  # the Oracle instance
    assert Status.NOT_APPLICABLE in seen["rds_instance_iam_auth_enabled"]
    assert Status.NOT_APPLICABLE in seen["ec2_instance_patch_compliant"]  # stopped / unmanaged
