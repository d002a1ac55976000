"""What only the embedded archive does: one file shared by a writer process and its readers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.ast import normalise
from archive.base import SearchQuery
from archive.embedded import EmbeddedArchive
from archive.embedded_schema import pack, phrase_in
from archive.errors import ArchiveError, ArchiveUnavailable
from tests.archive.samples import dataset, enriched

REPO = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from pathlib import Path
from archive.embedded import EmbeddedArchive
from tests.archive.samples import enriched

archive = EmbeddedArchive(Path(sys.argv[1]))
for batch in range(40):
    archive.index([
        enriched("weibo", "压测", f"{batch}-{n}", published_at="2024-05-01T08:00:00+08:00",
                 text=f"第{batch}批第{n}条 小区停车难")
        for n in range(50)
    ])
archive.close()
"""


def test_posts_survive_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "home" / "archive.db"
    first = EmbeddedArchive(path)
    first.index(list(dataset().values()))
    first.close()
    again = EmbeddedArchive(path)
    assert again.count() == 10
    assert again.search(SearchQuery(text="公租房")).total == 1
    again.close()


def test_a_reindexed_post_matches_only_its_new_text(embedded_archive: EmbeddedArchive) -> None:
    posts = dataset()
    for _ in range(3):
        embedded_archive.index(list(posts.values()))
    changed = posts["parking_board"]
    changed["title"], changed["text"] = "物业答复", "物业答复下周划线。"
    embedded_archive.index([changed])
    # The stale token rows stay in the contentless index but join no post.
    assert embedded_archive.count(SearchQuery(text="停车")) == 2
    assert embedded_archive.count(SearchQuery(text="物业")) == 1
    embedded_archive.optimize()
    assert embedded_archive.count(SearchQuery(text="协调 OR 物业")) == 1
    with sqlite3.connect(embedded_archive.path) as conn:
        assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 10


def test_a_reader_process_searches_while_a_writer_process_indexes(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    reader = EmbeddedArchive(path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=REPO, stderr=subprocess.PIPE)
    seen: list[int] = []
    while writer.poll() is None:
        seen.append(reader.search(SearchQuery(text="停车难", size=5)).total)
        time.sleep(0.01)
    assert writer.returncode == 0, writer.stderr.read().decode() if writer.stderr else ""
    if writer.stderr:
        writer.stderr.close()
    assert reader.count() == 2000
    # Each batch commits as a whole: a reader only ever sees whole batches.
    assert all(total % 50 == 0 for total in seen)
    assert seen == sorted(seen)
    assert len(set(seen)) > 1  # the reader really ran while batches were landing
    reader.close()


def test_a_writer_that_waits_too_long_for_the_lock_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    archive = EmbeddedArchive(path, busy_timeout_s=0.2)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ArchiveUnavailable, match="locked"):
            archive.index([dataset()["parking_board"]])
        assert archive.count() == 0  # reads go on while another connection writes
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    archive.index([dataset()["parking_board"]])
    assert archive.count() == 1
    archive.close()


def test_a_file_from_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    EmbeddedArchive(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version=99")
    with pytest.raises(ArchiveError, match="schema 99"):
        EmbeddedArchive(path)


def test_a_post_with_a_non_object_field_is_rejected(embedded_archive: EmbeddedArchive) -> None:
    post = enriched(
        "weibo", "城市观察", "9003", published_at="2024-05-01T08:00:00+08:00", text="作者字段坏了"
    )
    post["author"] = "张三"  # type: ignore[typeddict-item]
    with pytest.raises(ArchiveError, match="author must be an object"):
        embedded_archive.index([post])


def test_a_file_from_before_an_index_gets_it_with_statistics_on_opening(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    first = EmbeddedArchive(path)
    first.index(list(dataset().values()))
    first.optimize()
    first.close()
    with sqlite3.connect(path) as conn:  # as an archive written by older code, without the index
        conn.execute("DROP INDEX posts_by_time")
        conn.execute("DELETE FROM sqlite_stat1 WHERE idx = 'posts_by_time'")
    again = EmbeddedArchive(path)
    assert again.search(SearchQuery(text="停车", size=2)).total == 3
    again.close()
    with sqlite3.connect(path) as conn:
        assert (
            conn.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'posts_by_time'")
            .fetchone()[0]
            .startswith("10 ")
        )


@pytest.mark.parametrize(
    "text",
    [
        "小区垃圾分类做得好",
        "小区\u2fa6属垃圾",  # a Kangxi radical that NFKC turns into 金
        "垃圾分\ufaae",  # a CJK compatibility ideograph that NFKC turns into 类
        "垃圾 分类，ＣＯＶＩＤ疫情",
        "cafe\u0301 垃圾分类\u0301",
        "",
    ],
)
def test_the_phrase_check_agrees_with_normalising_the_whole_text(text: str) -> None:
    post = enriched(
        "weibo", "城市观察", "9200", published_at="2024-05-01T08:00:00+08:00", text=text, title="标题"
    )
    doc = pack(post)
    phrases = ["垃圾分类", "垃圾分", "金属垃圾", "covid疫情", "cafe", "café", "标题", "分类", "分类\u0301"]
    for phrase in phrases:
        expected = any(phrase in normalise(value) for value in (post["title"], post["text"]))
        assert phrase_in(doc, phrase) is expected, (text, phrase)


def test_a_writer_reads_the_file_without_mapping_it(tmp_path: Path) -> None:
    from yuqing.backends import make_archive
    from yuqing.settings import Settings

    settings = Settings(home=tmp_path)
    reader, writer = make_archive(settings), make_archive(settings, writer=True)
    try:
        assert isinstance(reader, EmbeddedArchive) and isinstance(writer, EmbeddedArchive)
        with reader._reading("check") as connection:  # searches run on the pool's connections
            assert connection.execute("PRAGMA mmap_size").fetchone()[0] > 0
        assert writer._conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
    finally:
        reader.close()
        writer.close()


def _secondary_indices(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'posts_by_%'")
        return {name for (name,) in rows}


QUERIES = [
    SearchQuery(text="停车", sort="time"),
    SearchQuery(text="", filters={"source": "weibo"}, sort="risk"),
    SearchQuery(text="小区 OR 物业", sort="relevance"),
]


def test_a_bulk_load_finds_what_a_streamed_load_finds(tmp_path: Path) -> None:
    posts = list(dataset().values())
    streamed = EmbeddedArchive(tmp_path / "streamed.db")
    for post in posts:
        streamed.index([post])
    bulk = EmbeddedArchive(tmp_path / "bulk.db")
    expected = _secondary_indices(bulk.path)
    assert len(expected) >= 5
    with bulk.bulk():
        bulk.index(posts[:4])
        assert _secondary_indices(bulk.path) == set()  # appends only while loading
        assert bulk.count() == 4  # and searchable meanwhile, without the indices
        bulk.index(posts[4:])
    assert _secondary_indices(bulk.path) == expected
    assert all(bulk.search(query).total > 0 for query in QUERIES)
    for query in QUERIES:
        assert [p["id"] for p in bulk.search(query).hits] == [p["id"] for p in streamed.search(query).hits]
    assert bulk.shares("source") == streamed.shares("source")
    streamed.close()
    bulk.close()


def test_a_bulk_load_that_fails_still_leaves_a_whole_archive(tmp_path: Path) -> None:
    archive = EmbeddedArchive(tmp_path / "archive.db")
    expected = _secondary_indices(archive.path)
    with pytest.raises(ArchiveError), archive.bulk():
        archive.index(list(dataset().values()))
        archive.index([{"id": "x"}])  # type: ignore[list-item]
    assert _secondary_indices(archive.path) == expected
    assert archive.count() == 10
    archive.close()


def test_reopening_after_a_crash_inside_a_bulk_load_rebuilds_the_indices(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from archive.embedded import EmbeddedArchive\n"
        "from tests.archive.samples import dataset\n"
        "archive = EmbeddedArchive(Path(sys.argv[1]))\n"
        "with archive.bulk():\n"
        "    archive.index(list(dataset().values()))\n"
        "    os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO, timeout=120, check=False)
    assert done.returncode == 9
    assert _secondary_indices(path) == set()
    archive = EmbeddedArchive(path)
    assert len(_secondary_indices(path)) >= 5
    assert archive.count() == 10  # a process crash loses no committed batch
    assert archive.search(SearchQuery(text="停车", sort="time")).total >= 1
    archive.close()


def test_posts_stored_compressed_by_older_versions_still_read(tmp_path: Path) -> None:
    import json
    import zlib

    archive = EmbeddedArchive(tmp_path / "archive.db")
    posts = list(dataset().values())
    archive.index(posts)
    with sqlite3.connect(archive.path) as conn:  # as archives written before 2026-12 hold them
        for rowid, doc in conn.execute("SELECT rowid, doc FROM posts").fetchall():
            assert doc[:1] == b"{"
            old = zlib.compress(json.dumps(json.loads(doc), ensure_ascii=False).encode(), 1)
            conn.execute("UPDATE posts SET doc = ? WHERE rowid = ?", (old, rowid))
    parking = next(post for post in posts if "停车" in str(post.get("text")))
    assert archive.get(parking["id"]) == parking
    assert archive.search(SearchQuery(text='"停车"')).total >= 1  # the phrase check reads them too
    assert sorted(post["id"] for post in archive.scan(SearchQuery())) == sorted(post["id"] for post in posts)
    archive.close()
