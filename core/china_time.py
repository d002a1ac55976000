"""China time, defined once: the zone every stored moment is written in and how a moment is read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.errors import MessageError

CHINA_TZ = timezone(timedelta(hours=8))


def now_iso() -> str:
    """The current moment as ISO 8601 in China time; only entry points and adapters call this."""
    return datetime.now(CHINA_TZ).isoformat(timespec="seconds")


def parse_time(value: str, *, field: str = "published_at") -> datetime:
    """Parse an ISO 8601 moment; a naive one is taken as China time."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise MessageError(f"not an ISO 8601 time: {value!r}", field=field) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TZ)


def china_time(moment: datetime) -> datetime:
    """``moment`` in China time; a naive moment is taken as China time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CHINA_TZ)
    return moment.astimezone(CHINA_TZ)
