"""What 舆情检索 reads: the hits of a search with highlighted snippets, its trend and shares, and an
export of every hit. Cached for ``TTL`` and shared by every session; the saved searches are the
services' store (the same file ``yuqing archive saved`` reads and writes).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, cast

import pandas as pd
import streamlit as st

from archive.base import Interval, SearchQuery, SortOrder
from archive.highlight import Highlight
from core.china_time import CHINA_TZ
from dashboard.services import HASH_FUNCS, TTL, Services
from dashboard.tables import posts_table, snippet


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
            sort=cast(SortOrder, self.sort),  # one of the page's SORTS
            size=self.size if size is None else size,
        )


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def search_page(services: Services, search: Search) -> tuple[int, pd.DataFrame]:
    """Total hits and the first page as a table with a highlighted snippet; QueryError passes through."""
    result = services.archive().search(search.query())
    table = posts_table(result.hits)
    lights: list[Highlight | None] = [*result.highlights] or [None] * len(result.hits)
    snippets = [
        snippet(hit.get("text", ""), light.text if light else [])
        for hit, light in zip(result.hits, lights, strict=True)
    ]
    table.insert(4, "命中片段", snippets)
    return result.total, table


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def search_trend(services: Services, search: Search, interval: str) -> pd.DataFrame:
    """Matching posts per hour, day or week (China time; a week from Monday) over the search's whole
    time range, a bucket without posts as 0: the chart's axis is the range asked for, not only the
    stretch between the first and the last hit."""
    buckets = dict(services.archive().histogram(search.query(size=0), cast(Interval, interval)))
    moments = sorted(buckets)
    if search.since is not None and search.until is not None and search.since <= search.until:
        moments = bucket_starts(search.since, search.until, interval)
    return pd.DataFrame({"时间": moments, "帖子数": [buckets.get(moment, 0) for moment in moments]})


def bucket_starts(since: date, until: date, interval: str) -> list[datetime]:
    """The start of every hour, day or week (from Monday) from ``since`` through ``until``, China time."""
    first = datetime.combine(since, time.min, tzinfo=CHINA_TZ)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=CHINA_TZ)
    if interval == "week":
        first -= timedelta(days=first.weekday())
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[interval]
    count = -(-(end - first) // step)  # whole buckets, the last one reaching the end
    return [first + step * i for i in range(count)]


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def search_shares(services: Services, search: Search, field_name: str) -> dict[str, int]:
    """Matching posts per value of ``field_name``."""
    return services.archive().shares(field_name, search.query(size=0), size=10)


def search_export(
    services: Services, search: Search, suffix: Literal[".csv", ".xlsx"], limit: int
) -> tuple[int, bytes]:
    """Every hit of ``search`` (at most ``limit``) as a CSV or XLSX file: rows written and the bytes."""
    from archive.export import export  # openpyxl: only when exporting

    with tempfile.TemporaryDirectory(prefix="yuqing-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        written = export(services.archive().scan(search.query()), path, limit=limit)
        return written, path.read_bytes()
