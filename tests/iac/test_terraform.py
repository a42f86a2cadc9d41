"""Terraform HCL: expressions, variables and tfvars, locals, modules, count/for_each, split S3 resources."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controlmap.catalog.catalog import Catalog
from controlmap.checks.registry import Status
from controlmap.resources.s3 import S3Bucket
from controlmap.settings import Settings
from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac
from controlmap.sources.iac.terraform.expressions import Scope, evaluate, parse_value
from controlmap.sources.iac.terraform.hcl import scan_blocks
from controlmap.sources.iac.terraform.reader import read_root

from .conftest import FIXTURES, finding, resource

Scan = Callable[..., IacScan]

VALUES: dict[str, Any] = {"name": "x", "list": ["a", "", "b"], "map": {"k": 1, "j": 2}}


def ev(raw: str) -> Any:
    scope = Scope(lambda n: {"var": VALUES}.get(n, Unresolved(n)))
    return evaluate(parse_value(raw), scope)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"${var.name}-b"', "x-b"),
        ('"a \\"quoted\\" ${var.name}"', 'a "quoted" x'),
        ('${var.name == "x" ? "yes" : "no"}', "yes"),
        ('${[for s in var.list : upper(s) if s != ""]}', ["A", "B"]),
        ("${{for k, v in var.map : k => v * 2}}", {"k": 2, "j": 4}),
        ('${var.map["k"]}', 1),
        ("${1 + 2 * 3}", 7),
        ("${!true}", False),
        ("${merge(var.map, {z = 3})}", {"k": 1, "j": 2, "z": 3}),
        ('${format("%s-%d", var.name, 3)}', "x-3"),
        ('${lookup(var.map, "zz", 0)}', 0),
        ('${try(var.map.missing.deeper, "fallback")}', "fallback"),
        ('${jsonencode({a = [1, "b"]})}', '{"a":[1,"b"]}'),
        ("${length(var.list)}", 3),
        ("${element(var.list, 3)}", "a"),
        ('${coalesce("", var.name)}', "x"),
    ],
)
def test_expressions(raw: str, expected: Any) -> None:
    assert ev(raw) == expected


def test_unknown_propagates_with_its_name() -> None:
    value = ev('"${unknown_thing}-x"')
    assert isinstance(value, Unresolved) and "unknown_thing" in value.depends_on


def test_block_lines_and_skips() -> None:
    text = (
        "# controlmap:skip=S3-05 versioning is handled by replication\n"
        'resource "aws_s3_bucket" "b" {\n'
        '  bucket = "x}"  # a brace in a string\n'
        '  policy = <<EOT\n{ "unbalanced": {\nEOT\n'
        "  # controlmap:skip=S3-06\n"
        "}\n"
        'resource "aws_s3_bucket" "c" {}\n'
    )
    blocks, problems = scan_blocks(text, "main.tf")
    b = blocks[("resource", "aws_s3_bucket", "b")]
    assert (b.line_start, b.line_end) == (2, 8)
    assert b.skips == {"S3-05": "versioning is handled by replication"}
    assert blocks[("resource", "aws_s3_bucket", "c")].line_start == 9
    assert len(problems) == 1 and problems[0].line == 7 and "no reason" in problems[0].message


def test_split_resources_join_by_reference_name_and_module(scan: Scan) -> None:
    result = scan("terraform/s3_split")
    raw, curated = "aws_s3_bucket.lake[0]", "aws_s3_bucket.lake[1]"
    # count + reference: versioning; for_each over a map: encryption
    assert finding(result.findings, raw, "s3_bucket_versioning_enabled").status is Status.PASS
    assert finding(result.findings, curated, "s3_bucket_default_encryption_kms").status is Status.PASS
    # by literal name, with the target bucket reached through a module output
    logging = finding(result.findings, raw, "s3_bucket_access_logging_enabled")
    assert logging.status is Status.PASS and "acme-prod-logs" in logging.reason
    assert finding(result.findings, curated, "s3_bucket_access_logging_enabled").status is Status.FAIL
    # through a module: versioning set in the root on the module's bucket
    module_bucket = "module.logs.aws_s3_bucket.this"
    assert finding(result.findings, module_bucket, "s3_bucket_versioning_enabled").status is Status.PASS
    assert finding(result.findings, module_bucket, "s3_bucket_acls_disabled").status is Status.FAIL
    # the policy document data source: a public grant next to a TLS deny
    assert finding(result.findings, curated, "s3_bucket_policy_not_public").status is Status.FAIL
    assert finding(result.findings, curated, "s3_bucket_tls_required").status is Status.PASS
    # S3-01 asks for the bucket's own block whatever the account's: turned off, it fails
    assert finding(result.findings, curated, "s3_bucket_public_access_blocked").status is Status.FAIL


def test_account_and_bucket_block_both_off_fail(scan: Scan) -> None:
    result = scan("terraform/account_open")
    bucket = finding(result.findings, "aws_s3_bucket.exposed", "s3_bucket_public_access_blocked")
    assert bucket.status is Status.FAIL
    assert "BlockPublicPolicy, RestrictPublicBuckets off at both bucket and account level" in bucket.reason
    account = [f for f in result.findings if f.check_id == "s3_account_public_access_blocked"]
    assert [f.status for f in account] == [Status.FAIL]
    assert account[0].source is not None
    assert account[0].source.address == "aws_s3_account_public_access_block.partial"
    assert "BlockPublicPolicy, RestrictPublicBuckets off" in account[0].reason


def test_account_block_all_on_passes_and_covers_buckets(scan: Scan) -> None:
    result = scan("terraform/account")
    account = [f for f in result.findings if f.check_id == "s3_account_public_access_blocked"]
    assert [f.status for f in account] == [Status.PASS]
    covered = finding(result.findings, "aws_s3_bucket.covered", "s3_bucket_public_access_blocked")
    assert covered.status is Status.FAIL and "account-level block covers them today" in covered.reason
    lenient = Settings.model_validate({"s3": {"bucket_level_block_required": False}})
    either = scan("terraform/account", settings=lenient)
    covered = finding(either.findings, "aws_s3_bucket.covered", "s3_bucket_public_access_blocked")
    assert covered.status is Status.PASS and "account-level" in covered.reason


def test_tfvars_override_defaults_and_var_files_win(scan: Scan, tmp_path: Path) -> None:
    result = scan("terraform/s3_split")
    names = {f.resource_id for f in result.findings if f.check_id == "s3_bucket_versioning_enabled"}
    assert "arn:aws:s3:::acme-prod-raw" in names  # terraform.tfvars says prod
    var_file = tmp_path / "stage.tfvars"
    var_file.write_text('environment = "stage"\nretention_days = 30\n')
    staged = scan("terraform/s3_split", var_files=[var_file])
    assert "arn:aws:s3:::acme-stage-raw" in {f.resource_id for f in staged.findings}
    lock = finding(staged.findings, "aws_s3_bucket.lake[0]", "s3_bucket_object_lock_enabled")
    assert lock.status is Status.PASS and "30 days" in lock.reason


def test_variable_without_value_gives_unknown(scan: Scan) -> None:
    result = scan("terraform/s3_split")
    lock = finding(result.findings, "aws_s3_bucket.lake[0]", "s3_bucket_object_lock_enabled")
    assert lock.status is Status.UNKNOWN and "var.retention_days" in lock.reason
    unknown = scan("terraform/unknown")
    versioning = finding(unknown.findings, "aws_s3_bucket.shared", "s3_bucket_versioning_enabled")
    assert versioning.status is Status.UNKNOWN and "var.versioning_status" in versioning.reason
    block = finding(unknown.findings, "aws_s3_bucket.shared", "s3_bucket_public_access_blocked")
    assert block.status is Status.UNKNOWN and "var.block_public_policy" in block.reason


def test_inline_v3_settings(scan: Scan) -> None:
    result = scan("terraform/s3_inline")
    legacy = "aws_s3_bucket.legacy"
    assert finding(result.findings, legacy, "s3_bucket_acl_not_public").status is Status.FAIL
    assert finding(result.findings, legacy, "s3_bucket_tls_required").status is Status.PASS
    assert finding(result.findings, legacy, "s3_bucket_versioning_enabled").status is Status.PASS
    assert finding(result.findings, legacy, "s3_bucket_access_logging_enabled").status is Status.PASS
    assert (
        finding(result.findings, "aws_s3_bucket.logs", "s3_bucket_default_encryption_kms").status
        is Status.PASS
    )


def test_inline_suppression_and_missing_reason(scan: Scan) -> None:
    result = scan("terraform/s3_split")
    skipped = finding(result.findings, "module.logs.aws_s3_bucket.this", "s3_bucket_access_logging_enabled")
    assert skipped.status is Status.SUPPRESSED
    unknown = scan("terraform/unknown")
    assert any(p.code == "suppression" and p.line == 30 for p in unknown.problems)
    no_reason = finding(unknown.findings, "aws_s3_bucket.noreason", "s3_bucket_versioning_enabled")
    assert no_reason.status is Status.FAIL  # a skip without a reason does not apply


def test_module_instances_with_for_each(tmp_path: Path) -> None:
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text(
        'variable "name" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
        'output "id" {\n  value = aws_s3_bucket.this.id\n}\n'
    )
    (tmp_path / "main.tf").write_text(
        'module "b" {\n  source   = "./mod"\n  for_each = toset(["x", "y"])\n'
        '  name     = "acme-${each.key}"\n}\n'
        'resource "aws_s3_bucket_versioning" "x" {\n  bucket = module.b["x"].id\n'
        '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'
    )
    result = read_root(tmp_path, "root")
    x = resource(result, 'module.b["x"].aws_s3_bucket.this')
    y = resource(result, 'module.b["y"].aws_s3_bucket.this')
    assert isinstance(x, S3Bucket) and isinstance(y, S3Bucket)
    assert (x.name, x.versioning) == ("acme-x", "Enabled")
    assert (y.name, y.versioning) == ("acme-y", "Disabled")
    assert x.source.file is not None and x.source.file.endswith("mod/main.tf") and x.source.line_start == 2


def test_unresolvable_split_target_makes_the_setting_unknown(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "bucket_name" {}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket_prefix = "acme-"\n}\n'
        'resource "aws_s3_bucket_versioning" "v" {\n  bucket = var.bucket_name\n'
        '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'
    )
    result = read_root(tmp_path, "root")
    bucket = resource(result, "aws_s3_bucket.b")
    assert bucket.versioning is None  # type: ignore[attr-defined]
    assert "aws_s3_bucket_versioning.v" in bucket.unknown["versioning"]


def test_references_known_after_apply_keep_their_target(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_kms_key" "k" {}\n'
        "locals {\n  key = aws_kms_key.k.arn\n}\n"
        'resource "aws_s3_bucket" "b" {\n  bucket = "acme-b"\n}\n'
        'resource "aws_s3_bucket_server_side_encryption_configuration" "e" {\n  bucket = aws_s3_bucket.b.id\n'
        '  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm = "aws:kms"\n'
        "      kms_master_key_id = local.key\n    }\n  }\n}\n"
    )
    result = read_root(tmp_path, "root")
    bucket = resource(result, "aws_s3_bucket.b")
    assert bucket.encryption.kms_key_id == "root#aws_kms_key.k"  # type: ignore[attr-defined]


def test_circular_locals_are_reported(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'locals {\n  a = "${local.b}-x"\n  b = "${local.a}-y"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = local.a\n}\n'
    )
    result = read_root(tmp_path, "root")
    assert any("circular" in p.message for p in result.problems)
    bucket = resource(result, "aws_s3_bucket.b")
    assert bucket.id.startswith("arn:aws:s3:::")


def test_resource_ref_through_module_input() -> None:
    assert ResourceRef("a.b", "id") != ResourceRef("a.b")
    assert (FIXTURES / "terraform/s3_split/modules/bucket/main.tf").is_file()


def test_registry_modules_fetched_by_terraform_init(tmp_path: Path) -> None:
    fetched = tmp_path / ".terraform" / "modules" / "bucket"
    fetched.mkdir(parents=True)
    (fetched / "main.tf").write_text(
        'variable "bucket" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.bucket\n}\n'
    )
    (tmp_path / ".terraform" / "modules" / "modules.json").write_text(
        '{"Modules": [{"Key": "", "Source": "", "Dir": "."},'
        ' {"Key": "bucket", "Source": "registry.terraform.io/terraform-aws-modules/s3-bucket/aws",'
        ' "Version": "4.1.0", "Dir": ".terraform/modules/bucket"}]}'
    )
    (tmp_path / "main.tf").write_text(
        'module "bucket" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.1.0"\n'
        '  bucket  = "acme-from-registry"\n}\nmodule "other" {\n  source = "git::https://example.com/x.git"\n}\n'
    )
    result = read_root(tmp_path, "root")
    bucket = resource(result, "module.bucket.aws_s3_bucket.this")
    assert bucket.name == "acme-from-registry"
    # The git module was not fetched: its resources are not scanned, and the scan says so.
    assert [(p.message, p.line, p.code) for p in result.problems] == [
        (
            "module.other: source git::https://example.com/x.git is not fetched (run terraform init),"
            " so the resources it creates are not scanned",
            6,
            "module",
        )
    ]


def test_a_root_of_unfetched_registry_modules_is_not_a_clean_result(scan: Scan, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'module "site" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n'
        '  acl     = "public-read"\n}\n'
        'module "inner" {\n  source = "./inner"\n}\n'
    )
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "main.tf").write_text(
        'module "vpc" {\n  count  = 2\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
    )
    result = scan(str(tmp_path))
    assert result.resource_count == 0
    assert [(p.file.rsplit("/", 2)[-2:], p.line, p.code) for p in result.problems] == [
        ([tmp_path.name, "main.tf"], 1, "module"),
        (["inner", "main.tf"], 1, "module"),
    ]
    assert "module.inner.module.vpc: source terraform-aws-modules/vpc/aws is not fetched" in (
        result.problems[1].message
    )


def test_var_option_values(scan: Scan) -> None:
    result = scan("terraform/s3_split", variables={"buckets": '["one"]', "retention_days": "10"})
    names = {f.resource_id for f in result.findings if f.check_id == "s3_bucket_versioning_enabled"}
    assert "arn:aws:s3:::acme-prod-one" in names and "arn:aws:s3:::acme-prod-raw" not in names


def test_circular_locals_name_the_whole_cycle(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'locals {\n  a = "${local.b}-x"\n  b = "${local.a}-y"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = local.a\n}\n'
    )
    result = read_root(tmp_path, "root")
    assert [p.message for p in result.problems if p.code == "reference"] == [
        "local.a -> local.b -> local.a (circular reference)"
    ]


def test_duplicate_declarations_are_reported_and_the_first_kept(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "first"\n}\nvariable "v" {}\n'
    )
    (tmp_path / "copy.tf").write_text(
        '\nresource "aws_s3_bucket" "b" {\n  bucket = "second"\n}\nvariable "v" {}\n'
    )
    result = read_root(tmp_path, "root")
    problems = sorted((Path(p.file).name, p.line, p.message) for p in result.problems)
    assert problems == [
        (
            "main.tf",
            1,
            f'duplicate resource "aws_s3_bucket" "b" (also declared in {tmp_path / "copy.tf"}); '
            "Terraform refuses the configuration, only the first is scanned",
        ),
        (
            "main.tf",
            4,
            f'duplicate variable "v" (also declared in {tmp_path / "copy.tf"}); '
            "Terraform refuses the configuration, only the first is scanned",
        ),
    ]
    # files are read in name order, as Terraform reads them: copy.tf comes first
    assert resource(result, "aws_s3_bucket.b").name == "second"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ('count = "abc"', 'aws_s3_bucket.b: count must be a whole number, got "abc"'),
        ('for_each = "abc"', 'aws_s3_bucket.b: for_each must be a map or a set, got "abc"'),
    ],
)
def test_count_or_for_each_of_the_wrong_type_is_reported(tmp_path: Path, meta: str, message: str) -> None:
    (tmp_path / "main.tf").write_text(f'resource "aws_s3_bucket" "b" {{\n  {meta}\n}}\n')
    result = read_root(tmp_path, "root")
    assert [(p.message, p.line) for p in result.problems] == [(message, 1)]


def test_a_module_calling_itself_is_reported_and_the_directory_still_scanned(
    scan: Scan, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text('module "me" {\n  source = "./"\n}\nresource "aws_s3_bucket" "b" {}\n')
    result = scan(str(tmp_path))
    assert [(p.message, p.line) for p in result.problems] == [
        ("module.me: source ./ is the calling module itself", 1)
    ]
    assert any(f.source is not None and f.source.address == "aws_s3_bucket.b" for f in result.findings)


OPTIONAL_ROOT = """
variable "buckets" {
  type = map(object({
    versioning = optional(bool, true)
    tags       = optional(map(string), {})
  }))
  default = {
    logs = {}
    site = { versioning = false }
  }
}
resource "aws_s3_bucket" "this" {
  for_each = var.buckets
  bucket   = "acme-${each.key}"
}
resource "aws_s3_bucket_versioning" "this" {
  for_each = { for k, v in var.buckets : k => v if v.versioning }
  bucket   = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}
module "archive" {
  source  = "./archive"
  buckets = [{ name = "acme-archive" }]
}
"""

OPTIONAL_MODULE = """
variable "buckets" {
  type = list(object({ name = string, versioning = optional(bool, true) }))
}
resource "aws_s3_bucket" "b" {
  count  = length(var.buckets)
  bucket = var.buckets[count.index].name
}
resource "aws_s3_bucket_versioning" "b" {
  count  = length(var.buckets)
  bucket = aws_s3_bucket.b[count.index].id
  versioning_configuration {
    status = var.buckets[count.index].versioning ? "Enabled" : "Suspended"
  }
}
"""


def test_optional_attribute_defaults_of_a_variable_type_apply(scan: Scan, tmp_path: Path) -> None:
    """``optional(bool, true)`` fills what an object leaves out: a bucket whose entry is ``{}`` is
    versioned, not a FAIL, in defaults, tfvars and module inputs alike."""
    (tmp_path / "main.tf").write_text(OPTIONAL_ROOT)
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "main.tf").write_text(OPTIONAL_MODULE)

    def versioning(result: IacScan) -> dict[str, Status]:
        return {
            f.resource_name: f.status for f in result.findings if f.check_id == "s3_bucket_versioning_enabled"
        }

    assert versioning(scan(str(tmp_path))) == {
        'aws_s3_bucket.this["logs"]': Status.PASS,
        'aws_s3_bucket.this["site"]': Status.FAIL,
        "module.archive.aws_s3_bucket.b[0]": Status.PASS,
    }
    (tmp_path / "terraform.tfvars").write_text("buckets = { data = {}, tmp = { versioning = null } }\n")
    assert versioning(scan(str(tmp_path))) == {
        'aws_s3_bucket.this["data"]': Status.PASS,
        'aws_s3_bucket.this["tmp"]': Status.PASS,  # null takes the default too
        "module.archive.aws_s3_bucket.b[0]": Status.PASS,
    }


def test_type_defaults_leave_other_values_alone() -> None:
    from controlmap.sources.iac.terraform.types import type_node, with_defaults

    node = type_node("${tuple([object({a = optional(number, 1)}), string])}")
    assert with_defaults([{}, "x", "extra"], node) == [{"a": 1}, "x", "extra"]
    assert with_defaults({"k": {}}, type_node("${map(any)}")) == {"k": {}}
    assert with_defaults({"a": 2}, type_node("${object({a = optional(number)})}")) == {"a": 2}
    assert with_defaults({}, type_node("${object({a = optional(number)})}")) == {}
    assert with_defaults({}, type_node("not ( a type")) == {}


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", Status.UNKNOWN),
        ('mfa_delete = "Disabled"', Status.FAIL),
        ('mfa_delete = "Enabled"', Status.PASS),
    ],
    ids=["not-set", "disabled", "enabled"],
)
def test_mfa_delete_not_set_in_aws_s3_bucket_versioning_is_unknown(
    catalog: Catalog, tmp_path: Path, setting: str, expected: Status
) -> None:
    """Without mfa_delete the provider sends no MFADelete and S3 keeps the bucket's setting (the
    root user sets it through the API, as S3-05's snippet says): the configuration does not say,
    as in CloudFormation. Only an explicit "Disabled" fails."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_bucket" "data" {\n  bucket = "data"\n}\n\n'
        'resource "aws_s3_bucket_versioning" "data" {\n  bucket = aws_s3_bucket.data.id\n'
        f'  versioning_configuration {{\n    status = "Enabled"\n    {setting}\n  }}\n}}\n',
        encoding="utf-8",
    )
    result = scan_iac([tmp_path], catalog, Settings(), options=IacOptions(workers=1))
    mfa = finding(result.findings, "aws_s3_bucket.data", "s3_bucket_mfa_delete_enabled")
    assert mfa.status is expected, mfa.reason


def test_mfa_delete_of_a_bucket_without_versioning_resource_is_unknown_as_in_cloudformation(
    catalog: Catalog, tmp_path: Path
) -> None:
    """No aws_s3_bucket_versioning at all: versioning fails (new buckets are unversioned), and MFA
    delete is UNKNOWN, as for a CloudFormation bucket: only the root user sets it, through the API."""
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "data" {\n  bucket = "data"\n}\n')
    result = scan_iac([tmp_path], catalog, Settings(), options=IacOptions(workers=1))
    assert (
        finding(result.findings, "aws_s3_bucket.data", "s3_bucket_versioning_enabled").status is Status.FAIL
    )
    mfa = finding(result.findings, "aws_s3_bucket.data", "s3_bucket_mfa_delete_enabled")
    assert mfa.status is Status.UNKNOWN and "root user" in mfa.reason
