"""``yuqing sources list`` and ``yuqing sources try NAME``: the configured sources, and a dry run of one.

``try`` fetches a source's first page(s) with its own spider and policy and prints every item's fields
with the selector or path that produced each (or where it was looked for), without publishing anything
(:func:`crawlers.trial.try_source`). ``list`` prints every source of every kind with its latest crawl
(:func:`crawlers.catalog.describe_sources`), as the 系统管理 page shows them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from yuqing.commands import Subparsers
from yuqing.settings import Settings


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from crawlers.catalog import describe_sources, sources_path
    from crawlers.errors import CrawlerError

    try:
        infos = describe_sources(settings)
    except CrawlerError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        rows = [{**dataclasses.asdict(info), "status": info.status} for info in infos]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    print(f"共 {len(infos)} 个数据源（配置文件：{sources_path(settings)}）")
    for info in infos:
        print()
        print(f"{info.name}  {info.display_name}")
        print(f"  类型：{info.kind_label}　地址：{info.url}　抓取周期：{info.schedule}")
        if info.last_finished is None:
            last = "尚未抓取"
        else:
            when = info.last_finished[:16].replace("T", " ")
            last = (
                f"{when}（{info.last_result or '—'}，发布 {info.last_published} 条，"
                f"失败页面 {info.last_dead_letters} 个，错误日志 {info.last_errors} 条）"
            )
        print(f"  上次抓取：{last}　累计帖子：{info.items}　状态：{info.status}")
    return 0


def _try(settings: Settings, args: argparse.Namespace) -> int:
    from crawlers.errors import CrawlerError
    from crawlers.settings import secrets_from
    from crawlers.trial import SourceNotFound, format_trial, try_source

    try:
        result = try_source(
            settings,
            args.name,
            pages=args.pages,
            limit=args.limit,
            polite=not args.fast,
            secrets=secrets_from(os.environ),
        )
    except SourceNotFound as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except CrawlerError as exc:  # a sources file that does not parse
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=1))
    else:
        print(format_trial(result, full=args.full))
    return 1 if result.finish_reason.startswith("failed") else 0


def register(sub: Subparsers) -> None:
    """Add ``sources`` with ``list`` and ``try``."""
    parser = sub.add_parser("sources", help="数据源：列出全部已配置的数据源，或试抓一个（不发布）")
    commands = parser.add_subparsers(dest="sources_command", required=True)
    listing = commands.add_parser("list", help="列出每个数据源的类型、地址、周期、上次抓取和状态")
    listing.add_argument("--json", action="store_true", help="以 JSON 输出")
    listing.set_defaults(handler=_list)
    trial = commands.add_parser(
        "try", help="试抓一个数据源：打印每条的每个字段及其来源的选择器或路径，不发布任何内容"
    )
    trial.add_argument("name", help="数据源名称（sources.yaml 中的 name）")
    trial.add_argument("--pages", type=int, default=1, help="最多抓取几个列表页（默认 1）")
    trial.add_argument("--limit", type=int, default=20, help="最多显示几条（默认 20）")
    trial.add_argument("--fast", action="store_true", help="不限速：只用于自己架设的站点")
    trial.add_argument("--full", action="store_true", help="显示完整字段内容（默认截断长文本）")
    trial.add_argument("--json", action="store_true", help="以 JSON 输出")
    trial.set_defaults(handler=_try)
