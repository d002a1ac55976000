"""The archive under load: reads on connections of their own, a time budget, query limits, NOT phrases."""

from __future__ import annotations

import functools
import random
import sqlite3
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive import embedded_readers, sqlcompile
from archive.ast import And, Constant, Match, Node, Not, Or, Range, Term, Words, normalise, resolve
from archive.base import Archive, SearchQuery
from archive.documents import extract_all
from archive.elastic import ElasticArchive
from archive.embedded import EmbeddedArchive
from archive.embedded_readers import WATCHDOG
from archive.embedded_schema import IDEOGRAPH_SOURCES, pack, phrase_in, plain
from archive.errors import QueryError, QueryTimeout
from archive.escompile import compile_es
from archive.plan import condition
from archive.querylang import MAX_DEPTH, MAX_LENGTH, parse
from archive.sqlcompile import compile_sql, ideographic
from archive.tokens import tokenize
from core.messages import EnrichedPost
from tests.archive.samples import dataset, enriched

# --- reads on connections of their own ---------------------------------------------------------


@pytest.fixture
def blocking_phrase(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(started, release): a check of the phrase 小区停车 signals ``started`` and waits for ``release``.

    The check runs inside SQLite, in the middle of a read: the read holds its connection until the
    test releases it, with no clock involved.
    """
    started, release = threading.Event(), threading.Event()

    def check(doc: bytes, phrase: str) -> bool:
        if phrase == "小区停车":
            started.set()
            release.wait(30)
        return phrase_in(doc, phrase)

    monkeypatch.setattr(embedded_readers, "phrase_in", check)
    monkeypatch.setattr(sqlcompile, "ideographic", lambda phrase: False)  # every check in Python
    yield started, release
    release.set()


def test_a_search_stuck_inside_sqlite_blocks_no_other_read_and_no_write(
    tmp_path: Path, blocking_phrase: tuple[threading.Event, threading.Event]
) -> None:
    started, release = blocking_phrase
    archive = EmbeddedArchive(tmp_path / "archive.db", query_budget_s=None)
    archive.index(list(dataset().values()))
    assert resolve(parse('"小区停车"') or Constant(True), tokenize) == Words(("小区", "停车"), "小区停车")
    found: dict[str, Any] = {}

    def slow_search() -> None:
        found["slow"] = archive.search(SearchQuery(text='"小区停车"'))

    analyst = threading.Thread(target=slow_search)
    analyst.start()
    try:
        assert started.wait(10), "the slow search never reached its phrase check"
        # The analyst's search is inside SQLite now, holding its connection and snapshot.
        assert archive.count() == 10
        assert archive.search(SearchQuery(text="停车")).total == 3
        assert archive.shares("source")["weibo"] == 3
        assert [hit["id"] for hit in archive.search(SearchQuery(text="公租房")).hits] == [
            dataset()["housing_board"]["id"]
        ]
        extra = enriched(
            "weibo", "城市观察", "9900", published_at="2024-07-01T08:00:00+08:00", text="小区停车又满了"
        )
        archive.index([extra])  # the writer does not wait for the reader either
        assert archive.count() == 11
        assert archive.get(extra["id"]) == extra
        assert analyst.is_alive(), "everything above ran while the slow search was still running"
    finally:
        release.set()
        analyst.join(10)
    # The slow search kept the snapshot it started in: the post written meanwhile is not in it.
    assert found["slow"].total == 1
    assert archive.search(SearchQuery(text='"小区停车"')).total == 2
    archive.close()


def test_many_threads_read_at_once_and_every_answer_is_right(tmp_path: Path) -> None:
    archive = EmbeddedArchive(tmp_path / "archive.db")
    archive.index(list(dataset().values()))
    expected = {
        text: archive.count(SearchQuery(text=text)) for text in ("停车", "噪音 OR 施工", "source:weibo")
    }
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def reader() -> None:
        try:
            barrier.wait(10)
            for _ in range(30):
                for text, total in expected.items():
                    assert archive.search(SearchQuery(text=text)).total == total
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    archive.close()


def test_read_connections_are_read_only_and_mapped_unless_the_archive_writes(tmp_path: Path) -> None:
    reader = EmbeddedArchive(tmp_path / "archive.db")
    writer = EmbeddedArchive(tmp_path / "archive.db", mapped=False)
    try:
        with reader._reading("check") as connection:
            assert connection.execute("PRAGMA query_only").fetchone()[0] == 1
            assert connection.execute("PRAGMA mmap_size").fetchone()[0] > 0
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                connection.execute("DELETE FROM posts")
        with writer._reading("check") as connection:
            assert connection.execute("PRAGMA mmap_size").fetchone()[0] == 0
    finally:
        reader.close()
        writer.close()


def test_a_closed_archive_refuses_reads(tmp_path: Path) -> None:
    archive = EmbeddedArchive(tmp_path / "archive.db")
    archive.close()
    with pytest.raises(Exception, match="closed"):
        archive.count()


# --- the time budget ---------------------------------------------------------------------------


@pytest.fixture
def slow_phrase(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every phrase check takes 50 ms: a phrase search over 40 posts needs two seconds.

    The list holds one entry per check made.
    """
    checks: list[str] = []

    def check(doc: bytes, phrase: str) -> bool:
        checks.append(phrase)
        time.sleep(0.05)
        return phrase_in(doc, phrase)

    monkeypatch.setattr(embedded_readers, "phrase_in", check)
    monkeypatch.setattr(sqlcompile, "ideographic", lambda phrase: False)  # every check in Python
    return checks


def _parking(count: int) -> list[EnrichedPost]:
    start = datetime(2024, 5, 1, 8, 0)
    return [
        enriched(
            "weibo",
            "城市观察",
            f"77{number:05d}",
            published_at=(start + timedelta(minutes=number)).isoformat() + "+08:00",
            text=f"第{number}条：小区停车太难了",
        )
        for number in range(count)
    ]


def test_a_query_past_its_budget_is_cancelled_and_the_connection_serves_the_next(
    tmp_path: Path, slow_phrase: list[str]
) -> None:
    archive = EmbeddedArchive(tmp_path / "archive.db", query_budget_s=0.2)
    archive.index(_parking(40))
    with pytest.raises(QueryTimeout) as caught:
        archive.search(SearchQuery(text='"小区停车"'))
    assert len(slow_phrase) < 40  # cancelled before it had checked every post
    assert caught.value.message == "查询超过 0.2 秒未完成，已取消；请缩小时间范围或简化条件"
    assert isinstance(caught.value, QueryError)  # the search page shows it like any query error
    for call in (
        lambda: archive.count(SearchQuery(text='"小区停车"')),
        lambda: archive.shares("source", SearchQuery(text='"小区停车"')),
        lambda: archive.histogram(SearchQuery(text='"小区停车"')),
        lambda: list(archive.scan(SearchQuery(text='"小区停车"'), batch=100)),
    ):
        with pytest.raises(QueryTimeout):
            call()
    # One thread, one connection all along: the interrupted connection answers the next reads.
    assert len(archive._readers._idle) == 1
    connection = archive._readers._idle[0]
    assert archive.count() == 40
    assert archive.search(SearchQuery(text="停车")).total == 40
    assert archive._readers._idle == [connection]
    archive.query_budget_s = None
    assert archive.search(SearchQuery(text='"小区停车"', size=3)).total == 40
    archive.close()


def test_a_deadline_never_reaches_the_next_read(tmp_path: Path) -> None:
    # Budgets that run out around the time each read ends: an interrupt meant for one read must
    # never cancel the next one on the same connection.
    archive = EmbeddedArchive(tmp_path / "archive.db", query_budget_s=0.002)
    archive.index(list(dataset().values()))
    outcomes = {"answered": 0, "cancelled": 0}
    for _ in range(300):
        try:
            assert archive.search(SearchQuery(text="停车 OR 噪音")).total == 5
            outcomes["answered"] += 1
        except QueryTimeout:
            outcomes["cancelled"] += 1
    archive.query_budget_s = None
    for _ in range(50):
        assert archive.search(SearchQuery(text="停车 OR 噪音")).total == 5
    assert sum(outcomes.values()) == 300
    archive.close()


def test_an_interrupt_between_two_statements_of_a_read_still_cancels_it(tmp_path: Path) -> None:
    archive = EmbeddedArchive(tmp_path / "archive.db", query_budget_s=None)
    archive.index(list(dataset().values()))
    with archive._reading("check") as reader:
        assert reader.execute("SELECT count(*) FROM posts").fetchone()[0] == 10
        WATCHDOG.arm(reader, 0.0)
        deadline = time.monotonic() + 10
        while not reader.expired and time.monotonic() < deadline:
            time.sleep(0.001)
        WATCHDOG.disarm(reader)
        # SQLite forgets an interrupt that lands while no statement runs; the reader does not.
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            reader.execute("SELECT count(*) FROM posts")
    assert archive.count() == 10
    archive.close()


def test_elasticsearch_reports_a_timed_out_search_as_a_timeout_not_as_partial_hits() -> None:
    archive = ElasticArchive("http://127.0.0.1:9", index="yq-budget", query_budget_s=2.5)
    partial = {"timed_out": True, "hits": {"total": {"value": 3}, "hits": []}, "aggregations": {}}
    requests: list[dict[str, Any]] = []

    class Client:
        def search(self, **request: Any) -> dict[str, Any]:
            requests.append(request)
            return partial

    archive._reader = Client()  # type: ignore[assignment]
    for call in (
        lambda: archive.search(SearchQuery(text="停车")),
        lambda: archive.count(SearchQuery(text="停车")),
        lambda: archive.shares("source"),
        lambda: archive.histogram(),
    ):
        with pytest.raises(QueryTimeout, match=r"查询超过 2\.5 秒未完成"):
            call()
    assert {request["timeout"] for request in requests} == {"2500ms"}
    archive.close()


@pytest.mark.servers
def test_elasticsearch_cancels_a_query_past_its_budget(es_url: str, es_index: str) -> None:
    archive = ElasticArchive(es_url, index=es_index, request_timeout=30, max_retries=0, replicas=0)
    archive.ensure()
    # noida-db answers a search over a few posts within a fraction of a millisecond (and ignores
    # the request's timeout): 2,000 posts make it scan for long enough to miss a 1 ms budget.
    archive.index(_parking(2_000))
    archive.refresh()
    hurried = ElasticArchive(es_url, index=es_index, max_retries=0, query_budget_s=0.001)
    try:
        for call in (
            lambda: hurried.search(SearchQuery(text="停车")),
            lambda: hurried.count(SearchQuery(text="停车")),
            lambda: hurried.shares("source", SearchQuery(text="停车")),
            lambda: hurried.histogram(SearchQuery(text="停车")),
        ):
            with pytest.raises(QueryTimeout, match=r"^查询超过 0\.001 秒未完成，已取消"):
                call()
        # The same client goes on serving requests without a budget, and the server is unharmed.
        assert hurried.get(_parking(1)[0]["id"]) is not None
        assert archive.count() == 2_000
        assert archive.search(SearchQuery(text="停车")).total == 2_000
    finally:
        hurried.close()
        archive.close()


# --- limits on the query language ---------------------------------------------------------------


def test_a_query_longer_than_the_limit_is_refused_naming_the_limit_and_where() -> None:
    with pytest.raises(QueryError) as caught:
        parse("停" * 10_000)
    assert caught.value.message.startswith("查询太长：共 10,000 个字符，最多 1,000 个")
    assert "第 1,001 个字符起" in caught.value.message
    assert caught.value.position == MAX_LENGTH
    assert parse("停" * MAX_LENGTH) is not None


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 500 + "停车" + ")" * 500, MAX_DEPTH),
        ("NOT " * 500 + "停车", MAX_DEPTH * 4),
        ("-" * 500 + "停车", MAX_DEPTH),
        ("(-" * 300 + "停车" + ")" * 300, MAX_DEPTH),
        ("(a OR " * 400 + "b" + ")" * 400, MAX_DEPTH * 6),
    ],
)
def test_nesting_deeper_than_the_limit_is_refused_before_any_recursion_error(
    text: str, position: int
) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text, max_length=None)
    assert caught.value.message.startswith("查询嵌套太深：")
    assert f"最多 {MAX_DEPTH} 层" in caught.value.message
    assert caught.value.position == position
    with pytest.raises(QueryError) as caught:
        parse(text)  # with the length limit too, which answers first for the longer ones
    assert caught.value.message.startswith("查询太长" if len(text) > MAX_LENGTH else "查询嵌套太深")


def test_nesting_up_to_the_limit_is_fine() -> None:
    deepest = "(" * MAX_DEPTH + "停车" + ")" * MAX_DEPTH
    assert parse(deepest) == Term("停车", MAX_DEPTH)
    assert parse("(" * 10 + "NOT " * 10 + "停车" + ")" * 10) is not None


_PIECES = [
    "(", ")", "（", "）", '"', "“", "”", "NOT ", "-", "OR", "AND", " ", " ", "停车", "小区", "a",
    "source:weibo", "time:2025", "risk:>=60", "risk:80..60", "region:", "：", "..", ">", "x:y",
    "!", "covid-19", "http://a.cn", "\\", "'", "\u0000", "\ufeff",
]  # fmt: skip


def _grown(rng: random.Random, depth: int) -> str:
    """A query of the grammar, nesting up to ``depth`` (sometimes past the limit)."""
    if depth <= 0 or rng.random() < 0.25:
        return rng.choice(["停车", '"小区停车"', "source:weibo", "time:2025-03", "risk:>=60", "（噪音）"])
    left, right = _grown(rng, depth - 1), _grown(rng, depth // 3)
    return rng.choice([f"({left})", f"NOT {left}", f"-{left}", f"{left} OR {right}", f"{left} {right}"])


def _fuzzed(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:  # raw characters
        alphabet = '()（）"“” -:：.<>=ANDORNOT停车小区az09\t\n\\'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1_500)))
    if roll < 0.6:
        return "".join(rng.choice(_PIECES) for _ in range(rng.randrange(400)))
    return _grown(rng, rng.randrange(30))


def test_no_input_makes_parsing_or_compiling_fail_with_anything_but_a_query_error() -> None:
    rng = random.Random(19)
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(3_000):
        text = _fuzzed(rng)
        try:
            node = condition(SearchQuery(text=text))
        except QueryError as exc:
            assert exc.message
            outcomes["refused"] += 1
            continue
        compile_sql(node)
        compile_es(node)
        outcomes["parsed"] += 1
    assert min(outcomes.values()) > 300  # the fuzzing reached both outcomes often


def test_both_archives_refuse_the_search_box_attacks_with_a_query_error(archive: Archive) -> None:
    for text in ("(" * 500 + "停车" + ")" * 500, "停车 " * 5_000, "(" * 25 + "停车" + ")" * 25):
        query = SearchQuery(text=text)
        for call in (
            functools.partial(archive.search, query),
            functools.partial(archive.count, query),
            functools.partial(archive.shares, "source", query),
        ):
            with pytest.raises(QueryError, match=r"^查询(太长|嵌套太深)"):
                call()


# --- NOT phrases: the fast path finds what the query means ----------------------------------------

_WORDS = [
    "小区", "停车", "车位", "不足", "物业", "收费", "标准", "噪音", "扰民", "施工", "夜间", "电梯",
    "故障", "希望", "政府", "我们", "问题", "楼道", "路灯", "漏水", "的", "很",
]  # fmt: skip
_PHRASES = ["小区停车", "停车收费", "收费标准", "噪音扰民", "夜间施工", "电梯故障", "希望政府", "我们小区"]
_SOURCES = ["weibo", "board", "hotline", "news"]


def _corpus(rng: random.Random, count: int) -> list[EnrichedPost]:
    posts = []
    for number in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randrange(4, 14))]
        if rng.random() < 0.4:  # a phrase as written, so that NOT phrases have posts to drop
            words.insert(rng.randrange(len(words) + 1), rng.choice(_PHRASES))
        cut = rng.randrange(len(words) + 1)
        text = "".join(words[cut:]) + rng.choice(["。", "！", ""])
        posts.append(
            enriched(
                rng.choice(_SOURCES),  # type: ignore[arg-type]
                "渠道",
                f"{number:05d}",
                published_at=(datetime(2024, 1, 1) + timedelta(hours=rng.randrange(8_000))).isoformat()
                + "+08:00",
                title="".join(words[:cut]),
                text=text or "空",
                risk=rng.randrange(100),
                region=rng.choice(["朝阳区", "海淀区", None]),
            )
        )
    return posts


def _query(rng: random.Random) -> str:
    positive = rng.choice(
        [
            "",
            rng.choice(_WORDS[:20]),
            f'"{rng.choice(_PHRASES)}"',
            f"({rng.choice(_WORDS)} OR {rng.choice(_WORDS)})",
            f"source:{rng.choice(_SOURCES)}",
            "time:2024-03..2024-08",
            f"{rng.choice(_WORDS[:20])} region:朝阳区",
            f"(source:weibo OR {rng.choice(_WORDS)})",
        ]
    )
    negations = []
    for _ in range(rng.randrange(1, 8)):
        negations.append(
            rng.choice(
                [
                    f'NOT "{rng.choice(_PHRASES)}"',
                    f'-"{rng.choice(_PHRASES)}"',
                    f"NOT {rng.choice(_WORDS[:20])}",
                    f'NOT ("{rng.choice(_PHRASES)}" OR source:{rng.choice(_SOURCES)})',
                    f"-region:{rng.choice(['朝阳区', '海淀区'])}",
                ]
            )
        )
    return " ".join(part for part in [positive, *negations] if part)


def _holds(node: Node, post: EnrichedPost, facts: dict[str, Any]) -> bool:
    """What ``node`` means for one post, straight from its definition (docs/search.md)."""
    if isinstance(node, Words):
        phrase = node.phrase
        return all(token in facts["tokens"] for token in node.tokens) and (
            phrase is None or any(phrase in text for text in facts["texts"])
        )
    if isinstance(node, Match):
        return bool(facts["filters"][node.field] == node.value)
    if isinstance(node, Range):
        value = facts["time"] if node.field == "time" else facts["risk"]
        return (node.low is None or value >= node.low) and (node.high is None or value < node.high)
    if isinstance(node, And):
        return all(_holds(item, post, facts) for item in node.items)
    if isinstance(node, Or):
        return any(_holds(item, post, facts) for item in node.items)
    if isinstance(node, Not):
        return not _holds(node.item, post, facts)
    assert isinstance(node, Constant)
    return node.value


@pytest.mark.parametrize("checked_by", ["sqlite", "python"])
def test_not_phrases_find_exactly_the_posts_the_query_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked_by: str
) -> None:
    if checked_by == "python":  # the phrase checks SQLite makes for plain posts, made by yq_phrase
        monkeypatch.setattr(sqlcompile, "ideographic", lambda phrase: False)
    rng = random.Random(7)
    posts = _corpus(rng, 400)
    archive = EmbeddedArchive(tmp_path / "archive.db")
    archive.index(posts)
    facts = {}
    for item in extract_all(posts):
        post = item.post
        texts = [normalise(post.get("title") or ""), normalise(post.get("text") or "")]
        facts[item.post_id] = {
            "tokens": set(item.title_tokens) | set(item.text_tokens),
            "texts": texts,
            "filters": item.filters,
            "time": item.published_ms,
            "risk": item.risk,
        }
    checked = 0
    for _ in range(150):
        text = _query(rng)
        node = condition(SearchQuery(text=text))
        expected = {post["id"] for post in posts if _holds(node, post, facts[post["id"]])}
        assert archive.count(SearchQuery(text=text)) == len(expected), text
        for sort in ("time", "relevance", "risk"):
            hits = archive.search(SearchQuery(text=text, sort=sort, size=500)).hits  # type: ignore[arg-type]
            assert {hit["id"] for hit in hits} == expected, (text, sort)
        checked += bool(expected) and len(expected) < len(posts)
    assert checked > 100  # most queries kept some posts and dropped others
    archive.close()


def test_every_character_nfkc_turns_into_an_ideograph_is_known() -> None:
    # The byte search that rules a Chinese phrase out in SQLite trusts posts without these.
    missed = []
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if folded != char and any(ideographic(part) for part in folded) and not IDEOGRAPH_SOURCES.match(char):
            missed.append(f"U+{code:04X}")
    assert missed == []


def test_phrases_are_found_through_compatibility_characters_and_in_rows_written_before_plain(
    tmp_path: Path,
) -> None:
    def post(number: int, text: str) -> EnrichedPost:
        return enriched(
            "weibo", "城市观察", f"88{number}", published_at="2024-05-01T08:00:00+08:00", text=text
        )

    radical = post(1, "小区\u2fa6属垃圾没人收")  # a Kangxi radical that NFKC turns into 金
    as_written = post(2, "金属垃圾回收站满了")
    older = post(3, "又见金属垃圾")
    apart = post(4, "垃圾桶里有金属")  # the phrase's words, not the phrase
    assert plain(pack(radical)) == 0 and plain(pack(as_written)) == 1
    archive = EmbeddedArchive(tmp_path / "archive.db")
    archive.index([radical, as_written, older, apart])
    with sqlite3.connect(archive.path) as conn:  # as a row written before the column existed
        conn.execute("UPDATE posts SET plain = NULL WHERE id = ?", (older["id"],))
    found = {post["id"] for post in archive.search(SearchQuery(text='"金属垃圾"')).hits}
    assert found == {radical["id"], as_written["id"], older["id"]}
    kept = {post["id"] for post in archive.search(SearchQuery(text='垃圾 NOT "金属垃圾"')).hits}
    assert kept == {apart["id"]}
    assert archive.count(SearchQuery(text='NOT "金属垃圾"')) == 1
    archive.close()


def test_an_archive_from_before_the_plain_column_gets_it_on_opening(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    first = EmbeddedArchive(path)
    first.index(list(dataset().values()))
    first.close()
    with sqlite3.connect(path) as conn:  # as written by older code
        conn.execute("ALTER TABLE posts DROP COLUMN plain")
    again = EmbeddedArchive(path)
    assert again.search(SearchQuery(text='"小区停车"')).total == 1
    again.index(
        [enriched("weibo", "城市观察", "8899", published_at="2024-07-01T08:00:00+08:00", text="小区停车难")]
    )
    assert again.search(SearchQuery(text='"小区停车"')).total == 2
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*), count(plain) FROM posts").fetchone() == (11, 1)
