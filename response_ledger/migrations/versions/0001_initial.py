"""The first ledger schema: tickets, their events, their posts and the holiday table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from response_ledger.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "ledger_tickets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("ticket_class", sa.String(40), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("post_id", sa.String(300)),
        sa.Column("event_key", sa.String(200)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("found_at", UtcDateTime, nullable=False),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("sign_rule", sa.String(20)),
        sa.Column("respond_rule", sa.String(20)),
        sa.Column("close_rule", sa.String(20)),
        sa.Column("max_extension", sa.String(20)),
        sa.Column("sign_due_at", UtcDateTime),
        sa.Column("respond_due_at", UtcDateTime),
        sa.Column("due_at", UtcDateTime),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("signed_at", UtcDateTime),
        sa.Column("answered_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("answer_text", sa.Text, nullable=False),
        sa.Column("satisfaction", sa.String(10)),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("handling_s", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_ledger_tickets_unit_status_due", "ledger_tickets", ["unit", "status", "due_at"])
    # Covering indexes for the metrics query (a literal copy: a migration never follows later code).
    metric_columns = [
        "signed_at", "sign_due_at", "answered_at", "respond_due_at", "due_at", "closed_at", "satisfaction",
        "handling_s",
    ]  # fmt: skip
    op.create_index("ix_ledger_tickets_opened", "ledger_tickets", ["opened_at", "unit", *metric_columns])
    op.create_index("ix_ledger_tickets_unit_opened", "ledger_tickets", ["unit", "opened_at", *metric_columns])
    op.create_index("ix_ledger_tickets_event_key", "ledger_tickets", ["event_key"])
    op.create_table(
        "ledger_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(40), sa.ForeignKey("ledger_tickets.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_ledger_events_ticket_seq"),
    )
    op.create_table(
        "ledger_ticket_posts",
        sa.Column("post_id", sa.String(300), primary_key=True),
        sa.Column("ticket_id", sa.String(40), sa.ForeignKey("ledger_tickets.id"), nullable=False),
    )
    op.create_index("ix_ledger_ticket_posts_ticket_id", "ledger_ticket_posts", ["ticket_id"])
    op.create_table(
        "ledger_holidays",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("is_workday", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
    )


def downgrade() -> None:
    """Drop everything the upgrade created."""
    for name in ("ledger_holidays", "ledger_ticket_posts", "ledger_events", "ledger_tickets"):
        op.drop_table(name)
