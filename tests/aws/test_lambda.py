"""Lambda collection and checks through the local moto server (plus the botocore-level
emulation of dead-letter queues and code signing configurations that moto lacks)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.cli.scan import run_live_scan
from controlmap.demo.seed_lambda import BASIC, LambdaEmulation, code_zip, lambda_role
from controlmap.outputs.jsonfmt import render_json
from controlmap.resources.lambda_ import LambdaFunction
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions
from controlmap.store.recorder import scan_session

LAMBDA_CHECKS = [
    "lambda_function_role_least_privilege",
    "lambda_function_policy_not_public",
    "lambda_function_in_vpc",
    "lambda_function_env_encrypted_cmk",
    "lambda_function_env_no_plaintext_secrets",
    "lambda_function_code_signing_enforced",
    "lambda_function_failure_destination",
    "lambda_function_runtime_supported",
]
SECRET_VALUES = (
    "Tr0ub4dor&3-unit",
    "AKIAUNITTEST0EXAMPL",
    "q8Zr4Lw2Nx7Vb1Kp9Ty3Hf6Jd0Gs5Mc",
    "hunter2hunter2hunter2",
)


@pytest.fixture
def emulation() -> LambdaEmulation:
    return LambdaEmulation()


@pytest.fixture
def functions(
    aws_session: boto3.Session, emulation: LambdaEmulation, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setenv(
        "MOTO_IAM_LOAD_MANAGED_POLICIES", "true"
    )  # AWSLambdaBasicExecutionRole exists, as in AWS
    iam, lam = aws_session.client("iam"), aws_session.client("lambda")
    ec2, kms = aws_session.client("ec2"), aws_session.client("kms")
    scoped = lambda_role(
        iam,
        "scoped",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
        },
        (BASIC,),
    )
    broad = lambda_role(
        iam,
        "broad",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
    )
    star_resource = lambda_role(
        iam,
        "star-resource",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}],
        },
    )
    key = kms.create_key()["KeyMetadata"]["Arn"]
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    enforce = emulation.add_signing_config(ACCOUNT, "us-east-1", "enforce", "Enforce")
    warn = emulation.add_signing_config(ACCOUNT, "us-east-1", "warn", "Warn")
    arns = {}

    def make(name: str, role: str, **params: Any) -> None:
        if params.get("PackageType") != "Image":
            params.setdefault("Runtime", "python3.13")
            params.setdefault("Handler", "index.handler")
        params.setdefault("Code", {"ZipFile": code_zip()})
        arns[name] = lam.create_function(FunctionName=name, Role=role, **params)["FunctionArn"]

    make(
        "good",
        scoped,
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": []},
        KMSKeyArn=key,
        Environment={"Variables": {"TABLE": "orders", "API_TOKEN_PARAM": "/prod/api/token", "MODE": "fast"}},
        CodeSigningConfigArn=enforce,
        Tags={"team": "payments"},
    )
    emulation.dead_letters[arns["good"]] = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"
    make(
        "bad",
        broad,
        Runtime="python3.9",
        Environment={
            "Variables": {
                "DB_PASSWORD": SECRET_VALUES[0],
                "KEY_ID": SECRET_VALUES[1] + "E",
                "SEED": SECRET_VALUES[2],
                "CONN": f"postgres://app:{SECRET_VALUES[3]}@db:5432/app",
            }
        },
        CodeSigningConfigArn=warn,
    )
    lam.add_permission(FunctionName="bad", StatementId="all", Action="lambda:InvokeFunction", Principal="*")
    make("destination", star_resource, Runtime="nodejs22.x")
    lam.put_function_event_invoke_config(
        FunctionName="destination",
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:f"}},
    )
    lam.add_permission(
        FunctionName="destination",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="*",
        SourceArn="arn:aws:s3:::uploads",
    )
    make(
        "image",
        scoped,
        PackageType="Image",
        Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:1"},
    )
    return arns


def _scan(emulation: LambdaEmulation, checks: list[str] = LAMBDA_CHECKS, **kw: Any) -> Any:
    return live_scan(checks, hooks=[emulation.install, *kw.pop("hooks", [])], **kw)


def test_lambda_checks_through_moto(functions: dict[str, str], emulation: LambdaEmulation) -> None:
    scan = _scan(emulation)
    by_name = {f.name: f for f in scan.inventory.of_type(LambdaFunction)}
    assert set(by_name) == {"good", "bad", "destination", "image"}
    assert (
        by_name["good"].tags == {"team": "payments"} and by_name["bad"].tags == {}
    )  # for exception selectors
    check = "lambda_function_role_least_privilege"
    assert status(scan, check, "good") is Status.PASS  # AWSLambdaBasicExecutionRole's "*" is accepted
    assert status(scan, check, "bad") is Status.FAIL and "s3:*" in reason(scan, check, "bad")
    assert status(scan, check, "destination") is Status.FAIL
    assert 'sqs:SendMessage on Resource "*"' in reason(scan, check, "destination")

    assert status(scan, "lambda_function_policy_not_public", "bad") is Status.FAIL
    assert status(scan, "lambda_function_policy_not_public", "destination") is Status.PASS  # SourceArn
    assert status(scan, "lambda_function_policy_not_public", "good") is Status.PASS  # no policy

    assert status(scan, "lambda_function_in_vpc", "good") is Status.PASS
    assert status(scan, "lambda_function_in_vpc", "bad") is Status.FAIL

    assert status(scan, "lambda_function_env_encrypted_cmk", "good") is Status.PASS
    assert status(scan, "lambda_function_env_encrypted_cmk", "bad") is Status.FAIL
    assert status(scan, "lambda_function_env_encrypted_cmk", "destination") is Status.NOT_APPLICABLE
    secrets = reason(scan, "lambda_function_env_no_plaintext_secrets", "bad")
    assert status(scan, "lambda_function_env_no_plaintext_secrets", "bad") is Status.FAIL
    for name in ("DB_PASSWORD", "KEY_ID", "SEED", "CONN"):
        assert name in secrets
    assert status(scan, "lambda_function_env_no_plaintext_secrets", "good") is Status.PASS  # references only

    assert status(scan, "lambda_function_code_signing_enforced", "good") is Status.PASS
    assert status(scan, "lambda_function_code_signing_enforced", "bad") is Status.FAIL
    assert "Warn" in reason(scan, "lambda_function_code_signing_enforced", "bad")
    assert status(scan, "lambda_function_code_signing_enforced", "destination") is Status.FAIL
    assert status(scan, "lambda_function_code_signing_enforced", "image") is Status.NOT_APPLICABLE

    assert status(scan, "lambda_function_failure_destination", "good") is Status.PASS  # DLQ
    assert status(scan, "lambda_function_failure_destination", "destination") is Status.PASS  # on-failure
    assert status(scan, "lambda_function_failure_destination", "bad") is Status.FAIL
    assert "asynchronous" in reason(scan, "lambda_function_failure_destination", "bad")

    assert status(scan, "lambda_function_runtime_supported", "bad") is Status.FAIL  # python3.9
    assert status(scan, "lambda_function_runtime_supported", "good") is Status.PASS
    assert status(scan, "lambda_function_runtime_supported", "image") is Status.NOT_APPLICABLE
    # Code signing is read per configuration (two here), not per function.
    calls = scan.factory.counter.snapshot()
    assert (
        calls["lambda:ListCodeSigningConfigs"] == 1 and calls["lambda:ListFunctionsByCodeSigningConfig"] == 2
    )
    assert "lambda:GetFunctionCodeSigningConfig" not in calls


def test_secret_values_never_leave_the_collector(
    functions: dict[str, str], emulation: LambdaEmulation, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Values reach neither the models, the findings (JSON), the logs (even botocore DEBUG) nor the store."""
    caplog.set_level(logging.DEBUG)
    catalog = load_catalog()
    controls = [c for c in catalog.ordered() if c.service == "lambda"]
    options = AwsScanOptions(regions=["us-east-1"], client_hooks=[emulation.install])
    result = run_live_scan(options, controls, catalog, Settings())
    rendered = render_json(result)
    db = f"sqlite:///{tmp_path / 'history.db'}"
    with scan_session(db, None, kind="aws") as recorder:
        recorder.record(result)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert "DB_PASSWORD" in rendered  # the name is reported, the value is not
    assert any(
        f.status is Status.FAIL and f.check_id == "lambda_function_env_no_plaintext_secrets"
        for f in result.findings
    )
    for value in SECRET_VALUES:
        assert value not in rendered
        assert value not in caplog.text
        assert value.encode() not in stored


def test_lambda_read_errors_become_error_outcomes(
    functions: dict[str, str], emulation: LambdaEmulation
) -> None:
    scan = _scan(
        emulation, hooks=[deny("lambda", "GetPolicy"), deny("lambda", "GetFunctionEventInvokeConfig")]
    )
    found = outcomes(scan, "lambda_function_policy_not_public")["good"][0]
    assert found.status is Status.ERROR and found.error_code == "AccessDenied"
    # A DLQ answers LAMBDA-05 without the failed read; without one the failure is an ERROR.
    assert status(scan, "lambda_function_failure_destination", "good") is Status.PASS
    assert status(scan, "lambda_function_failure_destination", "bad") is Status.ERROR


def test_code_signing_listing_denied(functions: dict[str, str]) -> None:
    scan = live_scan(
        ["lambda_function_code_signing_enforced"], hooks=[deny("lambda", "ListCodeSigningConfigs")]
    )
    found = outcomes(scan, "lambda_function_code_signing_enforced")
    assert found["good"][0].status is Status.ERROR and found["good"][0].error_code == "AccessDenied"
    assert found["image"][0].status is Status.NOT_APPLICABLE


def test_listing_failure_is_an_error_for_the_region(emulation: LambdaEmulation) -> None:
    scan = _scan(emulation, hooks=[deny("lambda", "ListFunctions")])
    assert any(LambdaFunction.resource_type in e.resource_types for e in scan.inventory.errors)


def test_only_needed_calls(functions: dict[str, str], emulation: LambdaEmulation) -> None:
    scan = _scan(emulation, ["lambda_function_runtime_supported"])
    calls = scan.factory.counter.snapshot()
    assert calls.get("lambda:ListFunctions") == 1
    assert not any(k.startswith("lambda:") and k != "lambda:ListFunctions" for k in calls)


def test_denied_distributions_do_not_fail_possible_edge_functions(
    functions: dict[str, str], emulation: LambdaEmulation
) -> None:
    scan = _scan(emulation, ["lambda_function_in_vpc"], hooks=[deny("cloudfront", "ListDistributions")])
    found = outcomes(scan, "lambda_function_in_vpc")
    assert found["bad"][0].status is Status.ERROR and found["bad"][0].error_code == "AccessDenied"
    assert found["good"][0].status is Status.PASS


def test_environment_lambda_could_not_decrypt(functions: dict[str, str], emulation: LambdaEmulation) -> None:
    """Lambda answers Environment.Error (no Variables) when the key's policy keeps the scanner out."""

    def undecryptable(client: Any) -> None:
        if client.meta.service_model.service_name != "lambda":
            return

        def rewrite(parsed: dict[str, Any], **_: Any) -> None:
            for item in parsed.get("Functions", []):
                if item["FunctionName"] == "good":
                    item["Environment"] = {
                        "Error": {"ErrorCode": "KMSAccessDeniedException", "Message": "access denied"}
                    }

        client.meta.events.register("after-call.lambda.ListFunctions", rewrite)

    checks = ["lambda_function_env_encrypted_cmk", "lambda_function_env_no_plaintext_secrets"]
    scan = _scan(emulation, checks, hooks=[undecryptable])
    assert status(scan, "lambda_function_env_encrypted_cmk", "good") is Status.PASS
    assert status(scan, "lambda_function_env_no_plaintext_secrets", "good") is Status.UNKNOWN
    assert status(scan, "lambda_function_env_no_plaintext_secrets", "bad") is Status.FAIL
