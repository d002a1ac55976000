"""``yuqing bench archive --posts N``: load N realistic posts into the embedded archive and query them.

Posts are drawn from the real public data in ``../shared/data`` (never copied into the repository):
texts of Weibo posts, 留言板 messages and 12345 complaints in the sources' real proportions, times
of day from the real posts spread over two years, topics from the labelled messages. The load goes
in batches through what :meth:`EmbeddedArchive.index` does, split in two: worker processes check,
tokenise (jieba, no caching of repeated texts) and compress each post (:func:`prepare`), and this
process writes the batches (:meth:`EmbeddedArchive.write_batch`). Then a mix of 20 analyst
queries (full text, field filters, phrases, boolean operators, sorting, shares and volume
histograms) runs three times. One JSON line is printed, and each query's three timings go to
stderr, slowest first.

With ``--dir``, a second run on the same directory and the same ``--posts`` reuses the archive the
first one loaded (``"loaded": false`` in the JSON): measuring queries at a million posts then takes
seconds, not the quarter of an hour of loading. Opening it with newer code creates any index the
schema gained since.

``--sessions K`` measures the archive under load instead (:func:`run_sessions`): K analyst threads
share one :class:`EmbeddedArchive`, as the sessions of one dashboard process do, each running the
analyst mix and adversarial queries back to back; a duty monitor thread polls what the monitoring
page reads (newest posts, counts of the last hour and of today, shares, risk alerts, hourly volume);
and a writer process indexes ``--write-rate`` posts a second into the same file, as the index
worker does. ``--adversarial N`` mixes N adversarial queries, drawn at random, into each round
of the analyst mix instead of all of them. One JSON line per query kind (p50/p95/max, timeouts,
refusals) and one summary line are printed; stderr lists every query's figures, slowest p95 first.
The posts the writer adds stay in the archive; a later ``--dir`` run still reuses it
(``bench-archive.json`` records the load).
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from archive.base import SearchQuery
from archive.documents import extract_all
from archive.embedded import Batch, EmbeddedArchive, prepare
from archive.errors import QueryError, QueryTimeout
from yuqing.commands import Subparsers
from yuqing.settings import Settings

REGIONS = ["朝阳区", "海淀区", "丰台区", "东城区", "西城区", "通州区", "昌平区", "大兴区", "顺义区", "房山区"]
TOPICS = ["劳动保障", "城乡建设", "环境保护", "交通运输", "教育文体", "卫生计生", "商贸旅游"]
# The 泰迪杯 labels, mapped to the department's remit topics.
_TEDDY_TOPICS = {label: label for label in TOPICS} | {"劳动和社会保障": "劳动保障"}
START = datetime(2024, 7, 1)  # naive: China time, written with +08:00 below
# The analyst mix: 15 searches and 5 aggregations, in the query language of docs/search.md.
QUERIES: list[tuple[str, str, str]] = [
    ("search", "欠薪", "time"),
    ("search", "拖欠工资 OR 欠薪 source:hotline", "time"),
    ("search", '"物业管理" region:朝阳区', "time"),
    ("search", "噪音 -装修 time:2025-03-01..2025-06-30", "relevance"),
    ("search", "sentiment:negative risk:>=60", "risk"),
    ("search", "topic:劳动保障 reply:pending", "time"),
    ("search", "(停车 OR 车位) AND 小区", "relevance"),
    ("search", "学校 source:board time:2025", "time"),
    ("search", "source:weibo sentiment:negative 医院", "time"),
    ("search", '"垃圾分类"', "time"),
    ("search", "疫情 OR 口罩", "time"),
    ("search", "region:海淀区 topic:交通运输 -source:weibo", "risk"),
    ("search", "房屋 漏水 reply:replied", "time"),
    ("search", "工资 risk:40..80 time:2025-01..2025-12", "relevance"),
    ("search", "", "time"),
    ("shares", "topic", "time:2025-01..2025-06"),
    ("shares", "source", "欠薪"),
    ("shares", "region", "sentiment:negative"),
    ("histogram", "day", "欠薪 OR 拖欠工资"),
    ("histogram", "week", "time:2025"),
]


@dataclass(frozen=True)
class CorpusText:
    """One real text of the corpus, with its source, time of day and labels."""

    source: str
    title: str
    text: str
    clock: tuple[int, int, int]  # the real post's time of day
    topic: str | None = None
    sentiment: str | None = None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _clock(stamp: str, rng: random.Random) -> tuple[int, int, int]:
    try:
        moment = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return rng.randrange(8, 22), rng.randrange(60), rng.randrange(60)
    return moment.hour, moment.minute, moment.second


def load_corpus(data: Path, rng: random.Random) -> list[CorpusText]:
    """Real texts of every source (weibo, board, hotline) with their times of day and labels."""
    texts: list[CorpusText] = []
    for row in _rows(data / "stream" / "weibo_2020_10k.csv"):
        texts.append(CorpusText("weibo", "", row["text"], _clock(row["post_time"], rng)))
    clocks = [text.clock for text in texts]
    for row in _rows(data / "sentiment" / "weibo_senti_100k_partial.csv"):
        label = "positive" if row["label"] == "1" else "negative"
        texts.append(CorpusText("weibo", "", row["text"], rng.choice(clocks), sentiment=label))
    for name in ("teddy2020_messages_with_replies.csv", "teddy2020_messages_with_votes.csv"):
        for row in _rows(data / "boards" / name):
            texts.append(CorpusText("board", row["留言主题"], row["留言详情"], _clock(row["留言时间"], rng)))
    board_clocks = [text.clock for text in texts if text.source == "board"]
    for row in _rows(data / "topic" / "teddy2020_train.csv"):
        topic = _TEDDY_TOPICS.get(row["label"])
        texts.append(CorpusText("board", "", row["text"], rng.choice(board_clocks), topic=topic))
    for row in _rows(data / "hotline" / "dongguan_wenzheng_complaints.csv"):
        texts.append(CorpusText("hotline", row["title"], row["content"], rng.choice(board_clocks)))
    return [text for text in texts if text.text.strip()]


def generate(
    corpus: list[CorpusText], n: int, rng: random.Random, *, start: datetime = START, first: int = 0
) -> Iterator[dict[str, object]]:
    """``n`` enriched posts drawn from ``corpus`` over the two years from ``start`` (China time).

    Ids run from ``first``, so a data set can be grown by a later call without replacing posts.
    """
    for number in range(first, first + n):
        real = rng.choice(corpus)
        day = start + timedelta(days=rng.randrange(730))
        moment = day.replace(hour=real.clock[0], minute=real.clock[1], second=real.clock[2])
        sentiment = real.sentiment or rng.choices(["negative", "neutral", "positive"], [5, 3, 2])[0]
        risk = min(100, int(rng.expovariate(1 / 25)) + (20 if sentiment == "negative" else 0))
        post: dict[str, object] = {
            "schema": 1,
            "id": f"{real.source}:bench:{number}",
            "source": real.source,
            "channel": {"weibo": "微博", "board": "市长信箱", "hotline": "12345"}[real.source],
            "url": f"https://example.gov.cn/{number}",
            "title": real.title,
            "text": real.text,
            "published_at": moment.isoformat() + "+08:00",
            "fetched_at": moment.isoformat() + "+08:00",
            "region": rng.choice(REGIONS) if real.source != "weibo" or rng.random() < 0.3 else None,
            "metrics": {"reposts": rng.randrange(50), "likes": rng.randrange(500)},
            "sentiment": {"label": sentiment, "score": 0.8},
            "topic": {
                "label": real.topic or rng.choice(TOPICS),
                "score": 0.7,
                "in_remit": True,
                "unit": None,
            },
            "appeal_type": rng.choice(["投诉", "咨询", "求助", "建议", None]),
            "risk": {"score": risk, "reasons": []},
            "event_id": f"ev-{rng.randrange(max(n // 20, 1))}",
            "models": {},
        }
        if real.source != "weibo":
            post["reply"] = {"status": rng.choice(["pending", "replied", "replied"]), "replied_at": None}
        yield post


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _chunks(posts: Iterator[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    chunk: list[dict[str, object]] = []
    for post in posts:
        chunk.append(post)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepare(chunk: list[dict[str, object]]) -> Batch:
    # Tokenised and compressed in the worker: the writer gets rows of plain values to insert.
    return prepare(extract_all(chunk))  # type: ignore[arg-type]


def _preparer(conn: Connection) -> None:
    """A worker process: chunks of posts in, prepared batches (or the error) out, until None."""
    while (chunk := conn.recv()) is not None:
        try:
            reply: Batch | BaseException = _prepare(chunk)
        except Exception as exc:  # noqa: BLE001 - handed to the writer, which raises it
            reply = exc
        conn.send(reply)


def load(archive: EmbeddedArchive, posts: Iterator[dict[str, object]], *, batch: int, workers: int) -> None:
    """Bulk-load ``posts`` into ``archive`` in batches, tokenising in ``workers`` processes.

    The figure includes rebuilding the indices at the end (:meth:`EmbeddedArchive.bulk`). This
    process makes the chunks and writes the batches in its one thread, round-robin over one pipe
    per worker with one chunk in flight each. (A ``multiprocessing.Pool`` feeds and collects in
    threads of this process, which compete for the GIL with the writer, whose every SQLite step
    must take it back: the load ran ~35 % slower.)
    """
    chunks = _chunks(posts, batch)
    with archive.bulk():
        if workers <= 1:
            for part in chunks:
                archive.write_batch(_prepare(part))
            return
        context = multiprocessing.get_context("fork")
        pipes = [context.Pipe() for _ in range(workers)]
        processes = [context.Process(target=_preparer, args=(child,), daemon=True) for _, child in pipes]
        for process in processes:
            process.start()
        ends = [parent for parent, _ in pipes]
        try:
            busy: list[Connection] = []
            for end, first in zip(ends, chunks, strict=False):  # one chunk in flight per worker
                end.send(first)
                busy.append(end)
            turn = 0
            chunk = next(chunks, None)  # made before the wait, so a worker never waits for it
            while busy:
                end = busy[turn % len(busy)]
                ready = end.recv()
                if isinstance(ready, BaseException):
                    raise ready
                if chunk is None:
                    busy.remove(end)  # keep the order of the rest: the next turn is the same index
                else:
                    end.send(chunk)
                    turn += 1
                archive.write_batch(ready)
                chunk = next(chunks, None)
        finally:
            for end in ends:
                end.send(None)
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():  # stuck sending a batch nobody reads (after an error)
                    process.terminate()


def _label(kind: str, first: str, second: str) -> str:
    if kind == "search":
        return f"search[{second}] {first}"
    return f"{kind}({first}) {second}"


@dataclass
class Loaded:
    """The bench's archive, opened and holding its ``n`` loaded posts, and how the load went."""

    archive: EmbeddedArchive
    loaded: bool
    load_rate: int | None = None
    optimize_s: float | None = None


def open_loaded(
    n: int, data: Path, directory: Path, *, batch: int, seed: int, workers: int, budget_s: float | None = None
) -> Loaded:
    """The archive under ``directory`` with ``n`` bench posts: loaded now, or by an earlier run.

    ``bench-archive.json`` records how many posts the load wrote, so an archive that a sessions
    run's writer has grown since is still recognised. ``budget_s`` is the archive's query budget.
    """
    path = directory / "bench-archive.db"
    record = directory / "bench-archive.json"
    archive = EmbeddedArchive(path, query_budget_s=budget_s)
    archive.search(SearchQuery(text="预热"))  # load jieba's dictionary before the clock starts
    recorded = json.loads(record.read_text())["posts"] if record.exists() else None
    held = archive.count()
    if recorded == n or (recorded is None and held == n):
        record.write_text(json.dumps({"posts": n}))
        return Loaded(archive, loaded=False)
    if held:
        archive.close()
        raise SystemExit(f"{path} 已有 {held} 条帖子而不是 {n} 条：请换一个空目录（--dir）")
    rng = random.Random(seed)
    corpus = load_corpus(data, rng)
    started = time.perf_counter()
    load(archive, generate(corpus, n, rng), batch=batch, workers=workers)
    load_rate = round(n / (time.perf_counter() - started))
    started = time.perf_counter()
    archive.optimize()
    optimize_s = round(time.perf_counter() - started, 1)
    record.write_text(json.dumps({"posts": n}))
    return Loaded(archive, loaded=True, load_rate=load_rate, optimize_s=optimize_s)


def run(n: int, data: Path, directory: Path, *, batch: int, seed: int, workers: int = 1) -> dict[str, object]:
    """Load ``n`` posts into the archive under ``directory``, run the query mix, return the figures.

    An archive already holding exactly the ``n`` posts of an earlier run (``--dir``) is reused as
    it is: nothing is loaded or optimised again, and the figures say ``"loaded": false``. Every
    query still runs against the database, three times.
    """
    opened = open_loaded(n, data, directory, batch=batch, seed=seed, workers=workers)
    archive, loaded, load_rate, optimize_s = (
        opened.archive,
        opened.loaded,
        opened.load_rate,
        opened.optimize_s,
    )
    calls: list[tuple[str, Callable[[], object]]] = []
    for kind, first, second in QUERIES:
        if kind == "search":
            query = SearchQuery(text=first, sort=second, size=20)  # type: ignore[arg-type]
            call: Callable[[], object] = functools.partial(archive.search, query)
        elif kind == "shares":
            call = functools.partial(archive.shares, first, SearchQuery(text=second))
        else:
            call = functools.partial(archive.histogram, SearchQuery(text=second), first)  # type: ignore[arg-type]
        calls.append((_label(kind, first, second), call))
    per_query: dict[str, list[float]] = {label: [] for label, _ in calls}
    for _ in range(3):
        for label, call in calls:
            per_query[label].append(_timed(call))
    archive.close()
    timings = [ms for runs in per_query.values() for ms in runs]
    by_median = sorted(per_query.items(), key=lambda item: -statistics.median(item[1]))
    for label, runs in by_median:
        print(
            f"{statistics.median(runs):8.1f} ms  {' '.join(f'{ms:.0f}' for ms in runs):>16}  {label}",
            file=sys.stderr,
        )
    size = sum(part.stat().st_size for part in directory.glob("bench-archive.db*"))
    quantiles = statistics.quantiles(timings, n=20)
    return {
        "bench": "archive",
        "posts": n,
        "loaded": loaded,
        "workers": workers if loaded else None,
        "load_posts_per_second": load_rate,
        "optimize_seconds": optimize_s,
        "query_p50_ms": round(statistics.median(timings), 1),
        "query_p95_ms": round(quantiles[18], 1),
        "query_max_ms": round(max(timings), 1),
        "slowest_ms": {label: round(statistics.median(runs), 1) for label, runs in by_median[:3]},
        "disk_mb_per_million": round(size / 1e6 / n * 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- the archive under load: --sessions K -------------------------------------------------------

# The bench's "now": 18:00 on the day after the loaded posts' two years. The writer's posts fall in
# the two hours before it, so "today" and "the last hour" hold the posts that keep arriving.
END = START + timedelta(days=730, hours=18)
# Seven common phrases of two or three words each: every one needs its phrase check.
NOT_PHRASES = ["的问题", "我们小区", "希望政府", "请问一下", "没有人管", "是不是", "已经很久"]
WIDE_OR = [
    "小区", "物业", "停车", "噪音", "学校", "医院", "工资", "欠薪", "垃圾", "交通", "道路", "公交",
    "地铁", "房屋", "漏水", "供暖", "燃气", "拆迁", "补偿", "社保", "医保", "养老", "教育", "收费",
    "投诉", "装修", "违建", "环境", "污染", "绿化", "路灯", "占道", "施工", "扰民", "安全", "消防",
    "电梯", "水费", "电费", "网络",
]  # fmt: skip
_NOTS = " ".join(f'NOT "{phrase}"' for phrase in NOT_PHRASES)
# Adversarial queries: (label, query text, sort). The refused ones must fail fast with a QueryError.
ADVERSARIAL: list[tuple[str, str, str]] = [
    ("7 NOT phrases after a word", f"小区 {_NOTS}", "time"),
    ("7 NOT phrases alone", _NOTS, "time"),
    ("7 NOT phrases in a month", f"time:2025-03 {_NOTS}", "time"),
    ("7 NOT phrases on a source", f"source:hotline {_NOTS}", "risk"),
    ("wide OR of 40 words", " OR ".join(WIDE_OR), "time"),
    ("wide OR of 40 words by relevance", " OR ".join(WIDE_OR), "relevance"),
    ("wide OR with 7 NOT phrases", f"({' OR '.join(WIDE_OR[:20])}) {_NOTS}", "time"),
    ("OR of fields and phrases", " OR ".join(f'(source:weibo "{p}")' for p in NOT_PHRASES), "time"),
    ("30 words that must all occur", " ".join(WIDE_OR[:30]), "time"),
    ("deep nesting (refused)", "(" * 25 + "小区" + ")" * 25, "time"),
    ("2,000 characters (refused)", " OR ".join(WIDE_OR * 13)[:2000], "time"),
]
MONITOR_EVERY_S = 1.0  # the monitoring page refreshes about this often


def _query_kind(kind: str, text: str) -> str:
    if kind != "search":
        return "aggregation"
    if '"' in text:
        return "phrase"
    if "time:" in text:
        return "time-range"
    if " OR " in text or " -" in text or text.startswith("-") or "NOT " in text:
        return "boolean"
    if not text or ":" in text:
        return "filter"
    return "keyword"


@dataclass
class Timings:
    """Latencies (ms) and outcomes per query label, and the kind of each label."""

    kinds: dict[str, str] = field(default_factory=dict)
    ms: dict[str, list[float]] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, label: str, call: Callable[[], object]) -> None:
        """Run ``call`` and record its latency and outcome (a timeout or a refusal is no crash)."""
        outcome = None
        started = time.perf_counter()
        try:
            call()
        except QueryTimeout:
            outcome = self.timeouts
        except QueryError:
            outcome = self.refused
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.kinds[label] = kind
            self.ms.setdefault(label, []).append(elapsed)
            if outcome is not None:
                outcome[label] = outcome.get(label, 0) + 1


def _figures(runs: list[float]) -> dict[str, float]:
    ordered = sorted(runs)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }


def analyst_calls(archive: EmbeddedArchive) -> list[tuple[str, str, Callable[[], object]]]:
    """(kind, label, call) of the analyst mix and of the adversarial queries."""
    calls: list[tuple[str, str, Callable[[], object]]] = []
    for kind, first, second in QUERIES:
        if kind == "search":
            query = SearchQuery(text=first, sort=second, size=20)  # type: ignore[arg-type]
            call: Callable[[], object] = functools.partial(archive.search, query)
            calls.append((_query_kind(kind, first), _label(kind, first, second), call))
        elif kind == "shares":
            call = functools.partial(archive.shares, first, SearchQuery(text=second))
            calls.append(("aggregation", _label(kind, first, second), call))
        else:
            call = functools.partial(archive.histogram, SearchQuery(text=second), first)  # type: ignore[arg-type]
            calls.append(("aggregation", _label(kind, first, second), call))
    for label, text, sort in ADVERSARIAL:
        query = SearchQuery(text=text, sort=sort, size=20)  # type: ignore[arg-type]
        kind = "refused" if "refused" in label else "adversarial"
        calls.append((kind, label, functools.partial(archive.search, query)))
    deep = SearchQuery(text="time:2025", size=20, offset=9_980)
    calls.append(("adversarial", "page 500 of a year", functools.partial(archive.search, deep)))
    return calls


def monitor_calls(archive: EmbeddedArchive, now: datetime) -> list[tuple[str, str, Callable[[], object]]]:
    """(kind, label, call) of what the duty monitor's page reads, relative to ``now``."""
    hour, day = timedelta(hours=1), timedelta(days=1)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    reads: list[tuple[str, Callable[[], object]]] = [
        ("newest 50 posts", functools.partial(archive.search, SearchQuery(size=50))),
        ("count of the last hour", functools.partial(archive.count, SearchQuery(since=now - hour))),
        ("count of today", functools.partial(archive.count, SearchQuery(since=midnight))),
        ("count of all posts", archive.count),
        (
            "topics of the last hour",
            functools.partial(archive.shares, "topic", SearchQuery(since=now - hour), 100),
        ),
        ("negative share", functools.partial(archive.shares, "sentiment", SearchQuery(), 10)),
        (
            "risk alerts",
            functools.partial(archive.search, SearchQuery(min_risk=70, since=now - day, size=10)),
        ),
        (
            "weibo per hour, 24 h",
            functools.partial(
                archive.histogram, SearchQuery(filters={"source": "weibo"}, since=now - day), "hour"
            ),
        ),
    ]
    return [("monitor", f"monitor: {label}", call) for label, call in reads]


@dataclass(frozen=True)
class Written:
    """What the writer process did: posts written, over how long, and each batch's write time."""

    posts: int = 0
    seconds: float = 1.0
    write_ms: tuple[float, ...] = ()


def _live_writer(
    path: Path,
    corpus: list[CorpusText],
    rate: int,
    first: int,
    seed: int,
    stop: Connection,
    report: Connection,
) -> None:
    """The index worker's part: ``rate`` posts a second published in the two hours before END."""
    rng = random.Random(seed)
    archive = EmbeddedArchive(path, mapped=False)
    tick = 0.1
    per_tick = max(1, round(rate * tick))
    written = 0
    write_ms: list[float] = []
    started = time.monotonic()
    while not stop.poll(max(0.0, started + (written / rate) - time.monotonic())):
        posts = list(generate(corpus, per_tick, rng, first=first + written))
        for post in posts:
            moment = END - timedelta(seconds=rng.randrange(7200))
            post["id"] = str(post["id"]).replace(":bench:", f":live{seed}:")
            post["published_at"] = post["fetched_at"] = moment.isoformat() + "+08:00"
        began = time.perf_counter()
        archive.index(posts)  # type: ignore[arg-type]
        write_ms.append((time.perf_counter() - began) * 1000)
        written += len(posts)
    archive.close()
    report.send(Written(written, time.monotonic() - started, tuple(write_ms)))


def run_sessions(
    archive: EmbeddedArchive,
    corpus: list[CorpusText],
    *,
    sessions: int,
    seconds: float,
    write_rate: int,
    seed: int,
    adversarial: int | None = None,
) -> list[dict[str, object]]:
    """K analysts, one duty monitor and a writer process for ``seconds``; the figures as JSON objects.

    Each analyst runs rounds of the analyst mix in a random order, back to back, with
    ``adversarial`` adversarial queries drawn at random in every round (None: all of them).
    """
    posts_before = archive.count()
    timings = Timings()
    stop_threads = threading.Event()
    calls = analyst_calls(archive)
    mix = [call for call in calls if call[0] not in ("adversarial", "refused")]
    hostile = [call for call in calls if call[0] in ("adversarial", "refused")]
    monitor = monitor_calls(archive, END)

    def analyst(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while not stop_threads.is_set():
            chosen = hostile if adversarial is None else rng.sample(hostile, min(adversarial, len(hostile)))
            round_ = [*mix, *chosen]
            for kind, label, call in rng.sample(round_, len(round_)):
                if stop_threads.is_set():
                    return
                timings.add(kind, label, call)

    def duty_monitor() -> None:
        while not stop_threads.is_set():
            began = time.monotonic()
            for kind, label, call in monitor:
                timings.add(kind, label, call)
            stop_threads.wait(max(0.0, MONITOR_EVERY_S - (time.monotonic() - began)))

    context = multiprocessing.get_context("fork")
    stop_writer, stop_end = context.Pipe()
    report_end, report = context.Pipe()
    writer = None
    if write_rate > 0:
        writer = context.Process(
            target=_live_writer,
            args=(archive.path, corpus, write_rate, posts_before, seed, stop_end, report),
            daemon=True,
        )
        writer.start()
    threads = [threading.Thread(target=analyst, args=(number,)) for number in range(sessions)]
    threads.append(threading.Thread(target=duty_monitor))
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop_threads.set()
    for thread in threads:
        thread.join()
    written = Written(seconds=seconds)
    if writer is not None:
        stop_writer.send(None)
        written = report_end.recv()
        writer.join(timeout=30)
    return _report(timings, archive, posts_before, sessions, seconds, write_rate, written)


def _report(
    timings: Timings,
    archive: EmbeddedArchive,
    posts_before: int,
    sessions: int,
    seconds: float,
    write_rate: int,
    written: Written,
) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    by_kind: dict[str, list[str]] = {}
    for label, kind in timings.kinds.items():
        by_kind.setdefault(kind, []).append(label)
    for kind, labels in sorted(by_kind.items()):
        runs = [ms for label in labels for ms in timings.ms[label]]
        worst = max(labels, key=lambda label: _figures(timings.ms[label])["p95_ms"])
        lines.append(
            {
                "kind": kind,
                "queries": len(runs),
                **_figures(runs),
                "timeouts": sum(timings.timeouts.get(label, 0) for label in labels),
                "refused": sum(timings.refused.get(label, 0) for label in labels),
                "worst": worst,
                "worst_p95_ms": _figures(timings.ms[worst])["p95_ms"],
            }
        )
    per_label = {label: _figures(runs) for label, runs in timings.ms.items()}
    for label, figures in sorted(per_label.items(), key=lambda item: -item[1]["p95_ms"]):
        count = len(timings.ms[label])
        print(
            f"{figures['p50_ms']:8.1f} {figures['p95_ms']:8.1f} {figures['max_ms']:8.1f} ms  n={count:<5} "
            f"timeouts={timings.timeouts.get(label, 0):<3} {label}",
            file=sys.stderr,
        )
    monitor = [ms for label, kind in timings.kinds.items() if kind == "monitor" for ms in timings.ms[label]]
    answered = {label: figures for label, figures in per_label.items() if timings.kinds[label] != "refused"}
    worst_label = max(answered, key=lambda label: answered[label]["p95_ms"]) if answered else None
    lines.append(
        {
            "bench": "archive-sessions",
            "sessions": sessions,
            "seconds": seconds,
            "posts_at_start": posts_before,
            "posts_at_end": archive.count(),
            "write_rate_asked": write_rate,
            "written_per_second": round(written.posts / written.seconds),
            "write_batch_p95_ms": _figures(list(written.write_ms))["p95_ms"] if written.write_ms else None,
            "queries": sum(len(runs) for runs in timings.ms.values()),
            "queries_per_second": round(sum(len(runs) for runs in timings.ms.values()) / seconds, 1),
            "timeouts": sum(timings.timeouts.values()),
            "worst_query": worst_label,
            "worst_query_p95_ms": answered[worst_label]["p95_ms"] if worst_label else None,
            "every_query_p95_within_300_ms": all(f["p95_ms"] <= 300 for f in answered.values()),
            "monitor_max_ms": round(max(monitor), 1) if monitor else None,
            "monitor_within_2_s": bool(monitor) and max(monitor) <= 2000,
            "budget_s": archive.query_budget_s,
            # Mapped pages of the file count once per read connection in the resident size;
            # the anonymous memory (heaps, page caches, sorts) is what the process holds itself.
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "anonymous_mb": _anonymous_mb(),
        }
    )
    return lines


def _anonymous_mb() -> float | None:
    try:
        rollup = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return None
    for line in rollup.splitlines():
        if line.startswith("Anonymous:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _sessions(args: argparse.Namespace, data: Path, directory: Path) -> None:
    opened = open_loaded(
        args.posts,
        data,
        directory,
        batch=args.batch,
        seed=args.seed,
        workers=args.workers,
        budget_s=args.budget,
    )
    corpus = load_corpus(data, random.Random(args.seed))
    try:
        lines = run_sessions(
            opened.archive,
            corpus,
            sessions=args.sessions,
            seconds=args.seconds,
            write_rate=args.write_rate,
            adversarial=args.adversarial,
            seed=args.seed,
        )
    finally:
        opened.archive.close()
    lines[-1] |= {
        "posts": args.posts,
        "loaded": opened.loaded,
        "load_posts_per_second": opened.load_rate,
        "adversarial_per_round": args.adversarial,
    }
    for line in lines:
        print(json.dumps(line, ensure_ascii=False))


def _bench(settings: Settings, args: argparse.Namespace) -> int:
    data: Path = args.data_dir
    if not (data / "stream" / "weibo_2020_10k.csv").exists():
        print(f"跳过：找不到共享数据目录 {data}（需要 ../shared/data 里的真实数据）", file=sys.stderr)
        return 0
    if args.sessions:
        if args.dir is not None:
            args.dir.mkdir(parents=True, exist_ok=True)
            _sessions(args, data, args.dir)
        else:
            with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
                _sessions(args, data, Path(tmp))
        return 0
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        figures = run(args.posts, data, args.dir, batch=args.batch, seed=args.seed, workers=args.workers)
    else:
        with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
            figures = run(args.posts, data, Path(tmp), batch=args.batch, seed=args.seed, workers=args.workers)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``bench archive``."""
    parser = sub.add_parser("archive", help="向嵌入式舆情库载入 N 条真实分布帖子并测查询")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="分词进程数（1 = 本进程）")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="把舆情库保留在此目录（默认临时目录）；目录里已有同样 N 条帖子时不再载入，直接测查询",
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="并发会话数 K：K 个分析员与 1 个值班监测线程同时查询，写入进程持续入库（0 = 只测查询组合）",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="并发测试持续秒数（配合 --sessions）")
    parser.add_argument("--write-rate", type=int, default=1_000, help="并发测试时每秒写入帖子数（0 = 不写）")
    parser.add_argument("--budget", type=float, default=5.0, help="每个查询的时间预算（秒）")
    parser.add_argument(
        "--adversarial",
        type=int,
        default=None,
        help="每轮分析员查询组合中随机夹带的恶意查询条数（默认全部 12 条）",
    )
    parser.set_defaults(handler=_bench)
