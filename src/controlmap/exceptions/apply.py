"""Apply approved exceptions to a scan: covered failures become EXCEPTED, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from controlmap.checks.registry import Status
from controlmap.exceptions.model import ExceptionEntry
from controlmap.findings.model import Finding, ScanError, ScanResult

EXCEPTABLE = frozenset({Status.FAIL, Status.UNKNOWN})
# ScanError.code of a lapsed approval: a notice for the reader, not a failed read (see
# controlmap.outputs.common.read_errors / expiry_notices, which every renderer uses).
EXPIRED_CODE = "ExceptionExpired"


def apply_exceptions(result: ScanResult, exceptions: Sequence[ExceptionEntry], today: date) -> ScanResult:
    """Mark FAIL and UNKNOWN findings an unexpired exception covers as EXCEPTED, with the approval.

    Only entries in force count: approved on or before ``today`` and not expired.

    The first matching entry in file order wins. Findings already SUPPRESSED inline keep their
    suppression. An expired entry does not apply; if it would still cover a failing finding it is
    reported as a scan error (code ``ExceptionExpired``, with its file and line), so every output
    (console, JSON, SARIF notifications, HTML) shows that an approval lapsed.
    """
    # An approval dated in the future is not an approval yet (`exceptions validate` says so).
    active = [e for e in exceptions if not e.is_expired(today) and e.approved_on <= today]
    by_control: dict[str | None, list[tuple[int, ExceptionEntry]]] = {}
    for order, candidate in enumerate(active):
        by_control.setdefault(candidate.control, []).append((order, candidate))
    findings: list[Finding] = []
    changed = False
    for finding in result.findings:
        entry: ExceptionEntry | None = None
        if finding.status in EXCEPTABLE:
            candidates = by_control.get(finding.control_id.upper(), []) + by_control.get(None, [])
            entry = next((e for _, e in sorted(candidates, key=lambda c: c[0]) if e.covers(finding)), None)
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
    lapsed = [_lapsed_error(e, result) for e in expired_matching(result, exceptions, today)]
    if not changed and not lapsed:
        return result
    return result.model_copy(update={"findings": findings, "errors": [*result.errors, *lapsed]})


def _lapsed_error(entry: ExceptionEntry, result: ScanResult) -> ScanError:
    covered = sum(1 for f in result.findings if f.status in EXCEPTABLE and entry.covers(f))
    source = entry.file or "exceptions.yaml"
    where = f"{source}:{entry.line}" if entry.line else source
    return ScanError(
        source=source,
        code=EXPIRED_CODE,
        message=(
            f"{_notice_prefix(entry)}{where}) expired on {entry.expires}; "
            f"{covered} finding(s) fail again (approved by {entry.approved_by})"
        ),
        line=entry.line,
    )


def _notice_prefix(entry: ExceptionEntry) -> str:
    return f"exception {entry.id or entry.control or entry.check} ("


def noticed(entry: ExceptionEntry, result: ScanResult) -> bool:
    """Whether the scan itself already reported this entry as lapsed (an ``ExceptionExpired``
    notice), so a later report does not list it twice."""
    return any(e.code == EXPIRED_CODE and e.message.startswith(_notice_prefix(entry)) for e in result.errors)


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
