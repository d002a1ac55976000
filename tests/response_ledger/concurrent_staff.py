"""A staff member in another process: load a ticket, wait for the colleague, act, report the outcome."""

from __future__ import annotations

from typing import Any

from response_ledger.errors import ConcurrencyConflict
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action
from tests.response_ledger.conftest import LedgerDb
from tests.response_ledger.samples import at


def sign_after_barrier(db: LedgerDb, ticket_id: str, actor: str, barrier: Any, results: Any) -> None:
    """Both processes read version 1 before either writes, then both try to sign."""
    engine = db.engine()
    try:
        with SqlUnitOfWork(engine) as uow:
            ticket = uow.tickets.get(ticket_id)
            barrier.wait(timeout=120)  # a spawned child can take long to start on a loaded machine
            ticket.act(Action.SIGN, actor=actor, at=at("2026-09-01T10:00"), comment=f"{actor}签收")
            try:
                uow.commit()
            except ConcurrencyConflict:
                results.put((actor, "conflict"))
                return
            results.put((actor, "ok"))
    except BaseException as exc:  # reported to the parent, whose assertion then names the cause
        results.put((actor, f"error: {exc!r}"))
        raise
    finally:
        engine.dispose()
