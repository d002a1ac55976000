"""The dashboard's tables in the ledger database: accounts, sign-ins, sessions and alerts.

Revision ID: 0002
Revises: 0001

Earlier releases created these tables themselves (``create_all`` on first use), outside Alembic, so
a database may hold some of them already: each table is created only when missing, with exactly
the columns and indexes those releases made, and a ``dashboard_signins`` of the first releases
gains the two columns added later (``client`` with its index, ``locked``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("dashboard_users", "dashboard_signins", "dashboard_sessions", "dashboard_alerts")


def upgrade() -> None:
    """Create the missing dashboard tables; bring an old ``dashboard_signins`` up to date."""
    inspector = sa.inspect(op.get_bind())
    present = set(inspector.get_table_names())
    if "dashboard_users" not in present:
        op.create_table(
            "dashboard_users",
            sa.Column("username", sa.String(64), primary_key=True),
            sa.Column("display_name", sa.String(128), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("unit", sa.String(128)),
            sa.Column("password_hash", sa.String(256), nullable=False),
            sa.Column("active", sa.Boolean, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "dashboard_signins" not in present:
        op.create_table(
            "dashboard_signins",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("username", sa.String(64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("ok", sa.Boolean, nullable=False),
            sa.Column("client", sa.String(64)),
            sa.Column("locked", sa.Boolean),
        )
        op.create_index("ix_dashboard_signins_username", "dashboard_signins", ["username"])
        op.create_index("ix_dashboard_signins_client", "dashboard_signins", ["client"])
    else:
        _add_signin_columns(inspector)
    if "dashboard_sessions" not in present:
        op.create_table(
            "dashboard_sessions",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
            sa.Column("username", sa.String(64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("pending", sa.Boolean, nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True)),
            sa.Column("ended_why", sa.String(16)),
        )
        op.create_index("ix_dashboard_sessions_username", "dashboard_sessions", ["username"])
    if "dashboard_alerts" not in present:
        op.create_table(
            "dashboard_alerts",
            sa.Column("id", sa.String(400), primary_key=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("acked_by", sa.String(64)),
            sa.Column("acked_by_name", sa.String(128)),
            sa.Column("acked_at", sa.DateTime(timezone=True)),
        )
        # The active list is "not acknowledged, newest first"; the acknowledged one "latest first".
        op.create_index("ix_dashboard_alerts_acked_raised", "dashboard_alerts", ["acked_at", "raised_at"])


def _add_signin_columns(inspector: sa.Inspector) -> None:
    """The columns later releases gave ``dashboard_signins``, added to a table made by an earlier one."""
    columns = {column["name"] for column in inspector.get_columns("dashboard_signins")}
    if "client" not in columns:
        op.add_column("dashboard_signins", sa.Column("client", sa.String(64)))
    if "locked" not in columns:
        op.add_column("dashboard_signins", sa.Column("locked", sa.Boolean))
    indexes = {index["name"] for index in inspector.get_indexes("dashboard_signins")}
    if "ix_dashboard_signins_client" not in indexes:
        op.create_index("ix_dashboard_signins_client", "dashboard_signins", ["client"])


def downgrade() -> None:
    """Drop the dashboard's tables (accounts, sessions and alerts are lost)."""
    for name in reversed(TABLES):
        op.drop_table(name)
