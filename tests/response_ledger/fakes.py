"""Fakes of the ledger's own ports (repositories, unit of work, notifier) for unit tests."""

from __future__ import annotations

from datetime import date, datetime

from response_ledger.calendar import HolidayEntry
from response_ledger.model import Ticket
from response_ledger.reminders import Notice
from response_ledger.repository import HolidayRepository, TicketRepository
from response_ledger.unit_of_work import UnitOfWork
from response_ledger.workflow import OPEN_STATUSES, TicketStatus


class FakeTickets(TicketRepository):
    """Tickets in a dict; saving bumps versions like the SQL adapter."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[str, Ticket] = {}
        self.posts: dict[str, str] = {}
        self.pending: dict[str, str] = {}

    def _get(self, ticket_id: str) -> Ticket | None:
        return self.stored.get(ticket_id)

    def ticket_id_for_post(self, post_id: str) -> str | None:
        return self.pending.get(post_id) or self.posts.get(post_id)

    def link_post(self, post_id: str, ticket_id: str) -> None:
        self.pending[post_id] = ticket_id

    def open_ticket_id_for_event(self, event_key: str) -> str | None:
        live = OPEN_STATUSES | {TicketStatus.ANSWERED}
        candidates = {**self.stored, **self.seen}.values()
        return next((t.id for t in candidates if t.event_key == event_key and t.status in live), None)

    def open_ticket_ids(self) -> list[str]:
        live = OPEN_STATUSES | {TicketStatus.ANSWERED}
        return [t.id for t in {**self.stored, **self.seen}.values() if t.status in live]

    def update_deadlines(self, ticket: Ticket) -> None:
        self.stored[ticket.id] = ticket

    def save(self) -> None:
        for ticket in self.seen.values():
            if ticket.new_events:
                ticket.version += 1
                ticket.new_events.clear()
            self.stored[ticket.id] = ticket
        self.posts.update(self.pending)
        self.pending.clear()


class FakeHolidays(HolidayRepository):
    """The holiday table as a dict."""

    def __init__(self) -> None:
        self.rows: dict[date, HolidayEntry] = {}
        self.years: dict[int, tuple[str, datetime]] = {}

    def entries(self) -> list[HolidayEntry]:
        return [self.rows[d] for d in sorted(self.rows)]

    def _put(self, entry: HolidayEntry) -> None:
        self.rows[entry.day] = entry

    def _remove(self, day: date) -> None:
        self.rows.pop(day, None)

    def complete_years(self) -> dict[int, tuple[str, datetime]]:
        return dict(sorted(self.years.items()))

    def _mark(self, year: int, by: str, at: datetime) -> None:
        self.years[year] = (by, at)

    def _unmark(self, year: int) -> None:
        self.years.pop(year, None)


class FakeUnitOfWork(UnitOfWork):
    """Counts commits; rollback is a no-op because nothing is staged outside the objects."""

    def __init__(self) -> None:
        self.tickets = FakeTickets()
        self.holidays = FakeHolidays()
        self.commits = 0

    def commit(self) -> None:
        self.tickets.save()
        self.commits += 1

    def rollback(self) -> None:
        pass


class FakeNotifier:
    """Keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)
