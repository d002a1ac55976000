"""The demo site's JSON board: a 问政平台 whose pages are a single-page app fed by two JSON endpoints.

``/<slug>/api/letters`` lists letters, newest first, a page at a time: by POST with a JSON body
``{"pageNo": 1, "pageSize": 10}`` (what the app sends) or by GET with the same query parameters.
``/<slug>/api/letter?id=<letterId>`` is one letter with its content (HTML paragraphs), its time in
epoch milliseconds and its replies. ``wenzheng`` serves ``json_board.json``; ``wenzheng-bad`` serves
the bad cases: a record that is not an object, a record without an id, a letter whose time cannot be
read, a detail that is not JSON and a detail without content.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from core.china_time import CHINA_TZ
from demo_site.bad import INVALID_JSON, Answer
from demo_site.content import Board, SiteMessage, SiteReply, newest_first
from demo_site.errors import DemoDataError

JSON_BOARD_FILE = Path(__file__).with_name("json_board.json")
JSON = "application/json; charset=utf-8"
TIME = "%Y-%m-%d %H:%M:%S"
DEFAULT_PAGE_SIZE = 10
BAD_SLUG = "wenzheng-bad"
# The bad board's good letter, and each bad record's reason as the crawler states it.
BAD_GOOD_IDS = ("WB001",)


def json_board(anchor: datetime, *, path: Path = JSON_BOARD_FILE) -> tuple[Board, dict[str, str]]:
    """The demo 问政平台's letters (times counted back from ``anchor``) and each letter's area."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["letters"]
        messages = [_letter(entry, anchor) for entry in entries]
        areas = {str(entry["id"]): str(entry.get("area", "")) for entry in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoDataError(path, f"cannot read the demo JSON board: {exc!r}") from exc
    board = Board("wenzheng", "云溪市问政平台", "", newest_first(messages), page_size=DEFAULT_PAGE_SIZE)
    return board, areas


def _letter(entry: dict[str, Any], anchor: datetime) -> SiteMessage:
    posted = anchor - timedelta(minutes=int(entry["posted_minutes_ago"]))
    reply = entry.get("reply")
    site_reply = None
    if reply is not None:
        site_reply = SiteReply(
            unit=str(reply["unit"]),
            replied_at=anchor - timedelta(minutes=int(reply["minutes_ago"])),
            text=str(reply["text"]),
        )
    return SiteMessage(
        id=str(entry["id"]),
        title=str(entry["title"]),
        author=str(entry["author"]),
        posted_at=posted,
        text="\n".join(entry["text"]),
        reply=site_reply,
    )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=CHINA_TZ).timestamp() * 1000)


def _ok(data: object) -> Answer:
    body = {"code": 200, "msg": "成功", "data": data}
    return Answer(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), content_type=JSON)


def _list_record(message: SiteMessage, area: str) -> dict[str, Any]:
    return {
        "letterId": message.id,
        "title": message.title,
        "createTime": message.posted_at.strftime(TIME),
        "statusName": "已回复" if message.reply is not None else "办理中",
        "replyCount": 0 if message.reply is None else 1,
        "areaName": area,
    }


def _detail_record(message: SiteMessage, area: str) -> dict[str, Any]:
    replies = []
    if message.reply is not None:
        replies.append(
            {
                "orgName": message.reply.unit,
                "replyContent": message.reply.text,
                "replyTime": message.reply.replied_at.strftime(TIME),
            }
        )
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in message.text.splitlines() if line.strip())
    return {
        "letterId": message.id,
        "title": message.title,
        "content": paragraphs,
        "createTime": _epoch_ms(message.posted_at),
        "userName": message.author,
        "statusName": "已回复" if message.reply is not None else "办理中",
        "areaName": area,
        "replies": replies,
    }


def respond_json_board(
    board: Board, areas: dict[str, str], rest: list[str], query: dict[str, list[str]], body: bytes
) -> Answer | None:
    """The answer for ``/<slug>/api/...`` of ``board`` (``/<slug>/`` is the app's page), or None."""
    if not rest or rest == [""]:
        return Answer(200, _app_page(board).encode("utf-8"))
    if rest == ["api", "letters"]:
        params: dict[str, Any] = {key: values[0] for key, values in query.items()}
        if body:
            try:
                sent = json.loads(body)
            except ValueError:
                return Answer(400, b'{"code": 400, "msg": "bad request"}', content_type=JSON)
            if isinstance(sent, dict):
                params.update(sent)
        page = _positive(params.get("pageNo"), 1)
        size = min(_positive(params.get("pageSize"), DEFAULT_PAGE_SIZE), 100)
        chunk = board.messages[(page - 1) * size : page * size]
        pages = max(1, -(-len(board.messages) // size))
        records = [_list_record(m, areas.get(m.id, "")) for m in chunk]
        return _ok(
            {"pageNo": page, "pageSize": size, "total": len(board.messages), "pages": pages, "list": records}
        )
    if rest == ["api", "letter"]:
        message = board.by_id.get(query.get("id", [""])[0])
        if message is None:
            return Answer(
                200, json.dumps({"code": 404, "msg": "留言不存在", "data": None}).encode(), content_type=JSON
            )
        return _ok(_detail_record(message, areas.get(message.id, "")))
    return None


def _app_page(board: Board) -> str:
    """The single-page app people open (``#/letter/<id>`` shows one letter): a shell that reads the API."""
    script = """
const esc = s => String(s).replace(/[&<>"']/g, c => "&#" + c.charCodeAt(0) + ";");
const show = async () => {
  const id = decodeURIComponent((location.hash.match(/letter\\/(.+)$/) || [])[1] || "");
  const out = document.getElementById("app");
  if (!id) {
    const page = await (await fetch("api/letters?pageNo=1&pageSize=20")).json();
    out.innerHTML = page.data.list.map(r => `<p><a href="#/letter/${esc(r.letterId)}">${esc(r.title)}</a>
      ${esc(r.createTime)} ${esc(r.statusName)}</p>`).join("");
    return;
  }
  const letter = (await (await fetch("api/letter?id=" + encodeURIComponent(id))).json()).data;
  // content is the server's own escaped paragraphs; everything else is escaped here
  out.innerHTML = letter ? `<h1>${esc(letter.title)}</h1>${letter.content}` +
    letter.replies.map(r => `<h2>${esc(r.orgName)} 答复</h2><p>${esc(r.replyContent)}</p>`).join("")
    : "留言不存在";
};
window.addEventListener("hashchange", show);
show();
"""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(board.title)}（演示）</title></head>
<body><h1>{escape(board.title)}</h1><p>本页的留言由脚本从接口加载（演示站点，内容均为虚构）。</p>
<div id="app">加载中……</div><script>{script}</script></body></html>
"""


def _positive(value: object, default: int) -> int:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and int(text) >= 1 else default


def respond_bad_json_board(anchor: datetime, rest: list[str], query: dict[str, list[str]]) -> Answer | None:
    """``/wenzheng-bad/api/...``: one good letter among records and details that cannot be read."""
    when = (anchor - timedelta(minutes=60)).strftime(TIME)
    if rest == ["api", "letters"]:
        records: list[Any] = [
            {"letterId": "WB001", "title": "好留言", "createTime": when, "statusName": "办理中"},
            "这不是一条记录",
            {"title": "没有编号的留言", "createTime": when, "statusName": "办理中"},
            {"letterId": "WB004", "title": "时间无法解析", "createTime": "上周三", "statusName": "办理中"},
            {"letterId": "WB005", "title": "详情不是JSON", "createTime": when, "statusName": "办理中"},
            {"letterId": "WB006", "title": "详情没有正文", "createTime": when, "statusName": "办理中"},
        ]
        return _ok({"pageNo": 1, "pageSize": 10, "total": len(records), "pages": 1, "list": records})
    if rest == ["api", "letter"]:
        letter = query.get("id", [""])[0]
        if letter == "WB005":
            return Answer(200, INVALID_JSON, content_type=JSON)
        detail: dict[str, Any] = {
            "letterId": letter,
            "title": {"WB001": "好留言", "WB004": "时间无法解析", "WB006": "详情没有正文"}.get(letter, "?"),
            "content": "<p>南湾新村东门的早餐摊占道经营，请城管部门处理。</p>",
            "createTime": "上周三" if letter == "WB004" else when,
            "userName": "测试用户",
            "statusName": "办理中",
            "replies": [],
        }
        if letter == "WB006":
            detail["content"] = ""
        return _ok(detail)
    return None
