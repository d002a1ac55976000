"""``yuqing bench dashboard``: time to a complete first render of every page at full size.

Builds (or reuses, with ``--dir``) a home with N real-distribution posts over the two years up to
now in the embedded archive and M tickets in the SQLite ledger, then renders each page as its user
would open it, through Streamlit's AppTest in this process, and prints one JSON line.

Two figures per page: ``cold`` is the first render in a fresh process (it pays for loading jieba's
dictionary, opening the files and filling the caches), ``first_render`` the median over ``--runs``
renders by a new session after the data caches are cleared — what a user opening the page on a
running server waits for when nobody has opened it in the last minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

# The page module and the user who opens it; the staff member's unit is one of the bench ledger's.
PAGES: tuple[tuple[str, str, str | None], ...] = (
    ("monitor", "duty", None),
    ("briefing", "leader", None),
    ("ledger", "staff", "区住房和城乡建设局"),
    ("search", "analyst", None),
    ("admin", "admin", None),
)


def _page(home: str, module: str) -> None:
    """An AppTest script: one page module rendered for the session's user (imports inside: AppTest runs
    the function's source on its own)."""
    import importlib
    from pathlib import Path as _Path

    import streamlit as st

    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    page = importlib.import_module(f"dashboard.app_pages.{module}")
    page.render(services_for(_Settings(home=_Path(home))), st.session_state.get("user"))


def build(home: Path, *, posts: int, tickets: int, data: Path, workers: int, now: datetime) -> dict[str, Any]:
    """Fill ``home`` up to ``posts`` posts and ``tickets`` tickets; what is there already is kept."""
    from sqlalchemy import create_engine, func, select

    from archive.embedded import EmbeddedArchive
    from bench.archive import generate, load, load_corpus
    from bench.ledger import load_tickets
    from response_ledger import tables as t
    from response_ledger.db import migrate

    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home)
    archive = EmbeddedArchive(settings.archive_path)
    have = archive.count()
    started = time.perf_counter()
    if have < posts:
        rng = random.Random(have)
        start = now.replace(tzinfo=None) - timedelta(days=730)
        corpus = load_corpus(data, rng)
        fresh = generate(corpus, posts - have, rng, start=start, first=have)
        load(archive, fresh, batch=5_000, workers=workers)
        archive.optimize()
    posts_s = time.perf_counter() - started
    count = archive.count()
    archive.close()
    engine = create_engine(settings.ledger_sqlalchemy_url)
    migrate(engine)
    with engine.connect() as connection:
        have_tickets = connection.execute(select(func.count()).select_from(t.tickets)).scalar_one()
    started = time.perf_counter()
    if have_tickets < tickets:
        load_tickets(engine, tickets - have_tickets, now)
    tickets_s = time.perf_counter() - started
    with engine.connect() as connection:
        ticket_count = connection.execute(select(func.count()).select_from(t.tickets)).scalar_one()
    engine.dispose()
    return {"posts": count, "tickets": ticket_count, "build_posts_s": round(posts_s, 1),
            "build_tickets_s": round(tickets_s, 1)}  # fmt: skip


def render_once(home: Path, module: str, role: str, unit: str | None) -> float:
    """Seconds to render ``module`` once for a new session of ``role``; raises on any page exception."""
    from streamlit.testing.v1 import AppTest

    from core.china_time import CHINA_TZ
    from dashboard.accounts import Accounts
    from dashboard.auth import Role, User
    from response_ledger.db import migrated_engine

    user = User(f"bench-{role}", f"基准{Role(role).label}", Role(role), unit)
    # The pages read the account again as they refresh: the session needs an active one behind it.
    accounts = Accounts(migrated_engine(Settings(home=home).ledger_sqlalchemy_url))
    if accounts.active(user.username) is None:
        accounts.add(
            user.username, user.display_name, user.role, "bench-pass-1", datetime.now(CHINA_TZ), unit=unit
        )
    app = AppTest.from_function(_page, args=(str(home), module), default_timeout=120)
    app.session_state["user"] = user
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"page {module} raised: {[e.value for e in app.exception]}")
    if any("无权访问" in error.value for error in app.error):
        raise RuntimeError(f"page {module} refused role {role}")
    return elapsed


def measure(home: Path, runs: int) -> dict[str, Any]:
    """Cold and uncached first-render seconds per page."""
    import streamlit as st

    figures: dict[str, Any] = {}
    for module, role, unit in PAGES:
        cold = render_once(home, module, role, unit)
        timings = []
        for _ in range(runs):
            st.cache_data.clear()
            timings.append(render_once(home, module, role, unit))
        figures[module] = {"cold_s": round(cold, 2), "first_render_s": round(statistics.median(timings), 2),
                           "max_s": round(max(timings), 2)}  # fmt: skip
    return figures


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from core.china_time import CHINA_TZ

    data: Path = args.data_dir
    if not (data / "stream" / "weibo_2020_10k.csv").exists():
        print(f"跳过：找不到共享数据目录 {data}（需要 ../shared/data 里的真实数据）", file=sys.stderr)
        return 0
    home: Path = args.dir or settings.home / "bench-dashboard"
    # The pages read YUQING_* only through the Settings built above; nothing else may leak in.
    for name in [name for name in os.environ if name.startswith("YUQING_")]:
        del os.environ[name]
    now = datetime.now(CHINA_TZ)
    built = build(home, posts=args.posts, tickets=args.tickets, data=data, workers=args.workers, now=now)
    pages = measure(home, args.runs)
    slowest = max(page["first_render_s"] for page in pages.values())
    print(json.dumps({"bench": "dashboard", **built, "pages": pages, "slowest_first_render_s": slowest,
                      "target_s": 2.0}, ensure_ascii=False))  # fmt: skip
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``dashboard`` under ``yuqing bench``."""
    parser = subparsers.add_parser(
        "dashboard", help="看板首屏基准：100 万帖子、10 万工单下每个页面的首次完整渲染时间"
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="每页清空数据缓存后的渲染次数（取中位数）")
    parser.add_argument("--workers", type=int, default=2, help="分词进程数")
    parser.add_argument("--dir", type=Path, help="数据目录（保留复用；默认 <home>/bench-dashboard）")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.set_defaults(handler=_run)
