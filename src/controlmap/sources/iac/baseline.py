"""Baselines: record today's failures, then report only failures that are new.

The file is JSON a reviewer can read: one entry per failing finding with its stable key (control,
check, resource, detail), the control, the resource address and file. A finding in the baseline is
reported as EXCEPTED (kind ``baseline``), never hidden, and no longer fails the build.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controlmap.checks.registry import Status
from controlmap.findings.model import Finding
from controlmap.sources.iac.common import IacError

BASELINE_VERSION = 1


def baseline_key(finding: Finding) -> str:
    """The finding's stable key, qualified by its file (two templates may reuse a logical ID)."""
    file = finding.source.file if finding.source and finding.source.file else ""
    return hashlib.sha256(f"{finding.key}\x1f{file}".encode()).hexdigest()[:32]


def baseline_document(findings: list[Finding]) -> dict[str, Any]:
    entries = [
        {
            "key": baseline_key(f),
            "control": f.control_id,
            "check": f.check_id,
            "resource": f.resource_name,
            "file": f.source.file if f.source else None,
            "line": f.source.line_start if f.source else None,
        }
        for f in findings
        if f.status is Status.FAIL
    ]
    entries.sort(key=lambda e: (str(e["file"]), e["line"] or 0, str(e["control"]), str(e["resource"])))
    return {
        "version": BASELINE_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "findings": entries,
    }


def write_baseline(path: Path, findings: list[Finding]) -> int:
    document = baseline_document(findings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise IacError(f"cannot write the baseline: {exc.strerror or exc}", code="io") from None
    return len(document["findings"])


def read_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IacError(f"cannot read the baseline: {exc.strerror or exc}", code="io") from None
    except ValueError as exc:
        raise IacError(f"the baseline is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise IacError("not a controlmap baseline (expected {version, findings: [...]})")
    return {str(e["key"]) for e in data["findings"] if isinstance(e, dict) and "key" in e}


def apply_baseline(findings: list[Finding], keys: set[str], path: str) -> list[Finding]:
    out = []
    for finding in findings:
        if finding.status is Status.FAIL and baseline_key(finding) in keys:
            finding = finding.model_copy(
                update={
                    "status": Status.EXCEPTED,
                    "exception": {
                        "kind": "baseline",
                        "reason": f"in the baseline {path}",
                        "original_status": "FAIL",
                    },
                }
            )
        out.append(finding)
    return out
