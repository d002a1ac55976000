"""``yuqing worker``, ``ingest`` and ``dlq``: the stream's processes and tools."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yuqing.commands import Subparsers
from yuqing.settings import Settings


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """What ``MALLOC_ARENA_MAX=2`` does, for a worker however it was started (glibc only).

    glibc gives threads that allocate arenas of their own (up to eight per core); the Kafka
    client's network and heartbeat threads left ~15 MB of fragments in theirs, the margin between
    a classify worker's RSS and its 400 MB budget. Called before any thread starts.
    """
    import contextlib
    import ctypes

    m_arena_max = -8  # from glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to limit
        ctypes.CDLL(None).mallopt(m_arena_max, arenas)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from yuqing.signals import stop_on_signals
    from yuqing.wiring import build_worker

    _limit_malloc_arenas()
    worker = build_worker(settings, args.stage, stop=stop_on_signals())
    worker.run(max_batches=args.max_batches, idle_exit_s=args.idle_exit)
    return 0


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from crawlers.ingest import MappingError, ingest_file, parse_mapping
    from yuqing.backends import make_broker

    try:
        mapping = parse_mapping(args.map or [])
    except MappingError as exc:
        print(f"--map 有误：{exc}", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"找不到文件：{args.file}", file=sys.stderr)
        return 2
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
    producer = broker.producer()
    try:
        report = ingest_file(
            args.file, producer, topic=settings.topic_raw, dlq_topic=settings.topic_dlq, mapping=mapping
        )
    finally:
        producer.close()
        broker.close()
    for error in report.errors[:20]:
        print(f"已转入死信队列：{error}", file=sys.stderr)
    print(json.dumps({"published": report.published, "dead_lettered": report.dead_lettered}))
    return 0 if report.published or not report.dead_lettered else 1


def _dlq_list(settings: Settings, args: argparse.Namespace) -> int:
    from core.messages import decode
    from yuqing.backends import make_broker

    broker = make_broker(settings)
    try:
        for record in broker.read(settings.topic_dlq, limit=args.limit):
            letter = decode(record.value)
            print(json.dumps({"offset": record.offset, **letter}, ensure_ascii=False))
    finally:
        broker.close()
    return 0


def _dlq_replay(settings: Settings, args: argparse.Namespace) -> int:
    from stream.replay import replay_dead_letters
    from yuqing.backends import make_broker

    broker = make_broker(settings)
    try:
        report = replay_dead_letters(
            broker,
            dlq_topic=settings.topic_dlq,
            stage=args.stage,
            topics={settings.topic_raw, settings.topic_enriched},
            fallback_topic=settings.topic_raw,
            limit=args.limit,
            max_attempts=args.max_attempts,
        )
    finally:
        broker.close()
    print(json.dumps({"replayed": report.replayed, "parked": report.parked, "unreadable": report.unreadable}))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``worker``, ``ingest`` and ``dlq``."""
    worker = sub.add_parser("worker", help="以消费组成员身份运行流水线的一个阶段")
    worker.add_argument("stage", choices=["classify", "index", "ledger"])
    worker.add_argument("--max-batches", type=int, default=None)
    worker.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS", help="空闲这么多秒后退出")
    worker.set_defaults(handler=_worker)

    ingest = sub.add_parser(
        "ingest",
        help="把 JSONL、CSV、XLSX 或 XLS 文件中的帖子发布到 posts.raw（导入、重放 search --export 的导出）",
    )
    ingest.add_argument("file", type=Path)
    ingest.add_argument(
        "--map",
        nargs="+",
        metavar="字段=列名",
        help="表头不是本系统导出或点号字段名时，指明各字段所在的列，如 text=来信内容 published_at=来信时间",
    )
    ingest.set_defaults(handler=_ingest)

    dlq = sub.add_parser("dlq", help="查看死信队列")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_sub.add_parser("list", help="以 JSON 行输出死信")
    dlq_list.add_argument("--limit", type=int, default=100)
    dlq_list.set_defaults(handler=_dlq_list)
    dlq_replay = dlq_sub.add_parser(
        "replay", help="重新投递某阶段待处理的死信（每条一次；失败满 N 次的搁置）"
    )
    dlq_replay.add_argument("--stage", required=True, help="classify、index、ingest 等阶段名")
    dlq_replay.add_argument("--limit", type=int, default=100_000)
    dlq_replay.add_argument(
        "--max-attempts", type=int, default=3, metavar="N", help="失败满 N 次的记录不再重放，搁置并保留历史"
    )
    dlq_replay.set_defaults(handler=_dlq_replay)
