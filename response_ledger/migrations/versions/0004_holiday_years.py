"""Years of the holiday table marked complete: ``ledger_holiday_years``.

Revision ID: 0004
Revises: 0003

Until this revision one row of ``ledger_holidays`` made its whole year count as scheduled. Now a year
is known from the table only once an administrator marks its schedule complete (a row here, with who
and when). Years entered before are not marked: their deadlines count as provisional again until an
administrator checks the year's dates on 系统管理 → 节假日 and marks it complete.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from response_ledger.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "ledger_holiday_years",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("marked_by", sa.String(100), nullable=False),
        sa.Column("marked_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("ledger_holiday_years")
