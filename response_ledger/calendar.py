"""Working days on the State Council's schedule: chinesecalendar plus the admin's holiday table.

``chinesecalendar`` knows 2004–2026 and raises for later years. The admin's table (stored in the
ledger, edited on 系统管理 or from the CLI) overrides single days. A year counts as scheduled from the
table only once the administrator has marked it complete (``complete_years``, the ledger's
``ledger_holiday_years``): entering one date of a year never makes the year known, because the rest
of its holidays may still be missing. In a year marked complete every day the table does not list
is an ordinary weekday or weekend; in a year the package covers, days the table does not list are
the package's. A day in a year nobody scheduled counts weekends only, and every deadline that
touches such a day is marked provisional so the office knows to re-check it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache

import chinese_calendar

from core.china_time import CHINA_TZ


@dataclass(frozen=True)
class HolidayEntry:
    """One row of the admin's table: a day that is off (假日) or a 调休 working day."""

    day: date
    is_workday: bool
    name: str = ""


@lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    """Whether chinesecalendar holds the State Council's schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    """Answers "is this a working day?" and "do we actually know this year's schedule?"."""

    def __init__(self, entries: Iterable[HolidayEntry] = (), complete_years: Iterable[int] = ()) -> None:
        self._overrides = {entry.day: entry.is_workday for entry in entries}
        self._complete = frozenset(complete_years)

    def is_scheduled(self, day: date) -> bool:
        """Whether ``day``'s year has an official schedule (the package, or the table marked complete)."""
        return day.year in self._complete or package_covers(day.year)

    def is_workday(self, day: date) -> bool:
        """A working day: the table first, then (unless the table's year is complete) the package,
        else Monday to Friday."""
        override = self._overrides.get(day)
        if override is not None:
            return override
        if day.year not in self._complete and package_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5


def end_of_day(day: date) -> datetime:
    """The last second of ``day`` in China time, which is how a day-based limit ends (民法典 203)."""
    return datetime.combine(day, time(23, 59, 59), CHINA_TZ)
