"""Custom catalog files are linted when loaded; unreadable paths are input errors; directories recurse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controlmap.catalog.catalog import load_catalog

from .helpers import catalog_file, control_yaml, run


def test_custom_catalog_with_lint_errors_is_refused_with_lines(runner: CliRunner, tmp_path: Path) -> None:
    bad = catalog_file(
        tmp_path / "bad.yaml",
        control_yaml(),
        control_yaml(),
        control_yaml("ORG-S3-11", iso="A.9.2"),
        control_yaml("ORG-S3-12", automation="full", extra="    checks: [s3_no_such_check]\n"),
    )
    for command in (["list"], ["show", "ORG-S3-10"], ["plan"], ["frameworks", "iso27001"]):
        code, _, err = run(runner, *command, "--catalog", str(bad))
        assert code == 2, command
        assert f"{bad}:18: error: duplicate control id ORG-S3-10" in err
        assert "A.9.2 is an ISO 27001:2013 ID" in err
        assert "check 's3_no_such_check' is not registered" in err


def test_custom_catalog_warnings_are_printed_but_not_fatal(runner: CliRunner, tmp_path: Path) -> None:
    warn = catalog_file(tmp_path / "warn.yaml", control_yaml(automation="partial"))
    code, out, err = run(runner, "list", "--catalog", str(warn), "--format", "csv")
    assert code == 0 and "ORG-S3-10" in out
    assert "warning: ORG-S3-10: not yet automated" in err


# ---- paths that cannot be read ------------------------------------------------------------------


def test_lint_of_unreadable_paths_is_an_input_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    for path, message in (
        (tmp_path / "missing.yaml", "no such file or directory"),
        (Path("/dev/null"), "not a regular file"),
        (tmp_path / "loop1", "symbolic link loop"),
    ):
        code, out, _ = run(runner, "lint", str(path))
        assert code == 2, path
        assert message in out


def test_catalog_directory_is_read_recursively(runner: CliRunner, tmp_path: Path) -> None:
    catalog_file(tmp_path / "org" / "s3" / "naming.yaml", control_yaml())
    catalog_file(tmp_path / "org" / "top.yaml", control_yaml("ORG-S3-11"))
    catalog = load_catalog([tmp_path / "org"])
    assert {"ORG-S3-10", "ORG-S3-11"} <= set(catalog.controls)
    assert catalog.origins["ORG-S3-10"].path.endswith("naming.yaml")


def test_empty_catalog_directory_warns(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run(runner, "list", "--catalog", str(tmp_path / "empty"), "--format", "csv")
    assert code == 0 and "S3-01" in out
    assert "warning: no control files in" in err


def test_equivalents_that_aws_would_never_show_are_errors(runner: CliRunner, tmp_path: Path) -> None:
    equivalents = (
        "    equivalents:\n"
        "      security_hub: [S3.5, S3-1]\n"
        "      config_rules: [s3-bucket-ssl-requests-only, S3_BUCKET_VERSIONING_ENABLED]\n"
        '      cis_aws_v3: ["2.1.1", "v3 2.1.2"]\n'
    )
    path = catalog_file(tmp_path / "eq.yaml", control_yaml(extra=f"    attestation: x\n{equivalents}"))
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    lines = [line for line in out.splitlines() if ": error: " in line]
    assert len(lines) == 3  # the well-formed S3.5, rule name and "2.1.1" pass
    assert f"{path}:19: error: ORG-S3-10: 'S3-1': not a Security Hub CSPM control ID" in out
    assert "'S3_BUCKET_VERSIONING_ENABLED': that is a source identifier" in out
    assert "(usually 's3-bucket-versioning-enabled')" in out
    assert f"{path}:21: error: ORG-S3-10: 'v3 2.1.2': not a CIS AWS Foundations v3.0" in out


def test_unquoted_numbers_are_explained_as_written(runner: CliRunner, tmp_path: Path) -> None:
    """CIS 1.10 unquoted is the float 1.1: the error says to write "1.10", not "not a valid string"."""
    extra = "    attestation: x\n    equivalents:\n      cis_aws_v3: [1.10, 2.1.1]\n"
    path = catalog_file(tmp_path / "num.yaml", control_yaml(extra=extra))
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    assert (
        f"{path}:19: error: ORG-S3-10: equivalents.cis_aws_v3[0]: YAML reads an unquoted 1.10 as a number; "
        'write it in quotes: "1.10"'
    ) in out
    assert "2.1.1" not in out  # a string already: YAML does not read 2.1.1 as a number


def test_problems_of_a_file_come_in_line_order(runner: CliRunner, tmp_path: Path) -> None:
    """A file-level schema error at the end and a control's problem above it: reported top-down."""
    control = control_yaml(iso="A.5.9, A.99.1", extra="    attestation: x\n")
    path = catalog_file(tmp_path / "order.yaml", control)
    path.write_text(path.read_text() + "owner: platform-team\n")  # not a key of a catalog file
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    assert "A.99.1 is not an ISO/IEC 27001:2022 Annex A control" in out and "unknown key 'owner'" in out
    lines = [int(line.split(":")[1]) for line in out.splitlines() if line.startswith(str(path))]
    assert len(lines) == 2 and lines == sorted(lines)


def test_ids_in_the_wrong_case_or_with_spaces_get_the_id_meant(runner: CliRunner, tmp_path: Path) -> None:
    control = control_yaml(iso='a.5.9, "A.8.24 "', extra="    attestation: x\n").replace(
        "      iso27001:2022:", "      soc2:2017: [cc6.1]\n      iso27001:2022:"
    )
    path = catalog_file(tmp_path / "case.yaml", control)
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    assert "'a.5.9' is not an ID of ISO/IEC 27001:2022 Annex A; did you mean A.5.9?" in out
    assert "'A.8.24 ' is not an ID of ISO/IEC 27001:2022 Annex A; did you mean A.8.24?" in out
    assert "'cc6.1' is not an ID of SOC 2 Trust Services Criteria" in out and "did you mean CC6.1?" in out


def test_a_custom_file_is_parsed_carefully_once_per_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The careful (pure-Python, line-keeping) reader is slow on big files: the lint uses it,
    loading the linted file then takes the fast reader."""
    import controlmap.catalog.catalog as catalog_module
    import controlmap.catalog.lint as lint_module

    path = catalog_file(tmp_path / "org.yaml", control_yaml(), control_yaml("ORG-S3-11"))
    calls: list[Path] = []
    for module in (catalog_module, lint_module):
        real = module.read_yaml
        monkeypatch.setattr(module, "read_yaml", lambda p, _real=real: calls.append(p) or _real(p))
    catalog = load_catalog([path])
    assert {"ORG-S3-10", "ORG-S3-11"} <= set(catalog.controls)
    assert catalog.origins["ORG-S3-11"].line == 18
    assert calls.count(path) == 1


_SQS_TYPE = (
    "resource_types:\n"
    "  - id: AWS::SQS::Queue\n"
    "    cloudformation: AWS::SQS::Queue\n"
    "    terraform: [aws_sqs_queue, aws_sqs_queue_policy]\n"
    "    config: AWS::SQS::Queue\n"
    "    service: sqs\n"
    "    title: SQS queue\n"
)


def _sqs_control(ident: str = "ORG-SQS-01") -> str:
    return (
        control_yaml(ident, extra="    attestation: The platform team confirms every queue is encrypted.\n")
        .replace("service: s3", "service: sqs")
        .replace("[AWS::S3::Bucket]", "[AWS::SQS::Queue]")
    )


def _sqs_file(path: Path, types: str, *controls: str) -> Path:
    body = "controls:\n" + "".join(controls) if controls else ""  # a file may only define types
    path.write_text("service: sqs\nname: Amazon SQS\n" + types + body)
    return path


def test_a_custom_file_defines_the_resource_types_of_its_controls(runner: CliRunner, tmp_path: Path) -> None:
    """Extending the standard to another AWS resource (SQS) needs no change to controlmap."""
    path = _sqs_file(tmp_path / "sqs.yaml", _SQS_TYPE, _sqs_control())
    code, out, _ = run(runner, "lint", str(path))
    assert code == 0, out
    for name in ("AWS::SQS::Queue", "aws_sqs_queue", "aws_sqs_queue_policy"):
        code, out, _ = run(runner, "list", "--catalog", str(path), "--resource-type", name, "--format", "csv")
        assert code == 0 and out.splitlines()[1].startswith("ORG-SQS-01,"), name
    code, out, _ = run(runner, "show", "ORG-SQS-01", "--catalog", str(path))
    shown = " ".join(out.replace("│", " ").split())
    assert code == 0 and "AWS::SQS::Queue (Terraform aws_sqs_queue +1 more, Config AWS::SQS::Queue)" in shown
    code, out, _ = run(runner, "plan", "--catalog", str(path), "--format", "csv")
    assert code == 0 and "low,sqs," in out
    # Without the definition the type is unknown, as before.
    bare = _sqs_file(tmp_path / "bare.yaml", "", _sqs_control())
    code, _, err = run(runner, "list", "--catalog", str(bare))
    assert code == 2 and "unknown resource type 'AWS::SQS::Queue'" in err


def test_custom_resource_types_serve_every_file_linted_with_them(runner: CliRunner, tmp_path: Path) -> None:
    org = tmp_path / "org"
    org.mkdir()
    _sqs_file(org / "a-controls.yaml", "", _sqs_control())  # read before the file defining the type
    _sqs_file(org / "b-types.yaml", _SQS_TYPE)
    code, out, _ = run(runner, "lint", str(org))
    assert code == 0, out
    rows = json.loads(run(runner, "list", "--catalog", str(org), "--format", "json")[1])
    assert any(r["id"] == "ORG-SQS-01" for r in rows)


def test_a_custom_resource_type_may_not_take_a_name_already_in_use(runner: CliRunner, tmp_path: Path) -> None:
    taken = _SQS_TYPE.replace("[aws_sqs_queue, aws_sqs_queue_policy]", "[aws_sqs_queue, aws_s3_bucket]")
    path = _sqs_file(tmp_path / "sqs.yaml", taken, _sqs_control())
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    taken_message = "names already in use: 'aws_s3_bucket' (already AWS::S3::Bucket)"
    assert f"{path}:4: error: resource type AWS::SQS::Queue: {taken_message}" in out
    twice = _sqs_file(tmp_path / "twice.yaml", _SQS_TYPE)
    code, out, _ = run(runner, "lint", str(twice), str(twice))
    assert code == 0  # the same file given twice is read once
    again = _sqs_file(tmp_path / "again.yaml", _SQS_TYPE)
    code, out, _ = run(runner, "lint", str(twice), str(again))
    assert code == 1 and f"{again}:4: error: resource type AWS::SQS::Queue: names already in use" in out


def test_a_custom_resource_type_with_a_schema_error_names_its_line(runner: CliRunner, tmp_path: Path) -> None:
    path = _sqs_file(
        tmp_path / "sqs.yaml", _SQS_TYPE.replace("    title: SQS queue\n", "    titel: SQS queue\n")
    )
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    assert f"{path}:4: error: resource_types[0].title: field required" in out
    assert f"{path}:9: error: unknown key 'titel' in resource_types[0]; did you mean 'title'?" in out


def test_service_keys_are_lower_case_keys(runner: CliRunner, tmp_path: Path) -> None:
    """'S3x' could never be selected with --service (which is case-insensitive) nor planned by key."""
    path = catalog_file(
        tmp_path / "svc.yaml",
        control_yaml(extra="    attestation: x\n").replace("service: s3", "service: S3x"),
    )
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    assert f"{path}:5: error: ORG-S3-10: service 'S3x': a service key is lower case letters" in out
    path.write_text(path.read_text().replace("service: s3\n", "service: Amazon_S3\n", 1))
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1 and f"{path}:1: error: service 'Amazon_S3'" in out
    fine = catalog_file(tmp_path / "fine.yaml", control_yaml(extra="    attestation: x\n"))
    code, _, _ = run(runner, "lint", str(fine))
    assert code == 0
    code, out, _ = run(runner, "list", "--catalog", str(fine), "--service", "S3", "--format", "csv")
    assert code == 0 and "ORG-S3-10," in out
