"""A fixed data set for the briefing tests: posts around 2026-03-05 and a ledger of tickets.

The tests compute every expected figure from these lists themselves, never through the briefing's
code, and compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from core.china_time import CHINA_TZ, parse_time
from core.messages import EnrichedPost
from response_ledger import tables as t
from tests.archive.samples import enriched

DAY = date(2026, 3, 5)
XSS = '<script>alert("xss")</script>工地欠薪'
MIDNIGHT = datetime(2026, 3, 5, tzinfo=CHINA_TZ)
NOW = MIDNIGHT + timedelta(days=1, hours=7, minutes=30)  # the next morning, 07:30


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A moment ``days`` after 2026-03-05 00:00 China time."""
    return MIDNIGHT + timedelta(days=days, hours=hour, minutes=minute)


def _post(
    native: str,
    source: Any,
    moment: datetime,
    *,
    topic: str,
    sentiment: str = "neutral",
    risk: int = 10,
    event: str | None = None,
    title: str = "",
    text: str = "群众反映的问题。",
) -> EnrichedPost:
    in_remit = topic != "其他"
    post = enriched(
        source,
        "样例渠道",
        native,
        published_at=moment.isoformat(),
        title=title,
        text=text,
        sentiment=sentiment,
        risk=risk,
        event_id=event,
        topic=topic,
        metrics={"reposts": int(native[1:]) % 7, "comments": 1},
    )
    unit = "区生态环境分局" if in_remit else None
    post["topic"] = {"label": topic, "score": 0.8, "in_remit": in_remit, "unit": unit}
    return post


def posts() -> list[EnrichedPost]:
    """Posts of the day (a 10:00 spike of 环境保护), of the day before, and outside both."""
    noise = [
        _post(
            f"n{i}",
            "weibo" if i % 2 else "board",
            at(0, 10, 5 * i + 1),
            topic="环境保护",
            sentiment="negative" if i < 5 else "neutral",
            risk=85 if i == 0 else 50,
            event="ev-noise",
            title=XSS if i == 0 else f"夜间施工噪音扰民{i}",
            text="工地夜间施工，噪音扰民严重。",
        )
        for i in range(8)
    ]
    return [
        *noise,
        _post("c1", "board", at(0, 14), topic="劳动保障", sentiment="negative", risk=92, event="ev-wage",
              title="农民工讨薪", text="工程款拖欠，农民工讨薪无门。"),
        _post("c2", "board", at(0, 15), topic="劳动保障", risk=30, event="ev-wage", title="欠薪求助"),
        _post("c3", "hotline", at(0, 9), topic="其他", risk=10, event="ev-c3", title="咨询天气"),
        _post("c4", "news", at(0, 23, 59), topic="交通运输", sentiment="positive", risk=5, event="ev-c4",
              title="地铁新线开通"),
        _post("c5", "hotline", at(0, 0, 0), topic="交通运输", sentiment="negative", risk=81, event="ev-c5",
              title="路灯不亮"),
        # The day before.
        _post("p1", "board", at(-1, 9), topic="劳动保障", sentiment="negative", risk=40, event="ev-p1"),
        _post("p2", "weibo", at(-1, 10), topic="交通运输", risk=20, event="ev-p2"),
        _post("p3", "weibo", at(-1, 11), topic="交通运输", risk=20, event="ev-p3"),
        _post("p4", "hotline", at(-1, 12), topic="其他", sentiment="negative", risk=60, event="ev-p4"),
        _post("p5", "hotline", at(-1, 23, 59), topic="教育文体", risk=10, event="ev-p5"),
        # Outside both periods.
        _post("o1", "board", at(1, 0, 0), topic="环境保护", sentiment="negative", risk=99, event="ev-noise"),
        _post("o2", "weibo", at(-2, 23, 59), topic="劳动保障", risk=95, event="ev-wage"),
    ]  # fmt: skip


def published(post: EnrichedPost) -> datetime:
    """A post's publication moment."""
    return parse_time(post["published_at"])


def ticket(
    tid: str,
    unit: str,
    opened: datetime,
    status: str,
    *,
    due: datetime | None,
    respond_due: datetime | None = None,
    answered: datetime | None = None,
    closed: datetime | None = None,
    escalations: int = 0,
) -> dict[str, Any]:
    """One ledger row with the columns the briefing reads and plausible values for the rest."""
    return {
        "id": tid, "ticket_class": "12345-complaint", "source": "hotline", "post_id": f"hotline:x:{tid}",
        "event_key": None, "summary": f"诉求摘要 {tid}", "url": "", "unit": unit, "status": status,
        "found_at": opened, "opened_at": opened, "sign_rule": None, "respond_rule": "workdays:5",
        "close_rule": "workdays:15", "max_extension": None, "sign_due_at": None,
        "respond_due_at": respond_due,
        "due_at": due, "provisional": False, "signed_at": None, "answered_at": answered, "closed_at": closed,
        "answer_text": "", "satisfaction": None, "escalations": escalations,
        "handling_s": int((closed - opened).total_seconds()) if closed else None, "version": 1,
    }  # fmt: skip


A, B, C = "区住房和城乡建设局", "区生态环境分局", "区人力资源和社会保障局"


def tickets() -> list[dict[str, Any]]:
    """Tickets opened in, before and after the day; closed in it, late, overdue, escalated, extended."""
    return [
        ticket("T1", A, at(0, 9), "已办结", respond_due=at(2, 0), due=at(10, 0), answered=at(0, 12),
               closed=at(0, 20)),
        ticket("T2", A, at(0, 10), "办理中", respond_due=at(2, 0), due=at(15, 0)),
        ticket("T3", B, at(0, 11), "已答复", respond_due=at(2, 0), due=at(15, 0), answered=at(3, 0)),
        ticket("T4", B, at(-10, 9), "办理中", due=at(-1, 12), escalations=1),
        ticket("T5", C, at(-20, 9), "已办结", due=at(-5, 0), answered=at(-1, 0), closed=at(0, 8)),
        ticket("T6", C, at(-3, 9), "延期审核中", due=at(5, 0)),
        ticket("T7", A, at(-2, 9), "已办结", due=at(-1, 0), answered=at(0, 9), closed=at(1, 10)),
        ticket("T8", B, at(1, 9), "待签收", due=at(16, 0)),
        ticket("T9", C, at(0, 13), "已办结", respond_due=at(1, 0), due=at(10, 0), answered=at(0, 15),
               closed=at(0, 18), escalations=2),
        ticket("T10", A, at(0, 16), "暂停", respond_due=at(2, 0), due=None, escalations=1),
    ]  # fmt: skip


def write_tickets(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ticket rows into a migrated ledger."""
    with engine.begin() as connection:
        connection.execute(insert(t.tickets), list(rows))
