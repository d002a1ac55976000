"""A migrated ledger database for the account, session and alert stores: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from response_ledger.db import migrate
from tests.response_ledger.conftest import LedgerDb, postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file, or a fresh schema on the local PostgreSQL, migrated to the newest revision."""
    if request.param == "sqlite":
        databases: Iterator[LedgerDb] = iter([LedgerDb(f"sqlite:///{tmp_path / 'ledger.db'}", None)])
    else:
        databases = postgres_schema(request.getfixturevalue("postgres_url"))
    engine = next(databases).engine()
    migrate(engine)
    yield engine
    engine.dispose()
    next(databases, None)
