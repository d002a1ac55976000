"""The embedded broker: a durable log in SQLite (WAL) with per-group offsets, for one machine.

Each topic is one partition (partition 0). Several processes may produce and consume at once; a
group's offset is committed in a transaction, so a crash after a sink succeeded but before commit
re-delivers the batch (at-least-once), exactly as with Kafka.

A group reads a topic through one member at a time: a member holds a lease that it renews on every
poll. Extra members of the group stand by and take over when the holder leaves or its lease expires
(a crashed process), so starting more processes gives failover without offsets going backwards.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from stream.broker import Lag, Record
from stream.errors import RebalanceError, TransientError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL,
    offset INTEGER NOT NULL,
    key TEXT,
    value BLOB NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (topic, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_leases (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    member TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (grp, topic)
);
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic)
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash (only a power loss can drop the last commits).
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class EmbeddedBroker:
    """A :class:`stream.broker.Broker` over one SQLite file."""

    def __init__(self, path: Path, *, lease_s: float = 10.0) -> None:
        self.path = path
        self.lease_s = lease_s
        self._conn = _connect(path)
        self._conn.executescript(_SCHEMA)

    def ensure_topics(self, names: Iterable[str]) -> None:
        """Register topics (an embedded topic needs no partitions or retention)."""
        self._conn.executemany("INSERT OR IGNORE INTO topics(name) VALUES (?)", [(n,) for n in names])

    def producer(self) -> EmbeddedProducer:
        """A producer writing to this file."""
        return EmbeddedProducer(self.path)

    def consumer(self, group: str, topics: Sequence[str]) -> EmbeddedConsumer:
        """A consumer of ``topics`` for ``group``."""
        return EmbeddedConsumer(self.path, group, topics, lease_s=self.lease_s)

    def lag(self, group: str, topic: str) -> Lag:
        """Exact lag: the log's end against the group's committed offset."""
        end = self._conn.execute(
            "SELECT COALESCE(MAX(offset) + 1, 0) FROM messages WHERE topic = ?", (topic,)
        ).fetchone()[0]
        row = self._conn.execute(
            "SELECT offset FROM group_offsets WHERE grp = ? AND topic = ?", (group, topic)
        ).fetchone()
        return Lag(group=group, topic=topic, end_offset=int(end), committed=int(row[0]) if row else 0)

    def read(self, topic: str, limit: int, offset: int = 0) -> list[Record]:
        """Messages of ``topic`` from ``offset`` on, without a group."""
        rows = self._conn.execute(
            "SELECT offset, key, value FROM messages WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
            (topic, offset, limit),
        ).fetchall()
        return [Record(topic, 0, int(o), k, bytes(v)) for o, k, v in rows]

    def close(self) -> None:
        """Close the admin connection."""
        self._conn.close()


class EmbeddedProducer:
    """Buffers sends and appends them in one transaction on ``flush``."""

    def __init__(self, path: Path) -> None:
        self._conn = _connect(path)
        self._conn.executescript(_SCHEMA)
        self._pending: list[tuple[str, str | None, bytes]] = []
        self._lock = threading.Lock()

    def send(self, topic: str, key: str | None, value: bytes) -> None:
        """Queue one message; it is durable after ``flush``."""
        with self._lock:
            self._pending.append((topic, key, value))
        if len(self._pending) >= 5000:
            self.flush()

    def flush(self) -> None:
        """Append every queued message, assigning offsets under the write lock."""
        with self._lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, []
            try:
                self._append(pending)
            except sqlite3.OperationalError as exc:
                self._pending = pending + self._pending
                raise TransientError(f"embedded broker busy: {exc}") from exc

    def _append(self, pending: list[tuple[str, str | None, bytes]]) -> None:
        now = time.time()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            ends: dict[str, int] = {}
            rows = []
            for topic, key, value in pending:
                if topic not in ends:
                    ends[topic] = conn.execute(
                        "SELECT COALESCE(MAX(offset) + 1, 0) FROM messages WHERE topic = ?", (topic,)
                    ).fetchone()[0]
                rows.append((topic, ends[topic], key, value, now))
                ends[topic] += 1
            conn.executemany("INSERT INTO messages(topic, offset, key, value, ts) VALUES (?,?,?,?,?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Flush, then close."""
        self.flush()
        self._conn.close()


class EmbeddedConsumer:
    """One member of a group; it reads only while it holds the group's lease on a topic."""

    def __init__(self, path: Path, group: str, topics: Sequence[str], *, lease_s: float = 10.0) -> None:
        self._conn = _connect(path)
        self._conn.executescript(_SCHEMA)
        self.group = group
        self.topics = list(topics)
        self.lease_s = lease_s
        self.member = uuid.uuid4().hex
        self._owned: set[str] = set()
        self._position: dict[str, int] = {}

    def _committed(self, topic: str) -> int:
        row = self._conn.execute(
            "SELECT offset FROM group_offsets WHERE grp = ? AND topic = ?", (self.group, topic)
        ).fetchone()
        return int(row[0]) if row else 0

    def _claim(self, topic: str) -> bool:
        """Take or renew the lease on ``topic``; a newly taken lease starts at the committed offset."""
        now = time.time()
        self._conn.execute(
            "INSERT INTO group_leases(grp, topic, member, expires_at) VALUES (?,?,?,?) "
            "ON CONFLICT(grp, topic) DO UPDATE "
            "SET member = excluded.member, expires_at = excluded.expires_at "
            "WHERE group_leases.member = excluded.member OR group_leases.expires_at < ?",
            (self.group, topic, self.member, now + self.lease_s, now),
        )
        row = self._conn.execute(
            "SELECT member FROM group_leases WHERE grp = ? AND topic = ?", (self.group, topic)
        ).fetchone()
        holds = row is not None and row[0] == self.member
        if holds and topic not in self._owned:
            self._position[topic] = self._committed(topic)
        if holds:
            self._owned.add(topic)
        else:
            self._owned.discard(topic)
        return holds

    def rewind(self) -> None:
        """Start again from the committed offsets."""
        for topic in self._owned:
            self._position[topic] = self._committed(topic)

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Wait up to ``timeout_s`` for messages past the current position of the topics this member holds."""
        deadline = time.monotonic() + timeout_s
        while True:
            records: list[Record] = []
            for topic in self.topics:
                want = max_records - len(records)
                if want <= 0 or not self._claim(topic):
                    continue
                rows = self._conn.execute(
                    "SELECT offset, key, value FROM messages WHERE topic = ? AND offset >= ? "
                    "ORDER BY offset LIMIT ?",
                    (topic, self._position[topic], want),
                ).fetchall()
                for offset, key, value in rows:
                    records.append(Record(topic, 0, int(offset), key, bytes(value)))
                if rows:
                    self._position[topic] = int(rows[-1][0]) + 1
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    def commit(self) -> None:
        """Store the current positions, only while this member still holds each topic's lease."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            lost = [
                topic
                for topic in self._owned
                if conn.execute(
                    "SELECT 1 FROM group_leases WHERE grp = ? AND topic = ? AND member = ?",
                    (self.group, topic, self.member),
                ).fetchone()
                is None
            ]
            if lost:
                raise RebalanceError(f"group {self.group} lost {', '.join(lost)} to another member")
            conn.executemany(
                "INSERT INTO group_offsets(grp, topic, offset) VALUES (?,?,?) "
                "ON CONFLICT(grp, topic) DO UPDATE SET offset = excluded.offset",
                [(self.group, t, self._position[t]) for t in self._owned],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._owned.clear()
            raise

    def close(self) -> None:
        """Release the leases and close; uncommitted reads are re-delivered to the next member."""
        try:
            self._conn.execute(
                "DELETE FROM group_leases WHERE grp = ? AND member = ?", (self.group, self.member)
            )
        finally:
            self._conn.close()
