"""The archive port: what the index sink, the dashboard and the briefing need from an archive."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, get_args

from archive.errors import QueryError
from archive.highlight import Highlight
from core.messages import EnrichedPost

SortOrder = Literal["time", "relevance", "risk"]
SORT_ORDERS: tuple[str, ...] = get_args(SortOrder)
Interval = Literal["hour", "day", "week"]
INTERVALS: tuple[str, ...] = get_args(Interval)
# Elasticsearch's default index.max_result_window: both backends refuse deeper pages alike, so a
# page that works on one works on the other.
MAX_WINDOW = 10_000
# Seconds a search, count or aggregation may run before the archive cancels it with QueryTimeout
# (each page of an export gets its own budget).
QUERY_BUDGET_S = 5.0
# Fields a filter or a share aggregation may name, mapped to their path in the enriched post.
FILTER_FIELDS: dict[str, str] = {
    "source": "source",
    "channel": "channel",
    "region": "region",
    "sentiment": "sentiment.label",
    "topic": "topic.label",
    "appeal_type": "appeal_type",
    "reply_status": "reply.status",
    "event": "event_id",
}


@dataclass(frozen=True)
class SearchQuery:
    """A search: ``text`` in the query language, exact filters, a time range, sorting, a page.

    ``text`` is parsed by :func:`archive.querylang.parse` (terms, "phrases", AND/OR/NOT, parentheses,
    field filters such as ``source:weibo risk:>=60``; see docs/search.md). A bare term is cut into
    the same jieba tokens the posts were indexed with (:func:`archive.tokens.tokenize`) and matches
    when every token occurs in the title or text. A term with no searchable token (only
    punctuation) matches nothing. ``filters`` name ``FILTER_FIELDS`` keys and must equal exactly.
    The time range is half-open, ``since <= published_at < until``; a naive datetime is China time.
    ``min_risk`` keeps posts with ``risk.score >= min_risk``. Sorting: ``time`` is newest first;
    ``relevance`` is best match first (newest first without ``text``); ``risk`` is highest first;
    ties always fall back to newest first, then post id ascending. ``offset + size`` may not exceed
    ``MAX_WINDOW``. Deeper pages go by ``after``: the ``next_after`` cursor of the previous page
    (keyset on SQLite, ``search_after`` on Elasticsearch), with ``offset`` 0 and the same sort.
    """

    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    min_risk: int | None = None
    sort: SortOrder = "time"
    size: int = 20
    offset: int = 0
    after: str | None = None


def check_field(field_name: str) -> str:
    """The post path of a ``FILTER_FIELDS`` name; raise :class:`QueryError` for any other name."""
    try:
        return FILTER_FIELDS[field_name]
    except KeyError:
        known = "、".join(sorted(FILTER_FIELDS))
        raise QueryError(f"未知字段“{field_name}”；可以筛选或分组的字段：{known}") from None


def check_query(query: SearchQuery) -> None:
    """Raise :class:`QueryError` for a query no backend runs: every implementation calls this first."""
    for name in query.filters:
        check_field(name)
    if query.sort not in SORT_ORDERS:
        raise QueryError(f"未知的排序方式“{query.sort}”；可选：{'、'.join(SORT_ORDERS)}")
    if query.size < 0 or query.offset < 0:
        raise QueryError("每页条数和起始位置不能是负数")
    if query.after is not None and query.offset:
        raise QueryError("按游标翻页时起始位置必须为 0")
    if query.offset + query.size > MAX_WINDOW:
        raise QueryError(f"翻页太深：起始位置加每页条数不能超过 {MAX_WINDOW}；请缩小查询范围或按游标翻页")


@dataclass(frozen=True)
class SearchResult:
    """One page of hits, newest first unless sorted otherwise, with the total that matched.

    ``highlights[i]`` marks where ``hits[i]`` matched (character spans, for the UI to escape and
    mark); ``next_after`` is the cursor of the next page, None after the last one.
    """

    total: int
    hits: list[EnrichedPost]
    highlights: list[Highlight] = field(default_factory=list)
    next_after: str | None = None


class Archive(Protocol):
    """An archive of enriched posts, idempotent by post id."""

    def ensure(self) -> None:
        """Create indices, templates or tables that are missing."""

    def index(self, posts: Sequence[EnrichedPost]) -> None:
        """Store posts (replacing any with the same id); raise ``ArchiveUnavailable`` when it cannot.

        Posts the archive can never store (a bad time, a field of the wrong type) raise
        ``DocumentRejected`` naming their ids, so a caller can dead-letter them and retry the rest.
        """

    def refresh(self) -> None:
        """Make everything indexed so far visible to search."""

    def get(self, post_id: str) -> EnrichedPost | None:
        """One post by id."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Posts matching ``query``; raise ``QueryError`` for a query that cannot run."""

    def count(self, query: SearchQuery | None = None) -> int:
        """How many posts match (all posts without a query)."""

    def shares(self, field_name: str, query: SearchQuery | None = None, size: int = 20) -> dict[str, int]:
        """Post counts per value of a ``FILTER_FIELDS`` field, largest first (ties by value).

        Posts without a value for the field are not counted. An unknown field raises ``QueryError``.
        """

    def histogram(
        self, query: SearchQuery | None = None, interval: Interval = "day"
    ) -> list[tuple[datetime, int]]:
        """Posts per hour, day or week (weeks start on Monday) in China time, oldest first.

        Buckets run from the first to the last bucket holding a post, empty ones included as 0.
        """

    def scan(self, query: SearchQuery, *, batch: int = 1000) -> Iterator[EnrichedPost]:
        """Every post matching ``query`` in its sort order, page by page (for exports); ignores size."""

    def reindex(self) -> int:
        """Rebuild the index from the stored posts (new mapping or dictionary); readers see no gap."""

    def close(self) -> None:
        """Release connections."""
