"""``yuqing bench briefing``: time to build the daily 舆情日报 (.docx) over a busy day.

Loads N posts published on one day (and N/2 on the day before, for the comparisons; 1 % of the
day's posts form an incident of one topic within one hour, a spike to explain) into a fresh embedded
archive — real texts from ``../shared/data`` where present, with their times of day, else
a few synthetic sentences — and a month of tickets into a SQLite ledger, then times
:func:`briefing.compute.compute_briefing` and the Word rendering (charts included), cold (first run
in the process: jieba's dictionary, matplotlib and python-docx load) and warm. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

DAY = date(2026, 3, 5)
UNITS = ("区人力资源和社会保障局", "区住房和城乡建设局", "区生态环境分局", "区交通运输局", "区教育局",
         "区卫生健康局", "区市场监督管理局", "区政府办公室")  # fmt: skip
_SYNTHETIC = ("小区夜间施工噪音扰民，希望有关部门尽快处理。", "工地拖欠农民工工资，多次讨要无果。",
              "公交线路调整后换乘不便，建议恢复原站点。", "学校周边交通拥堵，接送孩子很困难。",
              "医院挂号难，网上预约一号难求。", "商家虚假宣传，预付卡无法退款。")  # fmt: skip


def _posts(n: int, data: Path, seed: int) -> Iterator[dict[str, object]]:
    """``n`` posts on :data:`DAY` and ``n // 2`` on the day before, as the enrichment would store them."""
    from bench.archive import generate, load_corpus

    rng = random.Random(seed)
    if (data / "stream" / "weibo_2020_10k.csv").exists():
        corpus = load_corpus(data, rng)
        made = generate(corpus, n + n // 2, rng)
    else:
        made = (_synthetic(number, rng) for number in range(n + n // 2))
    for number, post in enumerate(made):
        day = DAY if number < n else DAY - timedelta(days=1)
        clock = str(post["published_at"])[11:19]
        post["published_at"] = post["fetched_at"] = f"{day.isoformat()}T{clock}+08:00"
        if rng.random() < 0.05:  # a slice of every day is out of the department's remit
            post["topic"] = {"label": "其他", "score": 0.1, "in_remit": False, "unit": None}
        if number < n and number % 100 == 0:
            # An incident: 1 % of the day's posts, one topic and event, within 15:00-16:00 (a spike
            # to detect and explain, which also loads jieba for its terms).
            clock = f"15:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
            post["published_at"] = post["fetched_at"] = f"{day.isoformat()}T{clock}+08:00"
            post["topic"] = {"label": "环境保护", "score": 0.9, "in_remit": True, "unit": None}
            post["event_id"] = "ev-incident"
        yield post


def _synthetic(number: int, rng: random.Random) -> dict[str, object]:
    from bench.archive import TOPICS

    sentiment = rng.choices(["negative", "neutral", "positive"], [5, 3, 2])[0]
    moment = f"2000-01-01T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    return {
        "schema": 1, "id": f"weibo:bench:{number}",
        "source": rng.choice(["weibo", "board", "hotline", "news"]), "channel": "基准",
        "url": f"https://example.gov.cn/{number}", "title": "", "text": rng.choice(_SYNTHETIC),
        "published_at": moment, "fetched_at": moment, "metrics": {"reposts": rng.randrange(50)},
        "sentiment": {"label": sentiment, "score": 0.8},
        "topic": {"label": rng.choice(TOPICS), "score": 0.7, "in_remit": True, "unit": None},
        "appeal_type": None, "risk": {"score": min(100, int(rng.expovariate(1 / 25))), "reasons": []},
        "event_id": f"ev-{rng.randrange(5000)}", "models": {},
    }  # fmt: skip


def _tickets(count: int, end: datetime, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` tickets opened over the 30 days up to ``end``, in every state the briefing reads."""
    rng = random.Random(seed)
    for n in range(count):
        opened = end - timedelta(seconds=rng.randrange(30 * 86400))
        due = opened + timedelta(days=rng.choice((2, 5, 15)))
        respond_due = opened + timedelta(days=1)
        answered = opened + timedelta(hours=rng.uniform(1, 96)) if rng.random() < 0.7 else None
        closed = answered + timedelta(hours=rng.uniform(1, 72)) if answered and rng.random() < 0.6 else None
        status = (
            "已办结" if closed else "已答复" if answered else rng.choice(("待签收", "办理中", "延期审核中"))
        )
        yield {
            "id": f"BB-{n:08d}", "ticket_class": "12345-complaint", "source": "hotline",
            "post_id": f"bench:{n}",
            "event_key": None, "summary": f"基准测试诉求 {n}", "url": "", "unit": rng.choice(UNITS),
            "status": status, "found_at": opened, "opened_at": opened, "sign_rule": None,
            "respond_rule": "workdays:1", "close_rule": "workdays:15", "max_extension": None,
            "sign_due_at": None,
            "respond_due_at": respond_due, "due_at": due, "provisional": False, "signed_at": None,
            "answered_at": answered, "closed_at": closed, "answer_text": "", "satisfaction": None,
            "escalations": 1 if not closed and rng.random() < 0.05 else 0,
            "handling_s": int((closed - opened).total_seconds()) if closed else None, "version": 1,
        }  # fmt: skip


def run(n: int, tickets: int, data: Path, directory: Path, *, seed: int, workers: int) -> dict[str, object]:
    """Load the day and the month into ``directory``, build the daily .docx twice, return the figures."""
    from sqlalchemy import insert

    from archive.embedded import EmbeddedArchive
    from bench.archive import load
    from briefing.compute import compute_briefing
    from briefing.period import period_of
    from briefing.render import write_briefing
    from core.china_time import CHINA_TZ
    from response_ledger import tables as t
    from response_ledger.db import make_engine, migrate

    archive = EmbeddedArchive(directory / "archive.db")
    started = time.perf_counter()
    load(archive, _posts(n, data, seed), batch=5_000, workers=workers)
    archive.optimize()
    load_s = time.perf_counter() - started
    engine = make_engine(f"sqlite:///{directory / 'ledger.db'}")
    migrate(engine)
    end = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), CHINA_TZ)
    rows = list(_tickets(tickets, end, seed))
    with engine.begin() as connection:
        for first in range(0, len(rows), 5_000):
            connection.execute(insert(t.tickets), rows[first : first + 5_000])
    period = period_of(DAY, "day")
    timings: list[dict[str, float]] = []
    for run_number in range(2):
        started = time.perf_counter()
        b = compute_briefing(archive, engine, period, now=end + timedelta(hours=7, minutes=30))
        computed = time.perf_counter()
        path = write_briefing(b, directory / f"舆情日报-{run_number}.docx")
        done = time.perf_counter()
        timings.append({"compute": computed - started, "render": done - computed, "total": done - started})
    archive.close()
    engine.dispose()
    cold, warm = timings
    return {
        "bench": "briefing",
        "posts_day": b.headline.total.current,
        "posts_day_before": b.headline.total.previous,
        "tickets_month": tickets,
        "load_s": round(load_s, 1),
        "cold_seconds": round(cold["total"], 2),
        "cold_compute_seconds": round(cold["compute"], 2),
        "cold_render_seconds": round(cold["render"], 2),
        "warm_seconds": round(warm["total"], 2),
        "docx_kb": round(path.stat().st_size / 1024, 1),
        "events": len(b.events),
        "spikes": len(b.spikes),
        "target_seconds": 10,
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }


def _bench(settings: Settings, args: argparse.Namespace) -> int:
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        figures = run(args.posts, args.tickets, args.data_dir, args.dir, seed=args.seed, workers=args.workers)
    else:
        with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
            figures = run(
                args.posts, args.tickets, args.data_dir, Path(tmp), seed=args.seed, workers=args.workers
            )
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``bench briefing``."""
    parser = sub.add_parser("briefing", help="舆情日报基准：一天 N 条帖子、一个月工单，生成 Word 日报的耗时")
    parser.add_argument(
        "--posts", type=int, default=100_000, help="posts on the day (plus half as many the day before)"
    )
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets opened over the month")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--workers", type=int, default=2, help="processes that tokenise while loading")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--dir", type=Path, default=None, help="keep the files here instead of a temp dir")
    parser.set_defaults(handler=_bench)
