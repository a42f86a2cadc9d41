"""Helpers the Terraform mappers share."""

from __future__ import annotations

from typing import Any

from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import text
from controlmap.sources.iac.terraform.build import TfBuild, TfItem
from controlmap.sources.iac.terraform.expressions import UnknownBlock


def tags(item: TfItem) -> dict[str, str]:
    raw = item.attrs.get("tags")
    out: dict[str, str] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            if text(value) is not None:
                out[str(key)] = str(text(value))
    return out


def base(item: TfItem, build: TfBuild, name: Any = None) -> dict[str, Any]:
    """The common Resource fields of a model built from ``item`` (``name``: the value of its name
    argument; one the scan cannot know is recorded, so a companion naming a resource literally
    may still be joined to it, as unknown)."""
    fields: dict[str, Any] = {
        "id": build.resource_id(item.address),
        "name": name if isinstance(name, str) and name else item.address,
        "region": build.region,
        "tags": tags(item),
        "source": item.source,
    }
    if isinstance(name, Unresolved):
        fields["unknown"] = {"name": f"its name depends on {name.depends_on}"}
    return fields


def ref_text(value: Any) -> str | None:
    """A value naming something: a literal, or a reference shown as its address. An unknown
    value gives its stand-in (None for one of which nothing is known: see ``named``)."""
    if isinstance(value, ResourceRef):
        return value.address
    if isinstance(value, Unresolved):
        return None if value.opaque else value.placeholder
    return text(value)


def named(value: Any) -> str | Unresolved | None:
    """What ``ref_text`` gives, but the Unresolved itself for a value of which nothing is known
    (it may be null, empty, or anything), so the caller marks its fact unknown."""
    if isinstance(value, Unresolved) and value.opaque:
        return value
    return ref_text(value)


def names(value: Any) -> list[str] | Unresolved:
    """A list of references (subnet ids, security groups): the texts, or the Unresolved when the
    list or one of its elements is unknown in a way that may leave it empty or change it."""
    if isinstance(value, Unresolved):
        return value
    out = []
    for element in value if isinstance(value, list) else [] if value is None else [value]:
        shown = named(element)
        if isinstance(shown, Unresolved):
            return shown
        if shown:
            out.append(shown)
    return out


def block_list(item: TfItem, name: str) -> list[dict[str, Any]] | Unresolved:
    value = item.attrs.get(name)
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, dict):  # one block written as an object (JSON syntax)
        value = [value]
    if not isinstance(value, list):
        return []
    for entry in value:
        if isinstance(entry, dict) and "__unresolved__" in entry:
            unresolved: Unresolved = entry["__unresolved__"]
            return unresolved
    return [v for v in value if isinstance(v, dict)]


def first(value: Any) -> Any:
    """The first element of a nested block list (or the value itself). Blocks the scan cannot
    know come back as an UnknownBlock, every argument of which is unknown."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Unresolved):
        return UnknownBlock(value)
    if isinstance(value, dict) and isinstance(value.get("__unresolved__"), Unresolved):
        return value if isinstance(value, UnknownBlock) else UnknownBlock(value["__unresolved__"])
    return value
