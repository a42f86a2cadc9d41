"""Alembic environment for the history store; run programmatically by ``controlmap.store.db``.

The caller hands over an open connection in ``config.attributes["connection"]`` so migrations run
in the same engine (and PostgreSQL schema, through the search path) the store uses.
"""

from __future__ import annotations

from alembic import context

from controlmap.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run controlmap's store migrations through controlmap.store.db.open_store()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
