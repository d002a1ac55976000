"""What 值班监测 reads: the selection's figures, the newest posts with their badges and tickets, the
last day's volume per source and the pipeline's backlog.

Cached for ``TTL`` and shared by every session of the process, so many open screens cost one query.
Arguments are hashed by value: the services stand for their settings, the frozen :class:`Filters`
for the selection. The archive comes from the services' one provider.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from archive.base import SearchQuery
from classifiers.spikes import HOUR
from core.china_time import CHINA_TZ, parse_time
from core.messages import EnrichedPost
from dashboard.alerts import hour_floor, risk_badge, sentiment_badge
from dashboard.labels import EMPTY, REPLY_LABELS, SOURCE_LABELS, label
from dashboard.services import HASH_FUNCS, TTL, Services
from dashboard.tables import own_page
from response_ledger.alert_queries import tickets_of_posts

log = logging.getLogger(__name__)
# The badges and the 台账 column come before the long text, so they are on screen at 1440 px.
MONITOR_COLUMNS = (
    "发布时间",
    "来源",
    "标题",
    "情感",
    "风险",
    "台账",
    "话题",
    "摘要",
    "回复状态",
    "渠道",
    "链接",
)
SUMMARY_CHARS = 80


@dataclass(frozen=True)
class Filters:
    """What the user selected: exact source/sentiment/topic codes (``None`` = all) and a keyword query."""

    source: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    keyword: str = ""

    def query(self, *, size: int = 0, since: datetime | None = None) -> SearchQuery:
        """The archive query for this selection: ``size`` hits of posts published ``since`` or later."""
        filters = {
            name: value
            for name, value in (("source", self.source), ("sentiment", self.sentiment), ("topic", self.topic))
            if value
        }
        return SearchQuery(text=self.keyword.strip(), filters=filters, since=since, size=size)


@dataclass(frozen=True)
class Overview:
    """The headline figures of a selection."""

    total: int
    negative: int
    today: int

    @property
    def negative_share(self) -> float:
        """Negative posts as a fraction of all (0 when there are none)."""
        return self.negative / self.total if self.total else 0.0


@dataclass(frozen=True)
class MonitorPosts:
    """The monitor's table (plain text cells) and the post id of each row, in the same order."""

    table: pd.DataFrame
    ids: tuple[str, ...]


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def total(services: Services) -> int:
    """Posts in the whole archive; 0 when there is no archive yet."""
    if not services.has_archive():
        return 0
    return services.archive().count()


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def overview(services: Services, filters: Filters, today: date) -> Overview:
    """Total, negative and published-today counts of the selection; ``today`` is a China-time date."""
    store = services.archive()
    midnight = datetime.combine(today, time.min, tzinfo=CHINA_TZ)
    # The sentiment shares of the selection itself, so a sentiment filter is honoured (not overridden).
    by_sentiment = store.shares("sentiment", filters.query(), size=10)
    return Overview(
        total=store.count(filters.query()),
        negative=by_sentiment.get("negative", 0),
        today=store.count(filters.query(since=midnight)),
    )


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def topics(services: Services) -> list[str]:
    """Topic labels present in the archive, commonest first, for the topic filters."""
    return list(services.archive().shares("topic", size=100))


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def monitor_posts(services: Services, filters: Filters, limit: int) -> MonitorPosts:
    """The newest ``limit`` posts of the selection with badges and their ticket ids, newest first."""
    hits = services.archive().search(filters.query(size=limit)).hits
    ids = tuple(post["id"] for post in hits)
    tickets = ticket_ids(services, ids)
    rows = [
        (
            parse_time(post["published_at"]).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
            label(SOURCE_LABELS, post.get("source")),
            (post.get("title") or "").strip() or EMPTY,
            sentiment_badge((post.get("sentiment") or {}).get("label")),
            risk_badge(int((post.get("risk") or {}).get("score", 0))),
            tickets.get(post["id"], EMPTY),
            (post.get("topic") or {}).get("label") or EMPTY,
            _summary(post.get("text") or ""),
            label(REPLY_LABELS, (post.get("reply") or {}).get("status")),
            post.get("channel") or EMPTY,
            own_page(post) or EMPTY,
        )
        for post in hits
    ]
    return MonitorPosts(pd.DataFrame(rows, columns=list(MONITOR_COLUMNS)), ids)


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if not flat:
        return EMPTY
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def post(services: Services, post_id: str) -> EnrichedPost | None:
    """One post by id (for the selected post's details); None when it is gone."""
    return services.archive().get(post_id)


def ticket_ids(services: Services, post_ids: Sequence[str]) -> dict[str, str]:
    """Each post's ticket, read now; none while the ledger's database is down (the posts are still shown)."""
    if not post_ids:
        return {}
    try:
        return tickets_of_posts(services.ledger(), post_ids)
    except SQLAlchemyError:
        log.warning("event=ledger-unavailable while=tickets-of-posts", exc_info=True)
        return {}


def ticket_of_post(services: Services, post_id: str) -> str | None:
    """The ticket a post is on (its own or the one it was merged into), read fresh; None if none."""
    return ticket_ids(services, [post_id]).get(post_id)


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def source_volume(services: Services, now: datetime) -> pd.DataFrame:
    """Posts per clock hour and source over the last 24 hours, long form (时间, 来源, 帖子数).

    Times are China time without an offset (the chart's axis shows them as they are); a source with
    no post in the window has no rows, so an empty table means a quiet day.
    """
    start = hour_floor(now) - 23 * HOUR
    hours = [start + HOUR * i for i in range(24)]
    rows: list[tuple[datetime, str, int]] = []
    for code, name in SOURCE_LABELS.items():
        query = SearchQuery(filters={"source": code}, since=start)
        buckets = dict(services.archive().histogram(query, "hour"))
        if any(buckets.values()):
            rows += [(hour.replace(tzinfo=None), name, buckets.get(hour, 0)) for hour in hours]
    return pd.DataFrame(rows, columns=["时间", "来源", "帖子数"])


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def pipeline_backlog(services: Services) -> Mapping[str, int] | None:
    """Messages waiting per stage plus the dead-letter count, or None when the broker cannot be read."""
    return services.backlog()
