"""JUnit XML for CI systems: one test suite per service, one test case per finding.

FAIL is a ``<failure>``, ERROR an ``<error>`` (and so is each scan error, in the suite
``controlmap.scan-errors``); MANUAL, UNKNOWN, NOT_APPLICABLE, EXCEPTED and
SUPPRESSED are ``<skipped>`` with the reason, so CI dashboards count them without failing a build.
The element and attribute set follows the widely used Jenkins/Ant schema (junit-10.xsd).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from controlmap.checks.registry import Status
from controlmap.findings.model import Finding, ScanResult
from controlmap.outputs.common import exception_note, location, ordered, resource_label, shared_names

# Characters XML 1.0 cannot carry at all, even escaped; a hostile tag value must not break the file.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: object) -> str:
    return _INVALID_XML.sub("\ufffd", "" if value is None else str(value))


def _case(suite: ET.Element, f: Finding, shared: set[str]) -> str:
    # CI systems key a test case by classname + name and merge or overwrite repeats, so both
    # together must tell findings apart: the check is part of the class (a control with two
    # checks on one resource), and a name many resources share carries the resource's ID.
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "name": xml_text(
                f"{f.control_id} {resource_label(f, shared)}" + (f" [{f.detail_id}]" if f.detail_id else "")
            ),
            "classname": xml_text(
                f"controlmap.{f.service}.{f.control_id}" + (f".{f.check_id}" if f.check_id else "")
            ),
            "time": "0",
        },
    )
    detail = xml_text(
        "\n".join(
            [
                f"{f.control_id}: {f.title}",
                f"severity: {f.severity.value}",
                f"resource: {f.resource_id} ({f.resource_type})",
                f"location: {location(f)}",
                f"reason: {f.reason}",
                f"remediation: {f.remediation}",
            ]
            + ([f"due: {f.due_date.isoformat()}" + (" (overdue)" if f.overdue else "")] if f.due_date else [])
        )
    )
    if f.status is Status.FAIL:
        node = ET.SubElement(case, "failure", {"message": xml_text(f.reason), "type": f.severity.value})
        node.text = detail
        return "failure"
    if f.status is Status.ERROR:
        node = ET.SubElement(
            case, "error", {"message": xml_text(f.reason), "type": xml_text(f.error_code or "ERROR")}
        )
        node.text = detail
        return "error"
    if f.status is not Status.PASS:
        message = f"{f.status.value}: {f.reason}"
        if f.exception:
            message += f" ({exception_note(f)})"  # which exception, who approved it, until when
        ET.SubElement(case, "skipped", {"message": xml_text(message)})
        return "skipped"
    return "passed"


def _errors_suite(root: ET.Element, result: ScanResult, timestamp: str, index: int) -> None:
    """What could not be read (a template that does not parse, an API call that was denied) is an
    ``<error>``: a report of only such problems must not read as an empty, green run."""
    suite = ET.SubElement(root, "testsuite", {"name": "controlmap.scan-errors"})
    for error in result.errors:
        where = f"{error.source}:{error.line}" if error.line else error.source
        classname = xml_text(f"controlmap.scan-errors.{error.code}")
        attrs = {"name": xml_text(where), "classname": classname, "time": "0"}
        case = ET.SubElement(suite, "testcase", attrs)
        message, kind = xml_text(error.message), xml_text(error.code)
        node = ET.SubElement(case, "error", {"message": message, "type": kind})
        node.text = xml_text(
            "\n".join(
                [f"source: {where}", f"code: {error.code}", f"message: {error.message}"]
                + [f"{k}: {v}" for k, v in (("region", error.region), ("account", error.account_id)) if v]
            )
        )
    counts = {"tests": len(result.errors), "failures": 0, "errors": len(result.errors), "skipped": 0}
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    suite.attrib.update({"time": "0", "timestamp": timestamp, "id": str(index), "package": "controlmap"})


def render_junit(result: ScanResult, **_: Any) -> str:
    root = ET.Element("testsuites", {"name": "controlmap"})
    by_service: dict[str, list[Finding]] = {}
    for finding in ordered(result.findings):
        by_service.setdefault(finding.service, []).append(finding)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    shared = shared_names(result.findings)
    timestamp = result.started_at.replace(microsecond=0, tzinfo=None).isoformat()
    for index, (service, findings) in enumerate(sorted(by_service.items())):
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(f"controlmap.{service}")})
        counts = {"tests": len(findings), "failures": 0, "errors": 0, "skipped": 0}
        for finding in findings:
            outcome = _case(suite, finding, shared)
            if outcome == "failure":
                counts["failures"] += 1
            elif outcome == "error":
                counts["errors"] += 1
            elif outcome == "skipped":
                counts["skipped"] += 1
        suite.attrib.update({k: str(v) for k, v in counts.items()})
        suite.attrib.update({"time": "0", "timestamp": timestamp, "id": str(index), "package": "controlmap"})
        for key, value in counts.items():
            totals[key] += value
    if result.errors:
        _errors_suite(root, result, timestamp, len(by_service))
        totals["tests"] += len(result.errors)
        totals["errors"] += len(result.errors)
    # The Jenkins schema has no ``skipped`` attribute on <testsuites>; each suite carries it.
    root.attrib.update({k: str(v) for k, v in totals.items() if k != "skipped"})
    root.attrib["time"] = f"{result.duration_seconds or 0:.3f}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
