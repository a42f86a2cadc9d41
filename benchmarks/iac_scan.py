"""IaC scan benchmark: generate a corpus of CloudFormation templates and Terraform roots, scan it.

    python benchmarks/iac_scan.py [--templates 300] [--roots 150] [--workers N] [--keep DIR]

Prints the corpus size, wall time, peak memory (this process's RSS and the largest of its
worker processes) and time per resource; then the
cost of one small template, both in-process (catalog already loaded) and as a fresh
``controlmap scan iac`` process, which includes interpreter start-up and imports.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Key{i}:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: {rotate}
  Logs{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: acme-logs-{i}
  Data{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "acme-data-{i}-${{Env}}"
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: !If [IsProd, "aws:kms", AES256]
              KMSMasterKeyID: !If [IsProd, !GetAtt Key{i}.Arn, !Ref AWS::NoValue]
      VersioningConfiguration:
        Status: Enabled
      LoggingConfiguration:
        DestinationBucketName: !Ref Logs{i}
  DataPolicy{i}:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data{i}
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Data{i}.Arn, !Sub "${{Data{i}.Arn}}/*"]
            Condition: {{Bool: {{"aws:SecureTransport": "false"}}}}
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: app
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: ["s3:GetObject", "s3:PutObject"]
                Resource: !Sub "${{Data{i}.Arn}}/*"
  Group{i}:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: {port}
          ToPort: {port}
          CidrIp: 0.0.0.0/0
  Trail{i}:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: !Ref Logs{i}
      EnableLogFileValidation: true
  Db{i}:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      EngineVersion: "16.2"
      DBInstanceClass: db.t3.micro
      StorageEncrypted: {rotate}
      VPCSecurityGroups: [!GetAtt Group{i}.GroupId]
"""

TF = """\
variable "env" {{
  default = "dev"
}}
variable "names" {{
  default = ["raw", "curated", "published"]
}}
locals {{
  prefix = "acme-{i}-${{var.env}}"
}}
resource "aws_kms_key" "k" {{
  enable_key_rotation = {rotate}
}}
resource "aws_s3_bucket" "b" {{
  count  = length(var.names)
  bucket = "${{local.prefix}}-${{var.names[count.index]}}"
}}
resource "aws_s3_bucket_versioning" "b" {{
  count  = length(var.names)
  bucket = aws_s3_bucket.b[count.index].id
  versioning_configuration {{
    status = "Enabled"
  }}
}}
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {{
  for_each = toset(var.names)
  bucket   = "${{local.prefix}}-${{each.key}}"
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.k.arn
    }}
  }}
}}
resource "aws_s3_bucket_policy" "b" {{
  count  = length(var.names)
  bucket = aws_s3_bucket.b[count.index].id
  policy = data.aws_iam_policy_document.tls[count.index].json
}}
data "aws_iam_policy_document" "tls" {{
  count = length(var.names)
  statement {{
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.b[count.index].arn, "${{aws_s3_bucket.b[count.index].arn}}/*"]
    principals {{
      type        = "*"
      identifiers = ["*"]
    }}
    condition {{
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }}
  }}
}}
resource "aws_iam_role" "app" {{
  name = "app-{i}"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{
      Effect = "Allow", Principal = {{ Service = "ecs-tasks.amazonaws.com" }}, Action = "sts:AssumeRole"
    }}]
  }})
}}
resource "aws_iam_role_policy" "app" {{
  role = aws_iam_role.app.id
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "*" }}]
  }})
}}
resource "aws_security_group" "web" {{
  name = "web-{i}"
  ingress {{
    from_port   = {port}
    to_port     = {port}
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
resource "aws_db_instance" "db" {{
  identifier             = "db-{i}"
  engine                 = "mysql"
  engine_version         = "8.0.35"
  instance_class         = "db.t3.micro"
  storage_encrypted      = {rotate}
  vpc_security_group_ids = [aws_security_group.web.id]
}}
"""


def generate(root: Path, templates: int, roots: int) -> None:
    for i in range(templates):
        folder = root / "stacks" / f"team{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        rotate = "true" if i % 3 else "false"
        (folder / f"stack{i}.yaml").write_text(CFN.format(i=i, rotate=rotate, port=22 if i % 5 == 0 else 443))
    for i in range(roots):
        folder = root / "terraform" / f"service{i}"
        folder.mkdir(parents=True, exist_ok=True)
        rotate = "true" if i % 4 else "false"
        (folder / "main.tf").write_text(TF.format(i=i, rotate=rotate, port=3389 if i % 7 == 0 else 443))
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "ignored.yaml").write_text("AWSTemplateFormatVersion: x\n")


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--templates", type=int, default=300)
    parser.add_argument("--roots", type=int, default=150)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="Write the corpus here and keep it.")
    args = parser.parse_args()

    from controlmap.catalog.catalog import load_catalog
    from controlmap.settings import Settings
    from controlmap.sources.iac.scan import IacOptions, scan_iac

    root = args.keep or Path(tempfile.mkdtemp(prefix="controlmap-iac-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        generate(root, args.templates, args.roots)
        started = time.perf_counter()
        catalog = load_catalog()
        settings = Settings()
        settings.resolved_plan()
        setup = time.perf_counter() - started

        started = time.perf_counter()
        cpu_before = _cpu()
        scan = scan_iac([root], catalog, settings, options=IacOptions(workers=args.workers))
        wall = time.perf_counter() - started
        cpu = _cpu() - cpu_before
        own, children = peak_rss_mb()
        failing = sum(1 for f in scan.findings if f.status.value == "FAIL")
        per_resource = wall / max(scan.resource_count, 1) * 1000
        print(f"corpus: {args.templates} templates + {args.roots} Terraform roots = {len(scan.units)} units")
        print(f"resources: {scan.resource_count}; findings: {len(scan.findings)} ({failing} failing)")
        print(f"problems: {len(scan.problems)}; catalog + settings load: {setup:.2f} s (once per process)")
        print(
            f"scan: wall {wall:.2f} s, CPU {cpu:.2f} s (workers included); {per_resource:.2f} ms per resource"
        )
        print(f"peak memory: parent RSS {own:.0f} MB, largest worker RSS {children:.0f} MB")

        single = root / "stacks" / "team1" / "stack1.yaml"
        started = time.perf_counter()
        one = scan_iac([single], catalog, settings)
        in_process = time.perf_counter() - started
        print(f"one template in-process: {in_process * 1000:.0f} ms ({one.resource_count} resources)")
        command = [
            sys.executable,
            "-m",
            "controlmap.cli.app",
            "scan",
            "iac",
            str(single),
            "-o",
            "json",
            "--soft-fail",
        ]
        exe = shutil.which("controlmap")
        if exe:
            command = [exe, "scan", "iac", str(single), "-o", "json", "--soft-fail"]
        started = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        cold = time.perf_counter() - started
        print(f"one template as a new `controlmap scan iac` process: {cold:.2f} s (with start-up)")
        load = os.getloadavg()[0]
        print(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
