"""Dashboards, the trend chart, scan files, the store adapter, the CLI and the preview server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest
from sitekit import FIXTURES, NOW, XSS, finding, fixture_scans
from typer.testing import CliRunner

from controlmap.catalog.models import Severity
from controlmap.checks.registry import Status
from controlmap.cli.app import app
from controlmap.findings.model import ScanResult
from controlmap.site import urls
from controlmap.site.chart import trend_chart
from controlmap.site.dashboard import TrendPoint, build_dashboards, failing_by_type, is_overdue
from controlmap.site.scans import read_scan_file, read_scan_files
from controlmap.site.serve import make_server
from controlmap.site.store import StoreUnavailable, read_store
from controlmap.yamlfile import FileError

TODAY = NOW.date()


def flat(text: str) -> str:
    """Rich wraps long messages at the terminal width; compare without the line breaks."""
    return " ".join(text.split())


# ---- dashboards ------------------------------------------------------------------------------


def test_dashboard_per_account_from_latest_scan() -> None:
    boards = build_dashboards(fixture_scans(), TODAY)
    assert [b.account_id for b in boards] == ["111122223333"]  # the IaC finding has no account
    board = boards[0]
    by_service = dict(board.by_service)
    assert (by_service["s3"].passed, by_service["s3"].failed) == (1, 2)
    assert by_service["s3"].rate == pytest.approx(100 / 3)
    assert by_service["ec2"].rate is None and by_service["ec2"].open == 1  # ERROR: open, not a failure
    by_severity = dict(board.by_severity)
    assert [s for s, _ in board.by_severity] == [Severity.CRITICAL, Severity.HIGH]
    assert (by_severity[Severity.CRITICAL].passed, by_severity[Severity.CRITICAL].failed) == (1, 1)
    assert {f.resource_name for f in board.open_critical} == {XSS, "sg-0abc"}
    # One overdue rule everywhere: an open FAIL past its due date (sg-0abc is ERROR: not overdue).
    assert {f.resource_name for f in board.overdue} == {XSS}  # due 2026-11-20, S3-05 due 2027
    assert board.overall.rate == pytest.approx(100 / 3)


def test_trend_has_one_point_per_scan_oldest_first() -> None:
    board = build_dashboards(fixture_scans(), TODAY)[0]
    assert [p.rate for p in board.trend] == [0.0, pytest.approx(100 / 3)]
    assert [p.open for p in board.trend] == [2, 3]
    assert board.trend[0].when < board.trend[1].when


def test_a_partial_scan_replaces_only_the_services_it_covered() -> None:
    s3_scan = ScanResult(
        kind="aws",
        started_at=NOW - timedelta(days=1),
        accounts=["1"],
        services=["s3"],
        findings=[finding(account_id="1", status=Status.FAIL)],
    )
    ec2_scan = ScanResult(
        kind="aws",
        started_at=NOW,
        accounts=["1"],
        services=["ec2"],
        findings=[
            finding(
                account_id="1",
                service="ec2",
                control_id="EC2-01",
                status=Status.PASS,
                resource_type="AWS::EC2::SecurityGroup",
            )
        ],
    )
    board = build_dashboards([ec2_scan, s3_scan], TODAY)[0]
    assert {f.service: f.status for f in board.findings} == {"s3": Status.FAIL, "ec2": Status.PASS}
    rescan = ScanResult(kind="aws", started_at=NOW + timedelta(hours=1), accounts=["1"], services=["s3"])
    board = build_dashboards([ec2_scan, s3_scan, rescan], TODAY)[0]
    assert {f.service for f in board.findings} == {"ec2"}  # s3 rescanned and nothing is left


def test_overdue_needs_an_open_finding_past_its_due_date() -> None:
    assert is_overdue(finding(due_date=TODAY - timedelta(days=1)), TODAY)
    assert not is_overdue(finding(due_date=TODAY), TODAY)
    assert not is_overdue(finding(status=Status.PASS, due_date=date(2000, 1, 1)), TODAY)
    assert not is_overdue(finding(status=Status.EXCEPTED, due_date=date(2000, 1, 1)), TODAY)
    assert is_overdue(finding(overdue=True, due_date=None), TODAY)
    assert not is_overdue(finding(due_date=None), TODAY)
    assert not is_overdue(finding(status=Status.ERROR, due_date=date(2000, 1, 1)), TODAY)
    assert not is_overdue(finding(status=Status.UNKNOWN, due_date=date(2000, 1, 1)), TODAY)
    assert not is_overdue(finding(status=Status.SUPPRESSED, due_date=date(2000, 1, 1)), TODAY)


def test_failing_resources_group_by_type_and_exclude_errors() -> None:
    failing = failing_by_type(build_dashboards(fixture_scans(), TODAY))
    assert set(failing) == {"AWS::S3::Bucket"}
    assert [f.control_id for f in failing["AWS::S3::Bucket"]] == ["S3-01", "S3-05"]  # most severe first


def test_no_scans_no_dashboards(tmp_path: Path) -> None:
    assert build_dashboards([], TODAY) == []


# ---- chart ---------------------------------------------------------------------------------


def test_chart_breaks_the_line_where_nothing_was_evaluated() -> None:
    points = [
        TrendPoint(NOW + timedelta(days=i), None, rate, 0, 0)
        for i, rate in enumerate([50.0, None, 100.0, 0.0])
    ]
    chart = trend_chart(points)
    assert len(chart.lines) == 2 and len(chart.dots) == 3
    top, bottom = chart.top, chart.height - chart.bottom
    assert chart.dots[1].y == top and chart.dots[2].y == bottom  # 100% at the top, 0% at the bottom
    assert chart.dots[0].x == chart.left and chart.dots[-1].x == chart.width - chart.right
    assert [label for _, label, _ in chart.x_labels] == [
        p.when.strftime("%Y-%m-%d") for p in (points[0], points[-1])
    ]


def test_chart_single_point_is_centred() -> None:
    chart = trend_chart([TrendPoint(NOW, "s1", 75.0, 1, 0)])
    assert len(chart.dots) == 1
    assert chart.dots[0].x == pytest.approx(
        chart.left + (chart.width - chart.left - chart.right) / 2, abs=0.1
    )
    assert "75% passing" in chart.dots[0].label


# ---- urls ----------------------------------------------------------------------------------


def test_slugs_stay_inside_their_directory() -> None:
    assert urls.slug("AWS::S3::Bucket") == "aws-s3-bucket"
    assert urls.slug("AWS::::Account") == "aws-account"
    assert urls.slug("../../etc/passwd") == "etc-passwd"
    assert urls.slug("<>").startswith("x-") and urls.slug("<>") != urls.slug("&&")
    assert urls.anchor("A.8.24") == "A.8.24"
    assert urls.relative_root("types/x.html") == "../" and urls.relative_root("index.html") == ""


# ---- scan files ------------------------------------------------------------------------------


def test_scan_json_output_reads_back(tmp_path: Path) -> None:
    scan = fixture_scans()[0]
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(scan.to_json()), encoding="utf-8")
    loaded = read_scan_file(path)
    assert loaded.findings == scan.findings and loaded.started_at == scan.started_at


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON scan result"),
        ("[1, 2]", "expected an object"),
        ('{"kind": "aws"}', "started_at"),
    ],
)
def test_bad_scan_files_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileError) as exc:
        read_scan_files([path, tmp_path / "missing.json"])
    text = str(exc.value)
    assert f"{path}" in text and message in text and "missing.json" in text


# ---- store -------------------------------------------------------------------------------------


def test_store_scans_feed_the_dashboards(tmp_path: Path) -> None:
    from controlmap.store.recorder import record_scan

    url = f"sqlite:///{tmp_path / 'history.db'}"
    for scan in sorted(fixture_scans()[:2], key=lambda s: s.started_at):
        record_scan(scan, url)
    scans = read_store(url)
    assert len(scans) == 2 and all(s.scan_id for s in scans)
    board = build_dashboards(scans, TODAY)[0]
    assert board.account_id == "111122223333" and len(board.trend) == 2
    assert XSS in {f.resource_name for f in board.open_critical}


def test_missing_store_is_an_error_only_when_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    with pytest.raises(StoreUnavailable, match="no database at"):
        read_store(missing)
    assert not (tmp_path / "nope.db").exists()  # reading never creates a database
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    monkeypatch.setattr("controlmap.store.db.default_url", lambda: missing)
    assert read_store(None) == []


# ---- CLI -----------------------------------------------------------------------------------------


def test_cli_builds_with_custom_catalog_and_scan_file(tmp_path: Path) -> None:
    scan_file = tmp_path / "scan.json"
    scan_file.write_text(json.dumps(fixture_scans()[0].to_json()), encoding="utf-8")
    out = tmp_path / "site"
    result = CliRunner().invoke(
        app,
        [
            "site",
            "build",
            str(out),
            "--catalog",
            str(FIXTURES / "custom"),
            "--scan",
            str(scan_file),
            "--no-store",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Built" in result.output and "1 account dashboard" in result.output
    assert "Custom" in (out / "controls" / "org-s3-10.html").read_text(encoding="utf-8")
    assert (out / "accounts" / "111122223333.html").is_file()
    from linkcheck import check_site

    assert check_site(out) == []


def test_cli_bad_inputs_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text("nope", encoding="utf-8")
    result = runner.invoke(app, ["site", "build", str(tmp_path / "o"), "--scan", str(bad), "--no-store"])
    assert result.exit_code == 2 and "bad.json" in flat(result.output) and "Traceback" not in result.output
    result = runner.invoke(
        app, ["site", "build", str(tmp_path / "o"), "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 2 and "no database at" in flat(result.output)
    result = runner.invoke(app, ["site", "serve", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "holds no built site" in flat(result.output)


def test_preview_server_serves_the_site_with_security_headers(built_site: Path) -> None:
    server = make_server(built_site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{server.server_port}/types/aws-s3-bucket.html"
        ) as resp:
            body = resp.read().decode()
            assert resp.status == 200
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "S3 bucket" in body
    finally:
        server.shutdown()
        server.server_close()


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, str]:
    """Start `controlmap site serve ARGS --port 0`; return the process, its URL and the directory."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from controlmap.cli.app import main; main()", "site", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "400", **(env or {})},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"Serving (.+) on (http://127\.0\.0\.1:\d+/)", line)
    if not match:
        proc.kill()
        raise AssertionError(line + proc.communicate()[1])
    return proc, match.group(2), match.group(1)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_site_serve_command_serves_until_interrupted(built_site: Path) -> None:
    proc, url, _ = _serve(str(built_site), "--port", "0")
    try:
        with urllib.request.urlopen(url + "index.html") as resp:
            assert resp.status == 200 and b"What are you building?" in resp.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        _stop(proc)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_site_serve_removes_its_temporary_build_however_it_is_stopped(tmp_path: Path, signum: int) -> None:
    proc, url, directory = _serve("--no-store", "--port", "0", env={"TMPDIR": str(tmp_path)})
    try:
        assert Path(directory).parent == tmp_path and (Path(directory) / "index.html").is_file()
        with urllib.request.urlopen(url + "types/index.html") as resp:
            assert resp.status == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=10) == 0
        assert not Path(directory).exists()
    finally:
        _stop(proc)


def test_cli_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(app, ["site", "build", str(tmp_path), "--no-store"])
    assert result.exit_code == 2 and "holds no site built by controlmap" in flat(result.output)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_chart_labels_carry_the_time_when_all_scans_are_on_one_day() -> None:
    chart = trend_chart(
        [TrendPoint(NOW, None, 50.0, 1, 0), TrendPoint(NOW + timedelta(hours=2), None, 60.0, 1, 0)]
    )
    assert [label for _, label, _ in chart.x_labels] == ["2026-12-01 12:00", "2026-12-01 14:00"]


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "error")])
def test_browser_tests_skip_without_chromium_but_fail_in_ci(ci: str, outcome: str) -> None:
    browser_tests = Path(__file__).with_name("test_site_browser.py")
    env = {**os.environ, "CI": ci, "CONTROLMAP_CHROMIUM": "/nonexistent/chromium"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(browser_tests)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert re.search(rf"\b1 {outcome}", result.stdout), result.stdout
    if ci:
        assert result.returncode != 0 and "CI must run the browser tests" in result.stdout
    else:
        # Exit 5: the only module was skipped whole, so pytest collected no test.
        assert result.returncode == 5 and "/nonexistent/chromium not installed" in result.stdout


def test_preview_server_is_quiet_when_a_browser_drops_a_connection(
    built_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A browser that navigates away mid-download resets its connection: no traceback for that,
    while any other error in a request is still reported."""
    server = make_server(built_site, "127.0.0.1", 0)
    try:
        for dropped in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise dropped
            except ConnectionError:
                server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a real bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "ValueError: a real bug" in capsys.readouterr().err
    finally:
        server.server_close()
