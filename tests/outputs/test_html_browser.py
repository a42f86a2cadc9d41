"""The HTML report in a real headless Chromium (Debian's package, driven by Playwright): the
script runs under the report's own CSP, filtering and sorting work, and hostile names stay text."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controlmap.findings.model import ScanResult
from controlmap.outputs import render

from .factories import XSS_NAME, XSS_TAG

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CONTROLMAP_CHROMIUM", "/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")
if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield instance
        instance.close()


def test_report_runs_filters_sorts_and_never_executes_names(
    browser: Any, tmp_path: Path, result: ScanResult, catalog
) -> None:
    report = tmp_path / "report.html"
    report.write_text(render(result, "html", catalog=catalog))
    page = browser.new_page()
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda msg: msg.type in ("error", "warning") and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(report.as_uri())

    assert (
        page.locator("#findings-count").inner_text()
        == f"{len(result.findings)} of {len(result.findings)} findings"
    )
    assert page.locator("#findings-body tr").count() == len(result.findings)
    # The hostile name and tag are shown as text, and nothing they contain became an element.
    assert page.get_by_text(XSS_NAME, exact=True).count() >= 1
    assert f"Owner={XSS_TAG}" in page.locator("#findings-body").inner_text()
    assert page.locator("img").count() == 0

    page.select_option("#f-status", "FAIL")
    assert page.locator("#findings-body tr").count() == 3
    page.check("#f-overdue")
    assert page.locator("#findings-body tr").count() == 1
    page.uncheck("#f-overdue")
    page.fill("#f-text", "datab")
    assert page.locator("#findings-body tr").count() == 1
    page.fill("#f-text", "")
    page.select_option("#f-status", "")
    page.click("th[data-key=control]")
    controls = page.locator("#findings-body tr td:nth-child(3)").all_inner_texts()
    assert controls == sorted(controls)
    page.click("th[data-key=control]")
    assert page.locator("#findings-body tr td:nth-child(3)").all_inner_texts() == sorted(
        controls, reverse=True
    )

    assert dialogs == []
    assert problems == []
    page.close()
