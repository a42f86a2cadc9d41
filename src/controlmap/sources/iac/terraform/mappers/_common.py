"""Helpers the Terraform mappers share."""

from __future__ import annotations

from typing import Any

from controlmap.sources.iac.common import ResourceRef, Unresolved
from controlmap.sources.iac.facts import text
from controlmap.sources.iac.terraform.build import TfBuild, TfItem


def tags(item: TfItem) -> dict[str, str]:
    raw = item.attrs.get("tags")
    out: dict[str, str] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            if text(value) is not None:
                out[str(key)] = str(text(value))
    return out


def base(item: TfItem, build: TfBuild, name: Any = None) -> dict[str, Any]:
    """The common Resource fields of a model built from ``item``."""
    return {
        "id": build.resource_id(item.address),
        "name": name if isinstance(name, str) and name else item.address,
        "region": build.region,
        "tags": tags(item),
        "source": item.source,
    }


def ref_text(value: Any) -> str | None:
    """A value naming something: a literal, or a reference shown as its address."""
    if isinstance(value, ResourceRef):
        return value.address
    if isinstance(value, Unresolved):
        return value.placeholder
    return text(value)


def block_list(item: TfItem, name: str) -> list[dict[str, Any]] | Unresolved:
    value = item.attrs.get(name)
    if isinstance(value, Unresolved):
        return value
    if not isinstance(value, list):
        return []
    for entry in value:
        if isinstance(entry, dict) and "__unresolved__" in entry:
            unresolved: Unresolved = entry["__unresolved__"]
            return unresolved
    return [v for v in value if isinstance(v, dict)]


def first(value: Any) -> Any:
    """The first element of a nested block list (or the value itself)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value
