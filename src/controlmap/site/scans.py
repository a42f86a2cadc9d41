"""Scan results for the dashboards: from ``controlmap scan ... --output json`` files or from the store.

A JSON file is the documented output schema (``ScanResult.to_json``); the fields that output
adds on top of the model (``duration_seconds``, ``finding_id``, ``framework_view``) are derived,
so they are dropped before validation. Problems are reported with the file name, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from controlmap.findings.model import ScanResult
from controlmap.yamlfile import FileError, FileProblem

_DERIVED_SCAN_KEYS = ("duration_seconds", "framework_view")
_DERIVED_FINDING_KEYS = ("finding_id",)
MAX_SCAN_BYTES = 200 * 1024 * 1024


def read_scan_file(path: Path) -> ScanResult:
    try:
        if path.stat().st_size > MAX_SCAN_BYTES:
            raise FileError([FileProblem(str(path), None, f"file is larger than {MAX_SCAN_BYTES} bytes")])
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileError(
            [FileProblem(str(path), None, f"cannot read file: {exc.strerror}", code="io")]
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise FileError(
            [FileProblem(str(path), line, f"not a JSON scan result: {exc}", code="json")]
        ) from None
    if not isinstance(data, dict):
        raise FileError([FileProblem(str(path), None, "not a JSON scan result (expected an object)")])
    try:
        return ScanResult.model_validate(_strip_derived(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FileError(
            [FileProblem(str(path), None, f"not a controlmap scan result: {where}: {first['msg']}")]
        ) from None


def read_scan_files(paths: Sequence[Path]) -> list[ScanResult]:
    """Every readable file; all problems are collected and raised together."""
    scans: list[ScanResult] = []
    problems: list[FileProblem] = []
    for path in paths:
        try:
            scans.append(read_scan_file(path))
        except FileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise FileError(problems)
    return scans


def _strip_derived(data: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if k not in _DERIVED_SCAN_KEYS}
    findings = clean.get("findings")
    if isinstance(findings, list):
        clean["findings"] = [
            {k: v for k, v in f.items() if k not in _DERIVED_FINDING_KEYS} if isinstance(f, dict) else f
            for f in findings
        ]
    return clean
