"""The embedded archive: SQLite (WAL) with an FTS5 index over jieba tokens, for one machine.

One row per post in ``posts`` (the filterable fields as columns, the whole post as JSON; older
archives' zlib-compressed JSON is still read) and one row in the contentless ``posts_fts`` with the
space-joined jieba tokens of its title and text, under the same rowid. A writer process (the index
sink) and reader processes (the dashboard) may use the file at once: WAL lets readers go on while a
batch commits, and the busy timeout makes writers queue, not fail.

Within a process, writes go through one connection behind a lock; every read takes a read-only
connection of its own from a pool (:mod:`archive.embedded_readers`), so the threads of a dashboard
never queue behind one another's searches or behind the writer. Each read runs in one snapshot
and within the archive's time budget (``query_budget_s``): past it the read is interrupted and
raises :class:`~archive.errors.QueryTimeout`.

The FTS5 table stores neither the tokens nor their positions (``content=''``, ``detail=column``):
that halves the file. Two consequences: phrases are verified against the stored post (see
:mod:`archive.sqlcompile`), and a token row cannot be deleted without its old tokens, so a
re-indexed post gets a new rowid (``AUTOINCREMENT`` never reuses one) and its stale token row
simply joins no post. ``optimize`` drops such rows by rebuilding the index.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.base import (
    FILTER_FIELDS,
    INTERVALS,
    QUERY_BUDGET_S,
    Interval,
    SearchQuery,
    SearchResult,
    check_field,
)
from archive.buckets import STEP_MS, bucket_sql, bucket_start, fill
from archive.documents import Indexed, extract_all
from archive.embedded_readers import WATCHDOG, Reader, ReaderPool
from archive.embedded_schema import (
    ADDED_COLUMNS,
    INSERT_POST,
    SCHEMA,
    SCHEMA_VERSION,
    connect,
    pack,
    plain,
    unpack,
)
from archive.errors import ArchiveError, ArchiveUnavailable, QueryError, QueryTimeout
from archive.plan import condition, decode_cursor, encode_cursor, highlights
from archive.sqlcompile import COLUMNS, SqlPlan, after, compile_sql, order_by, sort_keys
from archive.tokens import tokenize
from core.messages import EnrichedPost


@dataclass(frozen=True)
class Batch:
    """Posts ready to write: the ``posts`` rows and the space-joined tokens of each (picklable)."""

    rows: Sequence[tuple[object, ...]]  # INSERT_POST's parameters
    tokens: Sequence[tuple[str, str]]  # title and text tokens, joined by spaces


def prepare(items: Sequence[Indexed]) -> Batch:
    """The :class:`Batch` of extracted posts: what a loader's worker processes compute."""
    rows = [
        (
            item.post_id,
            item.published_ms,
            *[item.filters[name] for name in FILTER_FIELDS],
            item.risk,
            doc := pack(item.post),
            plain(doc),
        )
        for item in items
    ]
    tokens = [(" ".join(item.title_tokens), " ".join(item.text_tokens)) for item in items]
    return Batch(rows, tokens)


_MAX_BUCKETS = 20_000  # a volume histogram counts bucket by bucket up to this many buckets
# SQLite's plan step for a bucket count that only steps a covering index between two keys.
_RANGE_COUNT = re.compile(
    r"SEARCH p USING COVERING INDEX \w+ \((?:\w+=\? AND )*published_ms>\? AND published_ms<\?\)"
)


class EmbeddedArchive:
    """An :class:`archive.base.Archive` in one SQLite file.

    ``query_budget_s`` bounds each search, count, aggregation and export page (None: no bound);
    ``busy_timeout_s`` is how long a write waits for another process's write.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = 30.0,
        mapped: bool = True,
        query_budget_s: float | None = QUERY_BUDGET_S,
    ) -> None:
        self.path = path
        self.query_budget_s = query_budget_s
        self._lock = threading.RLock()  # the writer connection's: reads never take it
        try:
            self._conn = connect(path, busy_timeout_s, mapped=mapped)
        except sqlite3.Error as exc:
            raise ArchiveUnavailable(f"cannot open the archive at {path}: {exc}") from exc
        self._readers = ReaderPool(lambda: connect(path, busy_timeout_s, mapped=mapped, reader=True))
        try:
            self.ensure()
        except ArchiveError:
            self._conn.close()
            raise

    def ensure(self) -> None:
        """Create the tables and indices that are missing."""
        with self._lock, _translated("create the archive tables"):
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise ArchiveError(
                    f"{self.path} has archive schema {version}; this code needs {SCHEMA_VERSION}: "
                    "index the posts again into a new file"
                )
            before = self._indices()
            self._conn.executescript(SCHEMA)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(posts)")}
            for name, kind in ADDED_COLUMNS.items():
                if name not in columns:  # a file from before the column: its rows hold NULL
                    self._conn.execute(f"ALTER TABLE posts ADD COLUMN {name} {kind}")
            if version == 0:
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            added = self._indices() - before
            if added and before and self._analysed():
                # An archive from before these indices: without statistics for them the planner
                # would guess, so measure them as optimize would have.
                for name in sorted(added):
                    self._conn.execute(f"ANALYZE {name}")

    def _indices(self) -> set[str]:
        rows = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'posts'"
        )
        return {name for (name,) in rows}

    def _analysed(self) -> bool:
        return (
            self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
            is not None
        )

    def index(self, posts: Sequence[EnrichedPost]) -> None:
        """Upsert ``posts`` by id in one transaction: all of them are stored or none is."""
        self.write(extract_all(posts))

    def write(self, items: Sequence[Indexed]) -> None:
        """Upsert posts already checked and tokenised by :func:`archive.documents.extract_all`."""
        self.write_batch(prepare(items))

    def write_batch(self, batch: Batch) -> None:
        """Upsert posts made ready by :func:`prepare`, in one transaction.

        A bulk loader prepares batches in other processes (tokenising, then compressing, is most
        of the cost of indexing), so the single writer only writes.
        """
        rows = batch.rows
        if not rows:
            return
        with self._lock, _translated("index posts"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                # A replaced post gets a new rowid; its old token row then matches no post.
                self._conn.executemany("DELETE FROM posts WHERE id = ?", [(row[0],) for row in rows])
                first = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'posts'").fetchone()
                self._conn.executemany(INSERT_POST, rows)
                start = (first[0] if first else 0) + 1
                last = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'posts'").fetchone()[
                    0
                ]
                if last != start + len(rows) - 1:  # the token rows must take the posts' rowids
                    raise ArchiveError(f"rowids {start}..{last} are not the {len(rows)} new posts'")
                self._conn.executemany(
                    "INSERT INTO posts_fts (rowid, title, body) VALUES (?, ?, ?)",
                    [(start + n, title, body) for n, (title, body) in enumerate(batch.tokens)],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk does); a second ROLLBACK would
                # hide the real error.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Load many posts at once: indices rebuilt after the load, pages synced once at its end.

        Each post written with the secondary indices in place updates eight B-trees at random
        places, and a batch commit then writes tens of thousands of pages (a million-post load ran
        at ~5,000 posts/s, falling as the file grew). Without them the writes are appends
        (~25,000 posts/s), and each index is built afterwards from one sorted pass (~2 s per index
        per million posts) with full pages. Inside the block commits are not synced (a process
        crash loses nothing, a power cut may lose the load); leaving it syncs everything.

        For an initial load, a restore or a migration: searches still answer meanwhile, but
        without the indices (slowly). If the process dies inside the block, the next open of the
        archive rebuilds the missing indices (:meth:`ensure`).
        """
        with self._lock, _translated("prepare a bulk load"):
            for name in sorted(self._indices()):
                if name.startswith("posts_by_"):
                    self._conn.execute(f"DROP INDEX {name}")
            self._conn.execute("PRAGMA synchronous=OFF")
        try:
            yield
        finally:
            with self._lock, _translated("finish a bulk load"):
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self.ensure()
                # Copies what is left in the log into the file and syncs the file, with every page
                # the unsynced commits wrote before.
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def refresh(self) -> None:
        """Nothing to do: a committed batch is visible to every reader at once."""

    def optimize(self) -> None:
        """Merge the full-text index's segments and refresh planner statistics (stale token rows of
        replaced posts stay until :meth:`reindex`)."""
        with self._lock, _translated("optimize the archive"):
            self._conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('optimize')")
            self._conn.execute("ANALYZE")

    def reindex(self) -> int:
        """Re-tokenise every stored post into a new full-text index (after a dictionary change).

        One write transaction: readers keep the old index (WAL snapshots) until it commits, so
        searches never see a half-built one. Returns the number of posts reindexed.
        """
        with self._lock, _translated("reindex"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('delete-all')")
                cursor = self._conn.execute("SELECT rowid, doc FROM posts")
                count = 0
                while rows := cursor.fetchmany(1000):
                    tokens = []
                    for rowid, doc in rows:
                        post = unpack(doc)
                        title = tokenize(post.get("title") or "")
                        text = tokenize(post.get("text") or "")
                        tokens.append((rowid, " ".join(title), " ".join(text)))
                    self._conn.executemany(
                        "INSERT INTO posts_fts (rowid, title, body) VALUES (?, ?, ?)", tokens
                    )
                    count += len(rows)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return count

    @contextmanager
    def _reading(self, doing: str) -> Iterator[Reader]:
        """A read connection of the pool for one read: one snapshot, within the time budget."""
        with _translated(f"open a read connection to {doing}"):
            reader = self._readers.take()
        budget = self.query_budget_s
        try:
            with _translated(doing, reader, budget):
                if budget is not None:
                    WATCHDOG.arm(reader, budget)
                try:
                    # One read transaction: every statement of the read sees the same committed
                    # posts (a search's total and its page agree while a writer commits).
                    reader.begin()
                    yield reader
                finally:
                    WATCHDOG.disarm(reader)
                    if reader.conn.in_transaction:
                        reader.conn.execute("COMMIT")
        finally:
            self._readers.give(reader)

    def get(self, post_id: str) -> EnrichedPost | None:
        """One post by id."""
        with self._reading("read a post") as reader:
            row = reader.execute("SELECT doc FROM posts WHERE id = ?", (post_id,)).fetchone()
        return None if row is None else unpack(row[0])

    def _plan(self, query: SearchQuery) -> tuple[SqlPlan, Any]:
        node = condition(query)
        return compile_sql(node), node

    def _page(
        self, reader: Reader, query: SearchQuery, plan: SqlPlan
    ) -> tuple[list[EnrichedPost], str | None]:
        keys = sort_keys(query.sort, plan)
        params = plan.all_params
        where = plan.sql
        if query.after is not None:
            values = decode_cursor(query.after, query.sort)
            extra: list[object] = []
            condition_sql = after(keys, values, extra)
            where = plan.sql_with(condition_sql)
            params = [*params, *extra]
        columns = ", ".join(expression for expression, _ in keys)
        # Rowids first, documents after: sorting thousands of matches then reads only the sort
        # keys (often from a covering index), and just one page of documents is fetched.
        sql = f"SELECT p.rowid, {columns} {where} ORDER BY {order_by(keys)} LIMIT ? OFFSET ?"
        rows = reader.execute(sql, [*params, query.size, query.offset]).fetchall()
        rowids = [row[0] for row in rows]
        marks = ", ".join("?" for _ in rowids)
        docs = dict(reader.execute(f"SELECT rowid, doc FROM posts WHERE rowid IN ({marks})", rowids))
        posts = [unpack(docs[rowid]) for rowid in rowids]
        more = len(rows) == query.size and query.size > 0
        cursor = encode_cursor(query.sort, list(rows[-1][1:])) if more else None
        return posts, cursor

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of posts matching ``query``, how many match in all, highlights and the next cursor."""
        plan, node = self._plan(query)
        if plan.nothing:
            return SearchResult(total=0, hits=[])
        with self._reading("search") as reader:
            total = reader.execute(f"SELECT count(*) {plan.sql}", plan.all_params).fetchone()[0]
            hits, cursor = self._page(reader, query, plan)
        return SearchResult(total=int(total), hits=hits, highlights=highlights(hits, node), next_after=cursor)

    def scan(self, query: SearchQuery, *, batch: int = 1000) -> Iterator[EnrichedPost]:
        """Every post matching ``query`` in its sort order, by keyset pages of ``batch``."""
        plan, _ = self._plan(query)
        if plan.nothing:
            return
        page = replace(query, size=batch, offset=0)
        while True:
            with self._reading("export") as reader:
                posts, cursor = self._page(reader, page, plan)
            yield from posts
            if cursor is None:
                return
            page = replace(page, after=cursor)

    def count(self, query: SearchQuery | None = None) -> int:
        """How many posts match ``query`` (all posts without one)."""
        plan, _ = self._plan(query or SearchQuery())
        if plan.nothing:
            return 0
        with self._reading("count") as reader:
            return int(reader.execute(f"SELECT count(*) {plan.sql}", plan.all_params).fetchone()[0])

    def shares(self, field_name: str, query: SearchQuery | None = None, size: int = 20) -> dict[str, int]:
        """Post counts per value of ``field_name``, largest first, ties by value (byte order)."""
        check_field(field_name)
        if size < 1:
            raise QueryError("分组数量至少为 1")
        plan, _ = self._plan(query or SearchQuery())
        if plan.nothing:
            return {}
        column = f"p.{COLUMNS[field_name]}"
        where = plan.sql_with(f"{column} IS NOT NULL")
        sql = (
            f"SELECT {column}, count(*) AS n {where} GROUP BY {column} ORDER BY n DESC, {column} ASC LIMIT ?"
        )
        with self._reading("count shares") as reader:
            rows = reader.execute(sql, [*plan.all_params, size]).fetchall()
        return {str(value): int(n) for value, n in rows}

    def histogram(
        self, query: SearchQuery | None = None, interval: Interval = "day"
    ) -> list[tuple[datetime, int]]:
        """Posts per hour, day or week in China time, oldest first, empty buckets as 0."""
        if interval not in INTERVALS:
            raise QueryError(f"未知的时间粒度“{interval}”；可选：{'、'.join(INTERVALS)}")
        plan, _ = self._plan(query or SearchQuery())
        if plan.nothing:
            return []
        with self._reading("count volume") as reader:
            if "posts_fts" in plan.sql:
                rows = self._grouped_volume(reader, plan, interval)
            else:
                rows = self._bucketed_volume(reader, plan, interval)
        return fill([(int(key), int(n)) for key, n in rows if n], interval)

    def _grouped_volume(self, reader: Reader, plan: SqlPlan, interval: str) -> list[tuple[int, int]]:
        # Text conditions drive the query from the full-text index: few posts, grouped at once.
        bucket = bucket_sql("p.published_ms", interval)
        sql = f"SELECT {bucket} AS b, count(*) {plan.sql} GROUP BY b ORDER BY b"
        return reader.execute(sql, plan.all_params).fetchall()

    def _bucketed_volume(self, reader: Reader, plan: SqlPlan, interval: str) -> list[tuple[int, int]]:
        """Counts per bucket, one time-range count each, instead of grouping every matching row.

        Grouping a large match sorts every row's bucket (a temporary B-tree: a third of a second
        for a million posts); a count over one bucket's time range in a covering index (time
        after the equality fields) steps the index without reading a column. The bucket's own
        range comes first in the WHERE clause, so the index range is the bucket's and not a
        wider time filter of the query. Where SQLite's plan for a bucket is anything else (a skip
        scan, row lookups), or past :data:`_MAX_BUCKETS` buckets, grouping is cheaper again.
        """
        step = STEP_MS[interval]
        bucket = plan.sql_with(leading=["p.published_ms >= b.s", f"p.published_ms < b.s + {step}"])
        sql = (
            f"WITH RECURSIVE b(s) AS (SELECT ? UNION ALL SELECT s + {step} FROM b WHERE s < ?) "
            f"SELECT s, (SELECT count(*) {bucket}) FROM b"
        )
        steps = [row[3] for row in reader.execute(f"EXPLAIN QUERY PLAN {sql}", [0, 0, *plan.all_params])]
        lookups = [detail for detail in steps if detail.startswith(("SEARCH p ", "SCAN p "))]
        if not lookups or not all(_RANGE_COUNT.fullmatch(detail) for detail in lookups):
            return self._grouped_volume(reader, plan, interval)
        first = reader.execute(f"SELECT min(p.published_ms) {plan.sql}", plan.all_params).fetchone()[0]
        if first is None:
            return []
        last = reader.execute(f"SELECT max(p.published_ms) {plan.sql}", plan.all_params).fetchone()[0]
        low, high = bucket_start(int(first), interval), bucket_start(int(last), interval)
        if (high - low) // step + 1 > _MAX_BUCKETS:
            return self._grouped_volume(reader, plan, interval)
        return reader.execute(sql, [low, high, *plan.all_params]).fetchall()

    def close(self) -> None:
        """Close the connections (a second close does nothing; a read under way keeps its own)."""
        self._readers.close()
        with self._lock:
            self._conn.close()


@contextmanager
def _translated(doing: str, reader: Reader | None = None, budget_s: float | None = None) -> Iterator[None]:
    """Turn sqlite3 errors into the archive's: a busy or failing file is worth retrying later.

    A read that ``reader``'s deadline interrupted raises :class:`QueryTimeout` instead.
    """
    try:
        yield
    except sqlite3.OperationalError as exc:
        if reader is not None and reader.expired and budget_s is not None:
            raise QueryTimeout(budget_s) from exc
        raise ArchiveUnavailable(f"embedded archive cannot {doing} now: {exc}") from exc
    except sqlite3.Error as exc:
        raise ArchiveError(f"embedded archive failed to {doing}: {exc}") from exc
