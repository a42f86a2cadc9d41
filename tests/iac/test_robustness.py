"""Bad files never stop a scan: one clear problem per file, with the line where there is one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from controlmap.checks.registry import Status
from controlmap.sources.iac.common import MAX_FILE_BYTES, MAX_TEMPLATE_BYTES
from controlmap.sources.iac.discovery import Framework, discover, sniff
from controlmap.sources.iac.scan import IacScan

from .conftest import FIXTURES

Scan = Callable[..., IacScan]


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("bad_yaml.yaml", 7, "invalid YAML"),
        ("unknown_tag.yaml", 6, "unknown tag !Fancy"),
        ("duplicate_key.yaml", 6, "duplicate key 'Dup'"),
        ("latin1.yaml", 6, "not UTF-8"),
        ("trailing_comma.json", 4, "invalid JSON"),
        ("circular_condition.yaml", 6, "circular condition: A -> B -> A"),
        ("binary.template", None, "binary data"),
        ("bad_tf/main.tf", 2, "invalid HCL"),
    ],
)
def test_each_bad_file_gives_one_clear_problem(
    scan: Scan, name: str, line: int | None, fragment: str
) -> None:
    result = scan(f"bad/{name}")
    assert result.problems, "a problem must be reported"
    problem = result.problems[0]
    assert fragment in problem.message
    assert problem.line == line
    assert problem.file.startswith("bad/")


def test_circular_references_give_one_error_naming_the_cycle(scan: Scan) -> None:
    result = scan("bad/circular_reference.yaml")
    assert [(p.message, p.line) for p in result.problems] == [
        (
            "circular dependency between resources: First -> Second -> First "
            "(CloudFormation refuses the template)",
            3,
        )
    ]
    assert result.findings == []


@pytest.mark.parametrize(
    ("body", "cycle"),
    [
        # GetAtt in the short form, and DependsOn alone, make cycles too
        (
            "  A:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !GetAtt B.Arn\n"
            "  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref A\n",
            "A -> B -> A",
        ),
        (
            "  A:\n    Type: AWS::SNS::Topic\n    DependsOn: C\n  B:\n    Type: AWS::SNS::Topic\n"
            "    DependsOn: [A]\n  C:\n    Type: AWS::SNS::Topic\n    DependsOn: B\n",
            "A -> C -> B -> A",
        ),
    ],
)
def test_dependency_cycles_through_getatt_and_depends_on(
    scan: Scan, tmp_path: Path, body: str, cycle: str
) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n' + body)
    result = scan(str(path))
    assert [p.message for p in result.problems] == [
        f"circular dependency between resources: {cycle} (CloudFormation refuses the template)"
    ]


def test_depends_on_a_missing_resource_is_reported_and_the_rest_scanned(scan: Scan, tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    path.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Key:\n    Type: AWS::KMS::Key\n'
        "    DependsOn: Gone\n"
    )
    result = scan(str(path))
    assert [(p.message, p.line) for p in result.problems] == [
        ("Key: DependsOn names 'Gone', which is not a resource", 3)
    ]
    assert any(f.check_id == "kms_key_rotation_enabled" for f in result.findings)


def test_the_scan_goes_on_after_bad_files(scan: Scan) -> None:
    result = scan("bad", "cloudformation/kms.yaml")
    assert len(result.problems) >= 8
    assert any(f.resource_name == "UnrotatedKey" and f.status is Status.FAIL for f in result.findings)


def test_huge_file_is_refused_with_its_size(scan: Scan, tmp_path: Path) -> None:
    big = tmp_path / "huge.yaml"
    with big.open("wb") as handle:
        handle.write(b'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n')
        handle.seek(50 * 1024 * 1024)
        handle.write(b"\n")
    assert big.stat().st_size > MAX_FILE_BYTES
    result = scan(str(big))
    assert len(result.problems) == 1
    assert "50.0 MB" in result.problems[0].message and result.problems[0].code == "size"


def test_a_template_over_cloudformations_limit_is_named_not_read(scan: Scan, tmp_path: Path) -> None:
    """CloudFormation refuses templates over 1 MB; reading a 14 MB one took minutes and ~3 GB of
    memory, so a template over the limit is one size problem and the other files are scanned."""
    big = tmp_path / "big.yaml"
    resources = "".join(f"  B{i}:\n    Type: AWS::S3::Bucket\n" for i in range(40_000))
    big.write_text(f"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n{resources}")
    assert MAX_TEMPLATE_BYTES < big.stat().st_size < MAX_FILE_BYTES
    (tmp_path / "small.yaml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    result = scan(str(tmp_path))
    assert [(Path(p.file).name, p.code) for p in result.problems] == [("big.yaml", "size")]
    assert "CloudFormation refuses templates over 1 MB" in result.problems[0].message
    assert {f.resource_name for f in result.findings} == {"B"}


def test_discovery_recognises_files_by_content_and_skips_caches(tmp_path: Path) -> None:
    (tmp_path / "stack.yml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    (tmp_path / "config.yaml").write_text("name: not a template\nitems: [1, 2]\n")
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    (tmp_path / "plan.json").write_text('{"format_version": "1.2", "planned_values": {}}')
    for skipped in (".terraform/modules/x", "node_modules/pkg", "cdk.out/asset.1234", ".git/hooks"):
        (tmp_path / skipped).mkdir(parents=True)
        (tmp_path / skipped / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
        (tmp_path / skipped / "t.yaml").write_text("AWSTemplateFormatVersion: x\nResources: {}\n")
    (tmp_path / "cdk.out" / "App.template.json").write_text(
        '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}'
    )
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text('module "m" {\n  source = "./modules/m"\n}\n')
    (tmp_path / "infra" / "modules" / "m").mkdir(parents=True)
    (tmp_path / "infra" / "modules" / "m" / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    units, problems = discover([tmp_path])
    found = {(u.framework, Path(u.path).relative_to(tmp_path).as_posix()) for u in units}
    assert found == {
        (Framework.CLOUDFORMATION, "stack.yml"),
        (Framework.CLOUDFORMATION, "cdk.out/App.template.json"),
        (Framework.TERRAFORM_PLAN, "plan.json"),
        (Framework.TERRAFORM, "infra"),  # the module is scanned through its caller, not as a root
    }
    assert problems == []
    only_tf, _ = discover([tmp_path], Framework.TERRAFORM)
    assert [u.framework for u in only_tf] == [Framework.TERRAFORM]


def test_sniff_ignores_binary_and_plain_yaml(tmp_path: Path) -> None:
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\x00\x01AWSTemplateFormatVersion")
    assert sniff(binary) is None
    assert sniff(FIXTURES / "cloudformation/s3_insecure.json") is Framework.CLOUDFORMATION
    assert sniff(FIXTURES / "plan/plan.json") is Framework.TERRAFORM_PLAN


def test_missing_path_is_a_problem(scan: Scan) -> None:
    result = scan("does/not/exist.yaml")
    assert result.problems[0].message == "no such file or directory"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="parallel scan forks")
def test_parallel_scan_matches_sequential(scan: Scan) -> None:
    paths = ["cloudformation", "terraform", "plan"]
    one = scan(*paths, workers=1)
    many = scan(*paths, workers=2)
    key = lambda f: (f.resource_id, f.check_id or "", f.status.value)  # noqa: E731
    assert sorted(map(key, one.findings)) == sorted(map(key, many.findings))
    assert one.resource_count == many.resource_count > 50


def test_a_mapper_defect_costs_one_resource(scan: Scan, monkeypatch: pytest.MonkeyPatch) -> None:
    from controlmap.sources.iac.cloudformation import build

    def broken(item: object, _build: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setitem(build.PRIMARY, "AWS::KMS::Key", broken)
    result = scan("cloudformation/s3_secure.yaml")
    assert [p.message for p in result.problems] == [
        "DataKey: internal error while reading it: RuntimeError: boom"
    ]
    assert any(f.resource_name == "DataBucket" for f in result.findings)


def test_documents_that_quote_templates_are_not_templates(tmp_path: Path) -> None:
    doc = tmp_path / "controls.yaml"
    doc.write_text(
        "controls:\n  - id: S3-01\n    remediation:\n      cloudformation: |\n"
        "        Resources:\n          Bucket:\n            Type: AWS::S3::Bucket\n"
    )
    config = tmp_path / "config.json"
    config.write_text('{"examples": [{"Type": "AWS::S3::Bucket"}]}')
    assert sniff(doc) is None
    assert sniff(config) is None


def test_foreach_loops_are_reported_and_the_rest_is_scanned(scan: Scan) -> None:
    result = scan("cloudformation/foreach.yaml")
    assert [(p.line, p.code) for p in result.problems] == [(4, "unsupported")]
    assert any(f.resource_name == "Plain" for f in result.findings)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_never_block(scan: Scan, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    (tmp_path / "t.yaml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    result = scan(str(tmp_path))
    assert [Path(u).name for u in result.units] == ["t.yaml"]
    explicit = scan(str(fifo))
    assert explicit.problems[0].message == "not a regular file or directory"


@pytest.mark.parametrize(("encoding", "shown"), [("utf-16", "UTF-16"), ("utf-32", "UTF-32")])
def test_utf16_template_is_found_in_a_walk_and_its_encoding_named(
    scan: Scan, tmp_path: Path, encoding: str, shown: str
) -> None:
    # PowerShell's "> file" and some Windows editors write UTF-16 with a byte order mark.
    (tmp_path / "stack.yaml").write_bytes(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  B:\n    Type: AWS::S3::Bucket\n'.encode(
            encoding
        )
    )
    (tmp_path / "stack.json").write_bytes(
        '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}'.encode(encoding)
    )
    result = scan(str(tmp_path))
    assert sorted((Path(p.file).name, p.message, p.code) for p in result.problems) == [
        (name, f"{shown} text (it starts with a byte order mark); save the file as UTF-8", "encoding")
        for name in ("stack.json", "stack.yaml")
    ]


def test_a_policy_of_the_wrong_type_gets_a_one_line_error(scan: Scan, tmp_path: Path) -> None:
    path = tmp_path / "role.yaml"
    path.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Role:\n    Type: AWS::IAM::Role\n'
        "    Properties:\n      AssumeRolePolicyDocument: 5\n"
    )
    result = scan(str(path))
    assert [(p.message, p.line) for p in result.problems] == [
        (
            "Role: AssumeRolePolicyDocument is not a valid policy: "
            "a policy document must be a JSON object, got a number",
            3,
        )
    ]


def test_a_tfvars_file_given_alone_scans_its_root_module(tmp_path: Path) -> None:
    # pre-commit passes only the changed files; a change of terraform.tfvars changes the root
    (tmp_path / "main.tf").write_text(
        'variable "name" {}\nresource "aws_s3_bucket" "b" {\n  bucket = var.name\n}\n'
    )
    (tmp_path / "terraform.tfvars").write_text('name = "acme"\n')
    (tmp_path / "prod.tfvars.json").write_text('{"name": "acme-prod"}\n')
    for name in ("terraform.tfvars", "prod.tfvars.json"):
        units, problems = discover([tmp_path / name])
        assert problems == [] and [(u.framework, u.path) for u in units] == [(Framework.TERRAFORM, tmp_path)]
    (tmp_path / "main.tf").unlink()
    assert discover([tmp_path / "terraform.tfvars"]) == ([], [])  # no module there: nothing to scan


def test_unreadable_files_and_directories_in_a_walk_are_reported(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template the walk cannot open, or a directory it cannot list, may hold anything: it is
    named as not scanned instead of being passed over (the tests run as root, where chmod 000 does
    not stop a read, so the refusals are simulated)."""
    template = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n"
    (tmp_path / "ok.yaml").write_text(template)
    (tmp_path / "secret.yaml").write_text(template)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inner.yaml").write_text(template)
    real_open, real_scandir = Path.open, os.scandir

    def refusing_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == "secret.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    def refusing_scandir(path: object = "."):  # type: ignore[no-untyped-def]
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", refusing_open)
    monkeypatch.setattr(os, "scandir", refusing_scandir)
    result = scan(str(tmp_path))
    assert [Path(u).name for u in result.units] == ["ok.yaml"]
    assert sorted((Path(p.file).name, p.code, p.message) for p in result.problems) == [
        ("locked", "io", "cannot read: Permission denied; not scanned"),
        ("secret.yaml", "io", "cannot read: Permission denied; not scanned"),
    ]
    assert sniff(tmp_path / "secret.yaml") is None  # outside a walk, an unreadable file is no template


def test_symbolic_link_loops_are_named_and_never_followed(scan: Scan, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "self").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "t.yaml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    walked = scan(str(tmp_path))  # neither the file loop nor the directory loop is followed
    assert [Path(u).name for u in walked.units] == ["t.yaml"] and walked.problems == []
    named = scan(str(tmp_path / "a.yaml"))
    assert [(p.code, p.message) for p in named.problems] == [
        ("usage", "a symbolic link that leads nowhere (a link loop, or its target is missing)")
    ]
