"""Apply approved exceptions to a scan: covered failures become EXCEPTED, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from controlmap.checks.registry import Status
from controlmap.exceptions.model import ExceptionEntry
from controlmap.findings.model import Finding, ScanResult

EXCEPTABLE = frozenset({Status.FAIL, Status.UNKNOWN})


def apply_exceptions(result: ScanResult, exceptions: Sequence[ExceptionEntry], today: date) -> ScanResult:
    """Mark FAIL and UNKNOWN findings an unexpired exception covers as EXCEPTED, with the approval.

    The first matching entry in file order wins. Expired entries do not apply (``expired`` lists
    them for the report). Findings already SUPPRESSED inline keep their suppression.
    """
    active = [e for e in exceptions if not e.is_expired(today)]
    if not active:
        return result
    findings: list[Finding] = []
    changed = False
    for finding in result.findings:
        entry = next((e for e in active if finding.status in EXCEPTABLE and e.covers(finding)), None)
        if entry is None:
            findings.append(finding)
            continue
        changed = True
        findings.append(
            finding.model_copy(
                update={
                    "status": Status.EXCEPTED,
                    "exception": entry.approval(finding.status.value),
                    "overdue": False,
                }
            )
        )
    return result.model_copy(update={"findings": findings}) if changed else result


def expired(exceptions: Sequence[ExceptionEntry], today: date) -> list[ExceptionEntry]:
    return [e for e in exceptions if e.is_expired(today)]


def expired_matching(
    result: ScanResult, exceptions: Sequence[ExceptionEntry], today: date
) -> list[ExceptionEntry]:
    """Expired entries that would still cover a failing finding: the ones someone must renew or fix."""
    return [
        e
        for e in expired(exceptions, today)
        if any(f.status in EXCEPTABLE and e.covers(f) for f in result.findings)
    ]


def unused(result: ScanResult, exceptions: Sequence[ExceptionEntry], today: date) -> list[ExceptionEntry]:
    """Active entries that covered nothing in this scan (stale, or a typo in the selector)."""
    return [
        e for e in exceptions if not e.is_expired(today) and not any(e.covers(f) for f in result.findings)
    ]


def expired_summary(entries: Sequence[ExceptionEntry]) -> list[dict[str, str]]:
    """Rows for the HTML report's expired-exceptions table."""
    return [
        {
            "id": e.id or e.label,
            "control": e.control or e.check or "",
            "approved_by": e.approved_by,
            "expires": e.expires.isoformat(),
        }
        for e in entries
    ]
