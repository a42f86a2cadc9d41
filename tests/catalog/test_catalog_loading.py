"""Loading the catalog: built-in files (fast path) and custom files (careful path) agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlmap.catalog.catalog import CONTROLS_DIR, control_files, load_catalog, load_service_file
from controlmap.catalog.models import Framework
from controlmap.yamlfile import FileError, load_trusted_model


def test_builtin_catalog_loads_with_origins() -> None:
    catalog = load_catalog()
    assert catalog.controls
    assert {"iso27001:2022", "soc2:2017"} <= set(catalog.frameworks)
    for control_id, origin in catalog.origins.items():
        assert origin.line is not None
        lines = Path(origin.path).read_text().splitlines()
        assert lines[origin.line - 1].strip() == f"- id: {control_id}"


@pytest.mark.parametrize("path", control_files(CONTROLS_DIR), ids=lambda p: p.name)
def test_fast_and_careful_readers_agree(path: Path) -> None:
    assert load_service_file(path, trusted=True) == load_service_file(path)


def test_trusted_file_that_fails_validation_still_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "fw.yaml"
    bad.write_text("key: x\nname: y\nrequirements:\n  - id: A.1\n    titel: typo\n")
    with pytest.raises(FileError) as exc:
        load_trusted_model(bad, Framework)
    lines = {p.message: p.line for p in exc.value.problems}
    assert lines == {"requirements.0.title: Field required": 4, "unknown key 'titel'": 5}


def test_custom_file_overrides_builtin(fixtures: Path) -> None:
    catalog = load_catalog([fixtures / "custom"])
    s3_01 = catalog.get("S3-01")
    assert s3_01 is not None and s3_01.custom and "override" in s3_01.title
    assert catalog.origins["S3-01"].path.endswith("org-controls.yaml")
    assert catalog.get("org-s3-10") is not None


def test_broken_custom_file_raises_with_every_problem(fixtures: Path) -> None:
    with pytest.raises(FileError) as exc:
        load_catalog([fixtures / "bad" / "schema.yaml", fixtures / "bad" / "broken-yaml.yaml"])
    paths = {p.path for p in exc.value.problems}
    assert len(paths) == 2
    assert all(p.line for p in exc.value.problems)
