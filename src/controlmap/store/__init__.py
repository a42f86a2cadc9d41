"""The history store: scans and findings in SQLite or PostgreSQL (SQLAlchemy + Alembic)."""
