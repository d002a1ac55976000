"""``python -m crawlers``: crawl every configured source once and publish to posts.raw, then exit.

Settings come from ``YUQING_*`` variables (this is an entry point); one crawl per process because
Scrapy's reactor cannot restart, so a scheduler simply runs this command again.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from crawlers.errors import CrawlerError
from crawlers.runner import run_crawl
from crawlers.settings import secrets_from
from yuqing.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    """Run one crawl; exit 0 when every board ran, 1 when one could not start, 2 on bad configuration."""
    parser = argparse.ArgumentParser(
        prog="python -m crawlers",
        description="抓取已配置的数据源（留言板、12345、微博）一次，并发布到 posts.raw。",
    )
    parser.add_argument(
        "--sources", type=Path, help="数据源配置文件（默认：YUQING_SOURCES_FILE 或内置 sources.yaml）"
    )
    parser.add_argument(
        "--fast", action="store_true", help="不限速抓取：只用于自己架设的站点（演示站、测试服务器）"
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        if args.sources is not None:
            settings = dataclasses.replace(settings, sources_file=args.sources)
        stats = run_crawl(settings, polite=not args.fast, secrets=secrets_from(os.environ))
    except (CrawlerError, SettingsError) as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    if stats.failed:
        print(f"以下数据源未能开始抓取：{'、'.join(stats.failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
