"""Where the store lives and how it is opened: URL resolution, engine, migrations on open.

The URL comes from ``--db``, else ``$CONTROLMAP_DB``, else the settings file's ``db:``, else an
SQLite file in the user's data directory, so a single user needs nothing. ``postgresql://`` URLs
are sent through psycopg 3. Migrations ship in the package and run on every open (a no-op when
the schema is current), so users never need ``alembic.ini``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from controlmap.settings import Settings

ENV_VAR = "CONTROLMAP_DB"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Seconds to wait for a database server to answer a connection: a firewalled or hung server
# would otherwise block every command (and every scan, which opens the store first) for minutes
# or forever. A ``connect_timeout`` in the URL's query wins.
PG_CONNECT_TIMEOUT = 10
# Query parameters libpq reads as secrets (``postgresql://u@h/db?password=...``).
_SECRET_PARAMS = frozenset({"password", "sslpassword"})


class StoreError(Exception):
    """The store cannot be opened or used; the message says which database and why."""


class StoreEmpty(StoreError):
    """A read-only open found a database without controlmap's tables: no scan was recorded yet."""


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def default_url() -> str:
    directory = Path(user_data_dir("controlmap"))
    return f"sqlite:///{directory / 'controlmap.db'}"


def resolve_url(explicit: str | None = None, settings: Settings | None = None) -> str:
    """The database URL: --db, then $CONTROLMAP_DB, then settings ``db:``, then the default file."""
    url = (
        explicit
        or os.environ.get(ENV_VAR)
        or (settings.db if settings is not None else None)
        or default_url()
    )
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def describe_url(url: str) -> str:
    """The URL for messages, password hidden (also one given as ``?password=`` in the query)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<invalid database URL>"
    secret = {k: "***" for k in parsed.query if k.lower() in _SECRET_PARAMS}
    if secret:
        parsed = parsed.update_query_dict(secret)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


@dataclass
class Store:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        self.engine.dispose()


def _engine(url: str, create: bool = True) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        example = url if "://" not in url else "path.db"
        raise StoreError(
            f"invalid database URL {url!r}: {exc}; for a file use sqlite:///{example}, "
            "for a server postgresql://user@host:5432/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(f"unsupported database URL scheme {backend!r} (use sqlite:// or postgresql://)")
    kwargs: dict[str, Any] = {"future": True}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            if create:
                _private_file(path)
            elif not path.is_file():
                # Read-only commands never create a store: a typo in --db must not look like
                # "no scans yet" in a new empty file.
                raise StoreError(f"no database at {path}; run a scan first or check --db")
        kwargs["connect_args"] = {"timeout": 30}
    elif "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT}
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(f"cannot use database {describe_url(url)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the scan that writes
            cursor.close()

    return engine


def _private_file(path: Path) -> None:
    """The history lists every weakness of the scanned accounts: readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
    except OSError as exc:
        raise StoreError(f"cannot create the database file {path}: {exc.strerror}") from None


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


_MIGRATION_LOCK = 0x636D6170  # "cmap": the PostgreSQL advisory lock that serialises migrations


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when current).

    Several scans may open a new team database at once: on PostgreSQL an advisory lock lets one
    of them create the schema while the others wait and then find it current. On SQLite the
    migration runs in one ``BEGIN IMMEDIATE`` transaction (the driver would otherwise run each
    CREATE TABLE on its own), which makes the others wait the same way. A loser that still fails
    re-reads the revision before giving up.
    """
    head = head_revision()
    with engine.connect() as connection:
        if _revision(connection) == head:
            return  # the usual case, without taking a lock that would wait for a writing scan
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            _upgrade(connection, head)
    except SQLAlchemyError:
        with engine.connect() as connection:
            if _revision(connection) != head:
                raise


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, head: str | None) -> None:
    current = _revision(connection)
    if current == head:
        return
    known = {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the database was written by a newer controlmap (schema revision {current!r}; this version "
            f"knows up to {head!r}): upgrade controlmap to read it"
        )
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own words, first line only, without SQLAlchemy's SQL and help link."""
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def database_error(url: str, exc: SQLAlchemyError, doing: str = "read") -> StoreError:
    """A StoreError for a failure while using the store: ``cannot read database X: <reason>``."""
    hint = ""
    reason = _reason(exc)
    if "not a database" in reason or "malformed" in reason:
        hint = " (the file is not a controlmap history database, or it is damaged)"
    return StoreError(f"cannot {doing} database {describe_url(url)}: {reason}{hint}")


def _has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def open_store(url: str | None = None, settings: Settings | None = None, *, create: bool = True) -> Store:
    """Open the store at the resolved URL, migrating an older schema to the current one.

    ``create=True`` (scans) creates the SQLite file and the schema as needed. ``create=False``
    (read-only commands) refuses a missing SQLite file (StoreError) and a database without
    controlmap's tables (StoreEmpty) instead of creating either.
    """
    resolved = resolve_url(url, settings)
    engine = _engine(resolved, create=create)
    try:
        if not create and not _has_schema(engine):
            engine.dispose()
            raise StoreEmpty(f"no scans recorded yet in {describe_url(resolved)}")
        migrate(engine)
    except StoreEmpty:
        raise
    except StoreError as exc:
        engine.dispose()
        raise StoreError(f"cannot open database {describe_url(resolved)}: {exc}") from None
    except CommandError as exc:  # alembic: a revision it cannot follow
        engine.dispose()
        raise StoreError(f"cannot migrate database {describe_url(resolved)}: {exc}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise database_error(resolved, exc, "open") from None
    return Store(resolved, engine, sessionmaker(engine, expire_on_commit=False))
