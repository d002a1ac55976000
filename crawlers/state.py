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
from collections.abc import Iterable, Mapping
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
"""
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

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
