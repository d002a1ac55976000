"""Real ledger databases: a fresh SQLite file, and a fresh schema on the local PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from response_ledger.db import make_engine, migrate


@dataclass(frozen=True)
class LedgerDb:
    """What a test (or a child process) needs to reach the same database."""

    url: str
    schema: str | None

    def engine(self) -> Engine:
        """A new engine on this database (its own pool, as another process would have)."""
        if self.schema is None:
            return make_engine(self.url)
        return make_engine(self.url, connect_args={"options": f"-csearch_path={self.schema}"})


def postgres_schema(url: str) -> Iterator[LedgerDb]:
    """A fresh schema on the PostgreSQL at ``url`` (yielded once), dropped with everything in it after."""
    import psycopg

    schema = f"ledger_test_{uuid.uuid4().hex[:10]}"
    plain = url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield LedgerDb(url, schema)
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerDb]:
    """A migrated, empty ledger on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        databases: Iterator[LedgerDb] = iter([LedgerDb(f"sqlite:///{tmp_path / 'ledger.db'}", None)])
    else:
        databases = postgres_schema(request.getfixturevalue("postgres_url"))
    db = next(databases)
    engine = db.engine()
    migrate(engine)
    engine.dispose()
    yield db
    next(databases, None)


@pytest.fixture
def engine(ledger_db: LedgerDb) -> Iterator[Engine]:
    """An engine on the test's ledger."""
    made = ledger_db.engine()
    yield made
    made.dispose()
