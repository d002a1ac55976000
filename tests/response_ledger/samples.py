"""Sample tickets and enriched posts for the ledger tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from response_ledger.calendar import WorkCalendar
from response_ledger.deadlines import Rule
from response_ledger.model import Limits, Ticket


def at(text: str) -> datetime:
    """A moment in China time from ``YYYY-MM-DDTHH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


COMPLAINT = Limits(
    Rule.parse("workdays:1"), Rule.parse("workdays:5"), Rule.parse("workdays:15"), Rule.parse("workdays:10")
)


def ticket(opened: str = "2026-09-01T09:00", limits: Limits = COMPLAINT, **fields: Any) -> Ticket:
    """A scheduled 12345 complaint opened at ``opened``."""
    values: dict[str, Any] = {
        "id": "T1",
        "ticket_class": "12345-complaint",
        "source": "hotline",
        "summary": "小区噪音扰民",
        "unit": "区生态环境分局",
        "found_at": at(opened),
        "limits": limits,
    }
    values.update(fields)
    made = Ticket.open(actor="值班员", at=at(opened), **values)
    made.schedule(WorkCalendar())
    return made


def post(native: str, source: str = "hotline", **fields: Any) -> EnrichedPost:
    """An enriched post with sensible defaults; ``fields`` override top-level keys."""
    value: dict[str, Any] = {
        "schema": 1,
        "id": f"{source}:demo:{native}",
        "source": source,
        "channel": "demo",
        "url": f"https://example.org/{native}",
        "title": "噪音扰民",
        "text": "夜间施工噪音扰民，请处理。",
        "published_at": "2026-09-01T09:00:00+08:00",
        "fetched_at": "2026-09-01T09:05:00+08:00",
        "sentiment": {"label": "negative", "score": 0.9},
        "topic": {"label": "环境保护", "score": 0.8, "in_remit": True, "unit": "区生态环境分局"},
        "appeal_type": "投诉",
        "risk": {"score": 40, "reasons": []},
        "event_id": f"ev-{native}",
        "models": {},
    }
    if source == "hotline":
        value["hotline"] = {"order_no": native, "appeal_type": "投诉", "caller": "138****0000"}
    if source == "board":
        value["reply"] = {"status": "pending"}
    value.update(fields)
    return value  # type: ignore[return-value]
