"""Every archive read the dashboard makes, cached so that many open screens cost one query.

Pages call these functions and never the archive itself. Results are cached for ``TTL`` (the cache
is shared by every session of the process), so a page refreshing every 10 s shows a post within
about 20 s of its indexing. Arguments are hashed by value: the frozen settings pick the archive and
the frozen :class:`Filters` the selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import pandas as pd
import streamlit as st

from archive.base import Archive, SearchQuery
from archive.highlight import Highlight
from dashboard.tables import posts_table
from stream.messages import CHINA_TZ
from yuqing.backends import make_archive
from yuqing.settings import Settings

TTL = timedelta(seconds=5)
ShareField = Literal["source", "sentiment", "topic"]


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


def archive_exists(settings: Settings) -> bool:
    """Whether there is an archive to read; the dashboard never creates an embedded one by opening it."""
    return settings.archive_url != "embedded" or settings.archive_path.exists()


@st.cache_resource(show_spinner=False)
def archive(settings: Settings) -> Archive:
    """The process's one archive client for ``settings`` (shared by every session)."""
    return make_archive(settings)


@st.cache_data(ttl=TTL, show_spinner=False)
def total(settings: Settings) -> int:
    """Posts in the whole archive; 0 when there is no archive yet."""
    if not archive_exists(settings):
        return 0
    return archive(settings).count()


@st.cache_data(ttl=TTL, show_spinner=False)
def overview(settings: Settings, filters: Filters, today: date) -> Overview:
    """Total, negative and published-today counts of the selection; ``today`` is a China-time date."""
    store = archive(settings)
    midnight = datetime.combine(today, time.min, tzinfo=CHINA_TZ)
    # The sentiment shares of the selection itself, so a sentiment filter is honoured (not overridden).
    by_sentiment = store.shares("sentiment", filters.query(), size=10)
    return Overview(
        total=store.count(filters.query()),
        negative=by_sentiment.get("negative", 0),
        today=store.count(filters.query(since=midnight)),
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def shares(settings: Settings, field_name: ShareField, filters: Filters) -> dict[str, int]:
    """Post counts of the selection per source, sentiment or topic, largest first."""
    return archive(settings).shares(field_name, filters.query())


@st.cache_data(ttl=TTL, show_spinner=False)
def topics(settings: Settings) -> list[str]:
    """Topic labels present in the archive, commonest first, for the topic filter."""
    return list(archive(settings).shares("topic", size=100))


@st.cache_data(ttl=TTL, show_spinner=False)
def latest(settings: Settings, filters: Filters, limit: int) -> pd.DataFrame:
    """The newest ``limit`` posts of the selection as the page's table, newest first."""
    result = archive(settings).search(filters.query(size=limit))
    return posts_table(result.hits)


@st.cache_data(ttl=TTL, show_spinner=False)
def pipeline_backlog(settings: Settings) -> dict[str, int] | None:
    """Messages waiting per stage plus the dead-letter count, or None when the broker cannot be read."""
    from stream.errors import StreamError
    from yuqing.status import backlog

    try:
        return backlog(settings)
    except (StreamError, OSError):  # a broker that cannot be read shows no backlog line, never a traceback
        return None


@dataclass(frozen=True)
class Search:
    """An analyst's search as the page states it (hashable, so results can be cached)."""

    text: str
    since: date | None
    until: date | None
    sort: str
    size: int

    def query(self, *, size: int | None = None) -> SearchQuery:
        """The archive query; ``until`` includes its whole day."""
        since = datetime.combine(self.since, time.min, tzinfo=CHINA_TZ) if self.since else None
        until = (
            datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=CHINA_TZ)
            if self.until
            else None
        )
        return SearchQuery(
            text=self.text,
            since=since,
            until=until,
            sort=self.sort,  # type: ignore[arg-type]
            size=self.size if size is None else size,
        )


@st.cache_data(ttl=TTL, show_spinner=False)
def search_page(settings: Settings, search: Search) -> tuple[int, pd.DataFrame]:
    """Total hits and the first page as a table with a highlighted snippet; QueryError passes through."""
    from dashboard.tables import snippet

    result = archive(settings).search(search.query())
    table = posts_table(result.hits)
    lights: list[Highlight | None] = [*result.highlights] or [None] * len(result.hits)
    snippets = [
        snippet(hit.get("text", ""), light.text if light else [])
        for hit, light in zip(result.hits, lights, strict=True)
    ]
    table.insert(4, "命中片段", snippets)
    return result.total, table


@st.cache_data(ttl=TTL, show_spinner=False)
def search_trend(settings: Settings, search: Search, interval: str) -> pd.DataFrame:
    """Matching posts per hour, day or week (China time)."""
    buckets = archive(settings).histogram(search.query(size=0), interval)  # type: ignore[arg-type]
    return pd.DataFrame(
        {"时间": [moment for moment, _ in buckets], "帖子数": [count for _, count in buckets]}
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def search_shares(settings: Settings, search: Search, field_name: str) -> dict[str, int]:
    """Matching posts per value of ``field_name``."""
    return archive(settings).shares(field_name, search.query(size=0), size=10)
