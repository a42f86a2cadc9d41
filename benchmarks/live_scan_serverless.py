"""Benchmark: a live scan of the Lambda and DynamoDB controls over a seeded local account.

Seeds moto (server mode, 127.0.0.1) with N Lambda functions (a third with a resource policy, a
third with an on-failure destination, half signed with one of two shared code signing
configurations) and M DynamoDB tables (half with a customer managed key shared by all of them,
a quarter with a resource policy), runs ``run_aws_scan`` for the LAMBDA-* and DDB-* controls
exactly as ``controlmap scan aws`` does (the IAM and EC2 collectors those controls read run
too), and reports wall time, API calls by operation and calls per function and per table.
Calls per resource is what matters against AWS (throttling bounds a real scan); wall time
against a local emulator is only indicative.

    python benchmarks/live_scan_serverless.py --functions 200 --tables 200
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from typing import Any

import boto3
from measure import measured, quiet_local_server

from controlmap.catalog.catalog import load_catalog
from controlmap.demo.seed_dynamodb import create_table, tls_only_policy  # also installs the moto corrections
from controlmap.demo.seed_lambda import BASIC, LambdaEmulation, code_zip, lambda_role
from controlmap.demo.server import DEMO_ACCOUNT_ID, local_aws
from controlmap.findings.evaluate import evaluate
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions, run_aws_scan
from controlmap.sources.aws.session import SessionOptions

REGION = "us-east-1"


def seed(functions: int, tables: int, emulation: LambdaEmulation) -> dict[str, int]:
    session = boto3.Session(region_name=REGION)
    iam, lam = session.client("iam"), session.client("lambda")
    ddb, kms = session.client("dynamodb"), session.client("kms")
    role = lambda_role(iam, "bench-fn", None, (BASIC,))
    signing = [
        emulation.add_signing_config(DEMO_ACCOUNT_ID, REGION, n, p)
        for n, p in (("a", "Enforce"), ("b", "Warn"))
    ]
    package = code_zip()
    for n in range(functions):
        name = f"bench-fn-{n:04d}"
        params: dict[str, Any] = {
            "Environment": {"Variables": {"TABLE": f"bench-table-{n % max(tables, 1)}", "MODE": "batch"}}
        }
        if n % 2 == 0:
            params["CodeSigningConfigArn"] = signing[(n // 2) % 2]
        arn = lam.create_function(
            FunctionName=name,
            Role=role,
            Runtime="python3.13",
            Handler="index.handler",
            Code={"ZipFile": package},
            **params,
        )["FunctionArn"]
        if n % 3 == 0:
            lam.add_permission(
                FunctionName=name,
                StatementId="s3",
                Action="lambda:InvokeFunction",
                Principal="s3.amazonaws.com",
            )
        if n % 3 == 1:
            lam.put_function_event_invoke_config(
                FunctionName=name,
                DestinationConfig={
                    "OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{DEMO_ACCOUNT_ID}:failed"}
                },
            )
        if n % 5 == 0:
            emulation.dead_letters[arn] = f"arn:aws:sqs:{REGION}:{DEMO_ACCOUNT_ID}:dlq"
    key = kms.create_key()["KeyMetadata"]["Arn"]
    for n in range(tables):
        params = (
            {"SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}} if n % 2 else {}
        )
        arn = create_table(ddb, f"bench-table-{n}", **params)
        if n % 4 == 0:
            ddb.put_resource_policy(ResourceArn=arn, Policy=tls_only_policy(arn))
    return {"functions": functions, "tables": tables}


def run(functions: int, tables: int, heap: bool = False) -> dict[str, Any]:
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    emulation = LambdaEmulation()
    with quiet_local_server(), local_aws():
        seeded = seed(functions, tables, emulation)
        catalog = load_catalog()
        controls = [c for c in catalog.ordered() if c.service in ("lambda", "dynamodb")]
        options = AwsScanOptions(
            session=SessionOptions(region=REGION), regions=[REGION], client_hooks=[emulation.install]
        )

        def scan_and_evaluate() -> tuple[Any, int]:
            outcome = run_aws_scan(options, controls, Settings())
            return outcome, len(evaluate(catalog, outcome.inventory, Settings(), controls=controls))

        (outcome, findings), cost = measured(scan_and_evaluate, trace_heap=heap)
    calls = dict(outcome.inventory.api_calls)
    resources = Counter(r.type_name for r in outcome.inventory.all())

    def share(prefixes: tuple[str, ...], count: int) -> float:
        return round(sum(n for op, n in calls.items() if op.startswith(prefixes)) / max(count, 1), 3)

    return {
        "seeded": seeded,
        "collectors": outcome.collectors_run,
        "resources": dict(sorted(resources.items())),
        "findings": findings,
        **cost,
        "api_calls": sum(calls.values()),
        "lambda_calls_per_function": share(("lambda:",), functions),
        "dynamodb_calls_per_table": share(("dynamodb:", "kms:DescribeKey"), tables),
        "calls_by_operation": dict(sorted(calls.items())),
        "errors": [e.describe() for e in outcome.inventory.errors],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--functions", type=int, default=200)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--heap", action="store_true", help="trace the Python heap (much slower)")
    args = parser.parse_args(argv)
    json.dump(run(args.functions, args.tables, args.heap), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
