from __future__ import annotations

from pathlib import Path

import pytest
from sitekit import fixture_input

from controlmap.site.generator import build_site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture catalog plus scans (with markup in resource names), built once."""
    out = tmp_path_factory.mktemp("site")
    build_site(out, fixture_input())
    return out
