"""Read human-edited YAML files and report problems with file and line, never a traceback.

Catalog files, the settings file and the exceptions file are all reviewed like code; a person
who mistypes a key must be told where. ruamel keeps line numbers on every mapping and sequence,
so a pydantic error location (``controls -> 3 -> severity``) can be turned into ``s3.yaml:41``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_VALUES = 1_000_000  # values after alias expansion: guards against "billion laughs" files
MAX_DEPTH = 100  # nesting of mappings and lists: no catalog, settings or exceptions file needs more

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FileProblem:
    """A problem in a file, located as precisely as the file allows."""

    path: str
    line: int | None
    message: str
    level: str = "error"  # "error" or "warning"
    code: str = "schema"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


class FileError(Exception):
    """Raised when a file cannot be used at all; carries every problem found."""

    def __init__(self, problems: Sequence[FileProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class _LenientTimestamps(RoundTripConstructor):
    """ruamel builds dates while parsing and raises a bare ValueError on ``2026-13-45``.

    Such a value is kept as its text instead, so the model's validation reports it with its line.
    """

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return self.construct_scalar(node)


_LenientTimestamps.add_constructor("tag:yaml.org,2002:timestamp", _LenientTimestamps.construct_yaml_timestamp)


def read_yaml(path: Path) -> Any:
    """Parse ``path`` keeping line information; raise FileError naming file and line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        problem = FileProblem(str(path), None, f"cannot read file: {exc.strerror}", code="io")
        raise FileError([problem]) from None
    if size > MAX_FILE_BYTES:
        problem = FileProblem(str(path), None, f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
        raise FileError([problem])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(
            [FileProblem(str(path), None, f"not UTF-8 text (byte {exc.start})", code="encoding")]
        ) from None
    yaml = YAML(typ="rt")
    yaml.Constructor = _LenientTimestamps
    try:
        document = yaml.load(text)
    except RecursionError:
        problem = FileProblem(str(path), None, "invalid YAML: nesting is too deep", code="yaml")
        raise FileError([problem]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        context = exc.context
        if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            # "expected ']' but got '<stream end>'" is reported past the last line; say where the
            # unclosed list or mapping started, which is where the author has to look
            context = f"{context} (started on line {exc.context_mark.line + 1})"
        message = " ".join(x for x in (context, exc.problem) if x) or "invalid YAML"
        raise FileError([FileProblem(str(path), line, f"invalid YAML: {message}", code="yaml")]) from None
    except YAMLError as exc:
        message = " ".join(str(exc).split())  # one line: editors and grep read file:line lines
        raise FileError([FileProblem(str(path), None, f"invalid YAML: {message}", code="yaml")]) from None
    _check_expansion(path, document)
    return document


def _check_expansion(path: Path, document: Any) -> None:
    """Refuse documents whose aliases expand beyond reason, nest too deep or refer to themselves.

    ruamel builds an anchored value once and shares it, so a small file of nested aliases loads
    fast and only explodes when walked (``to_plain``, validation): walk it here, with a budget.
    """
    stack: list[tuple[Any, int]] = [(document, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES or depth > MAX_DEPTH:
            line = _own_line(node)
            what = (
                f"more than {MAX_VALUES} values once its aliases are expanded"
                if count > MAX_VALUES
                else f"nesting deeper than {MAX_DEPTH} levels (or an alias that refers to itself)"
            )
            raise FileError([FileProblem(str(path), line, f"invalid YAML: {what}", code="yaml")])
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def line_of(node: Any, loc: Sequence[str | int]) -> int | None:
    """Best line number for a pydantic error location inside a ruamel document."""
    line: int | None = _own_line(node)
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            with contextlib.suppress(KeyError, TypeError):
                line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            with contextlib.suppress(KeyError, TypeError):
                line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _own_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None


def to_plain(node: Any) -> Any:
    """ruamel containers to plain dicts and lists (pydantic validates plain data best)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if hasattr(node, "isoformat") or isinstance(node, (str, int, float, bool)) or node is None:
        return node
    return str(node)


def validation_problems(path: Path, document: Any, error: ValidationError) -> list[FileProblem]:
    """Turn a pydantic ValidationError into one FileProblem per error, each with its line."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        where = ".".join(str(p) for p in loc)
        message = item.get("msg", "invalid value")
        if item.get("type") == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" if loc else "unknown key"
        elif where:
            message = f"{where}: {message}"
        problems.append(FileProblem(str(path), line_of(document, loc), message))
    return problems


def read_trusted_yaml(path: Path) -> tuple[Any, dict[str, list[int]]] | None:
    """Parse a file shipped with controlmap quickly: (plain data, item lines of its top-level lists).

    ruamel's round-trip parser keeps line numbers but is pure Python: the built-in catalog takes
    seconds to load with it, on every command. Built-in files are linted in CI, so they are parsed
    with libyaml (through PyYAML, when installed) and only re-read with ruamel when they fail
    validation, to report lines. Returns None when libyaml is not available or parsing fails.
    """
    if _FAST_LOADER is None:
        return None
    loader = _FAST_LOADER(path.read_text(encoding="utf-8"))
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except Exception:  # any parse problem: let the careful reader report it with its line
        return None
    finally:
        loader.dispose()
    lines: dict[str, list[int]] = {}
    if node is not None and isinstance(data, dict):
        for key_node, value_node in node.value:
            if getattr(value_node, "id", None) == "sequence":
                lines[str(key_node.value)] = [item.start_mark.line + 1 for item in value_node.value]
    return data, lines


def _fast_loader() -> Any:
    try:
        import yaml
    except ImportError:
        return None
    return getattr(yaml, "CSafeLoader", None)


_FAST_LOADER = _fast_loader()


def load_trusted_model(path: Path, model: type[M]) -> M:
    """``load_model`` for files shipped with controlmap: fast, with the same errors when invalid."""
    parsed = read_trusted_yaml(path)
    if parsed is not None and parsed[0] is not None:
        try:
            return model.model_validate(parsed[0])
        except ValidationError:
            pass  # re-read below for line numbers
    return load_model(path, model)


def load_model(path: Path, model: type[M], document: Any | None = None) -> M:
    """Read and validate a YAML file as ``model``; FileError lists every problem with its line."""
    if document is None:
        document = read_yaml(path)
    if document is None:
        raise FileError([FileProblem(str(path), None, "file is empty")])
    try:
        return model.model_validate(to_plain(document))
    except ValidationError as exc:
        raise FileError(validation_problems(path, document, exc)) from None
