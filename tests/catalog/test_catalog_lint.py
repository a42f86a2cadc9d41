"""The catalog lint: schema errors with file and line, references, checks, automation."""

from __future__ import annotations

import re
from pathlib import Path

from controlmap.catalog.lint import has_errors, lint
from controlmap.catalog.seed import parse_seed, write_seed_catalog
from controlmap.yamlfile import FileProblem

from .conftest import SEED


def _by_code(problems: list[FileProblem], code: str) -> list[FileProblem]:
    return [p for p in problems if p.code == code]


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_shipped_catalog_has_no_errors() -> None:
    problems = lint()
    errors = [str(p) for p in problems if p.level == "error"]
    assert errors == []


def test_invalid_yaml_names_file_and_line(fixtures: Path) -> None:
    path = fixtures / "bad" / "broken-yaml.yaml"
    problems = lint([path])
    assert len(problems) == 1
    assert problems[0].path == str(path)
    assert problems[0].code == "yaml"
    assert problems[0].line is not None and problems[0].line >= 5
    assert "invalid YAML" in problems[0].message


def test_unknown_key_and_bad_severity_name_their_lines(fixtures: Path) -> None:
    path = fixtures / "bad" / "schema.yaml"
    problems = lint([path])
    messages = {p.message: p.line for p in problems}
    unknown = [m for m in messages if "unknown key 'remediaton'" in m]
    assert unknown and messages[unknown[0]] == _line_of(path, "remediaton:")
    severity_line = _line_of(path, "severity: urgent")
    assert any(p.line == severity_line and "severity" in p.message for p in problems)
    assert any("remediation" in m and "field required" in m for m in messages)
    assert has_errors(problems)


def test_iso_2013_ids_are_errors_naming_their_2022_successors(fixtures: Path) -> None:
    path = fixtures / "bad" / "references.yaml"
    problems = lint([path])
    iso_2013 = {p.message for p in _by_code(problems, "iso-2013")}
    assert (
        "ORG-IAM-01: A.9.4 is an ISO 27001:2013 ID; its 2022 successors are A.8.3, A.8.5, A.5.17, A.8.18, "
        "A.8.4 (2013: System and application access control)"
    ) in iso_2013
    assert any(
        m.startswith("ORG-IAM-01: A.10.1.2 is an ISO 27001:2013 ID; its 2022 successor is A.8.24")
        for m in iso_2013
    )
    # The iso27001:2013 key itself is refused, with the conversion of what it cites.
    assert any("A.12.4.1 is an ISO 27001:2013 ID; its 2022 successor is A.8.15" in m for m in iso_2013)
    line = _line_of(path, "iso27001:2022: [A.5.15, A.9.4")
    assert all(p.line == line for p in problems if p.message.startswith("ORG-IAM-01: A.9.4"))


def test_unknown_framework_ids_keys_and_bare_categories(fixtures: Path) -> None:
    problems = lint([fixtures / "bad" / "references.yaml"])
    framework = [p.message for p in _by_code(problems, "framework")]
    assert any(
        m.startswith("ORG-IAM-01: A.8.99 is not an ISO/IEC 27001:2022 Annex A control") for m in framework
    )
    assert any(m.startswith("ORG-IAM-01: CC9.9 is not a SOC 2 Trust Services Criterion") for m in framework)
    assert any("unknown framework 'nist:800-53'" in m for m in framework)
    categories = [p.message for p in _by_code(problems, "soc2-category")]
    assert len(categories) == 2
    assert any('"Confidentiality"' in m and "CC6.1" in m and "CC6.7" in m for m in categories)
    assert any('"Availability"' in m and "A1.2" in m for m in categories)


def test_resource_types_checks_and_automation(fixtures: Path) -> None:
    problems = lint([fixtures / "bad" / "references.yaml"])
    rtypes = [p.message for p in _by_code(problems, "resource-type")]
    assert any("'aws_iam_role' is another name of AWS::IAM::Role" in m for m in rtypes)
    assert any("unknown resource type 'AWS::IAM::Usr'; did you mean AWS::IAM::User" in m for m in rtypes)
    assert not any("AWS::IAM::User'" in m and "unknown" in m for m in rtypes)
    assert [p.message for p in _by_code(problems, "unknown-check")] == [
        "ORG-IAM-01: check 'no_such_check' is not registered"
    ]
    attestation = _by_code(problems, "attestation")
    assert len(attestation) == 1 and "ORG-IAM-02" in attestation[0].message
    not_automated = _by_code(problems, "not-automated")
    assert {p.level for p in not_automated} == {"warning"}
    assert any(
        p.message == "ORG-IAM-01: not yet automated: automation is full but no check is listed"
        for p in not_automated
    )


def test_duplicate_ids_within_and_across_files(fixtures: Path) -> None:
    references = fixtures / "bad" / "references.yaml"
    across = fixtures / "bad" / "duplicate-across.yaml"
    problems = lint([references, across])
    duplicates = _by_code(problems, "duplicate-id")
    assert len(duplicates) == 2
    within = next(p for p in duplicates if "ORG-IAM-01" in p.message)
    assert within.path == str(references)
    assert within.line == _line_of(references, "title: Duplicate of the first") - 2
    assert f"first defined at {references}:4" in within.message
    other = next(p for p in duplicates if "ORG-IAM-02" in p.message)
    assert other.path == str(across) and other.line == 4


def test_missing_path_and_valid_custom_file(fixtures: Path, tmp_path: Path) -> None:
    problems = lint([tmp_path / "nope.yaml"])
    assert problems[0].code == "io" and has_errors(problems)
    custom = lint([fixtures / "custom"])
    assert not has_errors(custom)


def test_seed_as_published_reports_every_2013_citation_with_its_successors(tmp_path: Path) -> None:
    seed = parse_seed(SEED.read_text())
    assert len(seed.controls) == 64
    out = tmp_path / "seed.yaml"
    write_seed_catalog(seed, out)
    problems = lint([out])
    iso_2013 = _by_code(problems, "iso-2013")
    cited = [
        (c.id, ident)
        for c in seed.controls
        for ident in (x.strip() for x in c.iso27001.split(","))
        if re.match(r"^A\.(9|1\d)\.", ident)
    ]
    assert len(cited) == 16
    assert len(iso_2013) == len(cited)
    a92 = "A.9.2 is an ISO 27001:2013 ID; its 2022 successors are A.5.16, A.5.18, A.8.2"
    assert sum(a92 in p.message for p in iso_2013) == 6
    assert (
        sum("A.10.1 is an ISO 27001:2013 ID; its 2022 successor is A.8.24" in p.message for p in iso_2013)
        == 2
    )
    assert all(p.path == str(out) and p.line for p in iso_2013)
    bare = [w for c in seed.controls for w in c.soc2.split(", ") if w in ("Confidentiality", "Availability")]
    assert len(bare) == 16
    assert len(_by_code(problems, "soc2-category")) == len(bare)
    # A.8.2 and A.8.3 mean something else in 2013: flagged for review, not as errors.
    assert {p.level for p in _by_code(problems, "iso-ambiguous")} == {"warning"}


def test_seed_import_one_file_per_service(tmp_path: Path) -> None:
    written = write_seed_catalog(parse_seed(SEED.read_text()), tmp_path / "seed")
    assert sorted(p.name for p in written) == sorted(
        f"{s}.yaml"
        for s in (
            "s3",
            "ec2",
            "rds",
            "iam",
            "cloudtrail",
            "lambda",
            "cloudfront",
            "kms",
            "apigateway",
            "dynamodb",
        )
    )
    assert not _by_code(lint([tmp_path / "seed"]), "schema")


def test_changes_against_the_seed_need_a_correction_line(fixtures: Path, tmp_path: Path) -> None:
    path = fixtures / "bad" / "untraced.yaml"
    untraced = _by_code(lint([path]), "untraced")
    assert {p.level for p in untraced} == {"warning"}
    assert [p.line for p in untraced] == sorted(  # in file order
        [
            _line_of(path, "references:"),
            _line_of(path, "summary_tier: Medium"),
            _line_of(path, "severity: high"),
        ]
    )
    explained = tmp_path / "explained.yaml"
    explained.write_text(
        path.read_text().replace(
            "    remediation:\n",
            "    corrections:\n"
            "      - ISO A.10.1 is a 2013 ID; its successor A.8.24 is cited.\n"
            "      - Severity lowered to high; the seed's summary table said Medium.\n"
            "    remediation:\n",
        )
    )
    assert _by_code(lint([explained]), "untraced") == []
