"""The scheduled briefing: when it runs, what it covers, where its files go, and the loop.

At the configured time (e.g. 07:30 China time) the briefing of the last complete day is built — or
of the week or month holding that day — written to ``<home>/briefings/舆情日报-YYYY-MM-DD.docx`` and
sent to the template's recipients. A start after a missed slot (the service was down at 07:30)
builds the missing file at once. The loop sleeps on a stop Event, so SIGTERM ends it promptly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from threading import Event

from briefing.errors import BriefingError, PeriodError
from briefing.period import PERIOD_NAMES, Period, period_of
from core.china_time import CHINA_TZ

log = logging.getLogger(__name__)
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


def last_slot(now: datetime, at: time) -> datetime:
    """The latest daily slot at or before ``now``."""
    local = now.astimezone(CHINA_TZ)
    today = datetime.combine(local.date(), at, tzinfo=CHINA_TZ)
    return today if today <= local else today - timedelta(days=1)


def next_slot(now: datetime, at: time) -> datetime:
    """The first daily slot strictly after ``now``."""
    return last_slot(now, at) + timedelta(days=1)


@dataclass(frozen=True)
class Plan:
    """When to run: daily ``at`` a time, or ``every`` so often (for demos and tests)."""

    at: time | None = None
    every: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.at is None) == (self.every is None):
            raise PeriodError(str(self), "请指定 --at HH:MM 或 --every 秒数 之一")
        if self.every is not None and self.every <= timedelta(0):
            raise PeriodError(str(self.every), "间隔必须大于 0")

    def after(self, now: datetime) -> datetime:
        """The next run after ``now``."""
        if self.every is not None:
            return now + self.every
        return next_slot(now, self.at or time())


def run_schedule(
    job: Callable[[datetime], object],
    plan: Plan,
    *,
    stop: Event,
    clock: Callable[[], datetime] = lambda: datetime.now(CHINA_TZ),
    missed: Callable[[datetime], bool] | None = None,
) -> int:
    """Call ``job(slot)`` at every slot of ``plan`` until ``stop`` is set; returns the runs made.

    ``missed(slot)`` says whether the latest past slot's work is absent (daily plans only); if so it
    runs at once. A :class:`BriefingError` (archive down, file not writable) is logged and the next
    slot tries again; anything else stops the loop loudly.
    """
    from response_ledger.errors import DeliveryError

    runs = 0

    def attempt(slot: datetime) -> None:
        nonlocal runs
        try:
            job(slot)
        except (BriefingError, DeliveryError) as exc:
            log.error("event=briefing-failed slot=%s error=%s", slot.isoformat(), exc)
        runs += 1

    now = clock()
    if plan.at is not None and missed is not None:
        previous = last_slot(now, plan.at)
        if missed(previous):
            attempt(previous)
    while not stop.is_set():
        slot = plan.after(now)
        if stop.wait(max((slot - clock()).total_seconds(), 0.0)):
            break
        attempt(slot)
        now = slot
    return runs
