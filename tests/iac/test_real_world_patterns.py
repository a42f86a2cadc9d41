"""Patterns real templates use every day, each once broken: computed bucket names, Aurora members,
``for_each`` over another resource, plans of such configurations, SAM globals and function URLs,
SSM parameters and dynamic references."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controlmap.catalog.catalog import Catalog
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding
from controlmap.settings import Settings
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac

from .conftest import finding


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


ScanFiles = Callable[..., IacScan]


@pytest.fixture
def scan_files(catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScanFiles:
    """Write the files into an empty directory and scan it (or the paths given)."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str], *paths: str, **options: Any) -> IacScan:
        write(tmp_path, files)
        targets = [Path(p) for p in (paths or (".",))]
        return scan_iac(targets, catalog, Settings(), options=IacOptions(**options))

    return run


def by_address(findings: list[Finding], address: str, check: str) -> Finding:
    found = [f for f in findings if f.source and f.source.address == address and f.check_id == check]
    assert len(found) == 1, [(f.source.address if f.source else None, f.status, f.reason) for f in findings]
    return found[0]


# ---- CloudFormation: a bucket named from the stack name --------------------------------------

COMPUTED_NAME = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      DataBucket:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: !Sub "${AWS::StackName}-data"
          LoggingConfiguration:
            DestinationBucketName: !Ref LogBucket
      LogBucket:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: !Sub "${AWS::AccountId}-logs"
      DataBucketPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref DataBucket
          PolicyDocument:
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: "s3:*"
                Resource: [!GetAtt DataBucket.Arn, !Sub "${DataBucket.Arn}/*"]
                Condition: {Bool: {aws:SecureTransport: "false"}}
    """


def test_policy_of_a_bucket_with_a_computed_name_covers_it(scan_files: ScanFiles) -> None:
    result = scan_files({"stack.yaml": COMPUTED_NAME})
    assert result.problems == []
    tls = finding(result.findings, "DataBucket", "s3_bucket_tls_required")
    assert tls.status is Status.PASS, tls.reason
    # the other bucket really has no policy: still a failure
    assert finding(result.findings, "LogBucket", "s3_bucket_tls_required").status is Status.FAIL


def test_log_target_with_a_computed_name_is_named_by_its_logical_id(scan_files: ScanFiles) -> None:
    result = scan_files({"stack.yaml": COMPUTED_NAME})
    logging = finding(result.findings, "DataBucket", "s3_bucket_access_logging_enabled")
    assert logging.status is Status.PASS
    assert logging.reason == "server access logs go to LogBucket"


# ---- Aurora: the instances take their security groups from the cluster ----------------------

AURORA = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      DbSg:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: db
          VpcId: vpc-123
          SecurityGroupIngress:
            - {IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: __CIDR__}
      Cluster:
        Type: AWS::RDS::DBCluster
        Properties:
          Engine: aurora-postgresql
          StorageEncrypted: true
          Port: 5432
          VpcSecurityGroupIds: [!GetAtt DbSg.GroupId]
          MasterUsername: app
          ManageMasterUserPassword: true
      Writer:
        Type: AWS::RDS::DBInstance
        Properties:
          Engine: aurora-postgresql
          DBClusterIdentifier: !Ref Cluster
          DBInstanceClass: db.r6g.large
    """


@pytest.mark.parametrize(("cidr", "status"), [("0.0.0.0/0", Status.FAIL), ("10.0.0.0/16", Status.PASS)])
def test_aurora_instance_is_judged_on_its_clusters_security_groups(
    scan_files: ScanFiles, cidr: str, status: Status
) -> None:
    result = scan_files({"db.yaml": AURORA.replace("__CIDR__", cidr)})
    assert result.problems == []
    sg = finding(result.findings, "Writer", "rds_instance_security_groups_restricted")
    assert sg.status is status, sg.reason
    if status is Status.FAIL:
        assert "tcp/5432 from 0.0.0.0/0" in sg.reason


def test_aurora_cluster_without_groups_stays_unknown(scan_files: ScanFiles) -> None:
    template = "".join(line for line in AURORA.splitlines(True) if "VpcSecurityGroupIds" not in line)
    result = scan_files({"db.yaml": template.replace("__CIDR__", "10.0.0.0/8")})
    assert result.problems == []
    sg = finding(result.findings, "Writer", "rds_instance_security_groups_restricted")
    assert sg.status is Status.UNKNOWN


# ---- Terraform: for_each over another resource ------------------------------------------------

FOR_EACH_ROOT = {
    "main.tf": """
        variable "names" {
          type    = set(string)
          default = ["raw", "curated"]
        }
        resource "aws_s3_bucket" "lake" {
          for_each = var.names
          bucket   = "acme-${each.key}"
        }
        resource "aws_s3_bucket_versioning" "lake" {
          for_each = aws_s3_bucket.lake
          bucket   = each.value.id
          versioning_configuration {
            status = each.key == "raw" ? "Enabled" : "Suspended"
          }
        }
        resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
          for_each = { for key, bucket in aws_s3_bucket.lake : key => bucket }
          bucket   = each.value.bucket
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm = "aws:kms"
            }
          }
        }
        resource "aws_s3_bucket" "other" {
          bucket = "acme-other"
        }
        """
}


def test_for_each_over_a_resource_joins_each_instance_to_its_bucket(scan_files: ScanFiles) -> None:
    result = scan_files(FOR_EACH_ROOT)
    assert result.problems == []
    raw = by_address(result.findings, 'aws_s3_bucket.lake["raw"]', "s3_bucket_versioning_enabled")
    curated = by_address(result.findings, 'aws_s3_bucket.lake["curated"]', "s3_bucket_versioning_enabled")
    assert raw.status is Status.PASS
    assert curated.status is Status.FAIL and "Suspended" in curated.reason
    sse = by_address(result.findings, 'aws_s3_bucket.lake["raw"]', "s3_bucket_default_encryption_kms")
    assert sse.status is Status.PASS
    # a bucket none of them names keeps the defaults, not an unknown
    other = by_address(result.findings, "aws_s3_bucket.other", "s3_bucket_versioning_enabled")
    assert other.status is Status.FAIL and "Disabled" in other.reason


def test_for_each_over_a_module_with_for_each(scan_files: ScanFiles) -> None:
    files = {
        "main.tf": """
            module "buckets" {
              source   = "./bucket"
              for_each = toset(["x", "y"])
              name     = "acme-${each.key}"
            }
            resource "aws_s3_bucket_versioning" "v" {
              for_each = module.buckets
              bucket   = each.value.id
              versioning_configuration {
                status = each.key == "x" ? "Enabled" : "Suspended"
              }
            }
            """,
        "bucket/main.tf": """
            variable "name" {}
            resource "aws_s3_bucket" "this" {
              bucket = var.name
            }
            output "id" {
              value = aws_s3_bucket.this.id
            }
            """,
    }
    result = scan_files(files)
    assert result.problems == []
    x = by_address(result.findings, 'module.buckets["x"].aws_s3_bucket.this', "s3_bucket_versioning_enabled")
    y = by_address(result.findings, 'module.buckets["y"].aws_s3_bucket.this', "s3_bucket_versioning_enabled")
    assert (x.status, y.status) == (Status.PASS, Status.FAIL)


# ---- Terraform plan: each.value of a for_each over a resource ----------------------------------


def _plan_with_for_each() -> dict[str, Any]:
    planned, changes = [], []
    for key, status in (("raw", "Enabled"), ("curated", "Suspended")):
        for rtype, values, unknown in (
            ("aws_s3_bucket", {"bucket": f"acme-{key}"}, {"id": True, "arn": True, "versioning": True}),
            (
                "aws_s3_bucket_versioning",
                {"versioning_configuration": [{"status": status}]},
                {"bucket": True, "id": True},
            ),
        ):
            address = f'{rtype}.lake["{key}"]'
            planned.append(
                {
                    "address": address,
                    "mode": "managed",
                    "type": rtype,
                    "name": "lake",
                    "index": key,
                    "values": values,
                }
            )
            change = {"actions": ["create"], "after": values, "after_unknown": unknown}
            changes.append(
                {"address": address, "mode": "managed", "type": rtype, "name": "lake", "change": change}
            )
    configuration = {
        "root_module": {
            "resources": [
                {
                    "address": "aws_s3_bucket.lake",
                    "mode": "managed",
                    "type": "aws_s3_bucket",
                    "name": "lake",
                    "expressions": {"bucket": {"references": ["each.key"]}},
                    "for_each_expression": {"references": ["var.names"]},
                },
                {
                    "address": "aws_s3_bucket_versioning.lake",
                    "mode": "managed",
                    "type": "aws_s3_bucket_versioning",
                    "name": "lake",
                    "expressions": {"bucket": {"references": ["each.value.id", "each.value"]}},
                    "for_each_expression": {"references": ["aws_s3_bucket.lake"]},
                },
            ]
        }
    }
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": configuration,
    }


def test_plan_joins_each_value_to_the_instance_of_the_same_key(scan_files: ScanFiles) -> None:
    result = scan_files({"plan.json": json.dumps(_plan_with_for_each())}, "plan.json")
    assert result.problems == []
    raw = by_address(result.findings, 'aws_s3_bucket.lake["raw"]', "s3_bucket_versioning_enabled")
    curated = by_address(result.findings, 'aws_s3_bucket.lake["curated"]', "s3_bucket_versioning_enabled")
    assert raw.status is Status.PASS
    assert curated.status is Status.FAIL and "Suspended" in curated.reason


# ---- SAM: Globals of the implicit API, function URLs ------------------------------------------

SAM_IMPLICIT_API = """
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Api:
        MethodSettings:
          - ResourcePath: "/*"
            HttpMethod: "*"
            ThrottlingRateLimit: 100
            ThrottlingBurstLimit: 50
            LoggingLevel: ERROR
        AccessLogSetting:
          DestinationArn: arn:aws:logs:eu-west-1:123456789012:log-group:api
          Format: $context.requestId
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Runtime: python3.12
          Handler: app.handler
          InlineCode: "def handler(event, context): pass"
          Events:
            Get: {Type: Api, Properties: {Path: /, Method: get}}
    """


def test_globals_apply_to_the_implicit_api(scan_files: ScanFiles) -> None:
    result = scan_files({"template.yaml": SAM_IMPLICIT_API})
    stage = "ServerlessRestApiProdStage"
    throttle = finding(result.findings, stage, "apigateway_stage_throttled")
    assert throttle.status is Status.PASS, throttle.reason
    logging = finding(result.findings, stage, "apigateway_stage_logging_enabled")
    assert logging.status is Status.PASS, logging.reason


def test_without_globals_the_implicit_api_still_fails(scan_files: ScanFiles) -> None:
    template = SAM_IMPLICIT_API.split("    Resources:")[0].split("    Globals:")[0] + (
        "    Resources:" + SAM_IMPLICIT_API.split("    Resources:")[1]
    )
    result = scan_files({"template.yaml": template})
    stage = "ServerlessRestApiProdStage"
    assert finding(result.findings, stage, "apigateway_stage_throttled").status is Status.FAIL


@pytest.mark.parametrize(("auth", "status"), [("NONE", Status.FAIL), ("AWS_IAM", Status.PASS)])
def test_sam_function_url_without_auth_is_public(scan_files: ScanFiles, auth: str, status: Status) -> None:
    template = f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: app.handler
              InlineCode: "def handler(event, context): pass"
              FunctionUrlConfig:
                AuthType: {auth}
        """
    result = scan_files({"template.yaml": template})
    public = finding(result.findings, "Fn", "lambda_function_policy_not_public")
    assert public.status is status, public.reason
    if status is Status.FAIL:
        assert "lambda:InvokeFunctionUrl to Principal *" in public.reason


def test_function_url_permission_carries_its_auth_type_condition(scan_files: ScanFiles) -> None:
    cfn = """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              Runtime: python3.12
              Handler: app.handler
              Role: arn:aws:iam::123456789012:role/fn
              Code: {ZipFile: "def handler(event, context): pass"}
          Public:
            Type: AWS::Lambda::Permission
            Properties:
              Action: lambda:InvokeFunctionUrl
              FunctionName: !Ref Fn
              FunctionUrlAuthType: NONE
              Principal: "*"
        """
    tf = """
        resource "aws_lambda_function" "fn" {
          function_name = "fn"
          role          = "arn:aws:iam::123456789012:role/fn"
          runtime       = "python3.12"
          handler       = "app.handler"
          filename      = "fn.zip"
        }
        resource "aws_lambda_permission" "url" {
          action                 = "lambda:InvokeFunctionUrl"
          function_name          = aws_lambda_function.fn.function_name
          function_url_auth_type = "NONE"
          principal              = "*"
        }
        """
    result = scan_files({"stack.yaml": cfn, "tf/main.tf": tf})
    for shown in ("Fn", "aws_lambda_function.fn"):
        public = finding(result.findings, shown, "lambda_function_policy_not_public")
        assert public.status is Status.FAIL
        grant = public.evidence["grants"][0]
        assert grant["actions"] == ["lambda:InvokeFunctionUrl"]
        assert grant["condition_keys"] == ["lambda:FunctionUrlAuthType"], grant


# ---- CloudFormation: SSM parameter types and dynamic references -------------------------------

SSM_TEMPLATE = """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      RotateKeys:
        Type: AWS::SSM::Parameter::Value<String>
        Default: /acme/security/rotate-keys
    Conditions:
      Rotate: !Equals [!Ref RotateKeys, "true"]
    Resources:
      Key:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: !If [Rotate, true, false]
      Bucket:
        Type: AWS::S3::Bucket
        Properties:
          VersioningConfiguration:
            Status: "{{resolve:ssm:/acme/s3/versioning}}"
      Versioned:
        Type: AWS::S3::Bucket
        Properties:
          VersioningConfiguration:
            Status: Enabled
    """


def test_an_ssm_typed_parameter_is_read_at_deploy_time_not_its_default(scan_files: ScanFiles) -> None:
    # the Default is the SSM parameter's name; comparing it with "true" decided nothing
    result = scan_files({"stack.yaml": SSM_TEMPLATE})
    assert result.problems == []
    rotation = finding(result.findings, "Key", "kms_key_rotation_enabled")
    assert rotation.status is Status.FAIL
    assert rotation.reason.startswith("when condition Rotate is false (RotateKeys=another value): ")
    # a value given on the command line is also the name of the SSM parameter to read
    given = scan_files({"stack.yaml": SSM_TEMPLATE}, parameters={"RotateKeys": "true"})
    assert finding(given.findings, "Key", "kms_key_rotation_enabled").reason.startswith(
        "when condition Rotate"
    )


def test_a_dynamic_reference_is_unknown_not_a_literal(scan_files: ScanFiles) -> None:
    result = scan_files({"stack.yaml": SSM_TEMPLATE})
    versioning = finding(result.findings, "Bucket", "s3_bucket_versioning_enabled")
    assert versioning.status is Status.UNKNOWN
    assert "{{resolve:ssm:/acme/s3/versioning}} (read when the stack deploys)" in versioning.reason
    assert finding(result.findings, "Versioned", "s3_bucket_versioning_enabled").status is Status.PASS


# ---- EC2-04: the volumes an instance declares ------------------------------------------------

INSTANCE_CFN = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Mapped:
        Type: AWS::EC2::Instance
        Properties:
          ImageId: ami-12345678
          BlockDeviceMappings:
            - DeviceName: /dev/xvda
              Ebs: {VolumeSize: 20, Encrypted: true}
            - DeviceName: /dev/sdf
              Ebs: {VolumeSize: 100, Encrypted: false}
            - DeviceName: /dev/sdg
              VirtualName: ephemeral0
      Plain:
        Type: AWS::EC2::Instance
        Properties:
          ImageId: ami-12345678
    """

INSTANCE_TF = """
    resource "aws_instance" "plain" {
      ami           = "ami-123"
      instance_type = "t3.micro"
    }
    resource "aws_instance" "mapped" {
      ami           = "ami-123"
      instance_type = "t3.micro"
      root_block_device {
        encrypted = true
      }
      ebs_block_device {
        device_name = "/dev/sdf"
        encrypted   = false
      }
    }
    """


def test_instance_volumes_are_judged_in_cloudformation(scan_files: ScanFiles) -> None:
    result = scan_files({"stack.yaml": INSTANCE_CFN})
    root = by_address(result.findings, "Mapped (/dev/xvda)", "ec2_volume_encrypted")
    data = by_address(result.findings, "Mapped (/dev/sdf)", "ec2_volume_encrypted")
    assert root.status is Status.PASS
    assert data.status is Status.FAIL and "attached to Mapped" in data.reason
    assert data.source is not None and data.source.line_start == 3  # the instance's lines
    assert not [f for f in result.findings if f.source and "/dev/sdg" in f.source.address]
    # nothing declared: the root volume follows the AMI and the region default, unknown here
    plain = by_address(result.findings, "Plain (root volume)", "ec2_volume_encrypted")
    assert plain.status is Status.UNKNOWN and "AMI's snapshot" in plain.reason


def test_an_unknown_size_or_key_does_not_hide_an_instance_volume(scan_files: ScanFiles) -> None:
    """A size, key or snapshot given at deploy time left every volume of the instance unjudged (no
    finding at all, so an unencrypted volume passed silently); only an unknown mapping is unknown."""
    result = scan_files(
        {
            "stack.yaml": """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      DataSize: {Type: Number}
      Mappings: {Type: String}
    Resources:
      Web:
        Type: AWS::EC2::Instance
        Properties:
          ImageId: ami-12345678
          BlockDeviceMappings:
            - DeviceName: /dev/xvda
              Ebs: {Encrypted: true, KmsKeyId: !ImportValue shared-ebs-key}
            - DeviceName: /dev/sdf
              Ebs: {VolumeSize: !Ref DataSize, Encrypted: false}
            - DeviceName: /dev/sdg
              Ebs: !Ref Mappings
    """
        }
    )
    assert by_address(result.findings, "Web (/dev/xvda)", "ec2_volume_encrypted").status is Status.PASS
    assert by_address(result.findings, "Web (/dev/sdf)", "ec2_volume_encrypted").status is Status.FAIL
    hidden = by_address(result.findings, "Web (BlockDeviceMappings[2])", "ec2_volume_encrypted")
    assert hidden.status is Status.UNKNOWN and "parameter Mappings" in hidden.reason


def test_instance_volumes_are_judged_in_terraform(scan_files: ScanFiles) -> None:
    result = scan_files({"main.tf": INSTANCE_TF})
    status = {
        f.source.address: f.status
        for f in result.findings
        if f.check_id == "ec2_volume_encrypted" and f.source is not None
    }
    assert status == {
        "aws_instance.plain (root_block_device)": Status.UNKNOWN,
        "aws_instance.mapped (root_block_device)": Status.PASS,
        "aws_instance.mapped (/dev/sdf)": Status.FAIL,
    }
    # a configuration that turns the region's default encryption on settles the undeclared root
    with_default = scan_files(
        {"main.tf": INSTANCE_TF + 'resource "aws_ebs_encryption_by_default" "on" {\n  enabled = true\n}\n'}
    )
    plain = by_address(
        with_default.findings, "aws_instance.plain (root_block_device)", "ec2_volume_encrypted"
    )
    assert plain.status is Status.PASS


# ---- condition branches: named briefly, by what decides them --------------------------------

BRANCHES = """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      Env:
        Type: String
        AllowedValues: [staging, prod]
      Stage:
        Type: String
      Tier:
        Type: String
    Conditions:
      IsProd: !Equals [!Ref Env, prod]
      IsDev: !Equals [!Ref Env, dev]
      StageProd: !Equals [!Ref Stage, prod]
      IsGold: !Equals [!Ref Tier, gold]
    Resources:
      Key:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: !If [IsGold, true, false]
      B:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault: {SSEAlgorithm: "aws:kms", KMSMasterKeyID: !GetAtt Key.Arn}
          VersioningConfiguration:
            Status: !If [IsDev, Suspended, !If [StageProd, Enabled, Suspended]]
      P:
        Type: AWS::S3::BucketPolicy
        Condition: IsProd
        Properties:
          Bucket: !Ref B
          PolicyDocument:
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: "s3:*"
                Resource: [!GetAtt B.Arn, !Sub "${B.Arn}/*"]
                Condition: {Bool: {aws:SecureTransport: "false"}}
    """


def test_branch_labels_name_only_what_decides_the_finding(scan_files: ScanFiles) -> None:
    result = scan_files({"stack.yaml": BRANCHES})
    assert result.problems == []
    # the companion's condition, with only the parameter it reads; IsDev is never true (AllowedValues)
    tls = finding(result.findings, "B", "s3_bucket_tls_required")
    assert tls.reason.startswith(
        "when condition IsProd is false (Env='staging'): the bucket has no bucket policy"
    )
    # branches differing in one value are one phrase
    versioning = finding(result.findings, "B", "s3_bucket_versioning_enabled")
    assert versioning.reason.startswith("when condition StageProd is false (Stage=another value): ")
    # the bucket naming the key does not put the bucket's conditions on the key
    rotation = finding(result.findings, "Key", "kms_key_rotation_enabled")
    assert rotation.reason.startswith("when condition IsGold is false (Tier=another value): ")


def test_describe_branches_merges_a_single_differing_value() -> None:
    from controlmap.sources.iac.unit import Branch, describe_branches

    not_prod = ("IsProd", False, ("Stage",))
    staging = Branch((not_prod,), (("Stage", "'staging'"),))
    other = Branch((not_prod,), (("Stage", "another value"),))
    assert (
        describe_branches([staging, other]) == "condition IsProd is false (Stage='staging' or another value)"
    )
    a = ("A", True, ("X", "Y"))
    two = Branch((a,), (("X", "'1'"), ("Y", "'2'")))
    three = Branch((a,), (("X", "'2'"), ("Y", "'1'")))
    # two values differ: merging would claim combinations that were never evaluated
    assert describe_branches([two, three]) == (
        "condition A is true (X='1', Y='2') or condition A is true (X='2', Y='1')"
    )
    # a condition that varies among the branches is not why: it is left out
    gold = Branch((not_prod, ("IsGold", True, ("Tier",))), (("Stage", "'staging'"), ("Tier", "'gold'")))
    plain = Branch(
        (not_prod, ("IsGold", False, ("Tier",))), (("Stage", "'staging'"), ("Tier", "another value"))
    )
    assert describe_branches([gold, plain]) == "condition IsProd is false (Stage='staging')"


# ---- inline suppressions: IDs in any case, typos reported ------------------------------------


def test_skip_ids_are_matched_in_any_case_and_unknown_ones_reported(scan_files: ScanFiles) -> None:
    cfn = """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          B:
            Type: AWS::S3::Bucket
            Metadata:
              controlmap:
                skip:
                  - {id: S3-5, reason: a typo}
                  - {id: s3-06, reason: written in lower case}
                  - {id: s3_bucket_versioning_enabled, reason: by check ID}
                  - S3-03
        """
    tf = """
        # controlmap:skip=S3-5 a typo
        # controlmap:skip=s3-06 written in lower case
        resource "aws_s3_bucket" "b" {
          bucket = "acme-b"
        }
        """
    result = scan_files({"stack.yaml": cfn, "main.tf": tf})
    assert sorted((p.file, p.line, p.message) for p in result.problems) == [
        (
            "main.tf",
            3,
            "aws_s3_bucket.b: skip of S3-5 names no control or check of the catalog (the skip is ignored)",
        ),
        ("stack.yaml", 3, "B: skip of S3-5 names no control or check of the catalog (the skip is ignored)"),
        (
            "stack.yaml",
            7,  # a plain string has no position of its own: the line of its skip list
            "B: skip 'S3-03' has no reason; write - id: S3-03 and reason: <why this resource is exempt> "
            "(the skip is ignored until then)",
        ),
    ]
    for shown in ("B", "aws_s3_bucket.b"):
        assert finding(result.findings, shown, "s3_bucket_access_logging_enabled").status is Status.SUPPRESSED
    assert finding(result.findings, "B", "s3_bucket_versioning_enabled").status is Status.SUPPRESSED
    assert finding(result.findings, "B", "s3_bucket_default_encryption_kms").status is Status.FAIL


@pytest.mark.parametrize(
    ("stage", "logical_id"),
    [
        ("", "ApiApiGatewayDefaultStage"),
        ("      StageName: v1\n", "Apiv1Stage"),
        ("      StageName: !Ref Stage\n", "ApiprodStage"),
    ],
)
def test_sam_http_api_stage_has_the_logical_id_sam_gives_it(
    scan_files: ScanFiles, stage: str, logical_id: str
) -> None:
    template = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Parameters:\n  Stage:\n    Type: String\n    Default: prod\n"
        "Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n"
        "      Description: orders\n" + stage
    )
    result = scan_files({"template.yaml": template})
    assert finding(result.findings, logical_id, "apigateway_v2_stage_throttled").status is Status.FAIL
