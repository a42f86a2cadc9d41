"""Find and load the exceptions file, reporting every problem with its file and line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from controlmap.exceptions.model import MAX_DURATION_DAYS, ExceptionEntry, ExceptionsFile
from controlmap.settings import Settings
from controlmap.yamlfile import FileError, FileProblem, line_of, read_yaml, to_plain

DEFAULT_FILE = "exceptions.yaml"
_HINTS = {
    "approved_by": "who approved this exception",
    "approved_on": "the date it was approved (YYYY-MM-DD)",
    "expires": "the date it stops applying (YYYY-MM-DD); every exception must expire",
    "justification": "why the deviation is acceptable",
    "resources": "which resources it covers (arn, account, region or tags)",
}


def find_exceptions_file(explicit: Path | None = None, settings: Settings | None = None) -> Path | None:
    """The file given, else settings ``exceptions_file:``, else ./exceptions.yaml if it exists.

    A relative ``exceptions_file`` is taken relative to the settings file that names it.
    """
    if explicit is not None:
        return explicit
    if settings is not None and settings.exceptions_file:
        path = Path(settings.exceptions_file).expanduser()
        if not path.is_absolute() and settings.source_path:
            path = Path(settings.source_path).parent / path
        return path
    default = Path.cwd() / DEFAULT_FILE
    return default if default.is_file() else None


def _problems(
    path: Path, document: Any, error: ValidationError, prefix: tuple[str | int, ...] = ()
) -> list[FileProblem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = (*prefix, *item.get("loc", ()))
        line = line_of(document, loc)
        index = loc[1] if len(loc) > 1 and loc[0] == "exceptions" else None
        entry = f"exception #{index + 1}" if isinstance(index, int) else "file"
        field = ".".join(str(p) for p in loc[2:])
        kind = item.get("type", "")
        if kind == "missing":
            hint = _HINTS.get(field)
            message = f"{entry}: {field} is required" + (f": {hint}" if hint else "")
        elif kind == "extra_forbidden":
            message = f"{entry}: unknown key {loc[-1]!r}"
        elif kind.startswith(("date_", "datetime_")):
            shown = f" ({item['input']!r})" if isinstance(item.get("input"), str) else ""
            message = f"{entry}: {field} is not a valid date{shown}; use YYYY-MM-DD"
        else:
            message = item.get("msg", "invalid value").removeprefix("Value error, ")
            message = f"{entry}: {field}: {message}" if field else f"{entry}: {message}"
        problems.append(FileProblem(str(path), line, message))
    return problems


def load_exceptions(path: Path) -> list[ExceptionEntry]:
    """Load and validate the exceptions file; FileError lists every problem with its line."""
    document = read_yaml(path)
    if document is None:
        return []
    if not isinstance(document, dict):
        raise FileError(
            [FileProblem(str(path), 1, "the exceptions file must be a mapping with an `exceptions:` list")]
        )
    try:
        parsed = ExceptionsFile.model_validate(to_plain(document))
    except ValidationError as exc:
        raise FileError(_problems(path, document, exc)) from None
    entries = []
    for index, entry in enumerate(parsed.exceptions):
        line = line_of(document, ("exceptions", index))
        entries.append(entry.model_copy(update={"file": str(path), "line": line}))
    return entries


def check_exceptions(path: Path) -> tuple[list[ExceptionEntry], list[FileProblem]]:
    """Every valid entry and every schema problem of the others, in one pass (for ``validate``).

    ``load_exceptions`` stops at the first invalid file; a reviewer fixing a file wants all its
    problems at once, and the semantic checks (``review``) still run on the entries that are valid.
    """
    try:
        return load_exceptions(path), []
    except FileError as exc:
        first = exc.problems
    document = read_yaml(path)
    items = document.get("exceptions") if isinstance(document, dict) else None
    if not isinstance(items, list) or set(document) - {"exceptions"}:
        return [], first  # the file's shape is wrong, not single entries
    entries: list[ExceptionEntry] = []
    problems: list[FileProblem] = []
    for index, item in enumerate(items):
        try:
            entry = ExceptionEntry.model_validate(to_plain(item))
        except ValidationError as exc:
            problems += _problems(path, document, exc, prefix=("exceptions", index))
            continue
        entries.append(
            entry.model_copy(update={"file": str(path), "line": line_of(document, ("exceptions", index))})
        )
    return entries, problems


def review(
    entries: Sequence[ExceptionEntry],
    today: date,
    known_controls: set[str] | None = None,
    checks_of: dict[str, set[str]] | None = None,
) -> list[FileProblem]:
    """Checks beyond the schema: expired, future-dated, too long, unknown control or check (or a
    check that is not one of the control's), duplicate id. ``checks_of`` maps each control to
    its check IDs."""
    problems: list[FileProblem] = []
    seen: dict[str, ExceptionEntry] = {}
    for entry in entries:
        where = (entry.file or "exceptions.yaml", entry.line)
        name = entry.id or f"{entry.control or entry.check}"
        if entry.is_expired(today):
            problems.append(
                FileProblem(*where, f"{name}: expired on {entry.expires}; it no longer applies", "warning")
            )
        if entry.approved_on > today:
            problems.append(FileProblem(*where, f"{name}: approved_on {entry.approved_on} is in the future"))
        if (entry.expires - entry.approved_on).days > MAX_DURATION_DAYS:
            problems.append(
                FileProblem(
                    *where,
                    f"{name}: approved for {(entry.expires - entry.approved_on).days} days; "
                    f"review exceptions at least yearly",
                    "warning",
                )
            )
        if known_controls is not None and entry.control and entry.control not in known_controls:
            problems.append(FileProblem(*where, f"{name}: unknown control {entry.control!r}"))
        problems += _check_problems(entry, where, name, checks_of)
        if entry.id:
            if entry.id in seen:
                problems.append(
                    FileProblem(
                        *where, f"duplicate exception id {entry.id!r} (also line {seen[entry.id].line})"
                    )
                )
            seen[entry.id] = entry
    return problems


def _check_problems(
    entry: ExceptionEntry, where: tuple[str, int | None], name: str, checks_of: dict[str, set[str]] | None
) -> list[FileProblem]:
    """A misspelt check, or one of another control, would make the entry match nothing."""
    if checks_of is None or not entry.check:
        return []
    if entry.control and entry.control in checks_of:
        if entry.check not in checks_of[entry.control]:
            listed = ", ".join(sorted(checks_of[entry.control])) or "none (attestation only)"
            return [
                FileProblem(
                    *where,
                    f"{name}: check {entry.check!r} is not a check of {entry.control} (its checks: {listed})",
                )
            ]
        return []
    if not any(entry.check in checks for checks in checks_of.values()):
        return [FileProblem(*where, f"{name}: unknown check {entry.check!r}")]
    return []
