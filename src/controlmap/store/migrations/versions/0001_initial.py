"""History store: scans, their findings, and the finding lifecycle.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scope_key", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column("accounts", sa.JSON, nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("api_calls", sa.JSON, nullable=False),
        sa.Column("errors", sa.JSON, nullable=False),
        sa.Column("resource_count", sa.Integer, nullable=False),
        sa.Column("finding_count", sa.Integer, nullable=False),
        sa.Column("fail_count", sa.Integer, nullable=False),
        sa.Column("pass_count", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_scans_started_at", "scans", ["started_at"])
    op.create_index("ix_scans_scope_key", "scans", ["scope_key"])
    op.create_index("ix_scans_state", "scans", ["state"])
    op.create_table(
        "scan_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.String(32), sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(32)),
        sa.Column("region", sa.String(32)),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_scan_findings_scan", "scan_findings", ["scan_id", "status"])
    op.create_index("ix_scan_findings_key", "scan_findings", ["key"])
    op.create_table(
        "finding_lifecycle",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("scope_key", sa.String(64), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(128)),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.String(32)),
        sa.Column("region", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("reopened", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("last_scan_id", sa.String(32), nullable=False),
        sa.Column("resolved_scan_id", sa.String(32)),
        sa.Column("open", sa.Boolean, nullable=False),
    )
    op.create_index("ix_finding_lifecycle_scope_key", "finding_lifecycle", ["scope_key"])
    op.create_index("ix_finding_lifecycle_open", "finding_lifecycle", ["open"])


def downgrade() -> None:
    op.drop_table("finding_lifecycle")
    op.drop_table("scan_findings")
    op.drop_table("scans")
