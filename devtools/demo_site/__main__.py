"""``python -m demo_site --port 8600 [--data-dir ../shared/data]``: serve the demo board."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from demo_site.server import serve

logger = logging.getLogger("demo_site")


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground until interrupted (Ctrl-C)."""
    parser = argparse.ArgumentParser(prog="python -m demo_site", description="启动本地演示留言板网站。")
    parser.add_argument("--port", type=int, default=8600, help="监听端口（默认 8600，0 表示随机空闲端口）")
    parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    parser.add_argument(
        "--data-dir", type=Path, help="共享数据目录；含 boards/ 下的真实留言数据时，在 /real/ 下回放"
    )
    parser.add_argument("--real-limit", type=int, help="最多回放多少条真实留言（默认全部）")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    site = serve(args.port, data_dir=args.data_dir, real_limit=args.real_limit, host=args.host)
    # Ctrl-C may come as soon as the site answers: from here on it always closes the site.
    try:
        logger.info("演示留言板已启动：%s/ （按 Ctrl-C 停止）", site.url)
        threading.Event().wait()
    except KeyboardInterrupt:
        logger.info("正在停止演示留言板")
    finally:
        site.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
