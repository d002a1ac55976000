"""Enriched posts for the dashboard tests, a helper that writes them to an embedded archive, and
accounts on a migrated ledger database."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from core.china_time import CHINA_TZ
from core.messages import SCHEMA_VERSION, EnrichedPost, Source, post_id
from dashboard.accounts import AccountError, Accounts
from dashboard.auth import User
from response_ledger.db import migrated_engine

XSS_TITLE = '<script>alert("xss")</script> [点此领取补贴](http://evil.example/) **加急**'


def enriched_post(
    native_id: str,
    *,
    source: Source = "board",
    channel: str = "市长信箱",
    title: str = "小区夜间施工噪音扰民",
    text: str = "晚上十一点以后仍在施工，影响休息，希望有关部门处理。",
    published_at: datetime,
    sentiment: str = "negative",
    topic: str = "城市管理",
    risk: int = 40,
    reply_status: str | None = "pending",
) -> EnrichedPost:
    """One classified post with the given facts and plausible defaults for the rest."""
    post = EnrichedPost(
        schema=SCHEMA_VERSION,
        id=post_id(source, channel, native_id),
        source=source,
        channel=channel,
        url=f"https://example.gov.cn/{source}/{native_id}",
        title=title,
        text=text,
        published_at=published_at.astimezone(CHINA_TZ).isoformat(timespec="seconds"),
        fetched_at=published_at.astimezone(CHINA_TZ).isoformat(timespec="seconds"),
        region="市辖区",
        sentiment={"label": sentiment, "score": 0.9},
        topic={"label": topic, "score": 0.8, "in_remit": True, "unit": "城管执法局"},
        appeal_type="投诉",
        risk={"score": risk, "reasons": ["负面情绪"] if sentiment == "negative" else []},
        event_id=f"event-{native_id}",
        models={"sentiment": "test@1", "topic": "test@1"},
    )
    if reply_status is not None:
        post["reply"] = {"status": reply_status, "replied_at": None, "unit": None, "text": None}
    return post


def sample_posts(today: datetime) -> list[EnrichedPost]:
    """Five posts of every source and sentiment: two published on ``today`` (China time), three before.

    Newest first they are b1, x1 (today), then h1, n1, w1 (three days earlier); two are negative.
    """
    midnight = today.astimezone(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = midnight - timedelta(days=3)
    # Today's two posts come early in the day, yet never after ``today`` itself: in a run just after
    # midnight they would otherwise lie in the future, newer than a post a test publishes "now".
    elapsed = today - midnight
    b1_at, x1_at = (
        midnight + min(timedelta(minutes=30), elapsed / 2),
        midnight + min(timedelta(minutes=10), elapsed / 6),
    )
    return [
        enriched_post(
            "w1",
            source="weibo",
            channel="本地生活号",
            title="地铁新线开通，点赞！",
            text="通勤方便多了。",
            published_at=earlier + timedelta(hours=7),
            sentiment="positive",
            topic="交通出行",
            risk=5,
            reply_status=None,
        ),
        enriched_post("b1", published_at=b1_at, risk=55),
        enriched_post(
            "h1",
            source="hotline",
            channel="12345",
            title="咨询公积金提取流程",
            text="想了解提取需要哪些材料。",
            published_at=earlier + timedelta(hours=9),
            sentiment="neutral",
            topic="住房保障",
            risk=10,
            reply_status="replied",
        ),
        enriched_post(
            "x1",
            title=XSS_TITLE,
            text="<img src=x onerror=alert(1)> [链接](javascript:alert(1))",
            published_at=x1_at,
            risk=90,
        ),
        enriched_post(
            "n1",
            source="news",
            channel="都市报",
            title="多部门联合整治占道经营",
            text="记者从市城管局获悉。",
            published_at=earlier + timedelta(hours=8),
            sentiment="neutral",
            risk=20,
            reply_status=None,
        ),
    ]


def write_archive(path: Path, posts: Sequence[EnrichedPost]) -> None:
    """Index ``posts`` into the embedded archive at ``path`` (created if missing) and close it."""
    archive = EmbeddedArchive(path)
    try:
        archive.index(posts)
        archive.refresh()
    finally:
        archive.close()


@functools.cache
def ledger_engine(ledger_url: str) -> Engine:
    """One engine per ledger database of the test session, its schema migrated (as a process's is)."""
    return migrated_engine(ledger_url)


def accounts(ledger_url: str) -> Accounts:
    """The accounts of the ledger database at ``ledger_url`` (migrated first)."""
    return Accounts(ledger_engine(ledger_url))


def add_account(ledger_url: str, user: User) -> Accounts:
    """The accounts at ``ledger_url``, with ``user``'s account active (as given: role and unit).

    The dashboard reads the account again at every run and every click, so a session a test puts
    in place needs the account behind it.
    """
    store = accounts(ledger_url)
    if store.active(user.username) is None:
        try:
            store.add(
                user.username,
                user.display_name,
                user.role,
                "test-pass-1",
                datetime.now(CHINA_TZ),
                unit=user.unit,
            )
        except AccountError:  # there, but disabled (a shared PostgreSQL keeps earlier runs' accounts)
            store.enable(user.username, datetime.now(CHINA_TZ))
    return store
