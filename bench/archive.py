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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from archive.documents import extract_all
from archive.embedded import Batch, EmbeddedArchive, prepare
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
class _Text:
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


def load_corpus(data: Path, rng: random.Random) -> list[_Text]:
    """Real texts of every source (weibo, board, hotline) with their times of day and labels."""
    texts: list[_Text] = []
    for row in _rows(data / "stream" / "weibo_2020_10k.csv"):
        texts.append(_Text("weibo", "", row["text"], _clock(row["post_time"], rng)))
    clocks = [text.clock for text in texts]
    for row in _rows(data / "sentiment" / "weibo_senti_100k_partial.csv"):
        label = "positive" if row["label"] == "1" else "negative"
        texts.append(_Text("weibo", "", row["text"], rng.choice(clocks), sentiment=label))
    for name in ("teddy2020_messages_with_replies.csv", "teddy2020_messages_with_votes.csv"):
        for row in _rows(data / "boards" / name):
            texts.append(_Text("board", row["留言主题"], row["留言详情"], _clock(row["留言时间"], rng)))
    board_clocks = [text.clock for text in texts if text.source == "board"]
    for row in _rows(data / "topic" / "teddy2020_train.csv"):
        topic = _TEDDY_TOPICS.get(row["label"])
        texts.append(_Text("board", "", row["text"], rng.choice(board_clocks), topic=topic))
    for row in _rows(data / "hotline" / "dongguan_wenzheng_complaints.csv"):
        texts.append(_Text("hotline", row["title"], row["content"], rng.choice(board_clocks)))
    return [text for text in texts if text.text.strip()]


def generate(
    corpus: list[_Text], n: int, rng: random.Random, *, start: datetime = START, first: int = 0
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


def run(n: int, data: Path, directory: Path, *, batch: int, seed: int, workers: int = 1) -> dict[str, object]:
    """Load ``n`` posts into the archive under ``directory``, run the query mix, return the figures.

    An archive already holding exactly the ``n`` posts of an earlier run (``--dir``) is reused as
    it is: nothing is loaded or optimised again, and the figures say ``"loaded": false``. Every
    query still runs against the database, three times.
    """
    from archive.base import SearchQuery

    path = directory / "bench-archive.db"
    archive = EmbeddedArchive(path)
    archive.search(SearchQuery(text="预热"))  # load jieba's dictionary before the clock starts
    held = archive.count()
    loaded = held != n
    load_rate: int | None = None
    optimize_s: float | None = None
    if loaded:
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


def _bench(settings: Settings, args: argparse.Namespace) -> int:
    data: Path = args.data_dir
    if not (data / "stream" / "weibo_2020_10k.csv").exists():
        print(f"跳过：找不到共享数据目录 {data}（需要 ../shared/data 里的真实数据）", file=sys.stderr)
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
    parser.set_defaults(handler=_bench)
