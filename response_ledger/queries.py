"""Read-side queries (Cosmic "views"): a unit's work list and the metrics, straight from the tables.

Staff screens and the dashboard read here; they change tickets only through :mod:`services`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, select

from response_ledger import tables as t
from response_ledger.calendar import HolidayEntry
from response_ledger.model import JUDGEMENTS
from response_ledger.timeliness import closed_on_time_sql, overdue_sql, sign_started_sql
from response_ledger.workflow import OPEN_STATUSES, Action, TicketStatus

SATISFIED = ("满意", "基本满意")
_LIST_COLUMNS = (
    t.tickets.c.id, t.tickets.c.status, t.tickets.c.summary, t.tickets.c.source, t.tickets.c.found_at,
    t.tickets.c.sign_due_at, t.tickets.c.due_at, t.tickets.c.provisional, t.tickets.c.escalations,
    t.tickets.c.version,
)  # fmt: skip


def unit_worklist(engine: Engine, unit: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """A unit's unclosed tickets, the most urgent first (paused ones, with no due moment, last)."""
    live = [s.value for s in OPEN_STATUSES] + [TicketStatus.ANSWERED.value]
    query = (
        select(*_LIST_COLUMNS)
        .where(and_(t.tickets.c.unit == unit, t.tickets.c.status.in_(live)))
        .order_by(t.tickets.c.due_at.is_(None), t.tickets.c.due_at)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


_PAGE_COLUMNS = (
    t.tickets.c.id, t.tickets.c.unit, t.tickets.c.ticket_class, t.tickets.c.status, t.tickets.c.summary,
    t.tickets.c.source, t.tickets.c.found_at, t.tickets.c.opened_at, t.tickets.c.sign_due_at,
    t.tickets.c.respond_due_at, t.tickets.c.due_at, t.tickets.c.provisional, t.tickets.c.signed_at,
    t.tickets.c.answered_at, t.tickets.c.closed_at, t.tickets.c.escalations, t.tickets.c.version,
)  # fmt: skip


def _scope(unit: str | None, include_closed: bool) -> list[Any]:
    conditions: list[Any] = []
    if unit is not None:
        conditions.append(t.tickets.c.unit == unit)
    if not include_closed:
        live = [s.value for s in OPEN_STATUSES] + [TicketStatus.ANSWERED.value]
        conditions.append(t.tickets.c.status.in_(live))
    return conditions


def ticket_page(
    engine: Engine, *, unit: str | None, include_closed: bool = False, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """One page of tickets by deadline: one unit's (``None``: every unit's), unclosed unless asked.

    The earliest due moment comes first; paused tickets (no due moment) follow, and closed tickets,
    when included, come last. ``limit`` and ``offset`` are applied by the database, so a page costs
    the same at 100 tickets as at 100,000. Each row carries the :class:`timeliness.Clock` fields.
    """
    c = t.tickets.c
    order: list[Any] = [c.status == TicketStatus.CLOSED.value] if include_closed else []
    query = (
        select(*_PAGE_COLUMNS, sign_started_sql().label("sign_started_at"))
        .where(*_scope(unit, include_closed))
        .order_by(*order, c.due_at.is_(None), c.due_at, c.id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def ticket_count(engine: Engine, *, unit: str | None, include_closed: bool = False) -> int:
    """How many tickets :func:`ticket_page` pages through for the same scope."""
    query = select(func.count()).select_from(t.tickets).where(*_scope(unit, include_closed))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def ticket_units(engine: Engine) -> list[str]:
    """Every unit that holds a ticket, by name (read from the unit index, not the rows)."""
    query = select(t.tickets.c.unit).distinct().order_by(t.tickets.c.unit)
    with engine.connect() as connection:
        return [str(unit) for unit in connection.execute(query).scalars()]


def holiday_entries(engine: Engine) -> list[HolidayEntry]:
    """The holiday table (放假 and 调休上班 days), by day."""
    query = select(t.holidays).order_by(t.holidays.c.day)
    with engine.connect() as connection:
        return [
            HolidayEntry(r["day"], r["is_workday"], r["name"]) for r in connection.execute(query).mappings()
        ]


def holiday_years(engine: Engine) -> dict[int, tuple[str, datetime]]:
    """The years whose whole schedule the holiday table holds (marked complete): who marked each, when."""
    query = select(t.holiday_years).order_by(t.holiday_years.c.year)
    with engine.connect() as connection:
        return {
            int(r["year"]): (str(r["marked_by"]), r["marked_at"])
            for r in connection.execute(query).mappings()
        }


def ticket_post_ids(engine: Engine, ticket_id: str, *, limit: int = 50) -> list[str]:
    """The posts on a ticket: the one that opened it and those merged into it (并单), by id."""
    links = t.ticket_posts.c
    query = select(links.post_id).where(links.ticket_id == ticket_id).order_by(links.post_id).limit(limit)
    with engine.connect() as connection:
        return [str(post_id) for post_id in connection.execute(query).scalars()]


@dataclass(frozen=True)
class UnitMetrics:
    """A unit's figures over the tickets opened in a period; a rate is None when nothing counts."""

    unit: str
    tickets: int
    sign_rate: float | None  # 签收率: signed within the signing limit
    response_rate: float | None  # 响应率: answered within the response limit
    on_time_close_rate: float | None  # 按时办结率: closed, and answered by the 办理时限 (timeliness)
    overdue: int  # 超期数: answered after the 办理时限, or unanswered past it at ``now`` (timeliness)
    avg_handling_hours: float | None  # 平均办理时长
    satisfaction_rate: float | None  # 满意率: 满意 or 基本满意 among follow-ups


def metrics(
    engine: Engine, *, start: datetime, end: datetime, now: datetime, unit: str | None = None
) -> list[UnitMetrics]:
    """Per-unit metrics of tickets opened in ``[start, end)``, in one aggregate query."""
    c = t.tickets.c

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    respond_by = func.coalesce(c.respond_due_at, c.due_at)
    query = (
        select(
            c.unit,
            func.count(),
            # 签收率 is over the tickets that have a signing limit, so only those count as signed on time.
            count_if(and_(c.sign_due_at.is_not(None), c.signed_at <= c.sign_due_at)),  # NULL compares false
            count_if(c.sign_due_at.is_not(None)),
            count_if(
                and_(c.answered_at.is_not(None), c.answered_at <= func.coalesce(respond_by, c.answered_at))
            ),
            count_if(closed_on_time_sql()),
            count_if(overdue_sql(now)),
            func.avg(c.handling_s),
            count_if(c.satisfaction.is_not(None)),
            count_if(c.satisfaction.in_(SATISFIED)),
        )
        .where(and_(c.opened_at >= start, c.opened_at < end))
        .group_by(c.unit)
        .order_by(c.unit)
    )
    if unit is not None:
        query = query.where(c.unit == unit)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    out = []
    for name, total, signed, with_sign, responded, closed, overdue, avg_s, followed, satisfied in rows:
        out.append(
            UnitMetrics(
                unit=name, tickets=int(total), sign_rate=_rate(signed, with_sign),
                response_rate=_rate(responded, total), on_time_close_rate=_rate(closed, total),
                overdue=int(overdue or 0), avg_handling_hours=None if avg_s is None else float(avg_s) / 3600,
                satisfaction_rate=_rate(satisfied, followed),
            )
        )  # fmt: skip
    return out


def _rate(part: Any, whole: Any) -> float | None:
    return None if not whole else int(part or 0) / int(whole)


CORRECTED_TASKS = ("topic", *JUDGEMENTS)
"""The classifier tasks staff correct on tickets: 更正主题 sets the topic, 更正研判 the rest."""


@dataclass(frozen=True)
class CorrectionMark:
    """The label staff last gave one classifier task on a ticket, by whom and when, with its posts."""

    ticket_id: str
    task: str  # topic, sentiment, appeal or urgency
    label: str
    actor: str
    at: datetime
    post_ids: tuple[str, ...]


def classifier_corrections(engine: Engine, tasks: Sequence[str] = CORRECTED_TASKS) -> list[CorrectionMark]:
    """The latest correction of each (ticket, task) among ``tasks``, by ticket id then task order.

    One 更正研判 may set several tasks; a later one that sets only some of them leaves the others
    as they were, so each task keeps its own latest label.
    """
    events, links = t.events.c, t.ticket_posts.c
    actions = [Action.CORRECT_TOPIC.value] if "topic" in tasks else []
    if any(task in JUDGEMENTS for task in tasks):
        actions.append(Action.CORRECT_JUDGEMENT.value)
    query = (
        select(events.ticket_id, events.action, events.data, events.actor, events.at)
        .where(events.action.in_(actions))
        .order_by(events.ticket_id, events.seq)
    )
    latest: dict[tuple[str, str], Any] = {}
    with engine.connect() as connection:
        for row in connection.execute(query):
            topic = row.action == Action.CORRECT_TOPIC.value
            for task in tasks:
                if (task == "topic") == topic and row.data.get(task):
                    latest[(row.ticket_id, task)] = row  # in event order: the last one wins
        posts: dict[str, list[str]] = {}
        tickets = sorted({ticket_id for ticket_id, _ in latest})
        if tickets:
            linked = select(links.ticket_id, links.post_id).where(links.ticket_id.in_(tickets))
            for ticket_id, post_id in connection.execute(linked.order_by(links.post_id)):
                posts.setdefault(ticket_id, []).append(post_id)
    order = {task: i for i, task in enumerate(CORRECTED_TASKS)}
    return [
        CorrectionMark(
            ticket_id, task, str(row.data[task]), row.actor, row.at, tuple(posts.get(ticket_id, ()))
        )
        for (ticket_id, task), row in sorted(latest.items(), key=lambda item: (item[0][0], order[item[0][1]]))
    ]


@dataclass(frozen=True)
class TopicMark:
    """The topic staff last corrected a ticket to (更正主题), by whom and when, with the ticket's posts."""

    ticket_id: str
    topic: str
    actor: str
    at: datetime
    post_ids: tuple[str, ...]


def topic_corrections(engine: Engine) -> list[TopicMark]:
    """Every ticket whose topic staff corrected, with its latest correction, by ticket id."""
    return [
        TopicMark(mark.ticket_id, mark.label, mark.actor, mark.at, mark.post_ids)
        for mark in classifier_corrections(engine, ("topic",))
    ]
