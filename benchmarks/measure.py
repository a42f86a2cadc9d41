"""What the live-scan benchmarks measure besides API calls: wall time and peak memory.

The local moto server runs in the benchmark's own process (ThreadedMotoServer), so memory
figures include the emulator answering the scan: they are upper bounds for the scanner itself.
Peak RSS is free to read; the traced Python heap (``--heap``) costs a large slowdown, so the
wall time of a traced run is not comparable with an untraced one. The server's per-request log
lines are silenced so the report stays readable.
"""

from __future__ import annotations

import logging
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def quiet_local_server() -> Iterator[None]:
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    try:
        yield
    finally:
        werkzeug.setLevel(level)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measured(work: Callable[[], T], *, trace_heap: bool = False) -> tuple[T, dict[str, Any]]:
    """Run ``work``; return its result with wall seconds and peak memory in MiB."""
    before = _rss_mib()
    if trace_heap:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        result = work()
        seconds = time.perf_counter() - started
        heap = tracemalloc.get_traced_memory()[1] if trace_heap else None
    finally:
        if trace_heap:
            tracemalloc.stop()
    after = _rss_mib()
    cost: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(after, 1),  # whole process: seeding and the moto server included
        "rss_growth_during_scan_mib": round(after - before, 1),  # 0 when seeding already peaked higher
    }
    if heap is not None:
        cost["peak_heap_mib"] = round(heap / 2**20, 1)  # scan + evaluation + the moto server's answers
    return result, cost
