"""The history store's tables (SQLAlchemy 2 ORM). Migrations in ``migrations/`` create them.

- ``scans``: one row per scan, written ``running`` at start and ``complete`` or ``incomplete`` at
  the end, with what was scanned, API call counts, errors and verdict counts.
- ``scan_findings``: every finding of a scan as its versioned JSON, plus the columns queries
  filter on. Written in the same transaction that marks the scan complete.
- ``finding_lifecycle``: one row per finding key that ever failed: first and last seen failing,
  resolved, reopened, due date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class ScanRow(Base):
    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), index=True)  # running, complete, incomplete
    scope_key: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tool_version: Mapped[str] = mapped_column(String(32), default="")
    schema_version: Mapped[str] = mapped_column(String(16), default="")
    accounts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    api_calls: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    resource_count: Mapped[int] = mapped_column(Integer, default=0)
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    fail_count: Mapped[int] = mapped_column(Integer, default=0)
    pass_count: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class ScanFindingRow(Base):
    __tablename__ = "scan_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(32), ForeignKey("scans.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(32))
    control_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    service: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_scan_findings_scan", "scan_id", "status"),
        Index("ix_scan_findings_key", "key"),
    )


class LifecycleRow(Base):
    __tablename__ = "finding_lifecycle"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(64), index=True)
    control_id: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str | None] = mapped_column(String(128))
    service: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # the last status observed
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # last seen failing
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date | None] = mapped_column(Date)
    last_scan_id: Mapped[str] = mapped_column(String(32))
    resolved_scan_id: Mapped[str | None] = mapped_column(String(32))
    open: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
