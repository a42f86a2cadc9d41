"""``controlmap catalog``: every command and every output format, filters, custom controls, bad files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from controlmap.cli.app import app

from .conftest import SEED


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["catalog", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _json(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    code, out, err = run(runner, *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, list)
    return data


# ---- list ---------------------------------------------------------------------------------------


def test_list_json_fields(runner: CliRunner) -> None:
    rows = _json(runner, "list")
    assert rows, "the shipped catalog is empty"
    for row in rows:
        assert {
            "id",
            "severity",
            "service",
            "title",
            "iso27001",
            "soc2",
            "resource_types",
            "automated",
        } <= set(row)
        assert isinstance(row["iso27001"], list) and isinstance(row["soc2"], list)


def test_list_every_format(runner: CliRunner) -> None:
    ids = [r["id"] for r in _json(runner, "list")]
    code, out, _ = run(runner, "list", "--format", "csv")
    assert code == 0
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in parsed] == ids
    code, out, _ = run(runner, "list", "--format", "yaml")
    assert code == 0 and [r["id"] for r in YAML(typ="safe").load(out)] == ids
    # Fields in the JSON's order (id first), not alphabetical: a reader looks for the ID first.
    assert out.startswith(f"- id: {ids[0]}\n  severity: ")
    assert list(YAML(typ="safe").load(out)[0]) == list(_json(runner, "list")[0])
    code, out, _ = run(runner, "list", "--format", "markdown")
    assert code == 0 and out.startswith("### Controls") and f"| {ids[0]} |" in out
    code, out, _ = run(runner, "list")
    assert code == 0 and ids[0] in out and f"{len(ids)} controls" in out


def test_list_filters_on_fixture_catalog(runner: CliRunner, fixtures: Path) -> None:
    mini = str(fixtures / "mini-catalog.yaml")
    by_service = {r["id"] for r in _json(runner, "list", "--catalog", mini, "--service", "kms")}
    assert {"KMS-01", "KMS-02"} <= by_service
    assert all(r["service"] == "kms" for r in _json(runner, "list", "--catalog", mini, "--service", "KMS"))
    critical = _json(runner, "list", "--catalog", mini, "--service", "kms", "--severity", "critical")
    assert [r["id"] for r in critical] == ["KMS-01"]
    for name in ("AWS::KMS::Key", "aws_kms_key"):
        rows = _json(runner, "list", "--catalog", mini, "--resource-type", name)
        assert {"KMS-01", "KMS-02"} <= {r["id"] for r in rows}
        assert all("AWS::KMS::Key" in r["resource_types"] for r in rows)
    rows = _json(runner, "list", "--catalog", mini, "--framework", "iso27001:A.5.15")
    assert "KMS-02" in {r["id"] for r in rows} and "KMS-01" not in {r["id"] for r in rows}
    rows = _json(runner, "list", "--catalog", mini, "--framework", "soc2:cc6.1", "--service", "kms")
    assert {"KMS-01", "KMS-02"} <= {r["id"] for r in rows}
    assert all("CC6.1" in r["soc2"] for r in rows)  # type: ignore[operator]


def test_framework_filter_takes_the_edition_as_the_catalog_files_write_it(runner: CliRunner) -> None:
    for short, with_edition in (
        ("iso27001:A.8.24", "iso27001:2022:A.8.24"),
        ("soc2:CC6.7", "soc2:2017:CC6.7"),
    ):
        rows = _json(runner, "list", "--framework", short)
        assert rows and rows == _json(runner, "list", "--framework", with_edition)


def test_list_filter_by_aws_config_type(runner: CliRunner) -> None:
    rows = _json(runner, "list", "--resource-type", "AWS::S3::Bucket")
    by_config = _json(runner, "list", "--resource-type", "aws_s3_bucket")
    assert rows == by_config
    assert all("AWS::S3::Bucket" in r["resource_types"] for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "iso27001:A.9.4"], "A.9.4 is an ISO 27001:2013 ID; its 2022 successors are A.8.3"),
        (["--framework", "iso27001:A.8.99"], "A.8.99 is not an ISO/IEC 27001:2022 Annex A control"),
        (["--framework", "soc2:Confidentiality"], "is a Trust Services category, not a criterion"),
        (["--framework", "soc2:CC9.9"], "is not a SOC 2 Trust Services Criterion"),
        (["--framework", "A.8.24"], "use iso27001:A.8.24 or soc2:CC6.7"),
        (["--framework", "iso27001:2013:A.9.4"], "cites ISO 27001:2022 only; A.9.4 is an ISO 27001:2013 ID"),
        (["--framework", "soc2:2022:CC6.7"], "with the edition: iso27001:2022:A.8.24, soc2:2017:CC6.7"),
        (["--resource-type", "aws_s3_buckt"], "did you mean aws_s3_bucket"),
        (["--service", "ec3"], "unknown service ec3"),
        (["--severity", "urgent"], "urgent"),
    ],
)
def test_list_bad_filters_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    code, _, err = run(runner, "list", *args)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err


# ---- show ---------------------------------------------------------------------------------------


def test_show_table_json_yaml(runner: CliRunner, fixtures: Path) -> None:
    mini = str(fixtures / "mini-catalog.yaml")
    code, out, _ = run(runner, "show", "kms-01", "--catalog", mini)
    assert code == 0
    for text in (
        "KMS-01",
        "Key Rotation",
        "Critical",
        "0-30 days",
        "A.8.24",
        "Use of cryptography",
        "summary",
    ):
        assert text in out
    code, out, _ = run(runner, "show", "KMS-01", "--catalog", mini, "--format", "json")
    data = json.loads(out)
    assert data["id"] == "KMS-01" and data["severity"] == "critical" and data["custom"] is True
    assert data["references"]["iso27001:2022"] == ["A.8.24"]
    assert data["plan_window"] == {"start_days": 0, "end_days": 30}
    assert data["source"]["path"].endswith("mini-catalog.yaml") and data["source"]["line"] == 5
    code, out, _ = run(runner, "show", "KMS-01", "--catalog", mini, "--format", "yaml")
    loaded = YAML(typ="safe").load(out)
    assert loaded["as_published"]["summary_tier"] == "High"
    assert out.startswith("id: KMS-01")


def test_show_unknown_control(runner: CliRunner, fixtures: Path) -> None:
    code, _, err = run(runner, "show", "KMS-1", "--catalog", str(fixtures / "mini-catalog.yaml"))
    assert code == 2 and "no control 'KMS-1'" in err and "KMS-01" in err


# ---- frameworks ---------------------------------------------------------------------------------


def test_frameworks_iso_json_lists_all_93_controls(runner: CliRunner) -> None:
    rows = _json(runner, "frameworks", "iso27001")
    assert len(rows) == 93
    assert all({"id", "title", "controls"} <= set(r) for r in rows)
    assert rows[0]["id"] == "A.5.1" and rows[-1]["id"] == "A.8.34"


def test_frameworks_coverage_and_formats(runner: CliRunner, fixtures: Path) -> None:
    mini = str(fixtures / "mini-catalog.yaml")
    rows = {r["id"]: r for r in _json(runner, "frameworks", "soc2", "--catalog", mini)}
    assert len(rows) == 61
    assert {"KMS-01", "KMS-02"} <= set(rows["CC6.1"]["controls"])  # type: ignore[arg-type]
    assert rows["P8.1"]["controls"] == []
    uncovered = _json(runner, "frameworks", "soc2", "--uncovered", "--catalog", mini)
    assert "CC6.1" not in {r["id"] for r in uncovered} and "P8.1" in {r["id"] for r in uncovered}
    for fmt, probe in (("csv", "id,title,group,controls"), ("markdown", "| A.8.24 |"), ("yaml", "id: A.5.1")):
        code, out, _ = run(runner, "frameworks", "iso27001:2022", "--catalog", mini, "--format", fmt)
        assert code == 0 and probe in out
    code, out, _ = run(runner, "frameworks", "iso27001", "--catalog", mini)
    assert code == 0 and "A.8 Technological controls" in out and "requirements covered" in out
    code, _, err = run(runner, "frameworks", "nist")
    assert code == 2 and "unknown framework 'nist'" in err


# ---- plan ---------------------------------------------------------------------------------------


def test_plan_formats_and_settings_override(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    mini = str(fixtures / "mini-catalog.yaml")
    rows = _json(runner, "plan", "--catalog", mini)
    kms = [r for r in rows if r["service"] == "kms"]
    assert kms[0] == {
        "severity": "critical",
        "service": "kms",
        "window": "0-30 days",
        "start_days": 0,
        "end_days": 30,
        "controls": ["KMS-01"],
        "custom_controls": ["KMS-01"],  # the mini catalog's KMS-01 replaces the built-in one
    }
    assert kms[1]["severity"] == "high" and (kms[1]["start_days"], kms[1]["end_days"]) == (60, 90)
    for fmt, probe in (
        ("csv", "severity,service,window"),
        ("markdown", "| critical | kms |"),
        ("yaml", "0-30 days"),
    ):
        code, out, _ = run(runner, "plan", "--catalog", mini, "--format", fmt)
        assert code == 0 and probe in out
    code, out, _ = run(runner, "plan", "--catalog", mini)
    assert code == 0 and "KMS-01" in out and "built-in plan" in out
    settings = tmp_path / "org.yaml"
    settings.write_text("plan:\n  tiers:\n    critical: {start_days: 0, end_days: 14}\n")
    rows = _json(runner, "plan", "--catalog", mini, "--settings", str(settings))
    assert next(r for r in rows if r["controls"] == ["KMS-01"])["end_days"] == 14


# ---- custom controls ----------------------------------------------------------------------------


def test_custom_controls_add_and_override(runner: CliRunner, fixtures: Path) -> None:
    custom = str(fixtures / "custom")
    rows = {r["id"]: r for r in _json(runner, "list", "--catalog", custom, "--service", "s3")}
    assert rows["ORG-S3-10"]["custom"] is True and rows["ORG-S3-10"]["severity"] == "low"
    assert rows["S3-01"]["title"] == "Block Public Access (organisation override)"
    assert rows["S3-01"]["custom"] is True
    # The group-level option works too: `controlmap catalog --catalog DIR list`.
    result = runner.invoke(app, ["catalog", "--catalog", custom, "list", "--format", "json"])
    assert "ORG-S3-10" in {r["id"] for r in json.loads(result.stdout)}


def test_custom_controls_from_settings_file(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "controls.yaml").write_text((fixtures / "custom" / "org-controls.yaml").read_text())
    (tmp_path / "controlmap.yaml").write_text("catalog:\n  - org\n")  # relative to the settings file
    rows = _json(runner, "list", "--settings", str(tmp_path / "controlmap.yaml"), "--service", "s3")
    assert "ORG-S3-10" in {r["id"] for r in rows}
    code, out, _ = run(runner, "show", "ORG-S3-10", "--settings", str(tmp_path / "controlmap.yaml"))
    assert code == 0 and "(custom)" in out and "Attestation" in out


@pytest.mark.parametrize(
    ("name", "needle"),
    [("broken-yaml.yaml", "invalid YAML"), ("schema.yaml", "unknown key 'remediaton'")],
)
def test_bad_custom_file_exits_2_with_file_and_line(
    runner: CliRunner, fixtures: Path, name: str, needle: str
) -> None:
    path = fixtures / "bad" / name
    code, _, err = run(runner, "list", "--catalog", str(path))
    flat = " ".join(err.split())
    assert code == 2
    assert needle in flat
    assert f"{name}:" in flat.replace(" ", "")
    assert "Traceback" not in err


def test_bad_settings_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    settings = tmp_path / "controlmap.yaml"
    settings.write_text("plan:\n  tiers:\n    critical: {start_days: 0, end_dayz: 7}\n")
    code, _, err = run(runner, "plan", "--settings", str(settings))
    assert code == 2 and "controlmap.yaml:3" in err.replace("\n", "") and "Traceback" not in err


# ---- lint ---------------------------------------------------------------------------------------


def test_lint_builtin_passes(runner: CliRunner) -> None:
    code, out, _ = run(runner, "lint")
    assert code == 0, out
    assert "0 error(s)" in out


def test_lint_errors_exit_1_text_and_json(runner: CliRunner, fixtures: Path) -> None:
    path = fixtures / "bad" / "references.yaml"
    code, out, _ = run(runner, "lint", str(path))
    assert code == 1
    assert "A.9.4 is an ISO 27001:2013 ID; its 2022 successors are" in " ".join(out.split())
    assert "warning" in out and "error(s)" in out
    code, out, _ = run(runner, "lint", str(path), "--quiet")
    assert code == 1 and "not yet automated" not in out
    code, out, _ = run(runner, "lint", str(path), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["errors"] > 0 and data["warnings"] > 0
    first = data["problems"][0]
    assert set(first) == {"path", "line", "level", "code", "message"}
    assert any(p["code"] == "soc2-category" and p["line"] == 13 for p in data["problems"])


def test_lint_custom_dir_from_option(runner: CliRunner, fixtures: Path) -> None:
    code, out, _ = run(runner, "lint", "--catalog", str(fixtures / "custom"), "--format", "json")
    assert code == 0, out


# ---- corrections and seed import ----------------------------------------------------------------


def test_corrections_markdown(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    mini = str(fixtures / "mini-catalog.yaml")
    code, out, _ = run(runner, "corrections", "--catalog", mini)
    assert code == 0
    assert out.startswith("# Catalog corrections")
    assert "| KMS-01 Key Rotation | Critical | listed under High | Critical, 0-30 days |" in out
    assert "#### KMS-01 Key Rotation" in out
    assert "| ISO/IEC 27001:2022 | A.8.24, A.10.1 | A.8.24 |" in out
    target = tmp_path / "corrections.md"
    code, _, _ = run(runner, "corrections", "--catalog", mini, "-o", str(target))
    assert code == 0 and target.read_text() == out


def test_docs_catalog_corrections_is_up_to_date(runner: CliRunner) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "catalog-corrections.md"
    code, out, _ = run(runner, "corrections")
    assert code == 0
    assert docs.read_text(encoding="utf-8") == out, (
        "docs/catalog-corrections.md is stale: "
        "run `controlmap catalog corrections -o docs/catalog-corrections.md`"
    )


def test_import_seed_then_lint(runner: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "seed.yaml"
    code, out, err = run(runner, "import-seed", str(SEED), "-o", str(out_file))
    assert code == 0 and "64 controls" in out
    flat = " ".join(err.split())
    assert "not in any summary table of the seed: EC2-01, IAM-07" in flat
    assert "KMS-01 (Critical; summary table: High)" in flat
    code, out, _ = run(runner, "lint", str(out_file), "--quiet", "--format", "json")
    data = json.loads(out)
    assert code == 1
    messages = [p["message"] for p in data["problems"]]
    assert sum("is an ISO 27001:2013 ID" in m for m in messages) == 16
    code, _, err = run(runner, "import-seed", str(tmp_path / "missing.md"), "-o", str(out_file))
    assert code == 2 and "cannot read" in err
    not_seed = tmp_path / "readme.md"
    not_seed.write_text("# hello\n")
    code, _, err = run(runner, "import-seed", str(not_seed), "-o", str(out_file))
    assert code == 2 and "no control table found" in " ".join(err.split())


def test_missing_catalog_path_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = run(runner, "list", "--catalog", str(tmp_path / "nowhere"))
    assert code == 2 and "no such file or directory" in err and "Traceback" not in err


def test_unreadable_settings_catalog_entry_is_named_at_its_line(runner: CliRunner, tmp_path: Path) -> None:
    """The entry is relative to the settings file: say which file and line sent controlmap there."""
    (tmp_path / "org").mkdir()
    settings = tmp_path / "controlmap.yaml"
    settings.write_text("catalog:\n  - org\n  - orgs-typo/\n")
    missing = tmp_path / "orgs-typo"
    expected = f"{settings}:3: error: catalog: 'orgs-typo/' ({missing}): no such file or directory"
    for command in (["list"], ["plan"], ["lint"]):
        code, out, err = run(runner, *command, "--settings", str(settings))
        assert code == 2, command
        assert expected in " ".join((out + err).split()), command
        assert "Traceback" not in err


def test_group_options_do_not_leak_into_the_next_invocation(runner: CliRunner, fixtures: Path) -> None:
    custom = str(fixtures / "custom")
    first = runner.invoke(app, ["catalog", "--catalog", custom, "list", "--format", "json"])
    assert "ORG-S3-10" in {r["id"] for r in json.loads(first.stdout)}
    second = runner.invoke(app, ["catalog", "list", "--format", "json"])
    assert "ORG-S3-10" not in {r["id"] for r in json.loads(second.stdout)}


def test_attacker_controlled_text_is_escaped(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    text = (fixtures / "custom" / "org-controls.yaml").read_text()
    hostile = text.replace(
        "title: Bucket names follow the naming standard",
        "title: '[bold red]pwn[/] <script>x</script> | col'",
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile)
    code, out, _ = run(runner, "list", "--catalog", str(path), "--format", "markdown", "--service", "s3")
    assert code == 0
    assert "<script>" not in out and "&lt;script&gt;" in out and "\\| col" in out
    code, out, _ = run(runner, "show", "ORG-S3-10", "--catalog", str(path))
    assert code == 0 and "[bold red]pwn[/]" in " ".join(out.split())  # shown literally, not as markup
    code, out, _ = run(runner, "list", "--catalog", str(path), "--service", "s3")
    assert code == 0 and "[bold" in out  # the table cell wraps, but the markup is text


def test_list_has_the_64_seed_controls_with_the_seed_severities(runner: CliRunner) -> None:
    from controlmap.catalog.seed import parse_seed

    seed = {c.id: c.severity.lower() for c in parse_seed(SEED.read_text()).controls}
    rows = {r["id"]: r["severity"] for r in _json(runner, "list")}
    assert len(seed) == 64
    assert {i: rows.get(i) for i in seed} == seed


def test_unwritable_outputs_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(runner, "import-seed", str(SEED), "-o", str(blocker / "dir"))
    assert code == 2 and "cannot write" in err
    code, _, err = run(runner, "corrections", "-o", str(blocker / "out.md"))
    assert code == 2 and "cannot write" in err


def test_the_same_custom_file_reached_twice_is_read_once(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    """Settings ``catalog: [org]`` plus ``--catalog org`` (or a directory and a file in it) is one file,
    not a duplicate of its own controls; two different files with one ID still are."""
    org = tmp_path / "org"
    org.mkdir()
    (org / "controls.yaml").write_text((fixtures / "custom" / "org-controls.yaml").read_text())
    settings = tmp_path / "controlmap.yaml"
    settings.write_text("catalog:\n  - org\n")
    rows = _json(runner, "list", "--settings", str(settings), "--catalog", str(org), "--service", "s3")
    assert [r["id"] for r in rows].count("ORG-S3-10") == 1
    code, out, _ = run(runner, "lint", str(org), str(org / "controls.yaml"), str(org / ".." / "org"))
    assert code == 0 and "duplicate" not in out
    (tmp_path / "copy.yaml").write_text((org / "controls.yaml").read_text())
    code, out, _ = run(runner, "lint", str(org), str(tmp_path / "copy.yaml"))
    assert code == 1 and "duplicate control id ORG-S3-10" in out
