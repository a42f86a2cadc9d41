"""Live-scan benchmark: seed a local moto server with many resources, scan, report the cost.

    python benchmarks/live_scan.py [--buckets 1000] [--users 500] [--roles 500] [--keys 200]

moto runs in a separate process (``moto_server`` on 127.0.0.1), so the memory figure is the
scanner's own. Prints wall time, API calls in total, per service and per resource, retries and
peak memory (Python heap during the scan via tracemalloc, and the process's peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
SEED_CONFIG = Config(max_pool_connections=64, retries={"max_attempts": 10, "mode": "standard"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def seed(buckets: int, users: int, roles: int, keys: int) -> None:
    session = boto3.Session(region_name=REGION)
    s3 = session.client("s3", config=SEED_CONFIG)
    iam = session.client("iam", config=SEED_CONFIG)
    kms = session.client("kms", config=SEED_CONFIG)
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    policy_arn = iam.create_policy(PolicyName="bench-read", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )

    def bucket(n: int) -> None:
        name = f"bench-bucket-{n:05d}"
        s3.create_bucket(Bucket=name)
        if n % 2:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def user(n: int) -> None:
        iam.create_user(UserName=f"bench-user-{n:05d}")
        iam.attach_user_policy(UserName=f"bench-user-{n:05d}", PolicyArn=policy_arn)

    def role(n: int) -> None:
        iam.create_role(RoleName=f"bench-role-{n:05d}", AssumeRolePolicyDocument=trust)

    def key(n: int) -> None:
        key_id = kms.create_key(Description=f"bench {n}")["KeyMetadata"]["KeyId"]
        if n % 2:
            kms.enable_key_rotation(KeyId=key_id)

    def retried(func: Any) -> Any:
        # moto's server occasionally answers 500 under concurrent writes; seeding just tries again.
        def run(n: int) -> None:
            for attempt in range(5):
                try:
                    func(n)
                    return
                except Exception:
                    if attempt == 4:
                        raise
                    time.sleep(0.2)

        return run

    with ThreadPoolExecutor(max_workers=16) as pool:
        for func, count in ((bucket, buckets), (user, users), (role, roles), (key, keys)):
            list(pool.map(retried(func), range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--roles", type=int, default=500)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--detail-concurrency", type=int, default=16)
    args = parser.parse_args()

    port = free_port()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    server = start_moto(port)
    try:
        started = time.perf_counter()
        seed(args.buckets, args.users, args.roles, args.keys)
        seeded = time.perf_counter() - started
        print(
            f"seeded {args.buckets} buckets, {args.users} users, {args.roles} roles, "
            f"{args.keys} keys in {seeded:.1f}s"
        )
        run(args)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(args: Any) -> None:
    from controlmap.catalog.catalog import load_catalog
    from controlmap.demo.fakes import FakeAccessAnalyzer
    from controlmap.findings.evaluate import evaluate
    from controlmap.settings import Settings
    from controlmap.sources.aws.scanner import AwsScanOptions, run_aws_scan

    catalog = load_catalog()
    analyzer = FakeAccessAnalyzer("123456789012")  # moto has no Access Analyzer API
    analyzer.add(REGION, "bench-analyzer")
    controls = [c for c in catalog.ordered() if c.service in ("s3", "iam", "cloudtrail", "kms")]
    options = AwsScanOptions(
        regions=[REGION],
        concurrency=args.concurrency,
        detail_concurrency=args.detail_concurrency,
        client_hooks=[analyzer.install],
    )
    tracemalloc.start()
    started = time.perf_counter()
    outcome = run_aws_scan(options, controls, Settings())
    collected = time.perf_counter() - started
    findings = evaluate(catalog, outcome.inventory, Settings(), controls=controls)
    wall = time.perf_counter() - started
    _, peak_heap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    counter = outcome.factory.counter
    calls = counter.snapshot()
    total = sum(calls.values())
    resources = Counter(r.type_name for r in outcome.inventory.all())
    real = sum(n for t, n in resources.items() if not t.startswith("AWS::::"))
    print(f"scan: {wall:.1f}s wall ({collected:.1f}s collecting, {wall - collected:.1f}s evaluating)")
    print(f"resources: {real} ({', '.join(f'{n} {t}' for t, n in sorted(resources.items()))})")
    print(f"findings: {len(findings)}")
    print(f"API calls: {total} total, {total / max(real, 1):.2f} per resource, {counter.retries} retries")
    for service, n in counter.by_service().items():
        print(f"  {service:16} {n}")
    per_bucket = sum(n for op, n in calls.items() if op.startswith("s3:Get")) / max(
        resources["AWS::S3::Bucket"], 1
    )
    per_key = sum(
        n
        for op, n in calls.items()
        if op.startswith("kms:") and op not in ("kms:ListKeys", "kms:ListAliases")
    ) / max(resources["AWS::KMS::Key"], 1)
    iam_principals = sum(
        resources[t]
        for t in ("AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Group", "AWS::IAM::ManagedPolicy")
    )
    iam_calls = sum(n for op, n in calls.items() if op.startswith("iam:"))
    print(
        f"  per bucket: {per_bucket:.2f} calls; per key: {per_key:.2f} calls; "
        f"IAM: {iam_calls} calls for {iam_principals} principals/policies"
    )
    print(
        f"peak memory: {peak_heap / 2**20:.1f} MiB Python heap during the scan, "
        f"{peak_rss_kib / 1024:.0f} MiB peak RSS (process)"
    )


if __name__ == "__main__":
    main()
