"""Helpers mappers use to turn template values into model facts.

The rule they enforce: a value the scan cannot know sets the fact to None and records why
(``resource.unknown[fact]``), so the check says UNKNOWN and names the dependency instead of
failing on a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument, Statement, parse_policy
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved, inexact

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
    """Mark ``fact`` unknown (None) with why. A dotted fact (``environment.kms_key_arn``) is a part
    of a fact the source saw otherwise: only the reason is recorded (see ``stop_if_unknown``)."""
    if "." not in fact:
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


# Statement elements whose value decides a verdict, by their lower-case key.
_ELEMENTS = {
    "effect": "Effect",
    "principal": "Principal",
    "notprincipal": "NotPrincipal",
    "action": "Action",
    "notaction": "NotAction",
    "resource": "Resource",
    "notresource": "NotResource",
    "condition": "Condition",
}
_EVERYTHING_UNKNOWN = ("Effect", "Principal", "Action", "Resource", "Condition")


def policy_document(value: Any, holes: tuple[str, ...] = ()) -> PolicyDocument:
    """A policy document from a template value whose leaves may be unknown.

    A leaf the scan cannot compare as text (a variable without a value, a parameter, an
    import) makes its statement element unknown (``Statement.unknown``, with what it depends
    on), so the analysis leaves the statement out of what it knows and says UNKNOWN where it
    could change a verdict. Exact stand-ins (the own account, a bucket's generated name, a
    declared resource's ARN) stay as text. ``holes`` are the stand-in texts of unknown parts
    inside a document that was text (a heredoc with interpolations). Raises PolicyParseError.
    """
    if not isinstance(value, dict):
        return parse_policy(policy_text(value))
    statements = next((v for k, v in value.items() if str(k).lower() == "statement"), None)
    entries = statements if isinstance(statements, list) else [] if statements is None else [statements]
    unknowns: list[tuple[dict[str, str], bool]] = []
    shown: list[Any] = []
    for entry in entries:
        whole = entry if isinstance(entry, Unresolved) else None
        if isinstance(entry, dict) and isinstance(entry.get("__unresolved__"), Unresolved):
            whole = entry["__unresolved__"]
        if whole is not None:
            unknowns.append(({part: whole.depends_on for part in _EVERYTHING_UNKNOWN}, False))
            shown.append({"Effect": "Allow"})
            continue
        if not isinstance(entry, dict):
            unknowns.append(({}, False))
            shown.append(entry)
            continue
        found: dict[str, str] = {}
        named = True
        copy = dict(entry)
        for key, element in entry.items():
            part = _ELEMENTS.get(str(key).lower())
            if part is None:
                continue
            missing = inexact(element) or _hole_in(element, holes)
            if missing is None:
                continue
            found[part] = missing.depends_on
            if part == "Effect":
                copy[key] = "Allow"
            if part in ("Principal", "NotPrincipal"):
                named = named and _named_principals(element, holes)
        unknowns.append((found, named and bool({"Principal", "NotPrincipal"} & found.keys())))
        shown.append(copy)
    document = dict(value)
    if statements is not None:
        document = {k: v for k, v in value.items() if str(k).lower() != "statement"}
        document["Statement"] = shown
    parsed = parse_policy(policy_text(document))
    if not any(found for found, _ in unknowns):
        return parsed
    marked: list[Statement] = []
    for statement, (found, named) in zip(parsed.statements, unknowns, strict=False):
        marked.append(statement.model_copy(update={"unknown": found, "principal_named": named}))
    return parsed.model_copy(update={"statements": tuple(marked)})


def _hole_in(value: Any, holes: tuple[str, ...], _depth: int = 0) -> Unresolved | None:
    """An Unresolved naming the hole when a text leaf of ``value`` contains one of ``holes``."""
    if not holes or _depth > 40:
        return None
    if isinstance(value, str):
        for hole in holes:
            if hole in value:
                return Unresolved(hole[2:-1] if hole.startswith("${") and hole.endswith("}") else hole)
        return None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found = _hole_in(item, holes, _depth + 1)
        if found is not None:
            return found
    return None


def _named_principals(element: Any, holes: tuple[str, ...]) -> bool:
    """Whether every unknown principal in ``element`` is an ARN with literal text around its
    unknown parts (IAM allows no wildcard inside a principal ARN, so it is never everyone)."""
    values = list(element.values()) if isinstance(element, dict) else [element]
    leaves = [leaf for v in values for leaf in as_list(v)]
    for leaf in leaves:
        if isinstance(leaf, Unresolved):
            if leaf.exact:
                continue
            if not (leaf.partial and (leaf.placeholder or "").startswith("arn:")):
                return False
        elif (
            isinstance(leaf, str) and _hole_in(leaf, holes) is not None and not leaf.startswith("arn:")
        ) or isinstance(leaf, (dict, list)):
            return False
    return True
