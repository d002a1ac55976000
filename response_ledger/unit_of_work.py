"""The unit of work: one transaction around the repositories, committed explicitly.

Build one per request or batch: ``with SqlUnitOfWork(engine) as uow: ...; uow.commit()``. Leaving
the block without a commit rolls back. :func:`engine_from_settings` gives the process's engine.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy import Connection, Engine, RootTransaction

from response_ledger.db import make_engine, migrate
from response_ledger.repository import (
    HolidayRepository,
    SqlHolidayRepository,
    SqlTicketRepository,
    TicketRepository,
)


class UnitOfWork(abc.ABC):
    """What services need: the repositories and commit/rollback."""

    tickets: TicketRepository
    holidays: HolidayRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make every change durable, or raise and write nothing."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Drop whatever was not committed."""


class SqlUnitOfWork(UnitOfWork):
    """A transaction on one connection of ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._transaction = self._connection.begin()
        self.tickets = self._sql_tickets = SqlTicketRepository(self._connection)
        self.holidays = SqlHolidayRepository(self._connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        """Save the tracked tickets under their versions, then commit."""
        if self._transaction is None:
            raise RuntimeError("commit outside a `with` block")
        self._sql_tickets.save()
        self._transaction.commit()
        self._sql_tickets.committed()
        if self._connection is not None:
            self._transaction = self._connection.begin()

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()


class LedgerSettings(Protocol):
    """The part of :class:`yuqing.settings.Settings` the ledger reads (no import of the root)."""

    @property
    def ledger_sqlalchemy_url(self) -> str:
        """The ledger's SQLAlchemy URL."""
        ...


def engine_from_settings(settings: LedgerSettings, *, migrate_schema: bool = True) -> Engine:
    """The ledger engine for a :class:`yuqing.settings.Settings` (its ``ledger_sqlalchemy_url``).

    Migrates to the newest schema unless told not to; migrating twice is a no-op.
    """
    engine = make_engine(settings.ledger_sqlalchemy_url)
    if migrate_schema:
        migrate(engine)
    return engine
