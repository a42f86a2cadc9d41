"""Preview a built site on loopback. Static files only; nothing is executed server-side."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from controlmap.site.generator import CONTENT_SECURITY_POLICY


class _Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # The pages carry the same policy as a meta tag; the header also covers non-HTML files.
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY + "; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep the console for the URL line; requests are not interesting here


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that leaves a page before it has loaded (a name page's redirect, a quick
        # click) closes its connection mid-response. That is normal, not a server error: the
        # standard handler would print a traceback per request into the preview's console.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    handler = functools.partial(_Handler, directory=str(directory))
    return _Server((host, port), handler)


@contextlib.contextmanager
def stop_on_termination() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP (``kill``, ``timeout``, a closed terminal) into KeyboardInterrupt
    while serving, so the caller's cleanup runs: without it Python dies at once and the temporary
    directory a ``site serve`` without OUT_DIR built into is left behind."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    names = ("SIGTERM", "SIGHUP")  # SIGHUP does not exist on Windows
    signals = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
