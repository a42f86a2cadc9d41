"""Terraform's JSON syntax (``*.tf.json``, written by CDK for Terraform and other generators),
read into the same structure python-hcl2 gives for native syntax, so the module evaluator does
not know which syntax a file used.

The mapping follows Terraform's JSON configuration syntax: the root object's properties are the
top-level block types; each label of a block (``resource "type" "name"``) is one level of nested
objects, and an array at any level declares several blocks; a string is a template
(``"${var.x}"``, ``"arn:aws:s3:::${var.bucket}"``, ``$${`` for a literal ``${``), numbers, booleans
and null are literals, and a ``"//"`` property is a comment. Lines come from the JSON loader the
CloudFormation reader uses, which records where every object and key is.

Without the provider's schema JSON cannot tell a nested block from an argument that is an
object; both reach the mappers as mappings (or lists of mappings), which is how they read blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controlmap.sources.iac.cloudformation.document import LocDict
from controlmap.sources.iac.cloudformation.json_loader import load_json
from controlmap.sources.iac.common import IacError, IacProblem, read_text
from controlmap.sources.iac.terraform.expressions import ExprError, _skip_interpolation
from controlmap.sources.iac.terraform.hcl import Block, TfFile, parse_skip_comment

# How many labels each top-level block type has; the others (terraform, moved, import, check…)
# configure nothing a check reads.
_LABELS = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1, "locals": 0}
_COMMENT = "//"


def parse_json_file(path: Path, display: str) -> TfFile:
    document = load_json(read_text(path), what="configuration")
    if not isinstance(document, dict):
        raise IacError("a Terraform JSON file must hold an object of block types", line=1)
    body: dict[str, Any] = {}
    blocks: dict[tuple[str, ...], Block] = {}
    problems: list[IacProblem] = []
    for kind, value in document.items():
        if kind == _COMMENT or kind not in _LABELS:
            continue
        for labels, block_body, line in _blocks(value, _LABELS[kind], (), _line(document, kind)):
            if not isinstance(block_body, dict):
                raise IacError(f"{' '.join((kind, *labels))}: a block must be an object", line=line)
            converted = _body(block_body)
            converted["__is_block__"] = True
            entry: Any = converted
            for label in reversed(labels):
                entry = {f'"{label}"': entry}
            body.setdefault(kind, []).append(entry)
            if labels or kind == "locals":
                blocks[(kind, *labels)] = _block(kind, labels, block_body, display, problems)
    return TfFile(path, display, body, blocks, problems)


def _start(node: Any) -> int | None:
    return node.start if isinstance(node, LocDict) else None


def _line(node: Any, key: str) -> int | None:
    return node.line_of(key) if isinstance(node, LocDict) else None


def _blocks(
    value: Any, depth: int, labels: tuple[str, ...], line: int | None
) -> list[tuple[tuple[str, ...], Any, int | None]]:
    """Every block under a block type, with its line: one level of objects per label, arrays
    anywhere."""
    if isinstance(value, list):
        return [found for item in value for found in _blocks(item, depth, labels, _start(item) or line)]
    if depth == 0:
        return [(labels, value, line)]
    if not isinstance(value, dict):
        after = " ".join(labels) or "the block type"
        raise IacError(f"expected an object of block labels after {after}", line=line)
    out = []
    for label, inner in value.items():
        if label != _COMMENT:
            out.extend(_blocks(inner, depth - 1, (*labels, label), _line(value, label) or line))
    return out


def _block(
    kind: str, labels: tuple[str, ...], block_body: dict[str, Any], display: str, problems: list[IacProblem]
) -> Block:
    start = block_body.start if isinstance(block_body, LocDict) and block_body.start else 1
    end = block_body.end if isinstance(block_body, LocDict) and block_body.end else start
    block = Block(kind, labels, start, end)
    comments = block_body.get(_COMMENT)
    line = _line(block_body, _COMMENT) or start
    for comment in comments if isinstance(comments, list) else [comments]:
        if isinstance(comment, str) and "controlmap:skip" in comment:
            parse_skip_comment(block, comment, line, display, problems)
    return block


def _body(node: dict[str, Any]) -> dict[str, Any]:
    """A block body: arguments as expressions, ``dynamic`` blocks in native form."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == _COMMENT:
            continue
        if key == "dynamic" and isinstance(value, dict):
            out["dynamic"] = [
                {f'"{label}"': _dynamic(spec) for label, spec in value.items() if label != _COMMENT}
            ]
            continue
        out[key] = _expression(value)
    return out


def _dynamic(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return _expression(spec)
    out = {k: _expression(v) for k, v in spec.items() if k not in ("content", _COMMENT)}
    content = spec.get("content")
    if isinstance(content, dict):
        out["content"] = [{**_body(content), "__is_block__": True}]
    out["__is_block__"] = True
    return out


_ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _template(text: str) -> str:
    """A JSON string as python-hcl2 gives a string: ``${expr}`` alone as the expression (its
    value keeps its type), anything else as a quoted template whose literal parts are escaped and
    whose interpolations are kept as written."""
    if text.startswith("${"):
        try:
            if _skip_interpolation(text, 2) == len(text):
                return text
        except ExprError:
            pass
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            out.append(text[i : i + 3])
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            try:
                end = _skip_interpolation(text, i + 2)
            except ExprError:  # unterminated: the rest is literal text
                end = -1
            if end > 0:
                out.append(text[i:end])
                i = end
                continue
        out.append(_ESCAPE.get(text[i], text[i]))
        i += 1
    return '"' + "".join(out) + '"'


def _expression(value: Any) -> Any:
    """A JSON value as python-hcl2 gives an expression: strings as templates."""
    if isinstance(value, str):
        return _template(value)
    if isinstance(value, list):
        return [_expression(v) for v in value]
    if isinstance(value, dict):
        return {k: _expression(v) for k, v in value.items() if k != _COMMENT}
    return value
