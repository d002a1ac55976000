"""Reporting periods in China time: a day, a Monday-to-Sunday week or a calendar month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args

from briefing.errors import PeriodError
from core.china_time import CHINA_TZ

PeriodKind = Literal["day", "week", "month"]
PERIOD_KINDS: tuple[str, ...] = get_args(PeriodKind)
PERIOD_NAMES: dict[str, str] = {"day": "日报", "week": "周报", "month": "月报"}


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in China time, of one kind; ``start`` is midnight of its first day."""

    kind: PeriodKind
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        """The period's first calendar day."""
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The period's last calendar day (inclusive)."""
        return (self.end - timedelta(days=1)).date()

    @property
    def label(self) -> str:
        """How the period is named in the briefing: a day, a range of days or a month."""
        if self.kind == "day":
            return f"{self.first_day:%Y年%m月%d日}"
        if self.kind == "week":
            return f"{self.first_day:%Y年%m月%d日}至{self.last_day:%m月%d日}"
        return f"{self.first_day:%Y年%m月}"

    @property
    def hours(self) -> int:
        """Whole hours in the period."""
        return int((self.end - self.start).total_seconds() // 3600)

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_of(self.first_day - timedelta(days=1), self.kind)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ)


def period_of(day: date, kind: str) -> Period:
    """The day itself, the Monday-to-Sunday week holding it, or its calendar month."""
    if kind == "day":
        return Period("day", _midnight(day), _midnight(day + timedelta(days=1)))
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period("week", _midnight(monday), _midnight(monday + timedelta(days=7)))
    if kind == "month":
        first = day.replace(day=1)
        following = (
            first.replace(year=first.year + 1, month=1)
            if first.month == 12
            else first.replace(month=first.month + 1)
        )
        return Period("month", _midnight(first), _midnight(following))
    raise PeriodError(kind, f"未知的简报周期（可选：{'、'.join(PERIOD_KINDS)}）")


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date, or :class:`PeriodError` saying how to write one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(text, "无法识别的日期（应为 YYYY-MM-DD）") from None
