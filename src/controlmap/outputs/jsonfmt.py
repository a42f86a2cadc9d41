"""JSON: the documented, versioned schema (``ScanResult.to_json``), optionally with a framework view."""

from __future__ import annotations

import json
from typing import Any

from controlmap.catalog.catalog import Catalog
from controlmap.findings.model import ScanResult
from controlmap.outputs.framework import framework_view


def render_json(
    result: ScanResult, *, framework: str | None = None, catalog: Catalog | None = None, **_: Any
) -> str:
    data = result.to_json()
    if framework:
        data["framework_view"] = framework_view(result, framework, catalog).to_json()
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
