"""Engines and migrations: SQLite in WAL mode by default, PostgreSQL through the same code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe and cheap to run on every start."""
    if revision == "head" and applied_revisions(engine) == [HEAD_REVISION]:
        return  # already current: no need to load Alembic at all
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def applied_revisions(engine: Engine) -> list[str]:
    """The revisions recorded in ``alembic_version`` (none for an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return []
        return [str(v) for v in connection.execute(text("SELECT version_num FROM alembic_version")).scalars()]
