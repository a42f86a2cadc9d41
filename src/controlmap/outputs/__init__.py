"""Renderers of a scan: console, JSON, CSV, Markdown, JUnit, SARIF, ASFF, OCSF and HTML.

``render(result, fmt, **options)`` returns the text of one format; ``render_console`` prints the
Rich summary. Options a format does not use are ignored, so callers can pass the same set:

- ``framework``: ``iso27001``, ``soc2`` or ``seed`` (json, csv, markdown, html) for a framework view;
- ``catalog``: the loaded ``Catalog`` (framework requirement titles, not-assessed requirements);
- ``history``: ``list[TrendPoint]`` for the HTML trend chart;
- ``include_passed``: SARIF also lists passing results;
- ``account_id`` / ``region``: ASFF defaults for findings without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controlmap.findings.model import ScanResult
from controlmap.outputs.asff import AsffError, render_asff
from controlmap.outputs.console import render_console
from controlmap.outputs.csvfmt import render_csv
from controlmap.outputs.framework import FRAMEWORKS, framework_view
from controlmap.outputs.html import TrendPoint, render_html
from controlmap.outputs.jsonfmt import render_json
from controlmap.outputs.junit import render_junit
from controlmap.outputs.markdown import render_markdown
from controlmap.outputs.ocsf import render_ocsf
from controlmap.outputs.sarif import render_sarif

_RENDERERS: dict[str, Callable[..., str]] = {
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
    "junit": render_junit,
    "sarif": render_sarif,
    "asff": render_asff,
    "ocsf": render_ocsf,
    "html": render_html,
}
FORMATS: tuple[str, ...] = tuple(_RENDERERS)
FRAMEWORK_FORMATS: tuple[str, ...] = ("json", "csv", "markdown", "html")
EXTENSIONS = {
    "json": ".json",
    "csv": ".csv",
    "markdown": ".md",
    "junit": ".xml",
    "sarif": ".sarif",
    "asff": ".asff.json",
    "ocsf": ".ocsf.json",
    "html": ".html",
}


def render(result: ScanResult, fmt: str, **options: Any) -> str:
    """Render ``result`` in ``fmt`` (one of FORMATS); ValueError for an unknown format."""
    renderer = _RENDERERS.get(fmt.lower())
    if renderer is None:
        raise ValueError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if options.get("framework") and fmt.lower() not in FRAMEWORK_FORMATS:
        raise ValueError(f"--framework works with {', '.join(FRAMEWORK_FORMATS)}, not {fmt}")
    return renderer(result, **options)


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "FRAMEWORKS",
    "FRAMEWORK_FORMATS",
    "AsffError",
    "TrendPoint",
    "framework_view",
    "render",
    "render_console",
]
