"""What the crawler remembers between runs: each published post's id and a fingerprint of its content.

A board is re-crawled every few minutes; a message whose content is unchanged is not published
again, while one that gained a reply (or was edited) is. Entries are written only after the broker
acknowledged the message, so a crash between send and flush re-publishes instead of losing it.
Delete the file to make the next crawl publish everything again (after a broker was wiped, say).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS published (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    published_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watermarks (
    source TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crawls (
    source TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    published INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    dead_letters INTEGER NOT NULL,
    dropped TEXT NOT NULL
) WITHOUT ROWID;
"""
CRAWL_COLUMNS = (
    "source", "kind", "started", "finished", "finish_reason", "published", "pages", "errors", "dead_letters",
    "dropped",
)  # fmt: skip
# Fields that change on every crawl without the post changing.
_VOLATILE = frozenset({"fetched_at"})


def content_fingerprint(post: Mapping[str, Any]) -> str:
    """A hash of everything in a message except when it was fetched."""
    stable = {key: value for key, value in post.items() if key not in _VOLATILE}
    data = json.dumps(stable, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class SeenStore:
    """Published ids and fingerprints in one SQLite file (WAL: several boards' crawlers share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(published)")}
        if "signature" not in columns:  # a state file from before incremental list signatures
            self._conn.execute("ALTER TABLE published ADD COLUMN signature TEXT")

    def fingerprint(self, post_id: str) -> str | None:
        """The fingerprint last published for ``post_id``, or None if it never was."""
        row = self._conn.execute("SELECT fingerprint FROM published WHERE id = ?", (post_id,)).fetchone()
        return None if row is None else str(row[0])

    def signature(self, post_id: str) -> str | None:
        """The list-row signature stored with the last published version of ``post_id``."""
        row = self._conn.execute("SELECT signature FROM published WHERE id = ?", (post_id,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def remember(self, entries: Iterable[tuple[str, str] | tuple[str, str, str | None]]) -> None:
        """Record ``(post id, fingerprint[, list signature])`` entries the broker has acknowledged."""
        now = time.time()
        rows = [(entry[0], entry[1], now, entry[2] if len(entry) > 2 else None) for entry in entries]
        if not rows:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT INTO published(id, fingerprint, published_at, signature) VALUES (?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "published_at = excluded.published_at, signature = excluded.signature",
                rows,
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def watermark(self, source: str) -> str | None:
        """The source's watermark (an ISO time its next crawl may start from), or None before the first."""
        row = self._conn.execute("SELECT value FROM watermarks WHERE source = ?", (source,)).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, source: str, value: str) -> None:
        """Move the source's watermark; only after a crawl of it finished, so a killed crawl re-reads."""
        self._conn.execute(
            "INSERT INTO watermarks(source, value, updated_at) VALUES (?,?,?) "
            "ON CONFLICT(source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (source, value, time.time()),
        )

    def record_crawl(self, entry: Mapping[str, Any]) -> None:
        """Remember a source's latest crawl (the keys of :data:`CRAWL_COLUMNS`; ``dropped`` a mapping)."""
        row = {**entry, "dropped": json.dumps(dict(entry.get("dropped") or {}), ensure_ascii=False)}
        self._conn.execute(
            f"INSERT OR REPLACE INTO crawls({','.join(CRAWL_COLUMNS)}) "
            f"VALUES ({','.join('?' for _ in CRAWL_COLUMNS)})",
            [row[name] for name in CRAWL_COLUMNS],
        )

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def _read_only(path: Path) -> sqlite3.Connection | None:
    """The state file opened for reading only (a page must not create it), or None if there is none."""
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def read_crawls(path: Path) -> dict[str, dict[str, Any]]:
    """Each source's latest crawl as :meth:`SeenStore.record_crawl` wrote it; {} without a state file."""
    conn = _read_only(path)
    if conn is None:
        return {}
    try:
        rows = conn.execute(f"SELECT {','.join(CRAWL_COLUMNS)} FROM crawls").fetchall()
    except sqlite3.OperationalError:  # a state file from before the crawl log
        return {}
    finally:
        conn.close()
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = dict(zip(CRAWL_COLUMNS, row, strict=True))
        try:
            entry["dropped"] = json.loads(entry["dropped"])
        except ValueError:
            entry["dropped"] = {}
        out[str(entry["source"])] = entry
    return out


def count_published(path: Path, prefixes: Sequence[str]) -> dict[str, int]:
    """How many posts whose id starts with each prefix (``board:<channel>:``) were ever published."""
    conn = _read_only(path)
    if conn is None:
        return dict.fromkeys(prefixes, 0)
    out: dict[str, int] = {}
    try:
        for prefix in prefixes:
            # A range on the primary key: ids from "<prefix>" up to the prefix with its last character
            # bumped, so the count reads the index only.
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            row = conn.execute(
                "SELECT COUNT(*) FROM published WHERE id >= ? AND id < ?", (prefix, upper)
            ).fetchone()
            out[prefix] = int(row[0])
    except sqlite3.OperationalError:
        return dict.fromkeys(prefixes, 0)
    finally:
        conn.close()
    return out
