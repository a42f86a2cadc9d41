"""Parsed template data that remembers where each mapping and each of its keys sit in the file."""

from __future__ import annotations

from typing import Any


class LocDict(dict[str, Any]):
    """A mapping with the line range of itself and of each key's value (1-based, inclusive)."""

    __slots__ = ("end", "key_lines", "start")

    def __init__(self) -> None:
        super().__init__()
        self.start: int | None = None
        self.end: int | None = None
        self.key_lines: dict[str, tuple[int, int]] = {}

    def lines_of(self, key: str) -> tuple[int, int] | None:
        return self.key_lines.get(key)

    def line_of(self, key: str) -> int | None:
        span = self.key_lines.get(key)
        return span[0] if span else None


INTRINSIC_KEYS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::FindInMap",
        "Fn::GetAZs",
        "Fn::GetAtt",
        "Fn::If",
        "Fn::ImportValue",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::Sub",
        "Fn::Transform",
        "Fn::And",
        "Fn::Equals",
        "Fn::Not",
        "Fn::Or",
        "Fn::ToJsonString",
        "Fn::Length",
    }
)
