"""The reads of the duty officer's monitor (值班监测): each post's ticket, the tickets whose current
stage limit is past or near, and a ticket's clock as it stands now.

Late and due soon are :mod:`response_ledger.timeliness`' rules, stated in SQL and counted in the
database, so the monitor costs a few indexed queries however large the ledger grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, select

from response_ledger import tables as t
from response_ledger.timeliness import (
    CLOCK_FIELDS,
    DUE_SOON_FRACTION,
    sign_started_sql,
    stage_due_soon_sql,
    stage_late_sql,
    stage_sql,
)
from response_ledger.workflow import OPEN_STATUSES, TicketStatus

# Bound values per ``IN (…)``: within every database's limit.
_CHUNK = 500
TICKET_FIELDS = ("id", "unit", "summary", *CLOCK_FIELDS)
"""What :func:`ticket_clocks` reads of a ticket: a few ``tickets`` columns and its :class:`Clock`."""


def tickets_of_posts(engine: Engine, post_ids: Sequence[str]) -> dict[str, str]:
    """The ticket each post is on (its own, or the one it was merged into), by post id."""
    links = t.ticket_posts.c
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(post_ids))
    with engine.connect() as connection:
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = select(links.post_id, links.ticket_id).where(links.post_id.in_(chunk))
            found.update({str(post_id): str(ticket_id) for post_id, ticket_id in connection.execute(query)})
    return found


@dataclass(frozen=True)
class StageLimits:
    """Live tickets past or near their current stage limit: how many of each, and the first rows.

    Each row holds the ticket's ``id``, ``unit``, ``status``, ``summary``, the stage's name
    ``limit`` (签收/答复/办结) and its aware ``due`` moment.
    """

    overdue: int
    due_soon: int
    rows: tuple[dict[str, Any], ...]


def stage_limits(
    engine: Engine, now: datetime, *, due_soon_fraction: float = DUE_SOON_FRACTION, limit: int = 50
) -> StageLimits:
    """Live tickets whose current stage limit (签收, then 答复, then 办结) is past or due soon at ``now``.

    At most ``limit`` of each: the most recently overdue and the soonest due.
    """
    c = t.tickets.c
    stage = stage_sql()
    due = stage.due
    late = stage_late_sql(now, stage)
    soon = stage_due_soon_sql(now, due_soon_fraction, stage)
    # Paused tickets have no running clock; closed ones are done.
    live = [s.value for s in OPEN_STATUSES if s is not TicketStatus.PAUSED] + [TicketStatus.ANSWERED.value]
    columns = (c.id, c.unit, c.status, c.summary, stage.name.label("limit"), due.label("due"))
    base = select(*columns).where(c.status.in_(live), due.is_not(None))
    overdue_q = base.where(late).order_by(due.desc()).limit(limit)
    soon_q = base.where(soon).order_by(due).limit(limit)
    counts_q = select(func.sum(case((late, 1), else_=0)), func.sum(case((soon, 1), else_=0))).where(
        c.status.in_(live), due.is_not(None)
    )
    with engine.connect() as connection:
        rows = [*connection.execute(overdue_q).mappings(), *connection.execute(soon_q).mappings()]
        overdue, due_soon = connection.execute(counts_q).one()
    return StageLimits(int(overdue or 0), int(due_soon or 0), tuple(dict(row) for row in rows))


def ticket_clocks(engine: Engine, ticket_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The :data:`TICKET_FIELDS` of each ticket as it stands now, by id; a missing id is a deleted ticket."""
    c = t.tickets.c
    columns = [
        sign_started_sql().label(name) if name == "sign_started_at" else getattr(c, name)
        for name in TICKET_FIELDS
    ]
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(ticket_ids))
    with engine.connect() as connection:
        for start in range(0, len(unique), _CHUNK):
            query = select(*columns).where(c.id.in_(unique[start : start + _CHUNK]))
            found.update({str(row["id"]): dict(row) for row in connection.execute(query).mappings()})
    return found
