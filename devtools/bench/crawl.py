"""``yuqing bench crawl``: crawl the local demo sites with politeness off and print one JSON line.

Each spider runs alone in a fresh process (a Twisted reactor cannot restart) against the demo site
served from this process, publishing into an embedded broker under a temporary home, so the figures
include parsing, the pipelines and publishing. Per spider and overall: ``pages_per_second``,
``items_per_second`` and ``cpu_ms_per_item`` (the crawling process's CPU time, Scrapy's start-up
included, divided by items published). With ``../shared/data`` present the real board, hotline and
Weibo data are crawled (the real board also as a JSON board); without it, our own messages repeated
under new numbers. The news run reads an RSS feed of our two stories repeated under new numbers, each
article's text extracted by trafilatura.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

# devtools/bench/crawl.py: the repository is two folders up, the shared data beside it.
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TARGET_PAGES_PER_SECOND = 300
TARGET_CPU_MS_PER_ITEM = 5.0
BENCH_JSON = "benchjson"  # the demo site's path of the benchmark's JSON board
BENCH_NEWS = "benchnews"  # and of its news site


def register(sub: Subparsers) -> None:
    """Add ``crawl`` under ``yuqing bench``."""
    parser = sub.add_parser("crawl", help="爬虫吞吐量基准：抓取本地演示站点（不限速），输出一行 JSON")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA, help="共享数据目录（存在时抓取真实数据）"
    )
    parser.add_argument("--messages", type=int, default=3000, help="无真实数据时演示留言板的留言条数")
    parser.add_argument("--inbox-rows", type=int, default=5000, help="12345 导出文件的行数")
    parser.add_argument("--articles", type=int, default=300, help="新闻订阅源的文章篇数")
    parser.set_defaults(handler=_run)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    data_dir: Path | None = args.data_dir if args.data_dir and args.data_dir.is_dir() else None
    figures = run_bench(data_dir, messages=args.messages, inbox_rows=args.inbox_rows, articles=args.articles)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def run_bench(
    data_dir: Path | None, *, messages: int, inbox_rows: int, articles: int = 300
) -> dict[str, Any]:
    """Serve the sites, crawl each spider once in a child process, and return the figures."""
    from crawlers.board_json import JsonBoardSource
    from crawlers.catalog import load_all
    from crawlers.feeds import load_feeds
    from crawlers.news import NewsSource
    from crawlers.sources import load_sources
    from demo_site import REAL_BOARD_SOURCES, write_demo_sources

    with tempfile.TemporaryDirectory(prefix="yuqing-bench-crawl-") as temp:
        root = Path(temp)
        site = _serve(data_dir, messages, articles)
        try:
            path = write_demo_sources(root / "sources.yaml", site.url, feeds=True, inbox=root / "inbox")
            web = load_all(write_demo_sources(root / "web.yaml", site.url, json_board=True, news=True))
            [json_board] = [s for s in web if isinstance(s, JsonBoardSource)]
            news = next(s for s in web if isinstance(s, NewsSource))
            assert json_board.detail_endpoint is not None
            json_board = dataclasses.replace(
                json_board,
                list_endpoint=dataclasses.replace(
                    json_board.list_endpoint,
                    url=f"{site.url}/{BENCH_JSON}/api/letters",
                    body=json.dumps({"pageNo": "{page}", "pageSize": 50}),
                ),
                detail_endpoint=dataclasses.replace(
                    json_board.detail_endpoint, url=f"{site.url}/{BENCH_JSON}/api/letter?id={{id}}"
                ),
            )
            news = dataclasses.replace(news, feed_url=f"{site.url}/{BENCH_NEWS}/rss.xml")
            _write_inbox(root / "inbox" / "orders.csv", inbox_rows)
            [board] = load_sources(path)
            if data_dir is not None and "real" in site.boards:
                [board] = load_sources(REAL_BOARD_SOURCES)
                board = dataclasses.replace(board, start_url=f"{site.url}/real/list.html")
            else:
                board = dataclasses.replace(board, start_url=f"{site.url}/bench/list.html")
            api, inbox, weibo = load_feeds(path)
            api = dataclasses.replace(api, page_size=100)
            if data_dir is not None:
                weibo = dataclasses.replace(weibo, keywords=("武汉", "云溪"))
            runs: dict[str, tuple[list[Any], list[Any]]] = {
                "board": ([board], []),
                "hotline-api": ([], [api]),
                "hotline-inbox": ([], [inbox]),
                "weibo": ([], [weibo]),
                "board-json": ([json_board], []),
                "news": ([news], []),
            }
            spiders = {name: _crawl(root / name, boards, feeds) for name, (boards, feeds) in runs.items()}
        finally:
            site.close()
    total = {
        key: sum(s[key] for s in spiders.values()) for key in ("pages", "items", "seconds", "cpu_seconds")
    }
    return {
        "benchmark": "crawl",
        "data": "shared" if data_dir is not None else "demo",
        "spiders": {name: _figures(s) for name, s in spiders.items()},
        "overall": _figures(total),
        "targets": {
            "board_pages_per_second": TARGET_PAGES_PER_SECOND,
            "cpu_ms_per_item": TARGET_CPU_MS_PER_ITEM,
        },
        "note": "one process per spider; seconds from spider open to close; CPU is the crawler process's "
        "(crawl set-up included, demo server excluded)",
    }


def _figures(run: dict[str, float]) -> dict[str, float]:
    seconds = max(run["seconds"], 1e-9)
    items = max(run["items"], 1)
    return {
        "pages": int(run["pages"]),
        "items": int(run["items"]),
        "seconds": round(run["seconds"], 3),
        "pages_per_second": round(run["pages"] / seconds, 1),
        "items_per_second": round(run["items"] / seconds, 1),
        "cpu_ms_per_item": round(run["cpu_seconds"] * 1000 / items, 3),
    }


def _serve(data_dir: Path | None, messages: int, articles: int) -> Any:
    from demo_site import serve
    from demo_site.content import Board, demo_messages, newest_first
    from demo_site.news import bench_news

    site = serve(0, data_dir=data_dir)
    if data_dir is None or "real" not in site.boards:
        ours = demo_messages()
        many = [dataclasses.replace(ours[i % len(ours)], id=str(200000 + i)) for i in range(messages)]
        site.boards["bench"] = Board("bench", "基准测试留言板", "", newest_first(many), page_size=20)
    # The same messages as a single-page board's JSON endpoints (its list pages are 50 long).
    board = site.boards.get("real") or site.boards["bench"]
    site.site.json_boards[BENCH_JSON] = dataclasses.replace(board, slug=BENCH_JSON)
    site.site.news.add(*bench_news(site.site.anchor, articles, slug=BENCH_NEWS))
    return site


def _write_inbox(path: Path, rows: int) -> None:
    # Our own export rows under new order numbers: the file intake's speed, not the data's gaps.
    from demo_site.exports import CSV_ROWS, HEADER

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow([f"B{n:06d}", *CSV_ROWS[n % len(CSV_ROWS)][1:]])


def _crawl(home: Path, boards: list[Any], feeds: list[Any]) -> dict[str, float]:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_crawl_child, Settings(home=home), boards, feeds).result(timeout=900)


def _crawl_child(settings: Settings, boards: list[Any], feeds: list[Any]) -> dict[str, float]:
    from yuqing.wiring import crawl_once

    quiet = {"LOG_LEVEL": "WARNING"}  # a benchmark does not print a line per item
    cpu = time.process_time()
    stats = crawl_once(settings, sources=boards, feeds=feeds, polite=False, extra_settings=quiet)
    cpu_seconds = time.process_time() - cpu
    # Wall time is the spider's own (opened → closed); CPU includes setting the crawl up, so it errs high.
    seconds = sum(board.elapsed_s for board in stats.boards)
    return {"pages": stats.pages, "items": stats.published, "seconds": seconds, "cpu_seconds": cpu_seconds}
