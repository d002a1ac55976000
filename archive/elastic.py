"""The Elasticsearch 8 archive: monthly indices ``<index>-YYYY.MM`` behind the read alias ``<index>``.

A post goes to the month of its ``published_at`` in China time, with the post id as document id, so
a replay overwrites instead of duplicating. Because the month comes from ``published_at``, a post
whose time changes between two indexings would land in a second index; :meth:`ElasticArchive.index`
looks every id of a batch up first and deletes a copy found in another month in the same bulk
request (one extra ``ids`` search per batch). That search sees refreshed documents only, so a
post indexed twice with different months within one refresh interval (1 s by default), or whose
delete failed after the new copy was written, keeps both copies until it is indexed again.

Searches use the pre-tokenised ``*_tokens`` fields (see :mod:`archive.mappings`), so they match
exactly what the embedded archive matches. Times are sent with a ``+08:00`` offset, never a named
time zone (noida-db ignores ``Asia/Shanghai``).

Every search, count and aggregation (and each page of an export) runs within the archive's time
budget: the request carries it as ``timeout`` (Elasticsearch stops collecting and answers
``timed_out``), and the client gives up a little after it (``request_timeout``, no retry on a
timeout; Elasticsearch cancels a search whose connection closes). Either way the caller gets
:class:`~archive.errors.QueryTimeout`, never partial counts. Counts are ``_search`` requests with
``size: 0``, because ``_count`` takes no ``timeout``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from elasticsearch import ApiError, Elasticsearch, helpers

from archive import mappings
from archive.ast import NOTHING, Node
from archive.base import INTERVALS, QUERY_BUDGET_S, Interval, SearchQuery, SearchResult, check_field
from archive.buckets import fill
from archive.documents import Indexed, extract_all
from archive.elastic_cluster import (
    ElasticAuth,
    client_kwargs,
    expired_months,
    install_policy,
    origination_ms,
    policy_name,
    replica_settings,
)
from archive.elastic_support import READ_OPTIONS, hit_post, raise_for_bulk, translated
from archive.errors import ArchiveError, QueryError, QueryTimeout
from archive.escompile import build_sort, compile_es
from archive.plan import condition, decode_cursor, encode_cursor, highlights
from core.messages import EnrichedPost

log = logging.getLogger(__name__)
_MONTH = re.compile(r"\d{4}\.\d{2}")
_CLIENT_GRACE = 1.2  # how much longer than the budget the client waits for the server's answer


def build_query(query: SearchQuery) -> tuple[dict[str, Any] | None, Node]:
    """The query DSL of ``query`` (None when no post can match) and its resolved condition."""
    node = condition(query)
    if node == NOTHING:
        return None, node
    return compile_es(node), node


class ElasticArchive:
    """An :class:`archive.base.Archive` on an Elasticsearch 8 cluster at ``url``.

    ``index`` names the read alias and prefixes the monthly indices. ``request_timeout`` and
    ``max_retries`` bound how long a call may take before it raises ``ArchiveUnavailable``;
    ``query_budget_s`` bounds each search, count and aggregation (None: ``request_timeout`` only).
    """

    def __init__(
        self,
        url: str,
        *,
        index: str,
        request_timeout: float = 30.0,
        max_retries: int = 3,
        replicas: int | None = None,
        query_budget_s: float | None = QUERY_BUDGET_S,
        retention_months: int = 0,
        auth: ElasticAuth | None = None,
    ) -> None:
        self.alias = index
        self.query_budget_s = query_budget_s
        self._replicas = replicas
        self.retention_months = retention_months
        self._ilm = False  # whether the cluster's ILM deletes expired months (learnt by ensure)
        self._client = Elasticsearch(
            url,
            request_timeout=request_timeout,
            max_retries=max_retries,
            retry_on_timeout=max_retries > 0,
            **client_kwargs(auth),
        )
        self._reader = self._client
        self._budget: dict[str, Any] = {}
        if query_budget_s is not None:
            # The server's own timeout first; the client waits a fifth longer for its answer.
            self._reader = self._client.options(
                request_timeout=query_budget_s * _CLIENT_GRACE, retry_on_timeout=False
            )
            self._budget = {"timeout": f"{max(1, round(query_budget_s * 1000))}ms"}
        self._ensured = False
        self._months: dict[str, str] = {}  # YYYY.MM -> the concrete index behind the alias

    def ensure(self) -> None:
        """Install the index template (idempotent) and check that the alias name is free for it.

        With a retention, the ILM policy first where the cluster has ILM (see
        :mod:`archive.elastic_cluster`). The replica count is applied to the months that exist too.
        """
        with translated("install the index template"):
            alias_exists = self._client.indices.exists_alias(name=self.alias)
            if self._client.indices.exists(index=self.alias) and not alias_exists:
                raise ArchiveError(
                    f"an index named {self.alias!r} exists; the archive needs that name for its read alias"
                )
            if self.retention_months > 0:
                self._ilm = install_policy(self._client, self.alias, self.retention_months)
            lifecycle = policy_name(self.alias) if self._ilm else None
            template = mappings.index_template(self.alias, replicas=self._replicas, lifecycle=lifecycle)
            self._client.indices.put_index_template(name=self.alias, **template)
            if alias_exists:
                self._client.indices.put_settings(index=self.alias, settings=replica_settings(self._replicas))
        self._ensured = True

    def expire(self, now: datetime) -> list[str]:
        """Delete the monthly indices past the retention at ``now``; return their names.

        The cluster's ILM policy deletes the same months where it runs; this is the scheduler's
        daily job, for clusters without ILM and copies a reindex made (no origination date).
        """
        if self.retention_months <= 0:
            return []
        with translated("list the monthly indices"):
            if not self._client.indices.exists_alias(name=self.alias):
                return []
            names = sorted(self._client.indices.get_alias(name=self.alias))
        by_month: dict[str, list[str]] = {}  # a month may have its index and a reindexed copy
        for name in names:
            month = name[len(self.alias) + 1 : len(self.alias) + 8]
            if _MONTH.fullmatch(month):
                by_month.setdefault(month, []).append(name)
        deleted = []
        for month in expired_months(list(by_month), self.retention_months, now):
            for name in by_month[month]:
                with translated(f"delete the expired index {name}"):
                    self._client.indices.delete(index=name)
                deleted.append(name)
                log.info(
                    "event=archive-month-expired index=%s retention_months=%d", name, self.retention_months
                )
            self._months.pop(month, None)
        return deleted

    def _load_months(self) -> None:
        """Learn which concrete index serves each month (after a reindex it is a ``-r<stamp>`` copy)."""
        with translated("list the monthly indices"):
            if not self._client.indices.exists_alias(name=self.alias):
                return
            names = self._client.indices.get_alias(name=self.alias)
        for name in sorted(names):  # sorted: a reindexed copy sorts after the original it replaced
            self._months[name[len(self.alias) + 1 : len(self.alias) + 8]] = name

    def _month_index(self, item: Indexed) -> str:
        return self._months.get(item.month, f"{self.alias}-{item.month}")

    def _create_months(self, months: set[str]) -> None:
        # Created explicitly, joining the read alias here rather than through the template: a
        # reindex creates its copies from the same template and must keep them out of the alias
        # until they are complete.
        for month in sorted(months - set(self._months)):
            name = f"{self.alias}-{month}"
            with translated(f"create index {name}"):
                if not self._client.indices.exists(index=name):
                    # ILM counts the month's age from its origination date, not from this moment.
                    ilm = {"index.lifecycle.origination_date": origination_ms(month, self.retention_months)}
                    try:
                        self._client.indices.create(
                            index=name, aliases={self.alias: {}}, settings=ilm if self._ilm else None
                        )
                    except ApiError as exc:
                        if exc.error != "resource_already_exists_exception":  # another writer won
                            raise
            self._months[month] = name

    def reindex(self) -> int:
        """Copy every month into a new index under the current template, swapping the alias atomically.

        See :func:`archive.elastic_reindex.reindex`; returns the number of posts copied.
        """
        from archive.elastic_reindex import reindex

        self.ensure()
        self._months.clear()
        self._load_months()
        with translated("reindex"):
            return reindex(self._client, self.alias, self._months)

    def _locate(self, ids: list[str]) -> dict[str, set[str]]:
        """The indices that already hold each of ``ids``."""
        found: dict[str, set[str]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            with translated("look up posts"):
                response = self._client.search(
                    index=self.alias,
                    query={"ids": {"values": chunk}},
                    source=False,
                    size=min(len(chunk) * 4, 10_000),
                    **READ_OPTIONS,
                )
            for hit in response["hits"]["hits"]:
                found.setdefault(hit["_id"], set()).add(hit["_index"])
        return found

    def index(self, posts: Sequence[EnrichedPost]) -> None:
        """Upsert ``posts`` by id with the bulk helper; a post's older copy in another month is deleted."""
        items = extract_all(posts)
        if not items:
            return
        if not self._ensured:
            self.ensure()
            self._load_months()
        self._create_months({item.month for item in items})
        existing = self._locate([item.post_id for item in items])
        actions: list[dict[str, Any]] = []
        for item in items:
            target = self._month_index(item)
            for stale in sorted(existing.get(item.post_id, set()) - {target}):
                actions.append({"_op_type": "delete", "_index": stale, "_id": item.post_id})
            document = dict(item.post)
            document["title_tokens"] = " ".join(item.title_tokens)
            document["text_tokens"] = " ".join(item.text_tokens)
            actions.append({"_op_type": "index", "_index": target, "_id": item.post_id, "_source": document})
        with translated("index posts"):
            _, errors = helpers.bulk(self._client, actions, raise_on_error=False, chunk_size=500)
        raise_for_bulk(cast(list[dict[str, Any]], errors))

    def refresh(self) -> None:
        """Make everything indexed so far visible to search."""
        with translated("refresh"):
            self._client.indices.refresh(index=self.alias, **READ_OPTIONS)

    def get(self, post_id: str) -> EnrichedPost | None:
        """One post by id, found through the alias (its month is unknown to the caller)."""
        with translated("read a post"):
            response = self._client.search(
                index=self.alias, query={"ids": {"values": [post_id]}}, size=1, **READ_OPTIONS
            )
        hits = response["hits"]["hits"]
        return hit_post(hits[0]) if hits else None

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of posts matching ``query``, how many match in all, highlights and the next cursor."""
        body, node = build_query(query)
        if body is None:
            return SearchResult(total=0, hits=[])
        extra: dict[str, Any] = {}
        if query.after is not None:
            extra["search_after"] = decode_cursor(query.after, query.sort)
        with translated("search", reading_query=True, budget_s=self.query_budget_s):
            response = self._reader.search(
                index=self.alias,
                query=body,
                sort=build_sort(query.sort),
                from_=query.offset,
                size=query.size,
                track_total_hits=True,
                **extra,
                **self._budget,
                **READ_OPTIONS,
            )
        self._check_time(response)
        found = response["hits"]["hits"]
        hits = [hit_post(hit) for hit in found]
        more = len(found) == query.size and query.size > 0
        cursor = encode_cursor(query.sort, found[-1]["sort"]) if more else None
        total = int(response["hits"]["total"]["value"])
        return SearchResult(total=total, hits=hits, highlights=highlights(hits, node), next_after=cursor)

    def scan(self, query: SearchQuery, *, batch: int = 1000) -> Iterator[EnrichedPost]:
        """Every post matching ``query`` in its sort order: ``search_after`` pages in one point in time.

        The point in time pins the indices' state, so posts indexed during a long export neither
        appear twice nor shift pages.
        """
        body, _ = build_query(query)
        if body is None:
            return
        with translated("export"):
            if not self._client.indices.exists_alias(name=self.alias):
                return
            # Opened on the concrete indices: on an alias, noida-db's point in time covers only one
            # of them (docs/archive-gaps.md); Elasticsearch accepts either.
            names = ",".join(sorted(self._client.indices.get_alias(name=self.alias)))
            pit = self._client.open_point_in_time(index=names, keep_alive="2m")["id"]
        try:
            search_after: list[Any] | None = None
            while True:
                extra: dict[str, Any] = {} if search_after is None else {"search_after": search_after}
                with translated("export", reading_query=True, budget_s=self.query_budget_s):
                    response = self._reader.search(
                        pit={"id": pit, "keep_alive": "2m"},
                        query=body,
                        sort=build_sort(query.sort),
                        size=batch,
                        track_total_hits=False,
                        **extra,
                        **self._budget,
                    )
                self._check_time(response)
                found = response["hits"]["hits"]
                pit = response.get("pit_id", pit)
                yield from (hit_post(hit) for hit in found)
                if len(found) < batch:
                    return
                search_after = found[-1]["sort"]
        finally:
            with translated("close the export's point in time"):
                self._client.close_point_in_time(id=pit)

    def count(self, query: SearchQuery | None = None) -> int:
        """How many posts match ``query`` (all posts without one)."""
        body, _ = build_query(query or SearchQuery())
        if body is None:
            return 0
        with translated("count", reading_query=True, budget_s=self.query_budget_s):
            response = self._reader.search(
                index=self.alias, query=body, size=0, track_total_hits=True, **self._budget, **READ_OPTIONS
            )
        self._check_time(response)
        return int(response["hits"]["total"]["value"])

    def _check_time(self, response: Any) -> None:
        # A search past its timeout answers with what it collected so far: partial counts and
        # pages, which must never pass for the answer.
        if response.get("timed_out") and self.query_budget_s is not None:
            raise QueryTimeout(self.query_budget_s)

    def _aggregate(self, query: SearchQuery | None, aggregation: dict[str, Any]) -> dict[str, Any] | None:
        body, _ = build_query(query or SearchQuery())
        if body is None:
            return None
        with translated("aggregate", reading_query=True, budget_s=self.query_budget_s):
            response = self._reader.search(
                index=self.alias,
                query=body,
                size=0,
                aggs={"agg": aggregation},
                **self._budget,
                **READ_OPTIONS,
            )
        self._check_time(response)
        aggregations = response.get("aggregations")
        return None if not aggregations else cast(dict[str, Any], aggregations["agg"])

    def shares(self, field_name: str, query: SearchQuery | None = None, size: int = 20) -> dict[str, int]:
        """Post counts per value of ``field_name`` via a terms aggregation, largest first, ties by value."""
        path = check_field(field_name)
        if size < 1:
            raise QueryError("分组数量至少为 1")
        terms = {
            "field": path,
            "size": size,
            # Each monthly index is a shard that reports its own top terms; asking each for more
            # than ``size`` keeps the merged counts exact for all but very long-tailed fields.
            "shard_size": max(size * 5, 100),
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }
        result = self._aggregate(query, {"terms": terms})
        if result is None:  # nothing can match, or no index behind the alias yet
            return {}
        return {str(bucket["key"]): int(bucket["doc_count"]) for bucket in result["buckets"]}

    def histogram(
        self, query: SearchQuery | None = None, interval: Interval = "day"
    ) -> list[tuple[datetime, int]]:
        """Posts per hour, day or week in China time via ``date_histogram``, empty buckets as 0."""
        if interval not in INTERVALS:
            raise QueryError(f"未知的时间粒度“{interval}”；可选：{'、'.join(INTERVALS)}")
        histogram = {
            "field": "published_at",
            "calendar_interval": interval,
            # An offset, never "Asia/Shanghai": noida-db ignores zone names (docs/archive-gaps.md).
            "time_zone": "+08:00",
            "min_doc_count": 1,  # the gaps are filled in Python, exactly as the embedded archive does
        }
        result = self._aggregate(query, {"date_histogram": histogram})
        if result is None:
            return []
        return fill([(int(b["key"]), int(b["doc_count"])) for b in result["buckets"]], interval)

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()
