"""Engines and migrations: SQLite in WAL mode by default, PostgreSQL through the same code.

One migration history covers the whole database: the ledger's tables and the dashboard's own
(accounts, sign-ins, sessions, alerts). Every process that opens the database for its work — the
ledger worker, the scheduler, the dashboard, ``yuqing users`` — brings it to the newest revision
first (:func:`migrate`, a no-op when it is current).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from response_ledger.migrations import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the dashboard read while the stream writes; the busy timeout makes a second
        # writer wait for the first instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def alembic_config() -> Config:
    """The Alembic configuration pointing at the migrations inside this package."""
    # Imported late: importing Alembic sets up its autogenerate plugins, logging a line for each.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "response_ledger:migrations")
    return config


# The PostgreSQL advisory lock every migration takes ("YQLG"): processes starting together take turns.
MIGRATION_LOCK = 0x59514C47


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe and cheap to run on every start.

    Processes that start at once (``yuqing up``) may migrate together: on PostgreSQL they take
    turns under an advisory lock, and the later one finds the schema current; on SQLite the one
    that loses the race fails on a table the other just made, finds the schema current and returns.
    """
    if revision == "head" and applied_revisions(engine) == [HEAD_REVISION]:
        return  # already current: no need to load Alembic at all
    from alembic import command

    config = alembic_config()
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until this transaction ends; Alembic then reads the version the winner wrote.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError:
        if revision == "head" and applied_revisions(engine) == [HEAD_REVISION]:
            return  # another process migrated meanwhile
        raise


def migrated_engine(url: str, **kwargs: Any) -> Engine:
    """:func:`make_engine` for ``url`` with the schema brought to the newest revision."""
    engine = make_engine(url, **kwargs)
    migrate(engine)
    return engine


def applied_revisions(engine: Engine) -> list[str]:
    """The revisions recorded in ``alembic_version`` (none for an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return []
        return [str(v) for v in connection.execute(text("SELECT version_num FROM alembic_version")).scalars()]
