"""exceptions.yaml: loading with file and line errors, matching, expiry, and applying to a scan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from controlmap.checks.registry import Status
from controlmap.exceptions import (
    apply_exceptions,
    expired,
    expired_matching,
    find_exceptions_file,
    load_exceptions,
    review,
    unused,
)
from controlmap.findings.model import ScanResult
from controlmap.settings import Settings
from controlmap.yamlfile import FileError
from outputs.factories import STARTED, finding

TODAY = date(2026, 12, 1)

GOOD = """\
exceptions:
  - id: EX-1
    control: S3-01
    resources:
      arn: "arn:aws:s3:::public-website-*"
    justification: Static website content is public by design.
    approved_by: Jane Doe (CISO)
    approved_on: 2026-11-02
    expires: 2027-05-01
    ticket: https://jira.example.com/browse/SEC-123
  - id: EX-2
    check: iam_user_console_mfa_enabled
    resources:
      account: "111122223333"
      tags: {Role: break-glass}
    justification: Break-glass user, credentials in a safe.
    approved_by: Sam Lee
    approved_on: 2026-01-10
    expires: 2026-11-30
  - id: EX-3
    control: kms-01
    resources:
      region: [eu-west-1, eu-central-1]
    justification: Keys managed by the HSM team.
    approved_by: Sam Lee
    approved_on: 2026-10-01
    expires: 2026-12-31
"""


def write(tmp_path: Path, text: str, name: str = "exceptions.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_keeps_lines(tmp_path: Path) -> None:
    entries = load_exceptions(write(tmp_path, GOOD))
    assert [e.id for e in entries] == ["EX-1", "EX-2", "EX-3"]
    assert [e.line for e in entries] == [2, 11, 20]
    assert entries[2].control == "KMS-01"  # normalised
    assert entries[0].resources.arn == ["arn:aws:s3:::public-website-*"]
    assert entries[2].resources.region == ["eu-west-1", "eu-central-1"]


def test_missing_approver_and_expiry_are_reported_with_lines(tmp_path: Path) -> None:
    text = """\
exceptions:
  - id: EX-9
    control: S3-01
    resources: {arn: "*"}
    justification: temporary
    approved_on: 2026-11-02
  - id: EX-10
    control: S3-02
    resources: {}
    justification: " "
    approved_by: A
    approved_on: 2026-11-02
    expires: 2026-10-01
    colour: blue
"""
    with pytest.raises(FileError) as info:
        load_exceptions(write(tmp_path, text))
    messages = [str(p) for p in info.value.problems]
    path = str(tmp_path / "exceptions.yaml")
    assert f"{path}:2: error: exception #1: approved_by is required: who approved this exception" in messages
    assert any(m.startswith(f"{path}:2: error: exception #1: expires is required") for m in messages)
    assert any(m.startswith(f"{path}:9:") and "resource selector is empty" in m for m in messages)
    assert any(m.startswith(f"{path}:10:") and "justification: must not be blank" in m for m in messages)
    assert any(m.startswith(f"{path}:14:") and "unknown key 'colour'" in m for m in messages)


def test_expiry_before_approval_and_no_control(tmp_path: Path) -> None:
    text = """\
exceptions:
  - resources: {account: "111122223333"}
    justification: j
    approved_by: a
    approved_on: 2026-11-02
    expires: 2026-11-01
"""
    with pytest.raises(FileError) as info:
        load_exceptions(write(tmp_path, text))
    (problem,) = info.value.problems
    assert problem.line == 2
    assert "name the control" in problem.message or "must be after approved_on" in problem.message


def test_bad_yaml_and_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        load_exceptions(write(tmp_path, "exceptions:\n  - id: [unclosed\n"))
    assert info.value.problems[0].code == "yaml" and info.value.problems[0].line
    with pytest.raises(FileError, match="must be a mapping"):
        load_exceptions(write(tmp_path, "- a\n- b\n"))
    assert load_exceptions(write(tmp_path, "")) == []


def test_review_flags_expired_future_long_unknown_duplicate(tmp_path: Path) -> None:
    text = (
        GOOD
        + """\
  - id: EX-1
    control: NOPE-01
    resources: {arn: "*"}
    justification: j
    approved_by: a
    approved_on: 2026-12-20
    expires: 2028-12-20
"""
    )
    entries = load_exceptions(write(tmp_path, text))
    problems = review(entries, TODAY, known_controls={"S3-01", "KMS-01"})
    text_of = [f"{p.line} {p.level} {p.message}" for p in problems]
    assert "11 warning EX-2: expired on 2026-11-30; it no longer applies" in text_of
    assert any(t.startswith("28 error EX-1: approved_on 2026-12-20 is in the future") for t in text_of)
    assert any(t.startswith("28 warning EX-1: approved for 731 days") for t in text_of)
    assert any(t.startswith("28 error EX-1: unknown control 'NOPE-01'") for t in text_of)
    assert any(t.startswith("28 error duplicate exception id 'EX-1' (also line 2)") for t in text_of)


def scan() -> ScanResult:
    return ScanResult(
        kind="aws",
        started_at=STARTED,
        accounts=["111122223333"],
        findings=[
            finding(resource_id="arn:aws:s3:::public-website-prod", resource_name="public-website-prod"),
            finding(resource_id="arn:aws:s3:::private-data", resource_name="private-data"),
            finding(resource_id="arn:aws:s3:::public-website-ok", status=Status.PASS),
            finding(
                control_id="IAM-02",
                check_id="iam_user_console_mfa_enabled",
                service="iam",
                resource_id="arn:aws:iam::111122223333:user/bg",
                resource_name="bg",
                region=None,
                tags={"Role": "break-glass"},
            ),
            finding(
                control_id="KMS-01",
                check_id="kms_rotation",
                resource_id="arn:aws:kms:eu-west-1:111122223333:key/k1",
                status=Status.UNKNOWN,
            ),
            finding(
                control_id="KMS-01",
                check_id="kms_rotation",
                resource_id="arn:aws:kms:us-east-1:111122223333:key/k2",
                region="us-east-1",
            ),
        ],
    )


def test_apply_marks_covered_failures_excepted(tmp_path: Path) -> None:
    entries = load_exceptions(write(tmp_path, GOOD))
    applied = apply_exceptions(scan(), entries, TODAY)
    statuses = [f.status for f in applied.findings]
    assert statuses == [
        Status.EXCEPTED,  # ARN glob matches
        Status.FAIL,  # ARN glob does not match
        Status.PASS,  # passing findings are left alone
        Status.FAIL,  # EX-2 expired yesterday
        Status.EXCEPTED,  # UNKNOWN in eu-west-1 covered by EX-3
        Status.FAIL,  # region us-east-1 not covered
    ]
    approval = applied.findings[0].exception
    assert approval is not None
    assert approval["approved_by"] == "Jane Doe (CISO)" and approval["expires"] == "2027-05-01"
    assert approval["ticket"] == "https://jira.example.com/browse/SEC-123"
    assert approval["original_status"] == "FAIL"
    assert approval["source"].endswith("exceptions.yaml:2")
    assert applied.findings[4].exception["original_status"] == "UNKNOWN"  # type: ignore[index]
    assert len(applied.findings) == len(scan().findings)  # nothing dropped


def test_expired_exception_stops_applying_and_is_reported(tmp_path: Path) -> None:
    entries = load_exceptions(write(tmp_path, GOOD))
    on_expiry_day = apply_exceptions(scan(), entries, date(2026, 11, 30))
    assert on_expiry_day.findings[3].status is Status.EXCEPTED  # valid through its expiry date
    assert [e.id for e in expired(entries, TODAY)] == ["EX-2"]
    assert [e.id for e in expired_matching(scan(), entries, TODAY)] == ["EX-2"]
    (lapsed,) = apply_exceptions(scan(), entries, TODAY).errors
    assert lapsed.code == "ExceptionExpired" and lapsed.line == 11
    assert lapsed.source.endswith("exceptions.yaml")
    assert lapsed.message == (
        f"exception EX-2 ({lapsed.source}:11) expired on 2026-11-30; 1 finding(s) fail again "
        "(approved by Sam Lee)"
    )
    assert not on_expiry_day.errors


def test_tag_and_account_selectors(tmp_path: Path) -> None:
    entries = load_exceptions(write(tmp_path, GOOD))
    ex2 = entries[1]
    bg = scan().findings[3]
    assert ex2.covers(bg)
    assert not ex2.covers(bg.model_copy(update={"tags": {"Role": "admin"}}))
    assert not ex2.covers(bg.model_copy(update={"tags": {}}))
    assert not ex2.covers(bg.model_copy(update={"account_id": "999988887777"}))


def test_control_and_check_entries_keep_file_order(tmp_path: Path) -> None:
    text = GOOD.replace("    check: iam_user_console_mfa_enabled\n", "    control: IAM-02\n").replace(
        "expires: 2026-11-30", "expires: 2027-11-30"
    )
    text += """\
  - id: EX-4
    check: iam_user_console_mfa_enabled
    resources: {arn: "*"}
    justification: every MFA finding
    approved_by: Sam Lee
    approved_on: 2026-10-01
    expires: 2026-12-31
"""
    entries = load_exceptions(write(tmp_path, text))
    applied = apply_exceptions(scan(), entries, TODAY)
    assert applied.findings[3].exception["id"] == "EX-2"  # type: ignore[index]
    reordered = [entries[3], *entries[:3]]
    assert apply_exceptions(scan(), reordered, TODAY).findings[3].exception["id"] == "EX-4"  # type: ignore[index]


def test_unused_entries(tmp_path: Path) -> None:
    entries = load_exceptions(write(tmp_path, GOOD))
    only_private = scan().model_copy(update={"findings": [scan().findings[1]]})
    assert {e.id for e in unused(only_private, entries, TODAY)} == {"EX-1", "EX-3"}


def test_find_exceptions_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_exceptions_file() is None
    write(tmp_path, GOOD)
    assert find_exceptions_file() == tmp_path / "exceptions.yaml"
    settings = Settings(
        exceptions_file="policy/ex.yaml", source_path=str(tmp_path / "cfg" / "controlmap.yaml")
    )
    assert find_exceptions_file(settings=settings) == tmp_path / "cfg" / "policy" / "ex.yaml"
    assert find_exceptions_file(Path("given.yaml"), settings) == Path("given.yaml")


def test_expired_exception_is_a_notice_not_a_read_error_in_every_renderer(tmp_path: Path) -> None:
    from rich.console import Console

    from controlmap.outputs.console import render_console
    from controlmap.outputs.html import render_html
    from controlmap.outputs.markdown import render_markdown
    from controlmap.site.dashboard import build_dashboards

    result = apply_exceptions(scan(), load_exceptions(write(tmp_path, GOOD)), TODAY)
    markdown = render_markdown(result)
    assert "read error" not in markdown
    assert "Expired: exception EX\\-2 \\(" in markdown and "fail again" in markdown  # escaped Markdown
    console = Console(record=True, width=200)
    render_console(result, console=console)
    text = console.export_text()
    assert "error(s) during the scan" not in text and "Expired: exception EX-2 (" in text
    html = render_html(result)
    assert "Read errors" not in html and "Expired exceptions: findings fail again" in html
    boards = build_dashboards([result], TODAY)
    assert boards and all(not b.incomplete for b in boards)
    assert any("EX-2" in n for b in boards for n in b.expired_exceptions)


def test_an_exception_approved_in_the_future_does_not_apply_yet(tmp_path: Path) -> None:
    """Dated approvals take effect on their date: a draft entry dated next month excepts nothing."""
    entries = load_exceptions(write(tmp_path, GOOD))
    approved = entries[0].approved_on  # 2026-11-02
    on_the_day = apply_exceptions(scan(), entries, approved)
    assert on_the_day.findings[0].status is Status.EXCEPTED
    the_day_before = apply_exceptions(scan(), entries, date.fromordinal(approved.toordinal() - 1))
    assert the_day_before.findings[0].status is Status.FAIL
    assert the_day_before.findings[0].exception is None
