"""What the briefing reads from the ledger: per-unit tickets and rates, and items awaiting a leader.

Rates come from :func:`response_ledger.queries.metrics` (tickets opened in the period); tickets
closed in the period and tickets overdue at ``as_of`` and not closed by then (超期未办结; overdue is
:mod:`response_ledger.timeliness`' rule) are counted here in one query each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, func, inspect, or_, select

from briefing.model import Decision, LedgerSummary, UnitRow
from briefing.period import Period
from core.masking import mask_text
from response_ledger import tables as t
from response_ledger.queries import metrics
from response_ledger.timeliness import overdue_sql
from response_ledger.workflow import TicketStatus

TOTAL_LABEL = "合计"


def ledger_ready(engine: Engine) -> bool:
    """Whether the ledger's tables exist (a system whose ledger stage never ran has none)."""
    with engine.connect() as connection:
        return inspect(connection).has_table(t.tickets.name)


def summarize_ledger(engine: Engine, period: Period, *, as_of: datetime) -> LedgerSummary:
    """Tickets opened, closed and overdue per unit, with 响应率 and 按时办结率, plus the totals."""
    c = t.tickets.c
    opened = {m.unit: m for m in metrics(engine, start=period.start, end=period.end, now=as_of)}
    closed_q = (
        select(c.unit, func.count())
        .where(and_(c.closed_at >= period.start, c.closed_at < period.end))
        .group_by(c.unit)
    )
    # 超期未办结: overdue at ``as_of`` (response_ledger.timeliness: not answered by the 办理时限; a
    # paused ticket has no due moment) and not closed by then.
    overdue_q = (
        select(c.unit, func.count())
        .where(c.opened_at < as_of, overdue_sql(as_of), or_(c.closed_at.is_(None), c.closed_at > as_of))
        .group_by(c.unit)
    )
    with engine.connect() as connection:
        closed = {str(unit): int(n) for unit, n in connection.execute(closed_q)}
        overdue = {str(unit): int(n) for unit, n in connection.execute(overdue_q)}
    rows = []
    for unit in sorted(set(opened) | set(closed) | set(overdue)):
        figures = opened.get(unit)
        rows.append(
            UnitRow(
                unit=unit,
                opened=figures.tickets if figures else 0,
                closed=closed.get(unit, 0),
                overdue=overdue.get(unit, 0),
                response_rate=figures.response_rate if figures else None,
                on_time_close_rate=figures.on_time_close_rate if figures else None,
            )
        )
    rows.sort(key=lambda row: (-row.opened, -row.overdue, row.unit))
    return LedgerSummary(as_of=as_of, units=tuple(rows), total=_total(rows))


def _total(rows: list[UnitRow]) -> UnitRow:
    opened = sum(row.opened for row in rows)

    def overall(rates: list[tuple[float | None, int]]) -> float | None:
        # Each unit's rate is its count over its tickets, so rate x tickets gives the count back.
        return sum(round(rate * n) for rate, n in rates if rate is not None) / opened if opened else None

    return UnitRow(
        unit=TOTAL_LABEL,
        opened=opened,
        closed=sum(row.closed for row in rows),
        overdue=sum(row.overdue for row in rows),
        response_rate=overall([(row.response_rate, row.opened) for row in rows]),
        on_time_close_rate=overall([(row.on_time_close_rate, row.opened) for row in rows]),
    )


def pending_decisions(engine: Engine, *, limit: int) -> tuple[tuple[Decision, ...], int]:
    """Tickets awaiting a leader now: extension requests, and escalated (督办) tickets not closed.

    Returns the first ``limit`` (soonest due first) and how many there are in all.
    """
    c = t.tickets.c
    waiting = or_(
        c.status == TicketStatus.EXTENSION_REQUESTED.value,
        and_(c.escalations > 0, c.status != TicketStatus.CLOSED.value),
    )
    listed = (
        select(c.id, c.unit, c.status, c.summary, c.due_at, c.escalations)
        .where(waiting)
        .order_by(c.due_at.is_(None), c.due_at, c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        total = int(connection.execute(select(func.count()).where(waiting)).scalar_one())
        rows = connection.execute(listed).all() if limit else []
    decisions = []
    for ticket_id, unit, status, summary, due_at, escalations in rows:
        reasons = []
        if status == TicketStatus.EXTENSION_REQUESTED.value:
            reasons.append("申请延期，待审批")
        if escalations:
            reasons.append(f"已督办{escalations}次，尚未办结")
        decisions.append(
            Decision(
                ticket_id=str(ticket_id),
                unit=str(unit),
                status=str(status),
                reason="；".join(reasons),
                summary=mask_text(str(summary)),  # typed by staff: may quote a phone
                due_at=due_at,
                escalations=int(escalations),
            )
        )
    return tuple(decisions), total
