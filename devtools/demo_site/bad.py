"""The demo site's bad cases, each a page a real source has served us at some point.

``/bad/`` is a board in the demo layout whose list links to: good pages (plain, GBK, GB18030, a GBK
page with a UTF-8 header, a slow one), a truncated page, a page without a title, 404, 500, 429, a
redirect loop and a 10 MB page; its second list page repeats items of the first. ``/locked/`` is a
board whose detail pages redirect to a login page with a captcha. ``/hotline/bad-api/orders`` and the
Weibo search for ``坏数据`` answer invalid JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from demo_site.content import Board, SiteMessage
from demo_site.pages import detail_page, list_page

UTF8_HTML = "text/html; charset=utf-8"
GOOD_IDS = ("90001", "90005", "90006", "90007", "90011", "90013")
BAD_REASONS = {
    "90002": "missing text",  # truncated before the content
    "90003": "missing title",
    "90004": "http 404",
    "90008": "http 500",
    "90009": "http 429",
    "90010": "redirect loop",
    "90012": "10 MB page",
}
HUGE_BYTES = 10 * 1024 * 1024
SLOW_SECONDS = 1.0
_TITLE = re.compile(r'<h1 class="msg-title">.*?</h1>', re.DOTALL)


@dataclass
class Answer:
    """A response: status, headers, body bytes, and how long to wait before sending it."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = UTF8_HTML
    delay: float = 0.0


def bad_board(anchor: datetime) -> Board:
    """The bad-case board: 12 rows on page 1, then page 2 repeating two of them before a new one."""
    ids = [f"900{n:02d}" for n in range(1, 13)]
    messages = [_message(number, anchor - timedelta(minutes=10 * i)) for i, number in enumerate(ids)]
    by_id = {m.id: m for m in messages}
    last = _message("90013", anchor - timedelta(minutes=500))
    return Board(
        slug="bad",
        title="异常情况测试留言板",
        notice="本栏目用于检验采集程序对异常页面的处理，内容均为虚构。",
        messages=(*messages, by_id["90001"], by_id["90005"], last),
        page_size=12,
    )


def _message(number: str, posted: datetime) -> SiteMessage:
    special = "𠮷" if number == "90006" else ""  # a character GBK lacks and GB18030 has
    return SiteMessage(
        id=number,
        title=f"异常测试留言{number}：小区路灯损坏{special}",
        author="测试用户",
        posted_at=posted,
        text=f"这是第{number}号测试留言的正文。\n小区东门路灯已经坏了两周，夜间出行很不方便{special}。",
    )


def bad_answer(board: Board, path: str, query: str) -> Answer | None:
    """The answer for a path under ``/bad/``, or None when it is not one of ours."""
    if path == "/bad/list.html":
        return Answer(200, list_page(board, 2 if query == "page=2" else 1).encode("utf-8"))
    match = re.fullmatch(r"/bad/detail/(\d+)\.html", path)
    message = board.by_id.get(match.group(1)) if match else None
    if message is None:
        return None
    html = detail_page(board, message)
    number = message.id
    if number == "90002":
        return Answer(200, html[: html.index('<div class="msg-content">')].encode("utf-8"))
    if number == "90003":
        return Answer(200, _TITLE.sub("", html).encode("utf-8"))
    if number in ("90004", "90008", "90009"):
        status = {"90004": 404, "90008": 500, "90009": 429}[number]
        headers = [("Retry-After", "1")] if status == 429 else []
        return Answer(status, f"<html><body>错误 {status}</body></html>".encode(), headers)
    if number == "90005":
        body = html.replace('<meta charset="utf-8">', '<meta charset="gbk">').encode("gbk")
        return Answer(200, body, content_type="text/html; charset=GBK")
    if number == "90006":
        body = html.replace('<meta charset="utf-8">', '<meta charset="gb18030">').encode("gb18030")
        return Answer(200, body, content_type="text/html")
    if number == "90007":
        return Answer(200, html.encode("gbk"), content_type=UTF8_HTML)  # the header lies
    if number == "90010":
        hop = int(query.removeprefix("hop=")) if query.startswith("hop=") else 0
        return Answer(302, b"", [("Location", f"{path}?hop={(hop + 1) % 50}")])
    if number == "90011":
        return Answer(200, html.encode("utf-8"), delay=SLOW_SECONDS)
    if number == "90012":
        padding = "<!-- " + "填充" * (HUGE_BYTES // 6) + " -->"
        return Answer(200, html.replace("</body>", padding + "</body>").encode("utf-8"))
    return Answer(200, html.encode("utf-8"))


def captcha_answer(board: Board, path: str) -> Answer | None:
    """``/locked/``: a normal list page whose detail links all end on a login page with a captcha."""
    if path == "/locked/list.html":
        return Answer(200, list_page(board, 1).encode("utf-8"))
    if path.startswith("/locked/detail/"):
        return Answer(302, b"", [("Location", f"/login?next={path}")])
    if path == "/login":
        body = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>用户登录 - 请输入验证码</title></head>"
            "<body><form action='/login' method='post'><input name='username'>"
            "<input name='captcha' placeholder='验证码'><img src='/captcha.png'></form></body></html>"
        )
        return Answer(200, body.encode("utf-8"))
    return None


def captcha_board(anchor: datetime) -> Board:
    """A board that has started demanding a login."""
    messages = tuple(_message(f"9100{n}", anchor - timedelta(minutes=n)) for n in range(1, 4))
    return Board(slug="locked", title="内部留言板", notice="", messages=messages)


INVALID_JSON = b'{"code": 0, "data": {"page": 2, "records": [{"orderNo": "YX-BROKEN", "content": "\xe6\x88'
