"""A value the scan cannot resolve makes the fact it feeds unknown, never a silent FAIL (or PASS).

The systematic part replaces every value of every fixture and of every catalog snippet, one at a
time, by an unknown one (see ``mutation.py``) and checks that no finding turns; the rest are the
cases users met, each with its passing, failing and unknown variant.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from controlmap.catalog.catalog import Catalog, load_catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac

from .conftest import FIXTURES, finding
from .mutation import (
    cloudformation_contrasts,
    cloudformation_flips,
    terraform_contrasts,
    terraform_flips,
    write_snippet,
)

CATALOG = load_catalog()
TERRAFORM_UNITS = sorted(p.name for p in (FIXTURES / "terraform").iterdir() if p.is_dir())
TEMPLATES = sorted(p.name for p in (FIXTURES / "cloudformation").iterdir())


@pytest.mark.parametrize("mode", ["opaque", "partial", "dynamic"])
@pytest.mark.parametrize("unit", [*TERRAFORM_UNITS, "plan"])
def test_an_unknown_terraform_value_never_turns_a_verdict(unit: str, mode: str, catalog: Catalog) -> None:
    path = FIXTURES / "plan" / "plan.json" if unit == "plan" else FIXTURES / "terraform" / unit
    found = terraform_flips(path, catalog, mode)
    assert not found, "\n".join(map(str, found))


@pytest.mark.parametrize("mode", ["ref", "import", "partial"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_an_unknown_cloudformation_value_never_turns_a_verdict(
    template: str, mode: str, catalog: Catalog
) -> None:
    found = cloudformation_flips(FIXTURES / "cloudformation" / template, catalog, mode)
    assert not found, "\n".join(map(str, found))


def test_an_unknown_value_is_not_judged_where_known_values_disagree(catalog: Catalog, tmp_path: Path) -> None:
    """Defaults can hide an unknown value when they equal the fixture's value; the other values
    the fixtures and catalog snippets give the same argument show it (see ``mutation.py``)."""
    units = [FIXTURES / "terraform" / unit for unit in TERRAFORM_UNITS]
    templates = [FIXTURES / "cloudformation" / template for template in TEMPLATES]
    for control in CATALOG.ordered():
        if control.remediation.terraform:
            units.append(
                write_snippet(tmp_path / f"{control.id}-tf", control.remediation.terraform, "terraform")
            )
        if control.remediation.cloudformation:
            folder = tmp_path / f"{control.id}-cfn"
            templates.append(write_snippet(folder, control.remediation.cloudformation, "cloudformation"))
    found = terraform_contrasts(units, catalog) + cloudformation_contrasts(templates, catalog)
    assert not found, "\n".join(map(str, found))


def _snippets() -> list[object]:
    return [
        pytest.param(control.id, kind, id=f"{control.id}-{kind}")
        for control in CATALOG.ordered()
        for kind in ("terraform", "cloudformation")
        if getattr(control.remediation, kind)
    ]


@pytest.mark.parametrize(("control_id", "kind"), _snippets())
def test_an_unknown_value_in_a_catalog_snippet_never_turns_a_verdict(
    tmp_path: Path, control_id: str, kind: str
) -> None:
    unit = write_snippet(tmp_path, getattr(CATALOG.controls[control_id].remediation, kind), kind)
    if kind == "terraform":
        found = [f for mode in ("opaque", "partial", "dynamic") for f in terraform_flips(unit, CATALOG, mode)]
    else:
        found = cloudformation_flips(unit, CATALOG, "ref") + cloudformation_flips(unit, CATALOG, "partial")
    assert not found, "\n".join(map(str, found))


# ---- the cases users met ----------------------------------------------------------------------

ScanText = Callable[[dict[str, str]], IacScan]


@pytest.fixture
def scan_text(tmp_path: Path) -> ScanText:
    def run(files: dict[str, str]) -> IacScan:
        for name, text in files.items():
            (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return scan_iac([tmp_path], CATALOG, Settings(), options=IacOptions(workers=1))

    return run


LAMBDA = """
    variable "subnet_ids" {{}}
    variable "kms" {{}}
    resource "aws_lambda_function" "f" {{
      function_name = "f"
      role          = "arn:aws:iam::123456789012:role/r"
      runtime       = "python3.12"
      handler       = "x.handler"
      filename      = "x.zip"
      kms_key_arn   = {key}
      environment {{
        variables = {{ MODE = "fast" }}
      }}
      vpc_config {{
        subnet_ids         = {subnets}
        security_group_ids = ["sg-0123456789abcdef0"]
      }}
    }}
    {extra}
"""


@pytest.mark.parametrize(
    ("subnets", "extra", "status", "says"),
    [
        ('["subnet-0a", "subnet-0b"]', "", Status.PASS, "2 subnets"),
        ("[]", "", Status.FAIL, "not attached"),
        ("var.subnet_ids", "", Status.UNKNOWN, "var.subnet_ids (no default"),
        ("[aws_subnet.private_a.id]", "", Status.UNKNOWN, "aws_subnet.private_a (not declared"),
        ("[aws_subnet.a.id]", 'resource "aws_subnet" "a" {\n  vpc_id = "vpc-1"\n}', Status.PASS, "1 subnets"),
    ],
)
def test_lambda_subnets_given_elsewhere_are_unknown_not_missing(
    scan_text: ScanText, subnets: str, extra: str, status: Status, says: str
) -> None:
    text = LAMBDA.format(subnets=subnets, key='"arn:aws:kms:eu-west-1:123456789012:key/k"', extra=extra)
    result = scan_text({"main.tf": text})
    vpc = finding(result.findings, "aws_lambda_function.f", "lambda_function_in_vpc")
    assert vpc.status is status and says in vpc.reason, vpc.reason


@pytest.mark.parametrize(
    ("key", "extra", "status", "says"),
    [
        ('"arn:aws:kms:eu-west-1:123456789012:key/k"', "", Status.PASS, "customer managed key"),
        ("null", "", Status.FAIL, "AWS managed key"),
        ("var.kms", "", Status.UNKNOWN, "kms_key_arn depends on var.kms"),
        ("aws_kms_key.shared.arn", "", Status.UNKNOWN, "aws_kms_key.shared"),
        ("data.aws_kms_key.x.arn", "", Status.UNKNOWN, "data.aws_kms_key.x"),
        (
            "data.aws_kms_key.x.arn",
            'data "aws_kms_key" "x" {\n  key_id = "alias/app"\n}',
            Status.UNKNOWN,
            "read when Terraform plans",
        ),
        ("aws_kms_key.k.arn", 'resource "aws_kms_key" "k" {}', Status.PASS, "customer managed key"),
    ],
)
def test_lambda_key_given_elsewhere_is_unknown_not_the_aws_managed_key(
    scan_text: ScanText, key: str, extra: str, status: Status, says: str
) -> None:
    text = LAMBDA.format(subnets='["subnet-0a"]', key=key, extra=extra)
    result = scan_text({"main.tf": text})
    cmk = finding(result.findings, "aws_lambda_function.f", "lambda_function_env_encrypted_cmk")
    assert cmk.status is status and says in cmk.reason, cmk.reason


STAGE = """
    resource "aws_api_gateway_stage" "prod" {{
      rest_api_id   = {stage_api}
      deployment_id = "dep-1"
      stage_name    = "prod"
      access_log_settings {{
        destination_arn = "arn:aws:logs:eu-west-1:123456789012:log-group:api"
        format          = "$context.requestId"
      }}
    }}
    resource "aws_api_gateway_method_settings" "all" {{
      rest_api_id = {settings_api}
      stage_name  = {stage_name}
      method_path = "*/*"
      settings {{
        logging_level          = {level}
        throttling_rate_limit  = 100
        throttling_burst_limit = 50
      }}
    }}
    variable "api" {{}}
    variable "level" {{}}
    {extra}
"""
API = 'resource "aws_api_gateway_rest_api" "orders" {\n  name = "orders"\n}'


@pytest.mark.parametrize(
    ("stage_api", "settings_api", "stage_name", "level", "extra", "status"),
    [
        # the API declared here: known either way
        (
            "aws_api_gateway_rest_api.orders.id",
            "aws_api_gateway_rest_api.orders.id",
            '"prod"',
            '"INFO"',
            API,
            Status.PASS,
        ),
        (
            "aws_api_gateway_rest_api.orders.id",
            "aws_api_gateway_rest_api.orders.id",
            '"prod"',
            '"OFF"',
            API,
            Status.FAIL,
        ),
        # the API declared elsewhere (the catalog snippet): settings naming the stage apply to it
        (
            "aws_api_gateway_rest_api.orders.id",
            "aws_api_gateway_rest_api.orders.id",
            "aws_api_gateway_stage.prod.stage_name",
            '"INFO"',
            "",
            Status.PASS,
        ),
        # settings for an API given by a variable may or may not be this stage's
        ('"api-1"', "var.api", '"prod"', '"INFO"', "", Status.UNKNOWN),
        (
            "aws_api_gateway_rest_api.orders.id",
            "aws_api_gateway_rest_api.orders.id",
            '"prod"',
            "var.level",
            API,
            Status.UNKNOWN,
        ),
        # settings of another stage: this one has none
        (
            "aws_api_gateway_rest_api.orders.id",
            "aws_api_gateway_rest_api.orders.id",
            '"dev"',
            '"INFO"',
            API,
            Status.FAIL,
        ),
    ],
)
def test_method_settings_of_a_stage_whose_api_is_unknown(
    scan_text: ScanText,
    stage_api: str,
    settings_api: str,
    stage_name: str,
    level: str,
    extra: str,
    status: Status,
) -> None:
    text = STAGE.format(
        stage_api=stage_api, settings_api=settings_api, stage_name=stage_name, level=level, extra=extra
    )
    result = scan_text({"main.tf": text})
    logging = finding(result.findings, "aws_api_gateway_stage.prod", "apigateway_stage_logging_enabled")
    assert logging.status is status, logging.reason


PERMISSION = """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      Target: {{Type: String}}
      Who: {{Type: String}}
    Resources:
      Fn:
        Type: AWS::Lambda::Function
        Properties:
          FunctionName: orders
          Runtime: python3.12
          Handler: x.handler
          Role: arn:aws:iam::123456789012:role/r
          Code: {{ZipFile: "def handler(e, c): pass"}}
      Invoke:
        Type: AWS::Lambda::Permission
        Properties:
          FunctionName: {target}
          Action: lambda:InvokeFunction
          Principal: {principal}
"""


@pytest.mark.parametrize(
    ("target", "principal", "status", "says"),
    [
        ("!Ref Fn", "events.amazonaws.com", Status.PASS, "grants invocation to everyone"),
        # S3 without SourceAccount: a bucket of that name in any account (AWS Config's rule)
        ("!Ref Fn", "s3.amazonaws.com", Status.FAIL, "without an AWS:SourceAccount condition"),
        ("!Ref Fn", '"*"', Status.FAIL, "Principal *"),
        ("!Ref Fn", "!Ref Who", Status.UNKNOWN, "Principal depends on parameter Who"),
        ("!Ref Target", '"*"', Status.UNKNOWN, "Invoke may set it"),
        ("!ImportValue shared-function", '"*"', Status.UNKNOWN, "Fn::ImportValue shared-function"),
    ],
)
def test_a_permission_with_unknown_parts_makes_the_policy_unknown(
    scan_text: ScanText, target: str, principal: str, status: Status, says: str
) -> None:
    result = scan_text({"stack.yaml": PERMISSION.format(target=target, principal=principal)})
    public = finding(result.findings, "Fn", "lambda_function_policy_not_public")
    assert public.status is status and says in public.reason, public.reason


BUCKET_POLICY = """
    variable "principal" {{}}
    variable "actions" {{}}
    resource "aws_s3_bucket" "b" {{
      bucket = "acme-data"
    }}
    resource "aws_s3_bucket_public_access_block" "b" {{
      bucket = aws_s3_bucket.b.id
    }}
    resource "aws_s3_bucket_policy" "b" {{
      bucket = aws_s3_bucket.b.id
      policy = jsonencode({{
        Version = "2012-10-17"
        Statement = [
          {{
            Effect = "Allow", Principal = {principal}, Action = {actions},
            Resource = "${{aws_s3_bucket.b.arn}}/*"
          }},
          {{
            Effect = "Deny", Principal = "*", Action = "s3:*",
            Resource = [aws_s3_bucket.b.arn, "${{aws_s3_bucket.b.arn}}/*"],
            Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
          }},
        ]
      }})
    }}
"""


@pytest.mark.parametrize(
    ("principal", "actions", "status"),
    [
        ('{ AWS = "arn:aws:iam::123456789012:root" }', '"s3:GetObject"', Status.PASS),
        ('"*"', '"s3:GetObject"', Status.FAIL),
        ("var.principal", '"s3:GetObject"', Status.UNKNOWN),
        # an account given by a variable inside an ARN is still one account, never everyone
        ('{ AWS = "arn:aws:iam::${var.principal}:root" }', '"s3:GetObject"', Status.PASS),
        # a known public grant fails, whatever the unknown actions of another statement
        ('"*"', "var.actions", Status.UNKNOWN),
        ('{ AWS = "arn:aws:iam::123456789012:root" }', "var.actions", Status.PASS),
    ],
)
def test_bucket_policy_statements_with_unknown_parts(
    scan_text: ScanText, principal: str, actions: str, status: Status
) -> None:
    result = scan_text({"main.tf": BUCKET_POLICY.format(principal=principal, actions=actions)})
    public = finding(result.findings, "aws_s3_bucket.b", "s3_bucket_policy_not_public")
    assert public.status is status, public.reason
    tls = finding(result.findings, "aws_s3_bucket.b", "s3_bucket_tls_required")
    assert tls.status is Status.PASS, tls.reason  # the known Deny enforces TLS whatever the Allow is


def test_separate_rule_of_a_group_given_by_a_variable_is_judged_on_every_group(scan_text: ScanText) -> None:
    text = """
        variable "group" {}
        resource "aws_security_group" "web" {
          name   = "web"
          vpc_id = "vpc-1"
        }
        resource "aws_security_group" "open" {
          name   = "open"
          vpc_id = "vpc-1"
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
        resource "aws_vpc_security_group_ingress_rule" "rdp" {
          security_group_id = var.group
          ip_protocol       = "tcp"
          from_port         = 3389
          to_port           = 3389
          cidr_ipv4         = "0.0.0.0/0"
        }
    """
    result = scan_text({"main.tf": text})
    web = finding(result.findings, "aws_security_group.web", "ec2_security_group_no_world_admin_ingress")
    assert web.status is Status.UNKNOWN and "var.group" in web.reason
    # a group known to be open still fails, whatever else may be added to it
    assert (
        finding(
            result.findings, "aws_security_group.open", "ec2_security_group_no_world_admin_ingress"
        ).status
        is Status.FAIL
    )


def test_policy_attached_to_a_role_given_by_a_variable(scan_text: ScanText) -> None:
    text = """
        variable "role" {}
        resource "aws_iam_role" "app" {
          name               = "app"
          assume_role_policy = jsonencode({Version = "2012-10-17", Statement = []})
        }
        resource "aws_iam_role_policy_attachment" "admin" {
          role       = var.role
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }
    """
    result = scan_text({"main.tf": text})
    admin = finding(result.findings, "aws_iam_role.app", "iam_role_no_admin_access")
    assert admin.status is Status.UNKNOWN and "var.role" in admin.reason


def test_versioning_of_a_bucket_named_literally_when_the_bucket_name_is_a_variable(
    scan_text: ScanText,
) -> None:
    text = """
        variable "name" {}
        resource "aws_s3_bucket" "b" {
          bucket = var.name
        }
        resource "aws_s3_bucket_versioning" "v" {
          bucket = "acme-data"
          versioning_configuration {
            status = "Enabled"
          }
        }
    """
    result = scan_text({"main.tf": text})
    versioning = finding(result.findings, "aws_s3_bucket.b", "s3_bucket_versioning_enabled")
    assert versioning.status is Status.UNKNOWN and "acme-data" in versioning.reason


def test_secret_named_variable_given_at_deploy_time(scan_text: ScanText) -> None:
    template = """
        AWSTemplateFormatVersion: "2010-09-09"
        Parameters:
          Token: {Type: String, NoEcho: true}
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              Runtime: python3.12
              Handler: x.handler
              Role: arn:aws:iam::123456789012:role/r
              Code: {ZipFile: "def handler(e, c): pass"}
              Environment:
                Variables:
                  API_TOKEN: !Ref Token
                  TOKEN_PARAM: /acme/token
    """
    result = scan_text({"stack.yaml": template})
    secrets = finding(result.findings, "Fn", "lambda_function_env_no_plaintext_secrets")
    assert secrets.status is Status.UNKNOWN
    assert "API_TOKEN depends on parameter Token" in secrets.reason and "TOKEN_PARAM" not in secrets.reason


def test_rds_engine_given_by_a_parameter(scan_text: ScanText) -> None:
    template = """
        AWSTemplateFormatVersion: "2010-09-09"
        Parameters:
          Engine: {Type: String}
        Resources:
          Cluster:
            Type: AWS::RDS::DBCluster
            Properties:
              Engine: !Ref Engine
              StorageEncrypted: true
    """
    result = scan_text({"stack.yaml": template})
    tls = finding(result.findings, "Cluster", "rds_cluster_tls_enforced")
    assert tls.status is Status.UNKNOWN and "parameter Engine" in tls.reason


def test_dynamic_blocks_over_unknown_collections(scan_text: ScanText) -> None:
    text = """
        variable "rules" {}
        variable "statements" {}
        resource "aws_s3_bucket" "b" {
          bucket = "acme-data"
        }
        resource "aws_s3_bucket_versioning" "b" {
          bucket = aws_s3_bucket.b.id
          dynamic "versioning_configuration" {
            for_each = var.rules
            content {
              status = versioning_configuration.value
            }
          }
        }
        data "aws_iam_policy_document" "p" {
          statement {
            effect    = "Deny"
            actions   = ["s3:*"]
            resources = [aws_s3_bucket.b.arn, "${aws_s3_bucket.b.arn}/*"]
            principals {
              type        = "*"
              identifiers = ["*"]
            }
            condition {
              test     = "Bool"
              variable = "aws:SecureTransport"
              values   = ["false"]
            }
          }
          dynamic "statement" {
            for_each = var.statements
            content {
              actions = statement.value
            }
          }
        }
        resource "aws_s3_bucket_policy" "b" {
          bucket = aws_s3_bucket.b.id
          policy = data.aws_iam_policy_document.p.json
        }
    """
    result = scan_text({"main.tf": text})
    versioning = finding(result.findings, "aws_s3_bucket.b", "s3_bucket_versioning_enabled")
    assert versioning.status is Status.UNKNOWN and "var.rules" in versioning.reason
    public = finding(result.findings, "aws_s3_bucket.b", "s3_bucket_policy_not_public")
    assert public.status is Status.UNKNOWN and "var.statements" in public.reason
    # the known Deny still enforces TLS, whatever the other statements are
    assert finding(result.findings, "aws_s3_bucket.b", "s3_bucket_tls_required").status is Status.PASS


ACL = """
    variable "ownership" {{}}
    variable "ignore" {{}}
    resource "aws_s3_bucket" "b" {{
      bucket = "acme-site"
    }}
    resource "aws_s3_bucket_ownership_controls" "b" {{
      bucket = aws_s3_bucket.b.id
      rule {{
        object_ownership = {ownership}
      }}
    }}
    resource "aws_s3_bucket_public_access_block" "b" {{
      bucket                  = aws_s3_bucket.b.id
      block_public_acls       = false
      ignore_public_acls      = {ignore}
      block_public_policy     = false
      restrict_public_buckets = false
    }}
    resource "aws_s3_bucket_acl" "b" {{
      bucket = aws_s3_bucket.b.id
      acl    = "public-read"
    }}
"""


@pytest.mark.parametrize(
    ("ownership", "ignore", "status"),
    [
        ('"BucketOwnerPreferred"', "false", Status.FAIL),
        ('"BucketOwnerEnforced"', "false", Status.PASS),
        ('"BucketOwnerPreferred"', "true", Status.PASS),
        # AWS refuses a public ACL where ownership is enforced: whatever it is, the grant applies
        ("var.ownership", "false", Status.FAIL),
        ('"BucketOwnerPreferred"', "var.ignore", Status.UNKNOWN),  # S3 may ignore the public grant
    ],
)
def test_a_public_acl_is_unknown_when_the_block_may_ignore_it(
    scan_text: ScanText, ownership: str, ignore: str, status: Status
) -> None:
    result = scan_text({"main.tf": ACL.format(ownership=ownership, ignore=ignore)})
    assert finding(result.findings, "aws_s3_bucket.b", "s3_bucket_acl_not_public").status is status


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        (
            '{ Effect = "Allow", Action = ["dynamodb:GetItem"], Resource = "arn:aws:dynamodb:*:*:table/o" }',
            Status.PASS,
        ),
        (
            '{ Effect = "Allow", Action = ["dynamodb:*"], Resource = "arn:aws:dynamodb:*:*:table/orders" }',
            Status.FAIL,
        ),
        # an unknown action may be dynamodb:*, a wildcard grant even on one table
        (
            '{ Effect = "Allow", Action = var.actions, Resource = "arn:aws:dynamodb:*:*:table/orders" }',
            Status.UNKNOWN,
        ),
    ],
)
def test_dynamodb_wildcard_grants_with_unknown_actions(
    scan_text: ScanText, statement: str, status: Status
) -> None:
    text = f"""
        variable "actions" {{}}
        resource "aws_iam_role" "app" {{
          name               = "app"
          assume_role_policy = jsonencode({{Version = "2012-10-17", Statement = []}})
          inline_policy {{
            name   = "orders"
            policy = jsonencode({{ Version = "2012-10-17", Statement = [{statement}] }})
          }}
        }}
    """
    result = scan_text({"main.tf": text})
    assert (
        finding(result.findings, "aws_iam_role.app", "dynamodb_iam_role_no_wildcard_grants").status is status
    )


def test_trail_key_and_log_group_given_by_variables_are_unknown(scan_text: ScanText) -> None:
    text = """
        variable "key" {}
        variable "group" {}
        resource "aws_cloudtrail" "t" {
          name                       = "t"
          s3_bucket_name             = "acme-trail"
          kms_key_id                 = var.key
          cloud_watch_logs_group_arn = var.group
        }
    """
    result = scan_text({"main.tf": text})
    encrypted = finding(result.findings, "aws_cloudtrail.t", "cloudtrail_trail_logs_encrypted")
    assert encrypted.status is Status.UNKNOWN and "var.key" in encrypted.reason
    assert (
        finding(result.findings, "aws_cloudtrail.t", "cloudtrail_trail_cloudwatch_logs").status
        is Status.UNKNOWN
    )


def test_a_literal_log_target_is_this_bucket_only_if_its_known_name_text_allows(
    scan: Callable[..., IacScan], tmp_path: Path
) -> None:
    """A bucket named ``acme-<env>-data-<account>`` can never be ``acme-logs``: logging to it is on.
    Only a name whose known text could match the target leaves S3-06 unknown."""
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Parameters:\n  Env: {Type: String}\n"
        "Resources:\n"
        "  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      BucketName: !Sub acme-${Env}-data-${AWS::AccountId}\n"
        "      LoggingConfiguration: {DestinationBucketName: acme-logs}\n"
        "  Maybe:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      BucketName: !Sub acme-${Env}\n"
        "      LoggingConfiguration: {DestinationBucketName: acme-logs}\n"
    )
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(
        'variable "env" {}\n'
        'resource "aws_s3_bucket" "data" {\n  bucket = "acme-${var.env}-data"\n}\n'
        'resource "aws_s3_bucket_logging" "data" {\n  bucket        = aws_s3_bucket.data.id\n'
        '  target_bucket = "acme-logs"\n}\n'
        'resource "aws_s3_bucket" "maybe" {\n  bucket = "acme-${var.env}"\n}\n'
        'resource "aws_s3_bucket_logging" "maybe" {\n  bucket        = aws_s3_bucket.maybe.id\n'
        '  target_bucket = "acme-logs"\n}\n'
    )
    result = scan(str(tmp_path))
    status = {
        f.resource_name: (f.status, f.reason)
        for f in result.findings
        if f.check_id == "s3_bucket_access_logging_enabled"
    }
    assert status["Data"][0] is Status.PASS
    assert status["aws_s3_bucket.data"][0] is Status.PASS
    for maybe in ("Maybe", "aws_s3_bucket.maybe"):
        assert status[maybe][0] is Status.UNKNOWN and "may be this bucket" in status[maybe][1]


def test_may_be_reads_the_known_text_of_a_name() -> None:
    from controlmap.sources.iac.common import Unresolved, may_be

    assert may_be("anything", "x")  # a known value is compared elsewhere
    assert may_be(Unresolved("p"), "x")  # nothing known
    assert not may_be(Unresolved("p", placeholder="acme-${Env}-data"), "acme-logs")
    assert may_be(Unresolved("p", placeholder="acme-${Env}"), "acme-logs")
    assert not may_be(Unresolved("p", placeholder="<own account>-x"), "logs")
