"""The embedded archive's SQLite file: its schema, how a post is stored, and the connection set-up."""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from pathlib import Path
from typing import cast

from archive.ast import normalise
from archive.base import FILTER_FIELDS
from archive.sqlcompile import COLUMNS, IDEOGRAPH_SOURCE_RANGES, ideographic
from core.messages import EnrichedPost

_ESCAPED = frozenset('"\\') | frozenset(chr(code) for code in range(32))

SCHEMA_VERSION = 2
MMAP_BYTES = 1 << 32
FILTER_COLUMNS = [COLUMNS[name] for name in FILTER_FIELDS]
INDEXED = ("source", "sentiment", "topic", "region", "event_id")
_SHARED = ("source", "sentiment", "topic", "region", "risk", "reply_status")


def _covering(column: str) -> str:
    return ", ".join([column, "published_ms", *(c for c in _SHARED if c != column)])


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS posts (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    published_ms INTEGER NOT NULL,
    {", ".join(f"{column} TEXT" for column in FILTER_COLUMNS)},
    risk INTEGER NOT NULL,
    doc BLOB NOT NULL,
    plain INTEGER -- see plain(); NULL in rows written before the column existed
);
CREATE INDEX IF NOT EXISTS posts_by_time ON posts (published_ms DESC, id);
CREATE INDEX IF NOT EXISTS posts_by_risk ON posts (risk DESC, published_ms DESC, id);
-- (field, time, the share fields) serves a filter with a time range, and a share of another
-- field over that filter, from the index alone (no row lookups). Channel, appeal type and reply
-- status go without: each index costs load time and disk, and those filters come with text or
-- another field in practice.
{"".join(f"CREATE INDEX IF NOT EXISTS posts_by_{c} ON posts ({_covering(c)});" for c in INDEXED)}
-- Tokens are already cut by jieba and joined by spaces; unicode61 then only splits on the spaces.
-- tokenchars keeps jieba words such as c++ or covid-19 whole instead of splitting them again.
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(
    title, body, content = '', detail = column,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '-_.+#&%'"
);
"""
INSERT_POST = f"""
INSERT INTO posts (id, published_ms, {", ".join(FILTER_COLUMNS)}, risk, doc, plain)
VALUES (?, ?, {", ".join("?" for _ in FILTER_COLUMNS)}, ?, ?, ?)
"""
# Columns added after files were first written: ensure() adds them to an older file.
ADDED_COLUMNS = {"plain": "INTEGER"}


def pack(post: EnrichedPost) -> bytes:
    """A post as stored: compact JSON in UTF-8.

    Archives written before 2026-12 hold zlib-compressed JSON, which :func:`unpack` still reads.
    Compressing saved only 30 % on a typical post (~820 bytes of JSON; zlib's set-up dominates at
    that size) and cost ~27 µs a post, a seventh of the index worker's time.
    """
    return json.dumps(post, ensure_ascii=False, separators=(",", ":")).encode()


def _text(doc: bytes) -> str:
    # A JSON object starts with "{"; a zlib stream (the older format) with 0x78.
    return (doc if doc[:1] == b"{" else zlib.decompress(doc)).decode()


def unpack(doc: bytes) -> EnrichedPost:
    """A stored post (either format, see :func:`pack`)."""
    return cast(EnrichedPost, json.loads(_text(doc)))


# Every character that NFKC turns into (or into a string holding) a CJK ideograph.
IDEOGRAPH_SOURCES = re.compile("[" + "".join(f"{low}-{high}" for low, high in IDEOGRAPH_SOURCE_RANGES) + "]")
_stable = ideographic


def plain(doc: bytes) -> int:
    """1 if the stored post holds an ideographic phrase exactly where its normalised text does.

    That is: it is JSON (not the older zlib), escapes nothing as \\uXXXX and has no character
    that NFKC turns into an ideograph. For such a post an ideographic phrase occurs in the
    normalised title and text exactly where it occurs in the stored ones, which SQLite checks
    without calling Python (:mod:`archive.sqlcompile`). Stored in the ``plain`` column beside
    ``doc``: whatever rewrites a ``doc`` must rewrite its ``plain`` too.
    """
    if doc[:1] != b"{" or b"\\u" in doc:
        return 0
    return int(IDEOGRAPH_SOURCES.search(doc.decode()) is None)


def phrase_in(doc: bytes, phrase: str) -> bool:
    """``yq_phrase``: whether the stored post's title or text contains the normalised phrase."""
    raw = _text(doc)
    stable = _stable(phrase)
    # Most candidates of an unusual phrase lack it anywhere: rule them out on the raw JSON before
    # parsing it. JSON escapes only quotes, backslashes and control characters, so for a phrase
    # without them, absent from the normalised JSON means absent from every field. Ideographs are
    # stored unescaped (pack() writes UTF-8) and normalise to themselves, so a stable phrase absent
    # from the JSON as stored is absent, unless the JSON holds a character that NFKC turns into an
    # ideograph (a Kangxi radical, ㍿) or escapes characters as \uXXXX: then it is parsed.
    if stable:
        if phrase not in raw and "\\u" not in raw and not IDEOGRAPH_SOURCES.search(raw):
            return False
    elif not _ESCAPED.intersection(phrase) and phrase not in normalise(raw):
        return False
    post = cast(EnrichedPost, json.loads(raw))
    fields = [str(post.get(name) or "") for name in ("title", "text")]
    # NFKC is most of the cost of this check (tens of µs a post): a Chinese phrase found as stored
    # needs none.
    if stable and any(phrase in value for value in fields):
        return True
    return any(phrase in normalise(value) for value in fields)


def connect(
    path: Path, busy_timeout_s: float, *, mapped: bool = True, reader: bool = False
) -> sqlite3.Connection:
    """A connection in WAL mode with the archive's pragmas and SQL functions.

    ``mapped=False`` reads through ``read()`` instead of mapping the file: for a process that
    mostly writes (the index worker), whose mapped pages would otherwise count towards its
    resident memory as the archive grows, for little gain. A ``reader`` connection (the archive's
    pool of read connections) refuses writes and leaves the journal settings to the writer's.
    """
    if not reader:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    if reader:
        conn.execute("PRAGMA query_only=ON")
    else:
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash (only a power loss can drop the last commits).
        conn.execute("PRAGMA synchronous=NORMAL")
        # A checkpoint (and with it the only fsync of NORMAL) after every 8,192 pages of log instead
        # of 1,000: the index worker's batches write a few thousand pages each, and waiting on a
        # sync after nearly every batch kept it a fifth of the time off the CPU.
        conn.execute("PRAGMA wal_autocheckpoint=8192")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages of a large archive stay hot
    conn.execute("PRAGMA temp_store=MEMORY")
    # Reading pages straight from the mapped file, not copying each through a read() call, halves
    # the cost of looking up the thousands of posts a full-text match joins (SQLite caps the map
    # at its compile-time limit, 2 GiB by default; the rest of a larger file is read as before).
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES if mapped else 0}")
    # yq_phrase(rowid, doc, phrase): the rowid lets a reader remember answers (embedded_readers).
    conn.create_function(
        "yq_phrase", 3, lambda _rowid, doc, phrase: phrase_in(doc, phrase), deterministic=True
    )
    return conn
