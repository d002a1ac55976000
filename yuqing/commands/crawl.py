"""``yuqing crawl`` and ``yuqing demo-site``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from yuqing.commands import DEVTOOLS_MISSING, MISSING_SALT, Subparsers, devtools_missing, salt_missing
from yuqing.settings import Settings


def _crawl(settings: Settings, args: argparse.Namespace) -> int:
    if salt_missing(settings):
        return MISSING_SALT
    if args.every:
        from crawlers.schedule import crawl_forever
        from yuqing.signals import stop_on_signals

        return crawl_forever(settings, every_s=args.every, base_env=os.environ, stop=stop_on_signals())
    from crawlers.errors import CrawlerError
    from crawlers.settings import secrets_from
    from yuqing.wiring import crawl_once

    only = [name for name in args.only.split(",") if name] if args.only else None
    # A full crawl fetches every detail page again: it sees edits that do not show on a list page.
    extra = {"YUQING_INCREMENTAL": False} if args.full else None
    try:
        stats = crawl_once(
            settings, only=only, polite=not args.fast, secrets=secrets_from(os.environ), extra_settings=extra
        )
    except CrawlerError as exc:  # a sources file that does not parse
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    print(json.dumps(stats.as_dict(), ensure_ascii=False))
    return 1 if stats.failed else 0


def _demo_site(settings: Settings, args: argparse.Namespace) -> int:
    if devtools_missing("demo_site"):
        return DEVTOOLS_MISSING
    from demo_site import serve
    from yuqing.signals import stop_on_signals

    site = serve(args.port or settings.demo_port, data_dir=args.data_dir)
    if args.inbox is not None:
        from demo_site.exports import write_exports

        write_exports(args.inbox)
    print(site.url, flush=True)
    try:
        stop_on_signals().wait()
    finally:
        site.close()
    return 0


def register(sub: Subparsers) -> None:
    """Add ``crawl`` and ``demo-site``."""
    crawl = sub.add_parser("crawl", help="抓取所有已配置的数据源一次（或每隔 N 秒持续抓取）")
    crawl.add_argument(
        "--every",
        type=int,
        default=0,
        metavar="SECONDS",
        help="持续模式：每个数据源按自己的周期（默认 N 秒）抓取",
    )
    crawl.add_argument("--only", default="", metavar="NAMES", help="只抓取这些数据源（逗号分隔的名称）")
    crawl.add_argument(
        "--fast", action="store_true", help="不限速抓取：只用于自己架设的站点（演示站、测试服务器）"
    )
    crawl.add_argument(
        "--full", action="store_true", help="完整抓取：重新获取所有详情页（发现列表页上看不出的修改）"
    )
    crawl.set_defaults(handler=_crawl)

    demo = sub.add_parser(
        "demo-site", help="在前台运行演示站点（留言板、12345 接口、微博接口、异常页面；需安装 devtools）"
    )
    demo.add_argument("--port", type=int, default=0, help="监听端口（0 表示配置的演示端口）")
    demo.add_argument("--data-dir", type=Path, help="共享数据目录：存在时同时回放其中的真实数据")
    demo.add_argument("--inbox", type=Path, help="把演示用的 12345 导出文件（含异常文件）写入此目录")
    demo.set_defaults(handler=_demo_site)
