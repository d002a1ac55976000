"""The saved pages the spider tests read, rendered from our own demo content at a fixed moment.

Regenerate after changing the demo site's templates: ``python -m tests.crawlers.make_pages``.
A test checks that the saved files still equal what the site renders.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

from core.china_time import CHINA_TZ
from demo_site.content import Board, SiteMessage, demo_board
from demo_site.pages import detail_page, list_page

PAGES = Path(__file__).with_name("pages")
FIXED_NOW = datetime(2024, 6, 3, 9, 30, tzinfo=CHINA_TZ)


def _without_unit(message: SiteMessage) -> SiteMessage:
    if message.reply is None:
        return message
    return dataclasses.replace(message, reply=dataclasses.replace(message.reply, unit=None))


def boards() -> tuple[Board, Board]:
    """The demo board, and the same messages laid out as the real-data board (no reply unit)."""
    demo = demo_board(FIXED_NOW)
    real_layout = Board(
        slug="real",
        title="问政留言（公开数据回放）",
        notice="测试页面：版式与真实数据留言板相同，内容为本项目自行编写的演示留言。",
        messages=tuple(_without_unit(m) for m in demo.messages),
        page_size=20,
    )
    return demo, real_layout


def rendered_pages() -> dict[str, str]:
    """File name -> HTML of every saved page."""
    demo, real_layout = boards()
    return {
        "list_1.html": list_page(demo, 1),
        "list_3.html": list_page(demo, 3),
        "detail_10005_replied.html": detail_page(demo, demo.by_id["10005"]),
        "detail_10016_pending.html": detail_page(demo, demo.by_id["10016"]),
        "real_layout_list_1.html": list_page(real_layout, 1),
        "real_layout_detail_10010.html": detail_page(real_layout, real_layout.by_id["10010"]),
    }


def main() -> None:
    """Write the pages."""
    PAGES.mkdir(exist_ok=True)
    for name, html in rendered_pages().items():
        (PAGES / name).write_text(html, encoding="utf-8")


if __name__ == "__main__":
    main()
