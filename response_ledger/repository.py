"""Repositories: the ledger's ports for tickets and the holiday table, with SQLAlchemy adapters.

Writes use optimistic concurrency: an update names the version it read, and a ticket someone else
changed in between updates no row, which becomes :class:`ConcurrencyConflict` and nothing is written.
"""

from __future__ import annotations

import abc
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from response_ledger import tables as t
from response_ledger.calendar import HolidayEntry, WorkCalendar
from response_ledger.deadlines import Rule
from response_ledger.errors import ConcurrencyConflict, TicketNotFound
from response_ledger.model import Event, Limits, Ticket
from response_ledger.workflow import OPEN_STATUSES, Action, TicketStatus


class TicketRepository(abc.ABC):
    """Tickets by id, by post and by event; remembers what it handed out so the unit of work saves it."""

    def __init__(self) -> None:
        self.seen: dict[str, Ticket] = {}

    def add(self, ticket: Ticket) -> None:
        """Track a new ticket; it is written on commit."""
        self.seen[ticket.id] = ticket

    def get(self, ticket_id: str) -> Ticket:
        """The ticket with its events, or :class:`TicketNotFound`."""
        if ticket_id in self.seen:
            return self.seen[ticket_id]
        ticket = self._get(ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        self.seen[ticket_id] = ticket
        return ticket

    @abc.abstractmethod
    def _get(self, ticket_id: str) -> Ticket | None: ...

    @abc.abstractmethod
    def ticket_id_for_post(self, post_id: str) -> str | None:
        """The ticket a post opened or merged into, if any."""

    @abc.abstractmethod
    def link_post(self, post_id: str, ticket_id: str) -> None:
        """Remember that ``post_id`` belongs to ``ticket_id`` (written with the ticket)."""

    @abc.abstractmethod
    def open_ticket_id_for_event(self, event_key: str) -> str | None:
        """An open (or answered, not yet closed) ticket of the same event, for 并单."""

    @abc.abstractmethod
    def open_ticket_ids(self) -> list[str]:
        """Every ticket that is not closed, for reminders and deadline recomputation."""

    @abc.abstractmethod
    def update_deadlines(self, ticket: Ticket) -> None:
        """Write recomputed due columns at once, without an event or a version bump."""

    @abc.abstractmethod
    def save(self) -> None:
        """Write new tickets, changes and events of everything seen; raise on a version conflict."""


class HolidayRepository(abc.ABC):
    """The admin's holiday table, and the years whose schedule it holds completely."""

    @abc.abstractmethod
    def entries(self) -> list[HolidayEntry]:
        """Every row, by day."""

    @abc.abstractmethod
    def complete_years(self) -> dict[int, tuple[str, datetime]]:
        """The years marked complete, each with who marked it and when."""

    def put(self, entry: HolidayEntry) -> None:
        """Add or replace the row for ``entry.day``."""
        self._put(entry)
        self._calendar = None

    def remove(self, day: date) -> None:
        """Drop the row for ``day`` if there is one."""
        self._remove(day)
        self._calendar = None

    def mark_year(self, year: int, *, complete: bool, by: str = "", at: datetime | None = None) -> None:
        """Mark ``year``'s schedule complete (by whom, when) or not complete any more."""
        if complete:
            if at is None:
                raise ValueError("marking a year complete needs the moment it was marked")
            self._mark(year, by, at)
        else:
            self._unmark(year)
        self._calendar = None

    @abc.abstractmethod
    def _put(self, entry: HolidayEntry) -> None: ...

    @abc.abstractmethod
    def _remove(self, day: date) -> None: ...

    @abc.abstractmethod
    def _mark(self, year: int, by: str, at: datetime) -> None: ...

    @abc.abstractmethod
    def _unmark(self, year: int) -> None: ...

    _calendar: WorkCalendar | None = None

    def calendar(self) -> WorkCalendar:
        """The working-day calendar with this table applied, read once per unit of work.

        Intake schedules every ticket of a batch; one read of the table serves them all.
        """
        if self._calendar is None:
            self._calendar = WorkCalendar(self.entries(), self.complete_years())
        return self._calendar


_RULE_COLUMNS = ("sign_rule", "respond_rule", "close_rule", "max_extension")
_PLAIN = (
    "ticket_class", "source", "post_id", "event_key", "summary", "url", "unit", "found_at", "opened_at",
    "sign_due_at", "respond_due_at", "due_at", "provisional", "signed_at", "answered_at", "closed_at",
    "answer_text", "satisfaction", "escalations", "handling_s",
)  # fmt: skip


def _row(ticket: Ticket) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(ticket, name) for name in _PLAIN}
    limits = ticket.limits
    for column, rule in zip(
        _RULE_COLUMNS, (limits.sign, limits.respond, limits.close, limits.max_extension), strict=True
    ):
        values[column] = None if rule is None else str(rule)
    values["status"] = ticket.status.value
    return values


def _ticket(row: Any, events: list[Event]) -> Ticket:
    rules = [None if row[c] is None else Rule.parse(row[c]) for c in _RULE_COLUMNS]
    fields = {name: row[name] for name in _PLAIN}
    return Ticket(
        id=row["id"], limits=Limits(*rules), status=TicketStatus(row["status"]), version=row["version"],
        events=events, **fields,
    )  # fmt: skip


class SqlTicketRepository(TicketRepository):
    """Tickets in the ledger tables, on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection
        self._links: list[tuple[str, str]] = []

    def _get(self, ticket_id: str) -> Ticket | None:
        row = self.connection.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).mappings().first()
        if row is None:
            return None
        rows = self.connection.execute(
            select(t.events).where(t.events.c.ticket_id == ticket_id).order_by(t.events.c.seq)
        ).mappings()
        events = [
            Event(r["seq"], Action(r["action"]), r["actor"], r["at"], r["comment"], r["data"]) for r in rows
        ]
        return _ticket(row, events)

    def ticket_id_for_post(self, post_id: str) -> str | None:
        """Look in pending links first: a batch can carry the same post twice."""
        for pending, ticket_id in self._links:
            if pending == post_id:
                return ticket_id
        query = select(t.ticket_posts.c.ticket_id).where(t.ticket_posts.c.post_id == post_id)
        return self.connection.execute(query).scalar()

    def link_post(self, post_id: str, ticket_id: str) -> None:
        """Queued until :meth:`save`, after the ticket row exists."""
        self._links.append((post_id, ticket_id))

    def open_ticket_id_for_event(self, event_key: str) -> str | None:
        """Also looks at tickets opened earlier in the same unit of work."""
        live = {s.value for s in OPEN_STATUSES} | {TicketStatus.ANSWERED.value}
        for ticket in self.seen.values():
            if ticket.event_key == event_key and ticket.status.value in live:
                return ticket.id
        query = (
            select(t.tickets.c.id)
            .where(and_(t.tickets.c.event_key == event_key, t.tickets.c.status.in_(live)))
            .order_by(t.tickets.c.opened_at)
            .limit(1)
        )
        return self.connection.execute(query).scalar()

    def open_ticket_ids(self) -> list[str]:
        """Ids only, so a caller can load and act on them one at a time."""
        live = [s.value for s in OPEN_STATUSES] + [TicketStatus.ANSWERED.value]
        return list(
            self.connection.execute(select(t.tickets.c.id).where(t.tickets.c.status.in_(live))).scalars()
        )

    def update_deadlines(self, ticket: Ticket) -> None:
        """Only the due columns: a concurrent staff action keeps its own version check intact."""
        self.connection.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket.id)
            .values(
                sign_due_at=ticket.sign_due_at, respond_due_at=ticket.respond_due_at,
                due_at=ticket.due_at, provisional=ticket.provisional,
            )
        )  # fmt: skip

    def save(self) -> None:
        """Insert new tickets, update changed ones under their version, append their events."""
        for ticket in self.seen.values():
            if not ticket.new_events:
                continue
            if ticket.version == 0:
                self.connection.execute(insert(t.tickets).values(id=ticket.id, version=1, **_row(ticket)))
            else:
                result = self.connection.execute(
                    update(t.tickets)
                    .where(and_(t.tickets.c.id == ticket.id, t.tickets.c.version == ticket.version))
                    .values(version=ticket.version + 1, **_row(ticket))
                )
                if result.rowcount != 1:
                    raise ConcurrencyConflict(ticket.id, ticket.version)
            self.connection.execute(
                insert(t.events),
                [
                    {"ticket_id": ticket.id, "seq": e.seq, "action": e.action.value, "actor": e.actor,
                     "at": e.at, "comment": e.comment, "data": dict(e.data)}
                    for e in ticket.new_events
                ],
            )  # fmt: skip
        if self._links:
            self.connection.execute(
                insert(t.ticket_posts), [{"post_id": p, "ticket_id": i} for p, i in self._links]
            )

    def committed(self) -> None:
        """After a commit: versions move on and nothing is pending."""
        for ticket in self.seen.values():
            if ticket.new_events:
                ticket.version += 1
                ticket.new_events.clear()
        self._links.clear()


class SqlHolidayRepository(HolidayRepository):
    """The holiday table on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def entries(self) -> list[HolidayEntry]:
        """Every row, by day."""
        rows = self.connection.execute(select(t.holidays).order_by(t.holidays.c.day)).mappings()
        return [HolidayEntry(r["day"], r["is_workday"], r["name"]) for r in rows]

    def _put(self, entry: HolidayEntry) -> None:
        # Delete-then-insert keeps this portable across SQLite and PostgreSQL.
        self._remove(entry.day)
        self.connection.execute(
            insert(t.holidays).values(day=entry.day, is_workday=entry.is_workday, name=entry.name)
        )

    def _remove(self, day: date) -> None:
        self.connection.execute(delete(t.holidays).where(t.holidays.c.day == day))

    def complete_years(self) -> dict[int, tuple[str, datetime]]:
        """The years marked complete, each with who marked it and when."""
        rows = self.connection.execute(select(t.holiday_years).order_by(t.holiday_years.c.year)).mappings()
        return {int(r["year"]): (str(r["marked_by"]), r["marked_at"]) for r in rows}

    def _mark(self, year: int, by: str, at: datetime) -> None:
        self._unmark(year)
        self.connection.execute(insert(t.holiday_years).values(year=year, marked_by=by[:100], marked_at=at))

    def _unmark(self, year: int) -> None:
        self.connection.execute(delete(t.holiday_years).where(t.holiday_years.c.year == year))
