"""Fixtures of the briefing tests: the sample posts in an embedded archive, the tickets in SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from response_ledger.db import make_engine, migrate
from tests.briefing.samples import posts, tickets, write_tickets


@pytest.fixture(autouse=True)
def _builtin_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in Word layout unless a test names an office's template."""
    monkeypatch.delenv("YUQING_BRIEFING_DOCX_TEMPLATE", raising=False)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[EmbeddedArchive]:
    """An embedded archive holding the sample posts."""
    store = EmbeddedArchive(tmp_path / "home" / "archive.db")
    store.index(posts())
    yield store
    store.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite ledger holding the sample tickets."""
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'ledger.db'}")
    migrate(engine)
    write_tickets(engine, tickets())
    yield engine
    engine.dispose()
