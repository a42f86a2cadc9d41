"""Benchmark: a live scan of EC2/VPC and RDS controls over a seeded local account.

Seeds moto (server mode, 127.0.0.1) with N instances, their security groups and RDS instances,
runs ``run_aws_scan`` for the EC2-* and RDS-* controls exactly as ``controlmap scan aws`` does,
and reports wall time, API calls by operation and calls per resource. Calls per resource is the
figure that matters against AWS (throttling, not CPU, bounds a real scan); wall time against a
local emulator is only indicative.

    python benchmarks/live_scan_compute.py --instances 200 --groups 50 --databases 40
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

import boto3
from measure import measured, quiet_local_server

from controlmap.catalog.catalog import load_catalog
from controlmap.demo.seed_ec2 import PATCH_TAG, SSM_TAG  # also installs the SSM fleet emulation
from controlmap.demo.server import local_aws
from controlmap.findings.evaluate import evaluate
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions, run_aws_scan
from controlmap.sources.aws.session import SessionOptions

REGION = "us-east-1"


def seed(instances: int, groups: int, databases: int) -> dict[str, int]:
    ec2 = boto3.client("ec2", region_name=REGION)
    rds = boto3.client("rds", region_name=REGION)
    image = ec2.describe_images(
        Owners=["amazon"],
        Filters=[{"Name": "name", "Values": ["amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2"]}],
    )["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20")["Subnet"]["SubnetId"]
    group_ids = []
    for n in range(groups):
        gid = ec2.create_security_group(GroupName=f"bench-{n}", Description="bench", VpcId=vpc)["GroupId"]
        port = [22, 443, 5432, 8080][n % 4]
        cidr = "0.0.0.0/0" if n % 3 == 0 else "10.0.0.0/8"
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}
            ],
        )
        group_ids.append(gid)
    for n in range(0, instances, 50):
        count = min(50, instances - n)
        tags = [{"Key": SSM_TAG, "Value": "Online"}, {"Key": PATCH_TAG, "Value": f"missing={n % 3},days=2"}]
        ec2.run_instances(
            ImageId=image,
            MinCount=count,
            MaxCount=count,
            SubnetId=subnet,
            SecurityGroupIds=[group_ids[(n // 50) % len(group_ids)]] if group_ids else [],
            KeyName=ec2.create_key_pair(KeyName=f"bench-key-{n}")["KeyName"],
            MetadataOptions={"HttpTokens": "required" if n % 100 == 0 else "optional"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
    for n in range(databases):
        rds.create_db_instance(
            DBInstanceIdentifier=f"bench-db-{n}",
            Engine=["postgres", "mysql"][n % 2],
            EngineVersion=["16.3", "8.0.35"][n % 2],
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="bench",
            MasterUserPassword="bench-not-a-secret-1",
            VpcSecurityGroupIds=[group_ids[n % len(group_ids)]] if group_ids else [],
            StorageEncrypted=n % 2 == 0,
            BackupRetentionPeriod=7,
        )
        if n % 4 == 0:  # a manual snapshot for every fourth database: one attribute call each
            rds.create_db_snapshot(
                DBSnapshotIdentifier=f"bench-snap-{n}", DBInstanceIdentifier=f"bench-db-{n}"
            )
    return {
        "instances": instances,
        "security_groups": groups,
        "databases": databases,
        "db_snapshots": (databases + 3) // 4,
    }


def run(instances: int, groups: int, databases: int, heap: bool = False) -> dict[str, Any]:
    with quiet_local_server(), local_aws():
        seeded = seed(instances, groups, databases)
        catalog = load_catalog()
        controls = [c for c in catalog.ordered() if c.service in ("ec2", "rds")]
        options = AwsScanOptions(session=SessionOptions(region=REGION), regions=[REGION])

        def scan_and_evaluate() -> tuple[Any, int]:
            outcome = run_aws_scan(options, controls, Settings())
            return outcome, len(evaluate(catalog, outcome.inventory, Settings(), controls=controls))

        (outcome, findings), cost = measured(scan_and_evaluate, trace_heap=heap)
    calls = dict(outcome.inventory.api_calls)
    total = sum(calls.values())
    resources = Counter(r.type_name for r in outcome.inventory.all())
    judged = sum(n for t, n in resources.items() if not t.startswith("AWS::::"))
    return {
        "seeded": seeded,
        "collectors": outcome.collectors_run,
        "resources": dict(sorted(resources.items())),
        "findings": findings,
        **cost,
        "api_calls": total,
        "calls_per_resource": round(total / max(judged, 1), 3),
        "calls_by_operation": dict(sorted(calls.items())),
        "errors": [e.describe() for e in outcome.inventory.errors],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--databases", type=int, default=40)
    parser.add_argument("--heap", action="store_true", help="trace the Python heap (much slower)")
    args = parser.parse_args(argv)
    report = run(args.instances, args.groups, args.databases, args.heap)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
