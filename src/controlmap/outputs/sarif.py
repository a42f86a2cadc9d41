"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

Rules are the controls (help text, ISO 27001 / SOC 2 tags, ``security-severity`` so GitHub ranks
them); results are the open findings. A finding with a file gets a physical location with its
line range, so code scanning annotates the template; a live finding gets a logical location
(the ARN). Excepted and suppressed findings stay in the log with a SARIF ``suppressions`` entry,
so they are visible but not alerts. Passing findings are left out unless ``include_passed``.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import controlmap
from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import EXCEPTION_EXPIRED, ordered

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/controlmap/controlmap"
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFORMATIONAL: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
}
_ALWAYS = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.EXCEPTED, Status.SUPPRESSED})


def artifact_uri(path: str) -> tuple[str, str | None]:
    """A file path as a SARIF URI: relative paths against %SRCROOT%, absolute ones as file: URIs."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri(), None
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri(), None
    parts = [p for p in posix.parts if p not in (".",)]
    return quote("/".join(parts), safe="/"), "%SRCROOT%"


def _rule(f: Finding) -> dict[str, Any]:
    tags = ["security", "compliance", f.service]
    tags += [f"iso27001:2022/{ref}" for ref in f.iso27001]
    tags += [f"soc2/{ref}" for ref in f.soc2]
    help_text = f.remediation or f.title
    refs = []
    if f.iso27001:
        refs.append("ISO/IEC 27001:2022 " + ", ".join(f.iso27001))
    if f.soc2:
        refs.append("SOC 2 " + ", ".join(f.soc2))
    markdown = f"**{f.control_id}: {f.title}**\n\nRemediation: {help_text}"
    if refs:
        markdown += "\n\nMaps to: " + "; ".join(refs)
    return {
        "id": f.control_id,
        "name": f.control_id.replace("-", ""),
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f"{f.title} ({f.severity.label})"},
        "help": {
            "text": help_text + (("\nMaps to: " + "; ".join(refs)) if refs else ""),
            "markdown": markdown,
        },
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[f.severity],
            "precision": "high",
            "problem.severity": {"error": "error", "warning": "warning", "note": "recommendation"}[
                LEVEL[f.severity]
            ],
        },
    }


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    if f.status is Status.FAIL or f.status in (Status.EXCEPTED, Status.SUPPRESSED):
        kind, level = "fail", LEVEL[f.severity]
    elif f.status is Status.PASS:
        kind, level = "pass", "none"
    elif f.status is Status.NOT_APPLICABLE:
        kind, level = "notApplicable", "none"
    else:  # UNKNOWN, ERROR, MANUAL: a person must look
        kind, level = "review", "none"
    message = f"{f.status.value}: {f.resource_name}: {f.reason}"
    result: dict[str, Any] = {
        "ruleId": f.control_id,
        "ruleIndex": rule_index,
        "kind": kind,
        "level": level,
        "message": {"text": message},
        "partialFingerprints": {"controlmapFindingKey/v1": f.key},
        "properties": {
            "status": f.status.value,
            "severity": f.severity.value,
            "checkId": f.check_id,
            "resourceId": f.resource_id,
            "resourceType": f.resource_type,
            "accountId": f.account_id,
            "region": f.region,
            "dueDate": f.due_date.isoformat() if f.due_date else None,
            "overdue": f.overdue,
        },
    }
    logical = {"name": f.resource_name, "fullyQualifiedName": f.resource_id, "kind": "resource"}
    location: dict[str, Any] = {"logicalLocations": [logical]}
    if f.source is not None and f.source.file:
        uri, base = artifact_uri(f.source.file)
        artifact: dict[str, Any] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        physical: dict[str, Any] = {"artifactLocation": artifact}
        if f.source.line_start:
            region = {"startLine": f.source.line_start}
            if f.source.line_end and f.source.line_end >= f.source.line_start:
                region["endLine"] = f.source.line_end
            physical["region"] = region
        location["physicalLocation"] = physical
        if f.source.address:
            logical["name"] = f.source.address
    result["locations"] = [location]
    if f.status in (Status.EXCEPTED, Status.SUPPRESSED):
        exc = f.exception or {}
        justification = exc.get("justification") or exc.get("reason") or ""
        suppression: dict[str, Any] = {
            "kind": "inSource" if f.status is Status.SUPPRESSED else "external",
            "status": "accepted",
            "justification": str(justification),
        }
        if exc.get("approved_by"):
            suppression["properties"] = {
                "approvedBy": exc.get("approved_by"),
                "expires": str(exc.get("expires", "")),
            }
        result["suppressions"] = [suppression]
    return result


def render_sarif(result: ScanResult, *, include_passed: bool = False, **_: Any) -> str:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for finding in ordered(result.findings):
        if finding.status not in _ALWAYS and not include_passed:
            continue
        if finding.control_id not in index:
            index[finding.control_id] = len(rules)
            rules.append(_rule(finding))
        results.append(_result(finding, index[finding.control_id]))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "controlmap",
                "version": result.tool_version or controlmap.__version__,
                "semanticVersion": controlmap.__version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"controlmap/{result.kind}/"},
        "invocations": [
            {
                "executionSuccessful": result.complete,
                "startTimeUtc": result.started_at.isoformat().replace("+00:00", "Z"),
                **(
                    {"endTimeUtc": result.finished_at.isoformat().replace("+00:00", "Z")}
                    if result.finished_at
                    else {}
                ),
                "toolExecutionNotifications": [
                    {
                        "level": "warning" if e.code == EXCEPTION_EXPIRED else "error",
                        "message": {
                            "text": f"{e.source}: {e.code}" + (f": {e.message}" if e.message else "")
                        },
                    }
                    for e in result.errors
                ],
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if any(
        "uriBaseId" in loc.get("physicalLocation", {}).get("artifactLocation", {})
        for r in results
        for loc in r["locations"]
    ):
        run["originalUriBaseIds"] = {
            "%SRCROOT%": {"description": {"text": "The directory the scan was run from."}}
        }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
