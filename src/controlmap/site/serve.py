"""Preview a built site on loopback. Static files only; nothing is executed server-side."""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from controlmap.interrupts import stop_on_termination
from controlmap.site.generator import CONTENT_SECURITY_POLICY

__all__ = ["make_server", "stop_on_termination"]


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
