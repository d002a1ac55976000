"""``yuqing bench ledger``: p95 of a unit's open-ticket list and of the metrics query at 100k tickets.

Loads N tickets with their events (open, sign, respond, close, some reminders) into a fresh ledger —
a temporary SQLite file, or a throwaway schema on PostgreSQL with ``--postgres URL`` — then times the
two read paths staff and the dashboard hit most. Prints one JSON line per backend.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

UNITS = ("区人力资源和社会保障局", "区住房和城乡建设局", "区生态环境分局", "区交通运输局", "区教育局",
         "区卫生健康局", "区市场监督管理局", "区政府办公室")  # fmt: skip
CLASSES = ("12345-complaint", "12345-help", "12345-consult", "board-message", "government-opinion")
CHUNK = 5_000


def _rows(count: int, now: datetime, seed: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    from response_ledger.calendar import WorkCalendar
    from response_ledger.deadlines import Rule, RuleKind, compute_due
    from response_ledger.policy import load_policy
    from response_ledger.workflow import TicketStatus as S

    rng, policy, calendar = random.Random(seed), load_policy(), WorkCalendar()

    @cache
    def day_due(rule: Rule, day: date) -> datetime:
        # Day-based limits depend on the start day only, so 100k tickets need a few thousand counts.
        found = compute_due(rule, datetime.combine(day, datetime.min.time(), now.tzinfo), calendar)
        return found.at if found else now

    def due(rule: Rule | None, start: datetime) -> datetime | None:
        if rule is None:
            return None
        return (
            start + timedelta(hours=rule.amount)
            if rule.kind is RuleKind.HOURS
            else day_due(rule, start.date())
        )

    for n in range(count):
        cls = rng.choice(CLASSES)
        limits = policy.ticket_class(cls).limits
        opened = now - timedelta(seconds=rng.randrange(365 * 86400))
        sign_due, respond_due, close_due = (
            due(limits.sign, opened),
            due(limits.respond, opened),
            due(limits.close, opened),
        )
        age = (now - opened).days
        stage = rng.random() * (1 if age < 30 else 0.1) + (0 if age < 30 else 0.9)
        status = (
            S.CLOSED
            if stage > 0.85
            else S.ANSWERED
            if stage > 0.6
            else S.IN_PROGRESS
            if stage > 0.2
            else S.PENDING_SIGN
        )
        tid = f"BN-{n:010d}"
        signed = opened + timedelta(hours=rng.uniform(0.5, 40)) if status is not S.PENDING_SIGN else None
        answered = (
            opened + timedelta(hours=rng.uniform(2, 24 * 20)) if status in (S.ANSWERED, S.CLOSED) else None
        )
        closed = answered + timedelta(hours=rng.uniform(1, 72)) if answered and status is S.CLOSED else None
        events = [("open", opened)] + [
            (a, m) for a, m in (("sign", signed), ("respond", answered), ("close", closed)) if m
        ]
        if rng.random() < 0.2:
            events.append(("remind", (closed or now) - timedelta(hours=1)))
        row = {
            "id": tid,
            "ticket_class": cls,
            "source": "hotline" if cls.startswith("12345") else "board",
            "post_id": f"bench:{n}",
            "event_key": f"ev-{rng.randrange(count)}",
            "summary": f"基准测试诉求 {n}",
            "url": "",
            "unit": rng.choice(UNITS),
            "status": status.value,
            "found_at": opened,
            "opened_at": opened,
            "sign_rule": str(limits.sign) if limits.sign else None,
            "respond_rule": str(limits.respond) if limits.respond else None,
            "close_rule": str(limits.close),
            "max_extension": str(limits.max_extension) if limits.max_extension else None,
            "sign_due_at": sign_due,
            "respond_due_at": respond_due,
            "due_at": close_due,
            "provisional": bool(close_due and close_due.year > 2026),
            "signed_at": signed,
            "answered_at": answered,
            "closed_at": closed,
            "answer_text": "已办理" if answered else "",
            "satisfaction": rng.choice(("满意", "基本满意", "不满意"))
            if closed and rng.random() < 0.6
            else None,
            "escalations": 0,
            "handling_s": int((closed - opened).total_seconds()) if closed else None,
            "version": len(events),
        }
        yield (
            row,
            [
                {"ticket_id": tid, "seq": i, "action": a, "actor": "基准", "at": m, "comment": "", "data": {}}
                for i, (a, m) in enumerate(events, start=1)
            ],
        )


def load_tickets(engine: Engine, count: int, now: datetime) -> tuple[int, float]:
    """Insert ``count`` tickets with their events in bulk; returns (events written, seconds)."""
    from sqlalchemy import insert

    from response_ledger import tables as t

    started, events_total = time.perf_counter(), 0
    tickets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as connection:
            connection.execute(insert(t.tickets), tickets)
            connection.execute(insert(t.events), events)
            connection.execute(
                insert(t.ticket_posts), [{"post_id": r["post_id"], "ticket_id": r["id"]} for r in tickets]
            )
        tickets.clear()
        events.clear()

    for row, row_events in _rows(count, now, seed=7):
        tickets.append(row)
        events.extend(row_events)
        events_total += len(row_events)
        if len(tickets) >= CHUNK:
            flush()
    if tickets:
        flush()
    return events_total, time.perf_counter() - started


def _p95(action: Callable[[int], object], runs: int) -> float:
    action(0)  # warm the caches and the connection pool
    samples = []
    for n in range(runs):
        started = time.perf_counter()
        action(n)
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.quantiles(samples, n=20)[18], 2)


def measure(engine: Engine, backend: str, count: int, runs: int) -> dict[str, Any]:
    """Load ``count`` tickets into a migrated, empty ledger and time the two read paths."""
    from sqlalchemy import text

    from core.china_time import CHINA_TZ
    from response_ledger.db import migrate
    from response_ledger.queries import metrics, unit_worklist

    migrate(engine)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=CHINA_TZ)
    events, load_s = load_tickets(engine, count, now)
    # Fresh statistics, as autovacuum (PostgreSQL) or a periodic PRAGMA optimize (SQLite) would keep.
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    month, quarter = now - timedelta(days=30), now - timedelta(days=91)
    return {
        "bench": "ledger",
        "backend": backend,
        "tickets": count,
        "events": events,
        "load_s": round(load_s, 1),
        "runs": runs,  # p95 over this many calls of each query after one warm-up call
        "loadavg_1m": round(os.getloadavg()[0], 1),  # the machine is shared: say how busy it was
        "worklist_p95_ms": _p95(lambda n: unit_worklist(engine, UNITS[n % len(UNITS)], limit=100), runs),
        "metrics_all_units_month_p95_ms": _p95(
            lambda n: metrics(engine, start=month, end=now, now=now), runs
        ),
        "metrics_one_unit_quarter_p95_ms": _p95(
            lambda n: metrics(engine, start=quarter, end=now, now=now, unit=UNITS[n % len(UNITS)]), runs
        ),
        "metrics_all_units_year_p95_ms": _p95(
            lambda n: metrics(engine, start=now - timedelta(days=366), end=now, now=now), max(5, runs // 4)
        ),
    }


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.db import make_engine

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        try:
            print(json.dumps(measure(engine, "sqlite", args.tickets, args.runs)), flush=True)
        finally:
            engine.dispose()
    if args.postgres:
        _run_postgres(args.postgres, args.tickets, args.runs)
    return 0


def _run_postgres(url: str, count: int, runs: int) -> None:
    from sqlalchemy import text

    from response_ledger.db import make_engine

    schema = f"ledger_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        print(json.dumps(measure(engine, "postgresql", count, runs)), flush=True)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def register(subparsers: Subparsers) -> None:
    """Add ``ledger`` under ``yuqing bench``."""
    parser = subparsers.add_parser(
        "ledger",
        help="台账查询基准：10 万工单下的待办列表与指标查询 p95（SQLite；加 --postgres 同测 PostgreSQL）",
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--postgres", metavar="URL", help="同时在 PostgreSQL 的临时 schema 中测试")
    parser.set_defaults(handler=_run)
