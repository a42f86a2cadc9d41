"""A moto server on loopback, in-process: the demo account and the live-scan tests use it.

Running moto in server mode (rather than its in-process mocks) means the scan goes through
real HTTP: botocore endpoints, signing, retries and pagination behave as they do against AWS.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEMO_ACCOUNT_ID = "123456789012"  # moto's default account
DEMO_REGIONS = ("us-east-1", "eu-west-1")
# moto's reset walks every backend of every region it has created; on a busy machine (CI, a
# test suite beside other jobs) that takes well over 10 seconds, and a timeout there fails the
# whole test or demo although nothing is wrong. Loopback only, so a long wait costs nothing.
ADMIN_TIMEOUT_SECONDS = 120

# Fake credentials for the local server; never real ones.
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class LocalAws:
    endpoint: str

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        self._post("/moto-api/reset")

    def seed_ids(self, seed: int) -> None:
        """Make moto's generated IDs (instances, groups, keys…) the same on every run."""
        self._post(f"/moto-api/seed?a={int(seed)}")

    def _post(self, path: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}{path}", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT_SECONDS):  # loopback only
            pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_aws(port: int | None = None) -> Iterator[LocalAws]:
    """Start moto on 127.0.0.1 and point boto3 at it (environment) for the duration."""
    from moto.server import ThreadedMotoServer

    port = port or _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in [*_FAKE_CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
    os.environ.update(_FAKE_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield LocalAws(endpoint)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
