"""HTML of the demo site, in the shape of a 政府网站留言板: list pages with a pager, and detail pages.

Every value that comes from a message goes through :func:`html.escape`; nothing here trusts its input.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from demo_site.content import TIME_FORMAT, Board, SiteMessage

SITE_NAME = "云溪市人民政府"
_STYLE = """
body{margin:0;font:14px/1.7 "Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;
color:#333;background:#f4f6f9}.site-header{background:#b71c1c;color:#fff;padding:14px 32px}
.site-name{font-size:24px;font-weight:bold;letter-spacing:4px}
.site-nav a{color:#fff;margin-right:24px;text-decoration:none}.breadcrumb{padding:8px 32px;color:#666}
main{background:#fff;margin:0 32px 24px;padding:16px 24px;border:1px solid #e3e3e3}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #e3e3e3;padding:6px 10px;text-align:left}
th{background:#f7f7f7;white-space:nowrap}.state.replied{color:#2e7d32}.state.pending{color:#c62828}
.pagination{margin-top:16px;text-align:center}.pagination a,.pagination span{margin:0 6px}
.disabled{color:#aaa}h2{font-size:16px;border-left:4px solid #b71c1c;padding-left:8px}
.notice{color:#888;font-size:12px}footer{text-align:center;color:#888;font-size:12px;padding:16px}
"""


def _layout(title: str, breadcrumb: Iterable[tuple[str, str | None]], body: str, notice: str = "") -> str:
    crumbs = " &gt; ".join(
        f'<a href="{escape(href)}">{escape(label)}</a>' if href else escape(label)
        for label, href in breadcrumb
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - {SITE_NAME}</title>
<style>{_STYLE}</style>
</head>
<body>
<header class="site-header">
<div class="site-name">{SITE_NAME}</div>
<nav class="site-nav"><a href="/">首页</a><a href="/">政务公开</a><a href="/">政务服务</a>
<a href="/">政民互动</a></nav>
</header>
<div class="breadcrumb">当前位置：{crumbs}</div>
<main>
{body}
</main>
<footer>主办：{SITE_NAME}办公室　<span class="notice">{escape(notice)}</span></footer>
</body>
</html>
"""


def _paragraphs(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(f"<p>{escape(line)}</p>" for line in lines)


def _list_url(board: Board, number: int) -> str:
    return f"/{board.slug}/list.html" if number == 1 else f"/{board.slug}/list.html?page={number}"


def detail_url(board: Board, message: SiteMessage) -> str:
    """The path of a message's detail page."""
    return f"/{board.slug}/detail/{message.id}.html"


def index_page(boards: Iterable[Board]) -> str:
    """The home page: a link to each board."""
    items = "\n".join(
        f'<li><a href="{escape(_list_url(b, 1))}">{escape(b.title)}</a>（共 {len(b.messages)} 条留言）</li>'
        for b in boards
    )
    body = f'<h1>政民互动</h1>\n<ul class="boards">\n{items}\n</ul>'
    return _layout("政民互动", [("首页", "/"), ("政民互动", None)], body)


def list_page(board: Board, number: int) -> str:
    """List page ``number``: number, title (linked), date and 办理状态 per row, then the pager."""
    rows = []
    for message in board.page(number):
        state = "replied" if message.reply is not None else "pending"
        rows.append(
            '<tr class="msg-row">'
            f'<td class="msg-no">{escape(message.id)}</td>'
            f'<td class="msg-subject"><a class="msg-link" href="{escape(detail_url(board, message))}" '
            f'title="{escape(message.title)}">{escape(message.title)}</a></td>'
            f'<td class="msg-date">{message.posted_at:%Y-%m-%d}</td>'
            f'<td class="msg-state"><span class="state {state}">{escape(message.status)}</span></td>'
            "</tr>"
        )
    last = board.page_count
    previous = (
        f'<a class="prev" href="{escape(_list_url(board, number - 1))}">上一页</a>'
        if number > 1
        else '<span class="disabled">上一页</span>'
    )
    following = (
        f'<a class="next" href="{escape(_list_url(board, number + 1))}">下一页</a>'
        if number < last
        else '<span class="disabled">下一页</span>'
    )
    body = f"""<h1 class="board-title">{escape(board.title)}</h1>
<table class="msg-list">
<thead><tr><th>编号</th><th>留言标题</th><th>留言时间</th><th>办理状态</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<div class="pagination">共 {len(board.messages)} 条　第 {number}/{last} 页
<a class="first" href="{escape(_list_url(board, 1))}">首页</a> {previous} {following}
<a class="last" href="{escape(_list_url(board, last))}">尾页</a></div>"""
    return _layout(board.title, [("首页", "/"), ("政民互动", "/"), (board.title, None)], body, board.notice)


def detail_page(board: Board, message: SiteMessage) -> str:
    """A message with its metadata, its content and, if answered, the department's reply."""
    reply = message.reply
    if reply is None:
        reply_html = (
            '<div class="reply-section pending"><h2>答复内容</h2>\n'
            '<p class="reply-empty">该留言正在办理中，请耐心等待。</p></div>'
        )
    else:
        unit = (
            f'<th>答复单位</th><td class="reply-unit">{escape(reply.unit)}</td>'
            if reply.unit is not None
            else ""
        )
        reply_html = f"""<div class="reply-section"><h2>答复内容</h2>
<table class="reply-meta"><tr>{unit}
<th>答复时间</th><td class="reply-time">{reply.replied_at.strftime(TIME_FORMAT)}</td></tr></table>
<div class="reply-content">
{_paragraphs(reply.text)}
</div></div>"""
    body = f"""<div class="msg-detail">
<h1 class="msg-title">{escape(message.title)}</h1>
<table class="msg-meta">
<tr><th>留言编号</th><td class="msg-no">{escape(message.id)}</td>
<th>留言人</th><td class="msg-author">{escape(message.author)}</td></tr>
<tr><th>留言时间</th><td class="msg-time">{message.posted_at.strftime(TIME_FORMAT)}</td>
<th>办理状态</th><td class="msg-status">{escape(message.status)}</td></tr>
</table>
<div class="msg-section"><h2>留言内容</h2>
<div class="msg-content">
{_paragraphs(message.text)}
</div></div>
{reply_html}
<p class="back"><a href="{escape(_list_url(board, 1))}">返回列表</a></p>
</div>"""
    crumbs = [("首页", "/"), ("政民互动", "/"), (board.title, _list_url(board, 1)), ("留言详情", None)]
    return _layout(message.title, crumbs, body, board.notice)


def not_found_page() -> str:
    """The page for any path the site does not have."""
    body = '<h1>页面不存在</h1>\n<p>您访问的页面不存在或已被删除。<a href="/">返回首页</a></p>'
    return _layout("页面不存在", [("首页", "/"), ("页面不存在", None)], body)
