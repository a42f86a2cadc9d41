"""Helpers mappers use to turn template values into model facts.

The rule they enforce: a value the scan cannot know sets the fact to None and records why
(``resource.unknown[fact]``), so the check says UNKNOWN and names the dependency instead of
failing on a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controlmap.resources.base import Resource
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved

MISSING: Any = object()


def dig(data: Any, *path: str | int) -> Any:
    """``data[path0][path1]…``: None when absent, the Unresolved when a step is unresolved."""
    node = data
    for step in path:
        if isinstance(node, Unresolved):
            return node
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
            node = node[step]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(step)
        if node is None:
            return None
    return node


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def put(
    resource: Resource, fact: str, value: Any, prop: str, convert: Callable[[Any], Any] | None = None
) -> None:
    """Set ``fact`` from a template value; an unresolved value (anywhere inside) makes it unknown."""
    missing = first_unresolved(value)
    if missing is not None:
        unknown(resource, fact, prop, missing)
        return
    setattr(resource, fact, convert(value) if convert is not None else value)


def unknown(resource: Resource, fact: str, prop: str, missing: Unresolved | str) -> None:
    setattr(resource, fact, None)
    what = missing.depends_on if isinstance(missing, Unresolved) else missing
    resource.unknown[fact] = f"{prop} depends on {what}, which a static scan cannot resolve"


def to_bool(value: Any) -> bool | Unresolved | None:
    if value is None or isinstance(value, (bool, Unresolved)):
        return value
    if isinstance(value, str):
        if value.lower() == "true":
            return True
        if value.lower() == "false":
            return False
    if isinstance(value, (int, float)):
        return bool(value)
    return Unresolved(f"a non-boolean value {str(value)[:40]!r}")


def to_int(value: Any) -> int | Unresolved | None:
    if value is None or isinstance(value, Unresolved):
        return value
    if isinstance(value, bool):
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return int(float(str(value)))
        except ValueError:
            return Unresolved(f"a non-numeric value {str(value)[:40]!r}")


def text(value: Any) -> str | None:
    """A literal string value (numbers as text); None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def reference_text(value: Any) -> str | None:
    """A value that names something: a literal, or a reference shown as its address."""
    if isinstance(value, ResourceRef):
        return str(value)
    if isinstance(value, Unresolved):
        return None
    return text(value)


def policy_text(value: Any, _depth: int = 0) -> Any:
    """A policy document with unknown leaves replaced by readable placeholders.

    Statement structure (Effect, Principal ``*``, Condition keys) is what the analysis reads;
    an ARN that contains an unresolved account id does not change who is granted, so the leaf
    becomes ``${…}`` text instead of hiding the whole document.
    """
    if isinstance(value, Unresolved):
        return value.placeholder if value.placeholder is not None else "${" + value.depends_on + "}"
    if isinstance(value, ResourceRef):
        return "${" + str(value) + "}"
    if _depth > 40:
        return value
    if isinstance(value, dict):
        return {str(k): policy_text(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [policy_text(v, _depth + 1) for v in value]
    return value
