"""Shared fixtures. Live-scan tests run against moto in server mode over real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from controlmap.demo.server import DEMO_ACCOUNT_ID, LocalAws, local_aws

# No test may reach a real AWS account: strip anything that could point at one.
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's own scan history or settings: scans record to the
    user data directory by default, and `exceptions validate` reads the latest scans from it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))
    monkeypatch.delenv("CONTROLMAP_DB", raising=False)
    monkeypatch.delenv("CONTROLMAP_SETTINGS", raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalAws]:
    with local_aws() as server:
        yield server


@pytest.fixture
def aws(moto_server: LocalAws) -> Iterator[LocalAws]:
    """A clean local AWS account for one test (moto reset before and after)."""
    moto_server.reset()
    yield moto_server
    moto_server.reset()


@pytest.fixture
def aws_session(aws: LocalAws) -> boto3.Session:
    """A boto3 session for *seeding* the local account (tests write through plain boto3)."""
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def account_id() -> str:
    return DEMO_ACCOUNT_ID
