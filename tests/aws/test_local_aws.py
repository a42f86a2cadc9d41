"""The local moto server's admin calls (reset, seed) survive a busy machine."""

from __future__ import annotations

from typing import Any

import pytest

from controlmap.demo import server
from controlmap.demo.server import LocalAws


def test_admin_calls_wait_long_enough_for_a_busy_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, float]] = []

    class _Response:
        def __enter__(self) -> _Response:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def fake_urlopen(request: Any, timeout: float) -> _Response:
        seen.append((request.full_url, timeout))
        return _Response()

    monkeypatch.setattr(server.urllib.request, "urlopen", fake_urlopen)
    local = LocalAws("http://127.0.0.1:1")
    local.reset()
    local.seed_ids(7)
    assert [url for url, _ in seen] == [
        "http://127.0.0.1:1/moto-api/reset",
        "http://127.0.0.1:1/moto-api/seed?a=7",
    ]
    # a reset took more than 10 s under load in the README's `pytest` run; never that short again
    assert all(timeout >= 60 for _, timeout in seen)


def test_admin_calls_reach_the_real_server(aws: LocalAws) -> None:
    aws.reset()  # the shared fixture's server: a real HTTP round trip on loopback
