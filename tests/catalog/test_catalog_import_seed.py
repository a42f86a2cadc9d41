"""import-seed: malformed rows are refused with their line; the output lints without noise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from .conftest import SEED
from .helpers import run


def _s3_01_row() -> tuple[int, str]:
    for number, line in enumerate(SEED.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("| S3-01 |"):
            return number, line
    raise AssertionError("the seed fixture has no S3-01 row")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row + " extra |", "needs 6 columns, found 7"),
        (lambda row: row.rsplit("|", 2)[0] + "|", "needs 6 columns, found 5"),
        (lambda row: row.replace("| Critical |", "| Hgh |"), "S3-01: severity 'Hgh' is not one of Critical"),
    ],
)
def test_malformed_rows_are_refused_with_their_line(
    runner: CliRunner, tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    number, row = _s3_01_row()
    text = SEED.read_text(encoding="utf-8").replace(row, change(row), 1)
    path = tmp_path / "seed.md"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(runner, "import-seed", str(path), "-o", str(tmp_path / "out.yaml"))
    assert code == 2
    assert f"line {number}:" in err and message in err
    assert not (tmp_path / "out.yaml").exists()


def test_duplicate_ids_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    number, row = _s3_01_row()
    lines = SEED.read_text(encoding="utf-8").splitlines()
    lines.insert(number, row)  # the same row again, one line below
    path = tmp_path / "seed.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(runner, "import-seed", str(path), "-o", str(tmp_path / "out.yaml"))
    assert code == 2
    assert f"line {number + 1}: duplicate control id S3-01 (first at line {number})" in err


def test_imported_seed_lints_without_not_yet_automated_noise(runner: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "seed.yaml"
    code, _, _ = run(runner, "import-seed", str(SEED), "-o", str(out_file))
    assert code == 0
    assert "automation: manual" in out_file.read_text(encoding="utf-8")
    code, out, _ = run(runner, "lint", str(out_file), "--format", "json")
    data = json.loads(out)
    codes = [p["code"] for p in data["problems"]]
    assert "not-automated" not in codes and "attestation" not in codes
    assert data["errors"] == 32  # the seed's own citation faults, nothing else


def test_import_seed_says_which_directory_it_created(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "seed.yaml"
    code, out, _ = run(runner, "import-seed", str(SEED), "-o", str(target))
    assert code == 0 and target.is_file()
    assert f"created directory {tmp_path / 'new'}" in " ".join(out.split())
    code, out, _ = run(runner, "import-seed", str(SEED), "-o", str(target))
    assert code == 0 and "created directory" not in out
