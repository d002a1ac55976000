"""Whether a ticket is on time: overdue, its current stage limit and due soon — each rule once.

Every place that judges a ticket's time reads it here: the ``Ticket`` aggregate, the 回应台账 page
and the exported 台账 (:mod:`response_ledger.markers`), the metrics (:mod:`response_ledger.queries`),
the reminders, the duty officer's alerts and the daily briefing. The rules are pure functions of a
:class:`Clock` (a ticket's moments) and ``now``; the ``*_sql`` builders below state the same rules
over the ``tickets`` table for the queries that count in the database, and a test holds the two
in step on a grid of cases (SQLite and PostgreSQL).

**Overdue (超期) is about the answer.** The statutory obligation is to answer (答复) by the ticket's
办理时限 (``due_at``). So:

* a ticket answered by its 办理时限 is **not** overdue — not while it waits to be closed (已答复,
  or reopened by 重办: the first answer is the one that counts), and not after a late 办结 either;
* a ticket answered after its 办理时限 is overdue for good (答复超期): it counts in 超期数 and is not
  on time for 按时办结率, however soon it is then closed;
* a ticket not answered yet is overdue once ``now`` is past its 办理时限;
* a paused ticket (no due moment) is never overdue; a ticket with no recorded answer but a 办结
  time (an imported 台账 row) is judged by that time.

A limit ends at its moment: answering exactly at ``due_at`` is in time, and ``now == due_at`` is not
yet late.

**The current stage** is the limit a ticket works towards: 签收 until signed (its clock restarts at
改派), then 答复 until first answered (where the class has a 答复 limit), then 办结 until closed.
A stage is *late* once ``now`` is past its limit (the page's 【签收超时】/【答复超时】/【办结超时】,
the reminders' 超期提醒, the duty officer's ticket alerts). An answered ticket whose 办结 limit has
passed is late to close but not overdue.

**Due soon (即将到期)** is one window: a stage not yet late that has used at least
``due_soon_fraction`` of its time (the policy's ``reminders.due_soon_fraction``, 75 % by default)
— the same moment the assignee is reminded, the page flags the row and the duty monitor raises
its alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Float, and_, case, func, literal, null, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from response_ledger import tables as t
from response_ledger.workflow import Action, TicketStatus

DUE_SOON_FRACTION = 0.75
"""The share of a stage's time after which it is due soon, unless the policy says otherwise."""
SIGN, RESPOND, CLOSE = "签收", "答复", "办结"
"""The stages' names, as staff read them (also the ``limit`` of reminder events and alert ids)."""
CLOCK_FIELDS = (
    "status", "opened_at", "sign_started_at", "sign_due_at", "signed_at", "respond_due_at", "answered_at",
    "due_at", "closed_at",
)  # fmt: skip
"""What a :class:`Clock` reads of a row: the ``tickets`` columns plus :func:`sign_started_sql`."""


class Timed(Protocol):
    """What a ticket offers the rules (:class:`response_ledger.model.Ticket` does)."""

    @property
    def status(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def sign_started_at(self) -> datetime: ...
    @property
    def sign_due_at(self) -> datetime | None: ...
    @property
    def signed_at(self) -> datetime | None: ...
    @property
    def respond_due_at(self) -> datetime | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Clock:
    """A ticket's moments, as the rules read them (aware datetimes; ``None``: not yet, or no limit)."""

    status: str
    opened_at: datetime
    sign_started_at: datetime  # when the 签收 clock started: the last 改派, else the opening
    sign_due_at: datetime | None
    signed_at: datetime | None
    respond_due_at: datetime | None
    answered_at: datetime | None  # the first answer
    due_at: datetime | None  # the 办理时限; None while paused
    closed_at: datetime | None

    @classmethod
    def of(cls, ticket: Timed) -> Clock:
        """The clock of a ticket aggregate."""
        return cls(
            str(ticket.status), ticket.opened_at, ticket.sign_started_at, ticket.sign_due_at,
            ticket.signed_at, ticket.respond_due_at, ticket.answered_at, ticket.due_at, ticket.closed_at,
        )  # fmt: skip

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Clock:
        """The clock of a ``tickets`` row read with ``sign_started_sql().label("sign_started_at")``."""
        return cls(*(row[name] for name in CLOCK_FIELDS))


@dataclass(frozen=True)
class Stage:
    """The limit a ticket works towards: its name, when its clock started, when it ends (None: paused)."""

    name: str
    started: datetime
    due: datetime | None


def past(due: datetime | None, now: datetime) -> bool:
    """Whether ``now`` is past the limit ``due`` (exactly at it is still in time; no limit is never past)."""
    return due is not None and now > due


def met_at(clock: Clock) -> datetime | None:
    """When the obligation to answer was met: the first answer, else (imported rows) the 办结 time."""
    return clock.answered_at if clock.answered_at is not None else clock.closed_at


def is_overdue(clock: Clock, now: datetime) -> bool:
    """超期 at ``now``: past the 办理时限 and not answered by it (see the module's decision)."""
    met = met_at(clock)
    return past(clock.due_at, now) and (met is None or past(clock.due_at, met))


def overdue_by(clock: Clock, now: datetime) -> timedelta:
    """How long overdue at ``now``: to the late answer once given, else to ``now``; zero if not overdue."""
    if not is_overdue(clock, now) or clock.due_at is None:
        return timedelta(0)
    met = met_at(clock)
    return (met if met is not None and met <= now else now) - clock.due_at


def closed_on_time(clock: Clock) -> bool:
    """按时办结: closed, and answered by its 办理时限 (a ticket without one is on time)."""
    met = met_at(clock)
    return clock.closed_at is not None and not (met is not None and past(clock.due_at, met))


def current_stage(clock: Clock) -> Stage | None:
    """The stage the ticket works towards: 签收 until signed, then 答复 until answered, then 办结.

    ``None`` for a closed ticket. While paused, the stage's ``due`` is ``None``.
    """
    if clock.status == TicketStatus.CLOSED.value:
        return None
    if clock.signed_at is None and clock.sign_due_at is not None:
        return Stage(SIGN, clock.sign_started_at, clock.sign_due_at)
    if clock.answered_at is None and clock.respond_due_at is not None:
        return Stage(RESPOND, clock.opened_at, clock.respond_due_at)
    return Stage(CLOSE, clock.opened_at, clock.due_at)


def stage_late(stage: Stage, now: datetime) -> bool:
    """Whether the stage's limit has passed at ``now`` (签收超时, 答复超时, 办结超时)."""
    return past(stage.due, now)


def stage_late_by(stage: Stage, now: datetime) -> timedelta:
    """How long past the stage's limit ``now`` is; zero when it is not late."""
    return now - stage.due if stage.due is not None and past(stage.due, now) else timedelta(0)


def stage_due_soon(stage: Stage, now: datetime, fraction: float = DUE_SOON_FRACTION) -> bool:
    """即将到期: not late yet, with at least ``fraction`` of the stage's time used at ``now``."""
    if stage.due is None or past(stage.due, now):
        return False
    allowed = (stage.due - stage.started).total_seconds()
    used = (now - stage.started).total_seconds()
    return allowed > 0 and used >= fraction * allowed


# The same rules over the ``tickets`` table, for the queries that count and sort in the database.
# Each mirrors the function of the same name above (tests/response_ledger/test_timeliness.py).


def sign_started_sql() -> ColumnElement[datetime]:
    """When the 签收 clock started: the ticket's last 改派, else its opening (``Clock.sign_started_at``)."""
    c, e = t.tickets.c, t.events.c
    last_reassign = (
        select(func.max(e.at))
        .where(e.ticket_id == c.id, e.action == Action.REASSIGN.value)
        .correlate(t.tickets)
        .scalar_subquery()
    )
    return func.coalesce(last_reassign, c.opened_at, type_=t.UtcDateTime())


def met_at_sql() -> ColumnElement[datetime]:
    """:func:`met_at`."""
    c = t.tickets.c
    return func.coalesce(c.answered_at, c.closed_at, type_=t.UtcDateTime())


def overdue_sql(now: datetime) -> ColumnElement[bool]:
    """:func:`is_overdue` at ``now``."""
    c, met = t.tickets.c, met_at_sql()
    return and_(c.due_at.is_not(None), c.due_at < now, or_(met.is_(None), met > c.due_at))


def closed_on_time_sql() -> ColumnElement[bool]:
    """:func:`closed_on_time`."""
    c, met = t.tickets.c, met_at_sql()
    return and_(c.closed_at.is_not(None), or_(c.due_at.is_(None), met <= c.due_at))


@dataclass(frozen=True)
class StageSql:
    """:func:`current_stage` as columns: its name, start and due moment (all NULL for a closed ticket)."""

    name: ColumnElement[str]
    started: ColumnElement[datetime]
    due: ColumnElement[datetime]


def stage_sql() -> StageSql:
    """:func:`current_stage` over the ``tickets`` table."""
    c = t.tickets.c
    closed = c.status == TicketStatus.CLOSED.value
    signing = and_(c.signed_at.is_(None), c.sign_due_at.is_not(None))
    answering = and_(c.answered_at.is_(None), c.respond_due_at.is_not(None))
    return StageSql(
        name=case((closed, null()), (signing, SIGN), (answering, RESPOND), else_=CLOSE),
        # The 改派 look-up runs only for tickets waiting to be signed.
        started=type_coerce(
            case((closed, null()), (signing, sign_started_sql()), else_=c.opened_at), t.UtcDateTime()
        ),
        due=type_coerce(
            case((closed, null()), (signing, c.sign_due_at), (answering, c.respond_due_at), else_=c.due_at),
            t.UtcDateTime(),
        ),
    )


def stage_late_sql(now: datetime, stage: StageSql | None = None) -> ColumnElement[bool]:
    """:func:`stage_late` at ``now``."""
    due = (stage or stage_sql()).due
    return and_(due.is_not(None), due < now)


def stage_due_soon_sql(
    now: datetime, fraction: float = DUE_SOON_FRACTION, stage: StageSql | None = None
) -> ColumnElement[bool]:
    """:func:`stage_due_soon` at ``now`` (SQLite compares the shares to the millisecond)."""
    stage = stage or stage_sql()
    started, due, moment = _Millis(stage.started), _Millis(stage.due), _Millis(literal(now, t.UtcDateTime()))
    return and_(
        stage.due.is_not(None),
        stage.due >= now,
        due > started,
        moment - started >= literal(fraction, Float()) * (due - started),
    )


class _Millis(FunctionElement[float]):
    """A moment as milliseconds from a fixed origin (each database its own: only differences count)."""

    type = Float()
    name = "millis"
    inherit_cache = True


@compiles(_Millis)
def _millis_epoch(element: _Millis, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: EXTRACT gives exact seconds (numeric) of a timestamp without time zone.
    return f"(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) * 1000)"


@compiles(_Millis, "sqlite")
def _millis_sqlite(element: _Millis, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a julian day as whole milliseconds: rounding gives them back exactly.
    return f"ROUND(julianday({compiler.process(element.clauses, **kw)}) * 86400000.0)"
