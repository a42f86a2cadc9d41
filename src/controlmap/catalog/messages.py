"""Schema errors in words a catalog or settings author understands.

pydantic reports ``controls.0.severity: Field required`` or ``Value error, ...`` and names its
own classes (``instance of PlanSettings``). People edit these files by hand: they are told which
control is wrong (``S3-99: severity: field required``) and, for a misspelt key, what they meant.
"""

from __future__ import annotations

import difflib
import io
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML

from controlmap.yamlfile import FileProblem, line_of

_PYDANTIC_PREFIX = re.compile(r"^(Value|Assertion) error, ")
_INSTANCE_OF = re.compile(r" or instance of \w+")


def schema_problems(
    path: Path, document: Any, error: ValidationError, model: type[BaseModel]
) -> list[FileProblem]:
    """One FileProblem per pydantic error, with its line, the control it is in and a suggestion."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        problems.append(FileProblem(str(path), line_of(document, loc), _message(document, loc, item, model)))
    return problems


def _message(document: Any, loc: tuple[Any, ...], item: Any, model: type[BaseModel]) -> str:
    text = _INSTANCE_OF.sub("", _PYDANTIC_PREFIX.sub("", str(item.get("msg", "invalid value"))))
    if text == "Field required":
        text = "field required"
    elif item.get("type") in ("dict_type", "model_type"):
        text = "must be a mapping (key: value)"
    elif item.get("type") == "string_type" and _is_number(item.get("input")):
        # CIS 1.10 unquoted is the float 1.1: say what to write instead of "not a valid string".
        written = _as_written(document, loc) or str(item.get("input"))
        text = f'YAML reads an unquoted {written} as a number; write it in quotes: "{written}"'
    owner, rest = _owner(document, loc)
    parts = [p for p in rest if p != "[key]"]
    if item.get("type") == "extra_forbidden" and parts:
        key = str(parts[-1])
        fields = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = _path(parts[:-1])
        text = f"unknown key {key!r}" + (f" in {where}" if where else "") + hint
    elif "[key]" in loc and parts:
        text = f"{_path(parts[:-1]) or 'key'}: {str(parts[-1])!r} is not allowed here: {text}"
    elif parts:
        text = f"{_path(parts)}: {text}"
    return f"{owner}: {text}" if owner else text


def _path(parts: list[Any]) -> str:
    """``["equivalents", "cis_aws_v3", 0]`` -> ``equivalents.cis_aws_v3[0]`` (not ``cis_aws_v3.0``)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_written(document: Any, loc: tuple[Any, ...]) -> str | None:
    """The scalar at ``loc`` as the file spells it (``1.10``, not the float's ``1.1``)."""
    value = document
    try:
        for part in loc:
            value = value[part]
    except (KeyError, IndexError, TypeError):
        return None
    buffer = io.StringIO()
    yaml = YAML()  # round-trip: ruamel keeps the written form of numbers
    yaml.dump([value], buffer)
    return buffer.getvalue().strip().removeprefix("- ") or None


def _owner(document: Any, loc: tuple[Any, ...]) -> tuple[str | None, tuple[Any, ...]]:
    """``("controls", 3, "severity")`` -> ("S3-99", ("severity",)) when item 3 has an id."""
    if len(loc) >= 2 and loc[0] == "controls" and isinstance(loc[1], int):
        try:
            ident = document["controls"][loc[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            ident = None
        if isinstance(ident, str) and ident.isprintable() and ident:
            label = ident
        else:  # an empty id, or one with a newline or tab: name it by position, one line per problem
            label = f"control #{loc[1] + 1}"
        return label, loc[2:]
    return None, loc


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by following ``loc`` from ``model`` (for suggestions)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or part == "[key]":
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            # a dict value (``tiers.high``): stay on the dict's value model
            continue
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """``list[Control]``, ``dict[str, TierWindow]``, ``X | None`` -> the model inside, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None:
        return None
    for arg in reversed(typing.get_args(annotation)):  # dict values come last
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
