"""The scheduled briefing's calendar: the time of day, what a slot covers, where its files go.

A daily slot (e.g. 07:30 China time) reports the day before it; a weekly one, on a Monday, the
week before; a monthly one, on the 1st, the month before — always a period that is over. The
schedule itself (APScheduler triggers, catching up, persistence) is :mod:`yuqing.scheduler`; one
run is :mod:`briefing.jobs`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from briefing.errors import PeriodError
from briefing.period import PERIOD_NAMES, Period, period_of
from core.china_time import CHINA_TZ

DIRECTORY = "briefings"
_AT = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_at(text: str) -> time:
    """``HH:MM`` (24-hour, China time) or :class:`PeriodError`."""
    found = _AT.fullmatch(text.strip())
    if found is None:
        raise PeriodError(text, "无法识别的时间（应为 HH:MM，如 07:30）")
    return time(int(found.group(1)), int(found.group(2)))


def briefings_dir(home: Path) -> Path:
    """Where scheduled briefings are kept: ``<home>/briefings``."""
    return home / DIRECTORY


def file_name(period: Period, suffix: str = ".docx") -> str:
    """``舆情日报-2026-03-05.docx`` (周报/月报 for weeks and months, dated by their first day)."""
    return f"舆情{PERIOD_NAMES[period.kind]}-{period.first_day.isoformat()}{suffix}"


def covered_period(slot: datetime, kind: str) -> Period:
    """The period a run at ``slot`` reports: the one holding the day before the slot's day."""
    day: date = slot.astimezone(CHINA_TZ).date() - timedelta(days=1)
    return period_of(day, kind)
