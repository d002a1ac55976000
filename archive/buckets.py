"""Time buckets of the volume histogram: hour, day or week (from Monday) in China time.

China has kept UTC+8 without daylight saving since 1991, so a bucket is a fixed number of
milliseconds and both archives can cut and fill buckets with plain arithmetic.
"""

from __future__ import annotations

from datetime import datetime

from core.china_time import CHINA_TZ

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
_OFFSET_MS = 8 * HOUR_MS  # China time
# 1970-01-01 was a Thursday: shift by three days so that weeks start on Monday.
_WEEK_SHIFT_MS = _OFFSET_MS + 3 * DAY_MS
STEP_MS = {"hour": HOUR_MS, "day": DAY_MS, "week": WEEK_MS}


def bucket_start(epoch_ms: int, interval: str) -> int:
    """The start (epoch ms) of the China-time bucket holding ``epoch_ms``."""
    if interval == "hour":
        return epoch_ms // HOUR_MS * HOUR_MS
    shift = _OFFSET_MS if interval == "day" else _WEEK_SHIFT_MS
    step = STEP_MS[interval]
    return (epoch_ms + shift) // step * step - shift


def bucket_sql(column: str, interval: str) -> str:
    """SQL for :func:`bucket_start` of an epoch-ms column (posts after 1970: integer division floors)."""
    if interval == "hour":
        return f"({column} / {HOUR_MS} * {HOUR_MS})"
    shift = _OFFSET_MS if interval == "day" else _WEEK_SHIFT_MS
    step = STEP_MS[interval]
    return f"(({column} + {shift}) / {step} * {step} - {shift})"


def fill(counts: list[tuple[int, int]], interval: str) -> list[tuple[datetime, int]]:
    """``(bucket start, count)`` pairs from the first to the last bucket, missing buckets as 0."""
    if not counts:
        return []
    found = dict(counts)
    step = STEP_MS[interval]
    first, last = min(found), max(found)
    return [
        (datetime.fromtimestamp(key / 1000, CHINA_TZ), found.get(key, 0))
        for key in range(first, last + step, step)
    ]
