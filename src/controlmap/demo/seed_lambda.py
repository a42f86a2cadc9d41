"""Demo Lambda functions: a compliant and a non-compliant example for LAMBDA-01 … LAMBDA-06.

moto keeps no dead-letter queue (ListFunctions omits DeadLetterConfig) and has no code signing
configuration APIs (ListCodeSigningConfigs, ListFunctionsByCodeSigningConfig), so
``LambdaEmulation`` fills both in at the botocore level for the demo scan and the tests (the
functions using a configuration are read from the in-process moto server, which keeps the
CodeSigningConfigArn given to CreateFunction); a scan of a real account never installs it.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from controlmap.demo.fakes import answer_before_call
from controlmap.demo.seed import SeedContext, demo_client_hook, seeder


@dataclass
class LambdaEmulation:
    """Dead-letter queues per function ARN and code signing configurations per ARN."""

    dead_letters: dict[str, str] = field(default_factory=dict)
    signing_configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_signing_config(self, account: str, region: str, name: str, policy: str) -> str:
        arn = f"arn:aws:lambda:{region}:{account}:code-signing-config:csc-{name}"
        self.signing_configs[arn] = {
            "CodeSigningConfigId": f"csc-{name}",
            "CodeSigningConfigArn": arn,
            "Description": name,
            "AllowedPublishers": {
                "SigningProfileVersionArns": [
                    f"arn:aws:signer:{region}:{account}:/signing-profiles/demo/abc123"
                ]
            },
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy},
            "LastModified": "2026-01-01T00:00:00.000+0000",
        }
        return arn

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name != "lambda":
            return
        client.meta.events.register("after-call.lambda.ListFunctions", self._add_dead_letters)
        answer_before_call(client, "ListCodeSigningConfigs", self._signing_configs)
        answer_before_call(client, "ListFunctionsByCodeSigningConfig", self._functions_by_config)

    def _add_dead_letters(self, parsed: dict[str, Any], **_: Any) -> None:
        for function in parsed.get("Functions", []):
            target = self.dead_letters.get(function.get("FunctionArn", ""))
            if target:
                function["DeadLetterConfig"] = {"TargetArn": target}

    def _signing_configs(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"CodeSigningConfigs": json.loads(json.dumps(list(self.signing_configs.values())))}

    def _functions_by_config(self, params: dict[str, Any]) -> dict[str, Any]:
        """The functions moto holds with this CodeSigningConfigArn (read in-process)."""
        from moto.awslambda.models import lambda_backends

        path = unquote(params.get("url_path", ""))
        arn = path.split("/code-signing-configs/", 1)[-1].removesuffix("/functions")
        if arn not in self.signing_configs:
            return {"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}, "status": 404}
        _, _, _, region, account, *_ = arn.split(":")
        storage = lambda_backends[account][region]._lambdas
        arns = [
            entry["latest"].function_arn
            for entry in storage._functions.values()
            if getattr(entry["latest"], "code_signing_config_arn", None) == arn
        ]
        return {"FunctionArns": arns}


DEMO_LAMBDA = LambdaEmulation()
demo_client_hook(DEMO_LAMBDA.install)


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


def lambda_role(
    iam: Any, name: str, inline: dict[str, Any] | None = None, managed: tuple[str, ...] = ()
) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    for policy in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    if inline is not None:
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-access", PolicyDocument=json.dumps(inline))
    return arn


BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@seeder("lambda")
def seed_lambda(ctx: SeedContext) -> None:
    home = ctx.regions[0]
    account = ctx.account_id
    iam, lam, kms = ctx.client("iam", home), ctx.client("lambda", home), ctx.client("kms", home)
    ec2 = ctx.client("ec2", home)
    scoped = lambda_role(
        iam,
        "demo-orders-fn",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                    "Resource": f"arn:aws:dynamodb:{home}:{account}:table/demo-orders",
                }
            ],
        },
        (BASIC,),
    )
    broad = lambda_role(
        iam,
        "demo-legacy-fn",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
        },
    )
    key = kms.create_key(Description="demo: Lambda environment")["KeyMetadata"]["Arn"]
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="demo-fn", Description="demo function", VpcId=vpc)["GroupId"]
    enforce = DEMO_LAMBDA.add_signing_config(account, home, "enforce", "Enforce")
    warn = DEMO_LAMBDA.add_signing_config(account, home, "warn", "Warn")

    def function(name: str, role: str, **params: Any) -> str:
        params.setdefault("Runtime", "python3.13")
        arn = lam.create_function(
            FunctionName=name,
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": code_zip()},
            Publish=True,
            **params,
        )["FunctionArn"]
        return str(arn)

    # Compliant on every control: scoped role, VPC, CMK, references only, signed, DLQ, current runtime.
    orders = function(
        "demo-orders",
        scoped,
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
        KMSKeyArn=key,
        Environment={
            "Variables": {
                "TABLE_NAME": "demo-orders",
                "DB_PASSWORD_SECRET_ARN": f"arn:aws:secretsmanager:{home}:{account}:secret:demo-db-AbCdEf",
                "LOG_LEVEL": "INFO",
            }
        },
        CodeSigningConfigArn=enforce,
    )
    DEMO_LAMBDA.dead_letters[orders] = f"arn:aws:sqs:{home}:{account}:demo-orders-dlq"
    lam.add_permission(
        FunctionName="demo-orders",
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::demo-orders-uploads",
        SourceAccount=account,
    )
    # Non-compliant on every control: wildcard role, public invoke, no VPC, aws/lambda key with
    # plaintext secrets, unsigned, no failure handling, deprecated runtime. The values below are
    # fake, and the scan reports only the variable names.
    function(
        "demo-legacy-report",
        broad,
        Runtime="python3.9",
        Environment={
            "Variables": {
                "DB_PASSWORD": "Tr0ub4dor&3-demo",
                "AWS_ACCESS_KEY_ID": "AKIADEMO0EXAMPLE0KEY",
                "SIGNING_SEED": "q8Zr4Lw2Nx7Vb1Kp9Ty3Hf6Jd0Gs5Mc",
            }
        },
        CodeSigningConfigArn=warn,
    )
    lam.add_permission(
        FunctionName="demo-legacy-report", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )
    # On-failure destination instead of a DLQ (LAMBDA-05 PASS), warn-only signing (LAMBDA-04 FAIL).
    function("demo-thumbnails", scoped, Runtime="nodejs22.x", CodeSigningConfigArn=warn)
    lam.put_function_event_invoke_config(
        FunctionName="demo-thumbnails",
        DestinationConfig={
            "OnFailure": {"Destination": f"arn:aws:sqs:{home}:{account}:demo-thumbnails-failed"}
        },
    )
    # A Lambda@Edge function used by the demo CloudFront distribution (LAMBDA-02 NOT_APPLICABLE).
    function("demo-edge-headers", scoped, Runtime="nodejs22.x")
