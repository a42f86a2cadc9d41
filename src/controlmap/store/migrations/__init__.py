"""Alembic migrations of the history store (a package so that wheels ship them)."""
