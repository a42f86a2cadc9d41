"""The framework catalogs: ISO 27001:2022 Annex A, SOC 2 TSC and the 2013 -> 2022 correspondence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from controlmap.catalog.catalog import FRAMEWORKS_DIR
from controlmap.catalog.correspondence import Correspondence, builtin_correspondence
from controlmap.catalog.models import Framework
from controlmap.yamlfile import FileError, load_model

ISO = load_model(FRAMEWORKS_DIR / "iso27001-2022.yaml", Framework)
SOC2 = load_model(FRAMEWORKS_DIR / "soc2-2017.yaml", Framework)


def test_iso_2022_has_all_93_annex_a_controls_by_theme() -> None:
    assert ISO.key == "iso27001:2022"
    ids = [r.id for r in ISO.requirements]
    assert len(ids) == len(set(ids)) == 93
    themes = Counter(r.group for r in ISO.requirements)
    assert themes == {
        "A.5 Organizational controls": 37,
        "A.6 People controls": 8,
        "A.7 Physical controls": 14,
        "A.8 Technological controls": 34,
    }
    titles = {r.id: r.title for r in ISO.requirements}
    assert titles["A.8.28"] == "Secure coding"  # the control Prowler's ISO 2022 file lacks
    assert titles["A.8.23"] == "Web filtering"
    assert titles["A.8.11"] == "Data masking"


def test_soc2_has_every_trust_services_criterion() -> None:
    assert SOC2.key == "soc2:2017"
    ids = [r.id for r in SOC2.requirements]
    assert len(ids) == len(set(ids))
    expected_cc = {"CC1": 5, "CC2": 3, "CC3": 4, "CC4": 2, "CC5": 3, "CC6": 8, "CC7": 5, "CC8": 1, "CC9": 2}
    for family, count in expected_cc.items():
        assert [i for i in ids if i.startswith(family + ".")] == [
            f"{family}.{n}" for n in range(1, count + 1)
        ]
    assert {"A1.1", "A1.2", "A1.3", "C1.1", "C1.2"} <= set(ids)
    assert [i for i in ids if i.startswith("PI1.")] == [f"PI1.{n}" for n in range(1, 6)]
    privacy = [i for i in ids if i.startswith("P") and not i.startswith("PI")]
    assert privacy[0] == "P1.1" and privacy[-1] == "P8.1" and len(privacy) == 18
    assert len(ids) == 61


def test_correspondence_converts_clause_and_control_ids() -> None:
    corr = builtin_correspondence()
    assert corr.successors("A.9.2.1") == ["A.5.16"]
    assert corr.successors("A.9.4") == ["A.8.3", "A.8.5", "A.5.17", "A.8.18", "A.8.4"]
    assert corr.successors("A.10.1") == ["A.8.24"]
    assert corr.successors("A.12.4") == ["A.8.15", "A.8.17"]
    assert corr.successors("A.14.2.3") == ["A.8.32"]  # omitted by the upstream mapping; Annex B has it
    assert corr.successors("A.13.2.1") == ["A.5.14"]  # upstream maps it to A.8.14 by mistake
    assert corr.successors("A.8.2.1") == ["A.5.12"]
    assert corr.successors("A.8.3.2") == ["A.7.10"]  # 2022 A.7.14 replaces A.11.2.7 only
    assert corr.successors("A.18.2.3") == ["A.5.36", "A.8.8"]
    assert corr.successors("A.8.99") is None


def test_correspondence_covers_all_114_controls_of_2013_and_only_valid_2022_ids() -> None:
    corr = builtin_correspondence()
    controls = [c for clause in corr.clauses for c in clause.controls]
    assert len(controls) == 114
    assert corr.all_successors() <= ISO.ids()
    # The eleven 2022 controls that are new in 2022 have no 2013 predecessor.
    new_in_2022 = {"A.5.7", "A.5.23", "A.5.30", "A.7.4", "A.8.9", "A.8.10", "A.8.11", "A.8.12"}
    new_in_2022 |= {"A.8.16", "A.8.23", "A.8.28"}
    assert ISO.ids() - corr.all_successors() == new_in_2022


def test_ambiguous_ids_are_the_2013_clauses_that_exist_in_2022() -> None:
    ambiguous = builtin_correspondence().ambiguous(ISO.ids())
    assert {"A.8.2", "A.8.3"} <= ambiguous
    assert "A.9.2" not in ambiguous and "A.8.24" not in ambiguous


def test_clause_successors_must_match_its_controls(tmp_path: Path) -> None:
    bad = tmp_path / "corr.yaml"
    bad.write_text(
        'from: "iso27001:2013"\nto: "iso27001:2022"\nname: x\nclauses:\n'
        "  - id: A.10.1\n    title: Cryptographic controls\n    successors: [A.8.24, A.5.31]\n"
        "    controls:\n      - {id: A.10.1.1, title: Policy, successors: [A.8.24]}\n"
    )
    with pytest.raises(FileError) as exc:
        load_model(bad, Correspondence)
    assert "differ from its controls" in str(exc.value)
    assert exc.value.problems[0].line == 5
