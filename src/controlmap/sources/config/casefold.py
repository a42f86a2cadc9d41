"""AWS Config's spelling of API shapes, read with the live collectors' parsers.

A configuration item's ``configuration`` is usually the service's Describe* response for the
resource, serialized by the AWS Java SDK: the same fields, camelCase and with the SDK's quirks
(``dBInstanceIdentifier``, ``dbclusterArn``, ``iAMDatabaseAuthenticationEnabled``). Folding key
case lets ``item.get("DBInstanceIdentifier")`` in a live collector read Config data unchanged, so
one parser serves both sources. Values that AWS Config nests as JSON text (supplementary
configuration, the configuration of API answers) are decoded first.

The Java SDK writes every unset field as ``null`` (``"rule": null`` beside ``"objectLockEnabled"``,
``"kmsMasterKeyID": null``), where the service's own answer leaves the key out. The live parsers
are written for the API (``item.get("Rule", {}).get(...)``), so folding drops null values: a null
and a missing field mean the same thing, "not set".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class CaseFolded(dict[str, Any]):
    """A dict whose key lookups ignore case; nested dicts and lists are folded too, nulls dropped."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__((str(k).lower(), fold(v)) for k, v in data.items() if v is not None)

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


def fold(value: Any) -> Any:
    if isinstance(value, CaseFolded):
        return value
    if isinstance(value, Mapping):
        return CaseFolded(value)
    if isinstance(value, list):
        return [fold(v) for v in value if v is not None]
    return value


def decode_json_text(value: Any, *, depth: int = 3) -> Any:
    """Decode JSON that AWS Config stores as text, sometimes twice (S3's AccessControlList).

    Text that is not JSON is returned as it is (``"Regional"``, ``"true"`` stays a string only if
    it is not valid JSON: ``"true"`` becomes True, which is what the field means).
    """
    for _ in range(depth):
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text or text[0] not in '{["tfn-0123456789':
            return value
        try:
            value = json.loads(text)
        except ValueError:
            return value
    return value
