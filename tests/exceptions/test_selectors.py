"""Entries that would silently match nothing: an account ID YAML turned into a number, a
misspelt check, a check of another control. Each is an error naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.exceptions import apply_exceptions, load_exceptions, review
from controlmap.findings.model import ScanResult
from controlmap.yamlfile import FileError
from outputs.factories import STARTED, finding

from .test_exceptions import TODAY

MFA = "iam_user_console_mfa_enabled"
ENTRY = """\
exceptions:
  - id: EX-1
    control: {control}
    check: {check}
    resources:
      account: {account}
    justification: j
    approved_by: Jane Doe
    approved_on: 2026-11-02
    expires: 2027-05-01
"""


def write(tmp_path: Path, *, account: str, control: str = "S3-01", check: str = "null") -> Path:
    path = tmp_path / "exceptions.yaml"
    path.write_text(ENTRY.format(account=account, control=control, check=check))
    return path


def test_an_unquoted_account_id_that_lost_its_leading_zero_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        load_exceptions(write(tmp_path, account="012345678901"))
    (problem,) = info.value.problems
    assert problem.line == 6 and "quote account IDs" in problem.message and "12345678901" in problem.message


@pytest.mark.parametrize(
    "account",
    ["'12345'", "'1234567890123'", "'abcdefghijkl'", "[ '111122223333', 42 ]", '"111122223333\\n"'],
)
def test_an_account_that_is_not_twelve_digits_is_an_error(tmp_path: Path, account: str) -> None:
    with pytest.raises(FileError, match="12-digit"):
        load_exceptions(write(tmp_path, account=account))


def test_quoted_and_unquoted_twelve_digit_accounts_match(tmp_path: Path) -> None:
    scan = ScanResult(
        kind="aws",
        started_at=STARTED,
        findings=[finding(account_id="012345678901"), finding(account_id="111122223333")],
    )
    quoted = load_exceptions(write(tmp_path, account="'012345678901'"))
    assert [f.status for f in apply_exceptions(scan, quoted, TODAY).findings] == [
        Status.EXCEPTED,
        Status.FAIL,
    ]
    plain = load_exceptions(write(tmp_path, account="111122223333"))
    assert [f.status for f in apply_exceptions(scan, plain, TODAY).findings] == [Status.FAIL, Status.EXCEPTED]


def test_unknown_check_and_check_of_another_control_are_errors(tmp_path: Path) -> None:
    checks_of = {c.id: set(c.checks) for c in load_catalog().controls.values()}
    cases = {
        ("null", "s3_bucket_versioning_mfa_delete"): "unknown check 's3_bucket_versioning_mfa_delete'",
        (
            "S3-01",
            "iam_user_console_mfa_enabled",
        ): "check 'iam_user_console_mfa_enabled' is not a check of S3-01",
    }
    for (control, check), message in cases.items():
        entries = load_exceptions(write(tmp_path, account="'111122223333'", control=control, check=check))
        problems = [p for p in review(entries, TODAY, set(checks_of), checks_of) if p.level == "error"]
        assert [(p.line, p.message) for p in problems] == [(2, f"EX-1: {message}" + _listed(message))]
    good = load_exceptions(
        write(tmp_path, account="'111122223333'", control="IAM-02", check="iam_user_console_mfa_enabled")
    )
    assert [p for p in review(good, TODAY, set(checks_of), checks_of) if p.level == "error"] == []


def _listed(message: str) -> str:
    listed = "s3_account_public_access_blocked, s3_bucket_public_access_blocked"
    return f" (its checks: {listed})" if "is not a check of" in message else ""


def test_a_file_with_no_entries_yet_is_valid(tmp_path: Path) -> None:
    """`exceptions:` with only a comment under it must not fail validation, nor every scan."""
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions:\n  # none approved yet\n")
    assert load_exceptions(path) == []
    path.write_text("exceptions: 3\n")
    with pytest.raises(FileError):
        load_exceptions(path)
