"""Store fixtures: a fresh SQLite file, and a fresh schema on the PostgreSQL server (CI starts it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from controlmap.store import Store, open_store

PG_SERVER = os.environ.get("CONTROLMAP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    """Reachable, creating the test database through the maintenance database if it is missing."""
    url = make_url(PG_SERVER)
    for attempt in range(2):
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("select 1"))
            return True
        except OperationalError:
            if attempt:
                return False
        finally:
            engine.dispose()
        maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with maintenance.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        except (OperationalError, ProgrammingError):
            return False
        finally:
            maintenance.dispose()
    return False


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'history.db'}")
    yield store
    store.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search path is a schema created for this test and dropped after it."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} and CI is set")
        pytest.skip("PostgreSQL server not reachable on 127.0.0.1:5432")
    schema = f"cm_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = open_store(url)
    yield opened
    opened.close()
