"""Terraform files: parsed by python-hcl2, located by a scanner of our own.

python-hcl2 keeps no line numbers, so the block ranges (``resource "type" "name" { … }``) are
found by scanning the text: braces are matched while skipping strings (with their
interpolations), heredocs and comments. The same scan collects the inline suppressions
(``# controlmap:skip=S3-05 reason``) written inside a block or on the comment lines just above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from controlmap.sources.iac.common import IacError, IacProblem, read_text

_OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)
_BLOCK_START = re.compile(
    r'^[ \t]*(resource|data|module|variable|output|locals)\b[ \t]*(?:"([^"]*)"[ \t]*)?(?:"([^"]*)"[ \t]*)?\{',
    re.M,
)
_SKIP = re.compile(r"controlmap:skip=([A-Za-z0-9_.,\-]+)[ \t]*(.*)$")


@dataclass
class Block:
    kind: str  # resource, data, module…
    labels: tuple[str, ...]
    line_start: int
    line_end: int
    skips: dict[str, str] = field(default_factory=dict)  # control or check id -> reason


@dataclass
class TfFile:
    path: Path
    display: str
    body: dict[str, Any]
    blocks: dict[tuple[str, ...], Block]
    problems: list[IacProblem] = field(default_factory=list)


def unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == '"' and key[-1] == '"' else key


def parse_file(path: Path, display: str) -> TfFile:
    if path.name.endswith(".tf.json"):
        from controlmap.sources.iac.terraform.json_syntax import parse_json_file

        return parse_json_file(path, display)
    text = read_text(path)
    try:
        body = hcl2.loads(text, serialization_options=_OPTIONS)
    except Exception as exc:  # lark raises many error types; all mean "does not parse"
        raise hcl_error(exc) from None
    blocks, problems = scan_blocks(text, display)
    return TfFile(path, display, body, blocks, problems)


def hcl_error(exc: Exception) -> IacError:
    """A readable parse error: where it is and what was found, without the parser's token dump."""
    line = getattr(exc, "line", None)
    line = line if isinstance(line, int) and line > 0 else None
    column = getattr(exc, "column", None)
    token = getattr(exc, "token", None)
    found = getattr(token, "value", None) if token is not None else getattr(exc, "char", None)
    if found is not None:
        shown = str(found).strip()[:30] or "end of line"
        where = f" at column {column}" if isinstance(column, int) and column > 0 else ""
        return IacError(f"invalid HCL: unexpected {shown!r}{where}", line=line)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return IacError(f"invalid HCL: {message[:160]}", line=line)


def scan_blocks(text: str, display: str) -> tuple[dict[tuple[str, ...], Block], list[IacProblem]]:
    """Line ranges of the top-level blocks, and the suppressions written for each."""
    blocks: dict[tuple[str, ...], Block] = {}
    problems: list[IacProblem] = []
    line_starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            line_starts.append(index + 1)
    lines = text.split("\n")
    position = 0
    while True:
        match = _BLOCK_START.search(text, position)
        if match is None:
            break
        start_line = text.count("\n", 0, match.start()) + 1
        end = _matching_brace(text, match.end())
        end_line = text.count("\n", 0, end) + 1
        labels = tuple(x for x in (match.group(2), match.group(3)) if x is not None)
        block = Block(match.group(1), labels, start_line, end_line)
        _collect_skips(block, lines, display, problems)
        blocks[(block.kind, *labels)] = block
        position = end + 1
    return blocks, problems


def _matching_brace(text: str, i: int) -> int:
    depth = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i + 1)
            continue
        if c == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
            continue
        if text.startswith("<<", i):
            m = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\r?\n").match(text, i)
            if m:
                end = re.compile(r"^[ \t]*" + re.escape(m.group(1)) + r"[ \t]*$", re.M).search(text, m.end())
                i = n if end is None else end.end()
                continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return n - 1


def _skip_string(text: str, i: int) -> int:
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            depth = 1
            i += 2
            while i < n and depth:
                if text[i] == '"':
                    i = _skip_string(text, i + 1)
                    continue
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                i += 1
            continue
        if c == "\n":
            return i  # unterminated: let the parser report it
        i += 1
    return n


def _collect_skips(block: Block, lines: list[str], display: str, problems: list[IacProblem]) -> None:
    candidates: list[int] = []
    above = block.line_start - 2  # 0-based index of the line above the block
    while above >= 0 and lines[above].strip().startswith(("#", "//")):
        candidates.append(above)
        above -= 1
    candidates.extend(range(block.line_start - 1, min(block.line_end, len(lines))))
    for index in candidates:
        line = lines[index]
        if "controlmap:skip" not in line:
            continue
        comment_at = min((p for p in (line.find("#"), line.find("//")) if p >= 0), default=-1)
        if comment_at < 0 or line.find("controlmap:skip") < comment_at:
            continue
        parse_skip_comment(block, line, index + 1, display, problems)


def parse_skip_comment(block: Block, text: str, line: int, display: str, problems: list[IacProblem]) -> None:
    """The skips a comment declares for ``block`` (``controlmap:skip=S3-05,S3-06 reason``); one
    without a reason, or malformed, is reported on its line and ignored."""
    match = _SKIP.search(text)
    if match is None:
        problems.append(
            IacProblem(
                display, "malformed controlmap:skip (write controlmap:skip=ID reason)", line, "suppression"
            )
        )
        return
    reason = match.group(2).strip().rstrip("*/").strip()
    for ident in match.group(1).split(","):
        if not ident:
            continue
        if not reason:
            problems.append(
                IacProblem(
                    display,
                    f"skip of {ident} has no reason; write # controlmap:skip={ident} <why> "
                    "(the skip is ignored until then)",
                    line,
                    "suppression",
                )
            )
            continue
        block.skips[ident] = reason
