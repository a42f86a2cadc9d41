"""Shared CLI helpers: consoles, error messages and tabular output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from ruamel.yaml import YAML

from controlmap.outputs.common import csv_cell
from controlmap.settings import ENV_VAR as SETTINGS_ENV_VAR
from controlmap.yamlfile import FileError, FileProblem

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UserError(Exception):
    """A problem with the user's input: printed without a traceback, exit code 2."""


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    YAML = "yaml"


# Messages go to stderr unwrapped (soft_wrap): one problem per line, so grep and editors that
# jump to ``file:line`` work whatever the terminal width.
def print_error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def print_warning(message: str) -> None:
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def print_settings_source(explicit: Path | None, found: str | None) -> None:
    """Say when a scan picked up ./controlmap.yaml from the working directory by itself: a leftover
    file there can change verdicts (thresholds, which switches count), so it must not act unseen.
    --settings and $CONTROLMAP_SETTINGS are the user's own choice and need no note."""
    if explicit is None and found and not os.environ.get(SETTINGS_ENV_VAR):
        err_console.print(
            f"[dim]settings: {escape(found)} (from the working directory; --settings chooses another)[/]",
            highlight=False,
            soft_wrap=True,
        )


def print_file_problem(problem: FileProblem) -> None:
    """``path:line: error: message``, with the level said once."""
    where = f"{problem.path}:{problem.line}" if problem.line else problem.path
    style = "bold red" if problem.level == "error" else "yellow"
    err_console.print(
        f"{escape(where)}: [{style}]{escape(problem.level)}:[/] {escape(problem.message)}",
        highlight=False,
        soft_wrap=True,
    )


def fail_on_file_error(exc: FileError) -> None:
    """Print every problem of a FileError and exit 2."""
    for problem in exc.problems:
        print_file_problem(problem)
    raise typer.Exit(EXIT_USAGE)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def render_rows(
    rows: Sequence[dict[str, Any]],
    fmt: OutputFormat,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> str | None:
    """Render rows in a machine format and return the text, or print a Rich table (returns None)."""
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt is OutputFormat.JSON:
        return json.dumps(list(rows), indent=2, default=_json_default, ensure_ascii=False)
    if fmt is OutputFormat.YAML:
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.representer.sort_base_mapping_type_on_output = False  # the JSON's field order: id first
        buffer = io.StringIO()
        yaml.dump(json.loads(json.dumps(list(rows), default=_json_default)), buffer)
        return buffer.getvalue()
    if fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([csv_cell(_cell(row.get(c))) for c in cols])
        return buffer.getvalue()
    if fmt is OutputFormat.MARKDOWN:
        lines = []
        if title:
            lines += [f"### {md_escape(title)}", ""]
        lines.append("| " + " | ".join(md_escape(c) for c in cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for row in rows:
            lines.append("| " + " | ".join(md_escape(_cell(row.get(c))) for c in cols) + " |")
        return "\n".join(lines) + "\n"
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in cols:
        table.add_column(c)
    for row in rows:
        table.add_row(*(escape(_cell(row.get(c))) for c in cols))
    console.print(table)
    return None


def emit(text: str | None) -> None:
    if text is not None:
        typer.echo(text, nl=not text.endswith("\n"))


_MD_CELL = re.compile(r"([\\`\[\]|])")


def md_escape(text: str) -> str:
    """Escape a Markdown table cell so that a resource name, tag or reason cannot change the table
    or make a link, an image, HTML or an @mention (``[x](url)``, ``![x](url)``, ``<img>``,
    ``@org/team``); other punctuation stays readable (``AWS::S3::Bucket``, ``S3-01``)."""
    out = _MD_CELL.sub(r"\\\1", text)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")
    return re.sub(r"[\r\n]+", " ", out)


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)
