"""The ledger's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Moments are stored as naive UTC so both engines compare them the same way; :class:`UtcDateTime`
converts at the boundary. The Alembic migrations in ``migrations/`` create exactly these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import DateTime, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC and read back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to naive UTC; a naive value is a programming error upstream, taken as UTC."""
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC again."""
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

METRIC_COLUMNS = (
    "signed_at", "sign_due_at", "answered_at", "respond_due_at", "due_at", "closed_at", "satisfaction",
    "handling_s",
)  # fmt: skip

tickets = Table(
    "ledger_tickets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("ticket_class", String(40), nullable=False),
    Column("source", String(20), nullable=False),
    Column("post_id", String(300)),
    Column("event_key", String(200)),
    Column("summary", Text, nullable=False),
    Column("url", Text, nullable=False, default=""),
    Column("unit", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("found_at", UtcDateTime, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("sign_rule", String(20)),
    Column("respond_rule", String(20)),
    Column("close_rule", String(20)),
    Column("max_extension", String(20)),
    Column("sign_due_at", UtcDateTime),
    Column("respond_due_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("provisional", Boolean, nullable=False, default=False),
    Column("signed_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("answer_text", Text, nullable=False, default=""),
    Column("satisfaction", String(10)),
    Column("escalations", Integer, nullable=False, default=0),
    Column("handling_s", Integer),
    Column("version", Integer, nullable=False),
    Index("ix_ledger_tickets_unit_status_due", "unit", "status", "due_at"),
    # The metrics query reads only these columns: covering indexes answer it without touching the
    # rows (3x faster on SQLite at 100k tickets), by period for all units or by unit and period.
    Index("ix_ledger_tickets_opened", "opened_at", "unit", *METRIC_COLUMNS),
    Index("ix_ledger_tickets_unit_opened", "unit", "opened_at", *METRIC_COLUMNS),
    Index("ix_ledger_tickets_event_key", "event_key"),
)

events = Table(
    "ledger_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), ForeignKey("ledger_tickets.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(30), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("data", JSON, nullable=False),
    # Two writers appending the same step number collide here even if a version check were bypassed.
    UniqueConstraint("ticket_id", "seq", name="uq_ledger_events_ticket_seq"),
)

ticket_posts = Table(
    "ledger_ticket_posts",
    metadata,
    # The post id is the primary key: a replayed post can never open or merge twice.
    Column("post_id", String(300), primary_key=True),
    Column("ticket_id", String(40), ForeignKey("ledger_tickets.id"), nullable=False, index=True),
)

holidays = Table(
    "ledger_holidays",
    metadata,
    Column("day", Date, primary_key=True),
    Column("is_workday", Boolean, nullable=False),
    Column("name", String(50), nullable=False, default=""),
)

holiday_years = Table(
    "ledger_holiday_years",
    metadata,
    # A year whose whole schedule the administrator entered and marked complete (a row per year):
    # only then does the holiday table make the year known (response_ledger.calendar).
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("marked_by", String(100), nullable=False, default=""),
    Column("marked_at", UtcDateTime, nullable=False),
)
