"""Terraform's JSON syntax (``*.tf.json``): read as the native syntax is, with file and line.

Every Terraform fixture is rewritten in JSON syntax (each ``.tf`` file as a ``.tf.json`` file,
strings as templates, blocks as objects or arrays of objects, ``dynamic`` blocks, skips as
``"//"`` comments) and must give the same verdicts as the HCL; the rest are the parts of the
syntax generators use and its errors.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from controlmap.catalog.catalog import Catalog, load_catalog
from controlmap.checks.registry import Status
from controlmap.settings import Settings
from controlmap.sources.iac.discovery import Framework, discover
from controlmap.sources.iac.scan import IacOptions, IacScan, scan_iac
from controlmap.sources.iac.terraform.hcl import parse_file, unquote

from .conftest import FIXTURES, finding

TERRAFORM = sorted(p.name for p in (FIXTURES / "terraform").iterdir() if p.is_dir())


def _expression(value: Any) -> Any:
    """A python-hcl2 value as Terraform's JSON syntax writes it."""
    if isinstance(value, str):
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        return value  # "${expr}": an expression, kept with its type
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and v.get("__is_block__") for v in value):
            return [_body(v) for v in value]
        return [_expression(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): _expression(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "__is_block__":
            continue
        if key == "dynamic":
            dynamic: dict[str, Any] = {}
            for entry in value:
                for label, spec in entry.items():
                    if label == "__is_block__":
                        continue
                    converted = {
                        k: _expression(v) for k, v in spec.items() if k not in ("content", "__is_block__")
                    }
                    converted["content"] = _body(spec["content"][0])
                    dynamic[unquote(label)] = converted
            out["dynamic"] = dynamic
            continue
        out[unquote(key)] = _expression(value)
    return out


def to_json_syntax(path: Path) -> dict[str, Any]:
    parsed = parse_file(path, path.name)
    document: dict[str, Any] = {}
    for kind, entries in parsed.body.items():
        for entry in entries:
            if kind == "locals":
                document.setdefault("locals", []).append(_body(entry))
                continue
            labels: list[str] = []
            node = entry
            while not node.get("__is_block__"):  # one level of nesting per label
                (label,) = node
                labels.append(unquote(label))
                node = node[label]
            body = _body(node)
            skips = parsed.blocks.get((kind, *labels))
            if skips is not None and skips.skips:
                body["//"] = [f"controlmap:skip={ident} {reason}" for ident, reason in skips.skips.items()]
            target: Any = document.setdefault(kind, {} if labels else [])
            for label in labels[:-1]:
                target = target.setdefault(label, {})
            if labels:
                target.setdefault(labels[-1], []).append(body)
            else:
                target.append(body)
    return document


def rewrite(source: Path, target: Path) -> Path:
    """A copy of a fixture tree with every .tf file in JSON syntax."""
    shutil.copytree(source, target)
    for tf in target.rglob("*.tf"):
        (tf.parent / (tf.name + ".json")).write_text(
            json.dumps(to_json_syntax(tf), indent=2), encoding="utf-8"
        )
        tf.unlink()
    return target


def verdicts(catalog: Catalog, path: Path) -> set[tuple[str, str, str]]:
    result = scan_iac([path], catalog, Settings(), options=IacOptions(workers=1))
    assert not [p for p in result.problems if p.code not in ("reference", "expression", "suppression")]
    return {(f.resource_name, f.check_id or "", f.status.value) for f in result.findings}


@pytest.mark.parametrize("name", TERRAFORM)
def test_json_syntax_matches_native_syntax(catalog: Catalog, tmp_path: Path, name: str) -> None:
    source = FIXTURES / "terraform" / name
    converted = rewrite(source, tmp_path / name)
    assert not list(converted.rglob("*.tf")) and list(converted.rglob("*.tf.json"))
    assert verdicts(catalog, converted) == verdicts(catalog, source)


CDKTF = """
    {
      "//": {"metadata": {"backend": "local", "stackName": "app", "version": "0.20.0"}},
      "provider": {"aws": [{"region": "eu-west-1"}]},
      "variable": {"subnets": {"type": "list(string)"}},
      "locals": {"prefix": "acme-${terraform.workspace}"},
      "resource": {
        "aws_s3_bucket": {
          "data": {
            "//": "controlmap:skip=S3-06 the access logs go to the central log account",
            "bucket": "${local.prefix}-data",
            "tags": {"team": "data", "literal": "$${not.a.reference}"}
          }
        },
        "aws_s3_bucket_versioning": {
          "data": {
            "bucket": "${aws_s3_bucket.data.id}",
            "versioning_configuration": {"status": "Enabled"}
          }
        },
        "aws_security_group": {
          "web": {
            "name": "web",
            "vpc_id": "vpc-1",
            "ingress": {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]},
            "dynamic": {
              "egress": {
                "for_each": "${var.subnets}",
                "content": {
                  "from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["${egress.value}"]
                }
              }
            }
          }
        }
      },
      "module": {"logs": {"source": "./modules/bucket", "name": "acme-logs"}}
    }
"""
MODULE = '{"variable": {"name": {}}, "resource": {"aws_s3_bucket": {"this": {"bucket": "${var.name}"}}}}'


@pytest.fixture
def cdktf(tmp_path: Path) -> IacScan:
    stack = tmp_path / "cdktf.out" / "stacks" / "app"
    (stack / "modules" / "bucket").mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(textwrap.dedent(CDKTF), encoding="utf-8")
    (stack / "modules" / "bucket" / "main.tf.json").write_text(MODULE, encoding="utf-8")
    (stack / "terraform.tfvars.json").write_text('{"subnets": ["10.0.0.0/24"]}', encoding="utf-8")
    return scan_iac([tmp_path], load_catalog(), Settings(), options=IacOptions(workers=1))


def test_a_cdktf_stack_is_a_terraform_root_with_its_module(cdktf: IacScan) -> None:
    assert not cdktf.problems, cdktf.problems
    assert len(cdktf.units) == 1 and cdktf.units[0].endswith("stacks/app")  # the module is not a root
    versioning = finding(cdktf.findings, "aws_s3_bucket.data", "s3_bucket_versioning_enabled")
    assert versioning.status is Status.PASS
    assert versioning.source is not None and versioning.source.file.endswith("cdk.tf.json")
    lines = textwrap.dedent(CDKTF).split("\n")
    start = next(i for i, line in enumerate(lines, start=1) if '"data": {' in line)
    assert (versioning.source.line_start, versioning.source.line_end) == (start, start + 4)
    logging = finding(cdktf.findings, "aws_s3_bucket.data", "s3_bucket_access_logging_enabled")
    assert logging.status is Status.SUPPRESSED
    assert finding(
        cdktf.findings, "module.logs.aws_s3_bucket.this", "s3_bucket_versioning_enabled"
    ).status is (Status.FAIL)
    ssh = finding(cdktf.findings, "aws_security_group.web", "ec2_security_group_no_world_admin_ingress")
    assert ssh.status is Status.FAIL and "tcp/22" in ssh.reason


def test_terraform_json_files_are_recognised(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf.json").write_text(
        '{"resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}}', encoding="utf-8"
    )
    (root / "terraform.tfvars.json").write_text("{}", encoding="utf-8")
    units, problems = discover([tmp_path])
    assert not problems and [(u.framework, u.path.name) for u in units] == [(Framework.TERRAFORM, "root")]
    for named in ("main.tf.json", "terraform.tfvars.json"):  # as a pre-commit hook passes them
        units, _ = discover([root / named])
        assert [(u.framework, u.path.name) for u in units] == [(Framework.TERRAFORM, "root")]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"resource": {"aws_s3_bucket": {"b": {"bucket": "x",}}}}', 1, "invalid JSON"),
        ('{\n"resource": {\n"aws_s3_bucket": "not an object"}}', 3, "expected an object of block labels"),
        ('{"resource": {"aws_s3_bucket": {"b": 3}}}', 1, "a block must be an object"),
        ('["not", "an", "object"]', 1, "must hold an object of block types"),
    ],
)
def test_bad_json_syntax_is_reported_with_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "bad.tf.json").write_text(text, encoding="utf-8")
    (root / "good.tf").write_text('resource "aws_s3_bucket" "ok" {\n  bucket = "ok"\n}\n', encoding="utf-8")
    result = scan_iac([root], load_catalog(), Settings(), options=IacOptions(workers=1))
    assert [(p.file.endswith("bad.tf.json"), p.line) for p in result.problems] == [(True, line)]
    assert message in result.problems[0].message
    assert any(f.resource_name == "aws_s3_bucket.ok" for f in result.findings)  # the rest is scanned
