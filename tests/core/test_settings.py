"""The settings file: defaults, typed sections, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from controlmap.catalog.models import Severity
from controlmap.settings import load_settings, register_section
from controlmap.yamlfile import FileError


class _Demo(BaseModel):
    max_age_days: int = 90


register_section("testsection", _Demo)


def test_no_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTROLMAP_SETTINGS", raising=False)
    settings = load_settings()
    assert settings.section("testsection", _Demo).max_age_days == 90
    assert settings.resolved_plan().window(Severity.CRITICAL, "s3").end_days == 30


def test_sections_and_plan_override(tmp_path: Path) -> None:
    path = tmp_path / "controlmap.yaml"
    path.write_text(
        "plan:\n  tiers:\n    critical: {start_days: 0, end_days: 14}\ntestsection:\n  max_age_days: 45\n"
    )
    settings = load_settings(path)
    assert settings.section("testsection", _Demo).max_age_days == 45
    assert settings.resolved_plan().window(Severity.CRITICAL, "iam").end_days == 14


def test_unknown_section_and_bad_value_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "controlmap.yaml"
    path.write_text("testsection:\n  max_age_days: soon\nbogus: 1\n")
    with pytest.raises(FileError) as info:
        load_settings(path)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"{path}:2:") and "max_age_days" in m for m in messages)
    assert any(m.startswith(f"{path}:3:") and "unknown section 'bogus'" in m for m in messages)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "controlmap.yaml"
    path.write_text("plan:\n  tiers: [unclosed\n")
    with pytest.raises(FileError) as info:
        load_settings(path)
    assert "invalid YAML" in str(info.value)
    assert info.value.problems[0].line is not None


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="not found"):
        load_settings(tmp_path / "nope.yaml")
