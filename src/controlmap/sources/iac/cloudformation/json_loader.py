"""CloudFormation JSON with line numbers for every object and key.

The standard library parser keeps no positions, so this module plugs its own object parser into
the pure-Python JSON scanner: values are decoded exactly as ``json.loads`` decodes them, and
each object becomes a ``LocDict`` that knows the lines of its keys.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from bisect import bisect_right
from typing import Any

from controlmap.sources.iac.cloudformation.document import LocDict
from controlmap.sources.iac.common import IacError

_decoder: Any = json.decoder  # private helpers of the stdlib parser, not in typeshed
_scanner: Any = json.scanner
_WS = _decoder.WHITESPACE.match
_WS_STR = _decoder.WHITESPACE_STR
_scanstring = _decoder.scanstring


class _Context:
    """What ``py_make_scanner`` reads from a decoder."""

    def __init__(self, newlines: list[int]):
        self.newlines = newlines
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = _decoder._CONSTANTS.__getitem__
        self.memo: dict[str, str] = {}
        self.parse_string = _scanstring
        self.parse_array = _decoder.JSONArray
        self.parse_object = self._parse_object
        self.depth = 0

    def line(self, offset: int) -> int:
        return bisect_right(self.newlines, offset - 1) + 1

    def _parse_object(
        self, s_and_end: tuple[str, int], strict: bool, scan_once: Any, _hook: Any, _pairs: Any, memo: Any
    ) -> tuple[LocDict, int]:
        s, end = s_and_end
        self.depth += 1
        if self.depth > 200:
            raise IacError("JSON nesting is too deep", line=self.line(end))
        out = LocDict()
        out.start = self.line(end - 1)
        nextchar = s[end : end + 1]
        if nextchar != '"':
            if nextchar in _WS_STR:
                end = _WS(s, end).end()
                nextchar = s[end : end + 1]
            if nextchar == "}":
                out.end = self.line(end)
                self.depth -= 1
                return out, end + 1
            if nextchar != '"':
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", s, end)
        end += 1
        while True:
            key_start = end - 1
            key, end = _scanstring(s, end, strict)
            if s[end : end + 1] != ":":
                end = _WS(s, end).end()
                if s[end : end + 1] != ":":
                    raise json.JSONDecodeError("Expecting ':' delimiter", s, end)
            end = _WS(s, end + 1).end()
            try:
                value, end = scan_once(s, end)
            except StopIteration as err:
                raise json.JSONDecodeError("Expecting value", s, err.value) from None
            if key in out:
                raise IacError(
                    f"duplicate key {key!r} (first on line {out.key_lines[key][0]})",
                    line=self.line(key_start),
                )
            out[key] = value
            out.key_lines[key] = (self.line(key_start), self.line(end - 1))
            end = _WS(s, end).end()
            nextchar = s[end : end + 1]
            end += 1
            if nextchar == "}":
                break
            if nextchar != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", s, end - 1)
            end = _WS(s, end).end()
            nextchar = s[end : end + 1]
            end += 1
            if nextchar != '"':
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", s, end - 1)
        out.end = self.line(end - 1)
        self.depth -= 1
        return out, end


def load_json(text: str, what: str = "template") -> Any:
    """Parse a JSON document (a CloudFormation template, a Terraform ``.tf.json`` configuration);
    IacError with the line on any problem."""
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    context = _Context(newlines)
    scan_once = _scanner.py_make_scanner(context)
    start = _WS(text, 0).end()
    try:
        value, end = scan_once(text, start)
    except StopIteration as err:
        raise IacError("invalid JSON: expecting a value", line=context.line(err.value)) from None
    except json.JSONDecodeError as exc:
        raise IacError(f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise IacError("invalid JSON: nesting too deep") from None
    end = _WS(text, end).end()
    if end != len(text):
        raise IacError(f"invalid JSON: extra data after the {what}", line=context.line(end))
    return value
