"""Small helpers the CloudFormation mappers share."""

from __future__ import annotations

from typing import Any

from controlmap.sources.iac.cloudformation.build import CfnItem
from controlmap.sources.iac.facts import text


def tags(item: CfnItem) -> dict[str, str]:
    """Literal tags (``[{Key, Value}]`` or a mapping for SAM); computed ones are left out."""
    raw = item.props.get("Tags")
    out: dict[str, str] = {}
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict):
                key, value = text(entry.get("Key")), text(entry.get("Value"))
                if key is not None and value is not None:
                    out[key] = value
    elif isinstance(raw, dict):
        for key, value in raw.items():
            if text(value) is not None:
                out[str(key)] = str(text(value))
    return out


def region_of(item: CfnItem, build: Any) -> str | None:
    value = build.resolver.values.get("AWS::Region")
    return value if isinstance(value, str) else None
