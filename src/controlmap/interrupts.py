"""Termination signals as Ctrl-C, so a command's cleanup runs when it is stopped from outside.

``kill``, ``timeout``, a CI job's cancel or time limit and systemd send SIGTERM; a closed terminal
sends SIGHUP. Python's default for both is to die at once, skipping every ``finally``: a scan
would stay ``running`` in the history store and ``site serve`` would leave its temporary
directory behind. Inside ``stop_on_termination`` both raise KeyboardInterrupt instead.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be (so every Ctrl-C cleanup runs)."""


def _interrupt(signum: int, frame: object) -> None:
    raise Terminated(signal.Signals(signum).name)


@contextlib.contextmanager
def stop_on_termination() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Terminated`` (a KeyboardInterrupt) in the main thread while the
    block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set from the main thread; a caller there owns them
        return
    names = ("SIGTERM", "SIGHUP")  # SIGHUP does not exist on Windows
    signals = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, _interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
