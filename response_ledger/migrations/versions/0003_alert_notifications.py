"""When an alert was sent out: ``dashboard_alerts.notified_at``.

Revision ID: 0003
Revises: 0002

The scheduler notifies the duty office of a saved search's alert once: it claims the alert by
setting this column before sending, so two runs (or two schedulers) never send the same firing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (nullable: no alert raised before was ever sent)."""
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("dashboard_alerts")}
    if "notified_at" not in columns:
        op.add_column("dashboard_alerts", sa.Column("notified_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("dashboard_alerts") as batch:
        batch.drop_column("notified_at")
