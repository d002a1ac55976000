"""The service layer: each use case loads through a unit of work, acts on the domain, commits.

Callers pass ``now``; staff actions may pass the version they saw, so a form submitted over a ticket
someone else changed meanwhile is refused with :class:`ConcurrencyConflict` instead of overwriting,
and the unit they work for, so a ticket of another unit is refused with :class:`TicketOutsideUnit`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from response_ledger.calendar import HolidayEntry
from response_ledger.errors import ConcurrencyConflict, TicketOutsideUnit
from response_ledger.model import Ticket
from response_ledger.policy import Policy
from response_ledger.unit_of_work import UnitOfWork
from response_ledger.workflow import Action

_NAMESPACE = uuid.UUID("5b0c7a52-52a4-4f57-9d43-5f0e3c1e7a10")


def ticket_id_for_post(post_id: str) -> str:
    """A stable ticket id for a post, so two intakes of one post agree even across processes."""
    return "YQ-" + uuid.uuid5(_NAMESPACE, post_id).hex[:16]


def new_ticket(
    uow: UnitOfWork,
    policy: Policy,
    *,
    ticket_class: str,
    source: str,
    summary: str,
    unit: str,
    found_at: datetime,
    start: datetime,
    actor: str,
    post_id: str | None = None,
    event_key: str | None = None,
    url: str = "",
    comment: str = "",
    ticket_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Ticket:
    """Open a ticket in ``uow`` (not committed): by intake, or by a duty officer from any post.

    The clock starts at ``start`` (the receipt of the request); deadlines come from the class.
    """
    limits = policy.ticket_class(ticket_class).limits
    ticket = Ticket.open(
        actor=actor, at=start, comment=comment, data={"post_id": post_id, **(data or {})},
        id=ticket_id or (ticket_id_for_post(post_id) if post_id else "YQ-" + uuid.uuid4().hex[:16]),
        ticket_class=ticket_class, source=source, summary=summary, unit=unit, found_at=found_at,
        limits=limits, post_id=post_id, event_key=event_key, url=url,
    )  # fmt: skip
    ticket.schedule(uow.holidays.calendar())
    uow.tickets.add(ticket)
    if post_id:
        uow.tickets.link_post(post_id, ticket.id)
    return ticket


def load_ticket(uow: UnitOfWork, ticket_id: str, *, unit: str | None = None) -> Ticket:
    """The ticket ``ticket_id``, as its unit of ``unit`` (``None``: any unit) may see it.

    Raises :class:`TicketNotFound`, or :class:`TicketOutsideUnit` when ``unit`` does not hold it.
    """
    ticket = uow.tickets.get(ticket_id)
    if unit is not None and ticket.unit != unit:
        raise TicketOutsideUnit(ticket_id, unit)
    return ticket


def act(
    uow: UnitOfWork,
    ticket_id: str,
    action: Action,
    *,
    actor: str,
    now: datetime,
    comment: str = "",
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    unit: str | None = None,
) -> Ticket:
    """Apply one staff action and commit; the ticket's deadlines are recomputed from its events.

    ``unit`` is the unit the actor works for when they may act only on its tickets (staff).
    """
    ticket = load_ticket(uow, ticket_id, unit=unit)
    if expected_version is not None and ticket.version != expected_version:
        raise ConcurrencyConflict(ticket_id, expected_version)
    ticket.act(action, actor=actor, at=now, comment=comment, data=data)
    ticket.schedule(uow.holidays.calendar())
    uow.commit()
    return ticket


def recompute_open_deadlines(uow: UnitOfWork) -> int:
    """Recompute the deadlines of every unclosed ticket (after the holiday table changed); commit.

    Returns how many tickets changed. A recomputation is not a staff step, so it records no event
    and does not bump versions: it writes the due columns directly through the repository.
    """
    calendar = uow.holidays.calendar()
    changed = 0
    for ticket_id in uow.tickets.open_ticket_ids():
        ticket = uow.tickets.get(ticket_id)
        before = (ticket.sign_due_at, ticket.respond_due_at, ticket.due_at, ticket.provisional)
        ticket.schedule(calendar)
        if before != (ticket.sign_due_at, ticket.respond_due_at, ticket.due_at, ticket.provisional):
            uow.tickets.update_deadlines(ticket)
            changed += 1
    uow.commit()
    return changed


def set_holiday(uow: UnitOfWork, day: date, *, is_workday: bool, name: str = "") -> int:
    """Add or replace a row of the holiday table, then recompute open deadlines; returns how many moved."""
    uow.holidays.put(HolidayEntry(day, is_workday, name))
    return recompute_open_deadlines(uow)


def remove_holiday(uow: UnitOfWork, day: date) -> int:
    """Remove a row of the holiday table, then recompute open deadlines; returns how many moved."""
    uow.holidays.remove(day)
    return recompute_open_deadlines(uow)


def set_year_schedule(
    uow: UnitOfWork,
    year: int,
    entries: Iterable[HolidayEntry],
    *,
    complete: bool,
    by: str,
    at: datetime,
) -> int:
    """Replace ``year``'s rows of the holiday table with ``entries`` in one go (a State Council notice
    entered whole), mark the year complete or not, recompute open deadlines; returns how many moved.

    Every entry must fall in ``year`` (a ``ValueError`` otherwise, before anything is written).
    """
    wanted = list(entries)
    stray = sorted({entry.day for entry in wanted if entry.day.year != year})
    if stray:
        raise ValueError(f"dates outside {year}: {', '.join(day.isoformat() for day in stray)}")
    for entry in uow.holidays.entries():
        if entry.day.year == year:
            uow.holidays.remove(entry.day)
    for entry in wanted:
        uow.holidays.put(entry)
    uow.holidays.mark_year(year, complete=complete, by=by, at=at)
    return recompute_open_deadlines(uow)


def mark_year_complete(uow: UnitOfWork, year: int, *, complete: bool, by: str, at: datetime) -> int:
    """Mark ``year``'s schedule in the holiday table complete (or not), then recompute open deadlines."""
    uow.holidays.mark_year(year, complete=complete, by=by, at=at)
    return recompute_open_deadlines(uow)
