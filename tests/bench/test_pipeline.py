"""The pipeline bench's archive watcher: every post seen once, with redeliveries counted apart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.embedded import EmbeddedArchive
from bench.pipeline import ArchiveWatch
from core.messages import EnrichedPost
from tests.archive.samples import enriched


def _post(n: int, text: str = "小区门口的路灯坏了") -> EnrichedPost:
    return enriched("board", "bench", str(n), published_at="2024-05-01T08:00:00+08:00", text=f"{text}{n}")


def test_the_watch_sees_each_committed_post_once_and_counts_a_redelivery(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    archive = EmbeddedArchive(path)
    watch = ArchiveWatch(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        archive.index([_post(1), _post(2)])
        watch.poll(conn)
        first = dict(watch.seen)
        archive.index([_post(2, "路灯已修好"), _post(3)])  # post 2 again: replaced under a new rowid
        watch.poll(conn)
    finally:
        conn.close()
        archive.close()
    ids = [_post(n)["id"] for n in (1, 2, 3)]
    assert sorted(watch.seen) == sorted(ids)
    assert watch.seen[ids[1]] == first[ids[1]]  # the first sight is the moment it became searchable
    assert watch.redelivered == 1


def test_the_watch_waits_for_an_archive_that_does_not_exist_yet(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    watch = ArchiveWatch(path, poll_s=0.01)
    watch.start()
    archive = EmbeddedArchive(path)
    try:
        archive.index([_post(7)])
    finally:
        archive.close()
    watch.stop()
    assert list(watch.seen) == [_post(7)["id"]]
