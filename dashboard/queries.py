"""Every archive read the dashboard makes, cached so that many open screens cost one query.

Pages call these functions and never the archive itself. Results are cached for ``TTL`` (the cache
is shared by every session of the process), so a page refreshing every 10 s shows a post within
about 20 s of its indexing. Arguments are hashed by value: the frozen settings pick the archive and
the frozen :class:`Filters` the selection.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, case, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from archive.base import Archive, SearchQuery
from archive.highlight import Highlight
from archive.saved import SavedSearches
from classifiers.spikes import HOUR, SpikePost, explain, spike_check
from core.china_time import CHINA_TZ, parse_time
from core.messages import EnrichedPost
from dashboard.acks import AlertStore
from dashboard.alerts import (
    HIGH_RISK,
    HISTORY_HOURS,
    RISK_LOOKBACK,
    SPIKE_MIN_COUNT,
    TICKET_FIELDS,
    Alert,
    headline,
    hour_floor,
    hourly_series,
    risk_alert,
    risk_badge,
    sentiment_badge,
    spike_alert,
    ticket_alert,
)
from dashboard.labels import EMPTY, REPLY_LABELS, SOURCE_LABELS, label
from dashboard.tables import posts_table
from response_ledger import tables as ledger_tables
from response_ledger.db import make_engine, migrate
from response_ledger.policy import Policy, load_policy
from response_ledger.timeliness import sign_started_sql, stage_due_soon_sql, stage_late_sql, stage_sql
from response_ledger.workflow import OPEN_STATUSES, TicketStatus
from yuqing.backends import make_archive
from yuqing.settings import Settings

log = logging.getLogger(__name__)
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


# The duty officer's monitor (值班监测): posts with badges and their tickets, alerts, hourly volume.

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
# At most this many alerts of a kind are derived per refresh: the newest high-risk posts, the most
# recently overdue and the soonest due tickets. The rest are counted and left to the ledger page.
ALERTS_PER_KIND = 50


@dataclass(frozen=True)
class MonitorPosts:
    """The monitor's table (plain text cells) and the post id of each row, in the same order."""

    table: pd.DataFrame
    ids: tuple[str, ...]


@dataclass(frozen=True)
class TicketAlerts:
    """Tickets past or near their pending limit: how many in all, and the alerts for the first ones."""

    overdue: int
    due_soon: int
    alerts: tuple[Alert, ...]


@st.cache_resource(show_spinner=False)
def ledger_engine(settings: Settings) -> Engine:
    """The process's engine on the ledger database (no migration: reading never changes the schema)."""
    return make_engine(settings.ledger_sqlalchemy_url)


@st.cache_resource(show_spinner=False)
def ledger_for_writing(settings: Settings) -> Engine:
    """The ledger engine, migrated to the newest schema before the first ticket is opened from here."""
    engine = ledger_engine(settings)
    migrate(engine)
    return engine


@st.cache_resource(show_spinner=False)
def ledger_policy(settings: Settings) -> Policy:
    """The ledger policy the intake uses (classes, units), loaded once per process."""
    return load_policy(settings.ledger_policy_file)


@st.cache_resource(show_spinner=False)
def alert_store(settings: Settings) -> AlertStore:
    """The raised alerts and acknowledgements, in the ledger database (the table is created on first use)."""
    return AlertStore(ledger_engine(settings))


@st.cache_data(ttl=TTL, show_spinner=False)
def ledger_ready(settings: Settings) -> bool:
    """Whether the ledger's tables exist (a system whose ledger stage never ran has none yet)."""
    return _has_ledger(settings)


def _has_ledger(settings: Settings) -> bool:
    with ledger_engine(settings).connect() as connection:
        return inspect(connection).has_table(ledger_tables.tickets.name)


@st.cache_data(ttl=TTL, show_spinner=False)
def monitor_posts(settings: Settings, filters: Filters, limit: int) -> MonitorPosts:
    """The newest ``limit`` posts of the selection with badges and their ticket ids, newest first."""
    hits = archive(settings).search(filters.query(size=limit)).hits
    ids = tuple(post["id"] for post in hits)
    tickets = _tickets_of_posts(settings, ids)
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
            post.get("url") or EMPTY,
        )
        for post in hits
    ]
    return MonitorPosts(pd.DataFrame(rows, columns=list(MONITOR_COLUMNS)), ids)


@st.cache_data(ttl=TTL, show_spinner=False)
def post(settings: Settings, post_id: str) -> EnrichedPost | None:
    """One post by id (for the selected post's details); None when it is gone."""
    return archive(settings).get(post_id)


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if not flat:
        return EMPTY
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"


def _tickets_of_posts(settings: Settings, post_ids: Sequence[str], *, fresh: bool = False) -> dict[str, str]:
    """Each post's ticket; none while the ledger's database is down (the posts are still shown)."""
    links = ledger_tables.ticket_posts
    query = select(links.c.post_id, links.c.ticket_id).where(links.c.post_id.in_(list(post_ids)))
    try:
        if not post_ids or not (_has_ledger(settings) if fresh else ledger_ready(settings)):
            return {}
        with ledger_engine(settings).connect() as connection:
            return {str(post_id): str(ticket_id) for post_id, ticket_id in connection.execute(query)}
    except SQLAlchemyError:
        log.warning("event=ledger-unavailable while=tickets-of-posts", exc_info=True)
        return {}


def ticket_of_post(settings: Settings, post_id: str) -> str | None:
    """The ticket a post is on (its own or the one it was merged into), read fresh; None if none."""
    return _tickets_of_posts(settings, [post_id], fresh=True).get(post_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def spike_alerts(settings: Settings, now: datetime) -> list[Alert]:
    """Topics and sources whose last hour spikes at ``now``, each explained (:mod:`classifiers.spikes`).

    Only keys with at least ``SPIKE_MIN_COUNT`` posts in the last hour (one aggregation per field)
    have their hourly history read, so a quiet system costs two small queries.
    """
    store = archive(settings)
    found: list[Alert] = []
    for field_name in ("topic", "source"):
        recent = store.shares(field_name, SearchQuery(since=now - HOUR), size=100)
        for code, last_hour in recent.items():
            if last_hour < SPIKE_MIN_COUNT:
                continue
            history = SearchQuery(
                filters={field_name: code}, since=hour_floor(now) - HOUR * (HISTORY_HOURS + 1)
            )
            counts = hourly_series(store.histogram(history, "hour"), last_hour, now)
            check = spike_check(counts, min_count=SPIKE_MIN_COUNT)
            if not check.is_spike:
                continue
            # explain() compares the last hour's terms with the 12 hours before it.
            members = store.search(
                SearchQuery(filters={field_name: code}, since=now - 13 * HOUR, size=500)
            ).hits
            name = label(SOURCE_LABELS, code) if field_name == "source" else code
            spike = explain(name, check, [SpikePost.of(post, name) for post in members], now)
            titles = {post["id"]: f"《{headline(post, 30)}》" for post in members}
            found.append(spike_alert(field_name, code, spike, now, titles))
    return found


@st.cache_data(ttl=TTL, show_spinner=False)
def risk_alerts(settings: Settings, now: datetime) -> tuple[int, list[Alert]]:
    """High-risk posts published in the lookback: how many, and alerts for the newest ones."""
    query = SearchQuery(min_risk=HIGH_RISK, since=now - RISK_LOOKBACK, size=ALERTS_PER_KIND)
    result = archive(settings).search(query)
    return result.total, [risk_alert(post) for post in result.hits]


@st.cache_data(ttl=TTL, show_spinner=False)
def ticket_alerts(settings: Settings, now: datetime) -> TicketAlerts:
    """Live tickets whose current stage limit (签收, then 答复, then 办结) is past or due soon.

    The stage, late and due soon (the policy's share of the stage's time used) are
    :mod:`response_ledger.timeliness`' rules, counted in the database.
    """
    if not ledger_ready(settings):
        return TicketAlerts(0, 0, ())
    c = ledger_tables.tickets.c
    stage = stage_sql()
    due = stage.due
    late = stage_late_sql(now, stage)
    soon = stage_due_soon_sql(now, ledger_policy(settings).due_soon_fraction, stage)
    # Paused tickets have no running clock; closed ones are done.
    live = [s.value for s in OPEN_STATUSES if s is not TicketStatus.PAUSED] + [TicketStatus.ANSWERED.value]
    columns = (c.id, c.unit, c.status, c.summary, stage.name.label("limit"), due.label("due"))
    base = select(*columns).where(c.status.in_(live), due.is_not(None))
    overdue_q = base.where(late).order_by(due.desc()).limit(ALERTS_PER_KIND)
    soon_q = base.where(soon).order_by(due).limit(ALERTS_PER_KIND)
    counts_q = select(func.sum(case((late, 1), else_=0)), func.sum(case((soon, 1), else_=0))).where(
        c.status.in_(live), due.is_not(None)
    )
    with ledger_engine(settings).connect() as connection:
        rows = [*connection.execute(overdue_q).mappings(), *connection.execute(soon_q).mappings()]
        overdue, soon = connection.execute(counts_q).one()
    return TicketAlerts(int(overdue or 0), int(soon or 0), tuple(ticket_alert(row, now) for row in rows))


def ticket_states(settings: Settings, ticket_ids: Sequence[str]) -> dict[str, dict[str, object]]:
    """The tickets an alert is about, as they stand now (read fresh, never cached), by id.

    A ticket missing from the answer no longer exists; the alert about it is gone too.
    """
    if not ticket_ids or not _has_ledger(settings):
        return {}
    c = ledger_tables.tickets.c
    columns = [
        sign_started_sql().label(name) if name == "sign_started_at" else getattr(c, name)
        for name in TICKET_FIELDS
    ]
    found: dict[str, dict[str, object]] = {}
    with ledger_engine(settings).connect() as connection:
        unique = list(dict.fromkeys(ticket_ids))
        for start in range(0, len(unique), 500):  # within every database's limit on bound values
            query = select(*columns).where(c.id.in_(unique[start : start + 500]))
            found.update({str(row["id"]): dict(row) for row in connection.execute(query).mappings()})
    return found


@st.cache_data(ttl=TTL, show_spinner=False)
def source_volume(settings: Settings, now: datetime) -> pd.DataFrame:
    """Posts per clock hour and source over the last 24 hours, long form (时间, 来源, 帖子数).

    Times are China time without an offset (the chart's axis shows them as they are); a source with
    no post in the window has no rows, so an empty table means a quiet day.
    """
    start = hour_floor(now) - 23 * HOUR
    hours = [start + HOUR * i for i in range(24)]
    rows: list[tuple[datetime, str, int]] = []
    for code, name in SOURCE_LABELS.items():
        query = SearchQuery(filters={"source": code}, since=start)
        buckets = dict(archive(settings).histogram(query, "hour"))
        if any(buckets.values()):
            rows += [(hour.replace(tzinfo=None), name, buckets.get(hour, 0)) for hour in hours]
    return pd.DataFrame(rows, columns=["时间", "来源", "帖子数"])


# The analyst's search page: saved searches and the export of every hit.


def saved_search_store(settings: Settings) -> SavedSearches:
    """The installation's saved searches (the same file ``yuqing archive saved`` reads and writes)."""
    from yuqing.commands.archive import saved_searches

    return saved_searches(settings)


def search_export(
    settings: Settings, search: Search, suffix: Literal[".csv", ".xlsx"], limit: int
) -> tuple[int, bytes]:
    """Every hit of ``search`` (at most ``limit``) as a CSV or XLSX file: rows written and the bytes."""
    import tempfile
    from pathlib import Path

    from archive.export import export

    with tempfile.TemporaryDirectory(prefix="yuqing-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        written = export(archive(settings).scan(search.query()), path, limit=limit)
        return written, path.read_bytes()
