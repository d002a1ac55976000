"""Alembic environment: runs on the connection :func:`response_ledger.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from response_ledger.tables import metadata

config = context.config
connection: Connection | None = config.attributes.get("connection")

if connection is None:
    # Plain ``alembic -x url=...`` use from a shell; the service always passes a connection.
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(str(url)).begin() as own:
        context.configure(connection=own, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
