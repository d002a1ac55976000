"""``python -m crawlers``: crawl every configured source once and publish to posts.raw, then exit.

Kept for those who run it; the command is ``yuqing crawl``. A crawl needs a broker, and building one
from settings is the composition root's business (:mod:`yuqing.wiring`), not this library's, so this
entry point translates its options and replaces itself with ``python -m yuqing crawl`` (the same
process id, so a supervisor's signals still reach the crawl), as :mod:`crawlers.schedule` runs each
cycle. Exit status: 0 when every source ran, 1 when one could not start, 2 on bad configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path


def yuqing_command(argv: list[str] | None, environ: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The ``python -m yuqing crawl`` command line and environment that do what ``argv`` asks."""
    parser = argparse.ArgumentParser(
        prog="python -m crawlers",
        description="抓取已配置的数据源（留言板、12345、微博）一次，并发布到 posts.raw（即 yuqing crawl）。",
    )
    parser.add_argument(
        "--sources", type=Path, help="数据源配置文件（默认：YUQING_SOURCES_FILE 或内置 sources.yaml）"
    )
    parser.add_argument(
        "--fast", action="store_true", help="不限速抓取：只用于自己架设的站点（演示站、测试服务器）"
    )
    args = parser.parse_args(argv)
    env = dict(environ)
    if args.sources is not None:
        env["YUQING_SOURCES_FILE"] = str(args.sources)
    # The interpreter's own warning options (``python -W error -m crawlers``) carry over.
    command = [sys.executable, *(f"-W{option}" for option in sys.warnoptions), "-m", "yuqing", "crawl"]
    if args.fast:
        command.append("--fast")
    return command, env


def main(argv: list[str] | None = None) -> None:
    """Become ``python -m yuqing crawl`` with the translated options; never returns."""
    command, env = yuqing_command(argv, os.environ)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 - our own interpreter, an argument list we built


if __name__ == "__main__":
    main()
