"""Deadline rules and the pure arithmetic that turns a start moment into a due moment.

Day counting follows 民法典 articles 201–203: the start day is not counted; a month-based limit ends on
the corresponding day of the last month, or that month's last day where it has none; a day-based
limit ends at the end of its last day; a last day that is not a working day moves to the next
working day. Pauses are not counted; approved extensions lengthen the limit. Both come from events.
"""

from __future__ import annotations

import calendar as _stdcal
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from core.china_time import china_time
from response_ledger.calendar import WorkCalendar, end_of_day
from response_ledger.errors import RuleError


class RuleKind(StrEnum):
    """How a limit is counted."""

    HOURS = "hours"  # wall clock, nights and holidays included (政务舆情 5/24/48 h)
    WORKDAYS = "workdays"  # State Council working days with 调休
    DAYS = "days"  # calendar days, last day moved off a holiday
    MONTHS = "months"  # calendar months (人大建议、政协提案)


_RULE = re.compile(r"^\s*(hours|workdays|days|months)\s*:\s*(\d{1,4})\s*$")


@dataclass(frozen=True)
class Rule:
    """A limit such as ``hours:48``, ``workdays:20`` or ``months:3``."""

    kind: RuleKind
    amount: int

    @classmethod
    def parse(cls, text: str) -> Rule:
        """Parse ``KIND:N``; raise :class:`RuleError` for anything else."""
        match = _RULE.match(text)
        if match is None:
            raise RuleError(text, "expected hours:N, workdays:N, days:N or months:N")
        amount = int(match.group(2))
        if amount < 1:
            raise RuleError(text, "the amount must be at least 1")
        return cls(RuleKind(match.group(1)), amount)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.amount}"


@dataclass(frozen=True)
class Pause:
    """A stretch during which the clock stood still; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Due:
    """A due moment, and whether it rests on a year without an official holiday schedule."""

    at: datetime
    provisional: bool = False

    def __str__(self) -> str:
        text = self.at.isoformat(timespec="seconds")
        return f"{text} provisional" if self.provisional else text


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day where it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _stdcal.monthrange(year, month)[1]))


def compute_due(
    rule: Rule,
    start: datetime,
    calendar: WorkCalendar,
    *,
    pauses: Sequence[Pause] = (),
    extensions: Sequence[Rule] = (),
) -> Due | None:
    """When a limit counted from ``start`` ends; None while a pause is still open (the clock stopped).

    Extensions of the rule's own kind lengthen it; other kinds are counted on from the due moment.
    """
    if any(pause.end is None for pause in pauses):
        return None
    start = china_time(start)
    closed = [(china_time(p.start), china_time(p.end)) for p in pauses if p.end is not None]
    amount = rule.amount + sum(e.amount for e in extensions if e.kind == rule.kind)
    due = _count(Rule(rule.kind, amount), start, calendar, closed)
    for extra in extensions:
        if extra.kind != rule.kind:
            later = _count(extra, due.at, calendar, [])
            due = Due(later.at, due.provisional or later.provisional)
    return due


def _count(
    rule: Rule, start: datetime, calendar: WorkCalendar, pauses: Sequence[tuple[datetime, datetime]]
) -> Due:
    if rule.kind is RuleKind.HOURS:
        stopped = sum((b - max(a, start) for a, b in pauses if b > start), timedelta())
        return Due(start + timedelta(hours=rule.amount) + stopped)
    # A paused day is one the pause covers after its own start day: like the start day of a
    # limit, the day a pause begins has already been used.
    paused = {d for a, b in pauses for d in _days_after(a.date(), b.date())}
    provisional = False
    day = start.date()
    if rule.kind is RuleKind.WORKDAYS:
        counted = 0
        while counted < rule.amount:
            day += timedelta(days=1)
            provisional |= not calendar.is_scheduled(day)
            if day not in paused and calendar.is_workday(day):
                counted += 1
        return Due(end_of_day(day), provisional)
    if rule.kind is RuleKind.DAYS:
        day = _skip_paused(day, rule.amount, paused)
    else:
        day = add_months(day, rule.amount) + timedelta(days=len({d for d in paused if d > day}))
    # 民法典 203: a last day on a holiday (weekends included) moves to the first working day after.
    provisional |= not calendar.is_scheduled(day)
    while not calendar.is_workday(day):
        day += timedelta(days=1)
        provisional |= not calendar.is_scheduled(day)
    return Due(end_of_day(day), provisional)


def _days_after(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range(1, (last - first).days + 1)]


def _skip_paused(day: date, amount: int, paused: set[date]) -> date:
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if day not in paused:
            counted += 1
    return day
