"""The demo site's HTTP side: routing, a threaded server with a real listen backlog, and its lifecycle.

Python's plain ``http.server`` keeps a backlog of 5 and drops connections under Scrapy's parallel
requests, so the server is threaded with a backlog of 128 and speaks HTTP/1.1 keep-alive.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from demo_site.bad import INVALID_JSON, Answer, bad_answer, bad_board, captcha_answer, captcha_board
from demo_site.content import Board, SiteReply, _anchor, demo_board, newest_first, real_board
from demo_site.feeds import Feeds, add_real_feeds, demo_feeds
from demo_site.json_board import BAD_SLUG, json_board, respond_bad_json_board, respond_json_board
from demo_site.news import NewsSites, demo_news
from demo_site.pages import detail_page, index_page, list_page, not_found_page
from demo_site.signed_api import SIGNED_API_PATH, signed_tickets

logger = logging.getLogger(__name__)

# /private/ is closed to crawlers, so tests can see robots.txt obeyed per source.
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nAllow: /\n"
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"


class Site:
    """The boards and the routes that render them; independent of HTTP, so it is testable directly."""

    def __init__(
        self, boards: Iterable[Board], feeds: Feeds | None = None, *, now: datetime | None = None
    ) -> None:
        self.boards = {board.slug: board for board in boards}
        self.feeds = feeds if feeds is not None else Feeds()
        anchor = _anchor(now)
        self.anchor = anchor
        self.bad = bad_board(anchor)
        self.captcha = captcha_board(anchor)
        # The single-page boards served as JSON (/<slug>/api/...), with each letter's area.
        wenzheng, areas = json_board(anchor)
        self.json_boards: dict[str, Board] = {wenzheng.slug: wenzheng}
        self.json_areas: dict[str, str] = dict(areas)
        self.news: NewsSites = demo_news(anchor)
        self.base_url = ""  # set once the server is bound: feeds carry absolute links

    def respond(self, target: str, *, method: str = "GET", body: bytes = b"") -> Answer:
        """The full answer for a request target: the boards, the JSON APIs, the news and the bad cases.

        ``method`` and ``body`` matter to the JSON board's list endpoint, which takes POSTed JSON.
        """
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        segments = parts.path.strip("/").split("/")
        json_board_site = self.json_boards.get(segments[0])
        if json_board_site is not None:
            found = respond_json_board(
                json_board_site, self.json_areas, segments[1:], query, body if method == "POST" else b""
            )
            return found or Answer(404, b'{"code": 404, "msg": "not found"}', content_type=JSON)
        if segments[0] == BAD_SLUG:
            found = respond_bad_json_board(self.anchor, segments[1:], query)
            return found or Answer(404, b'{"code": 404, "msg": "not found"}', content_type=JSON)
        news = self.news.respond(parts.path, query, self.base_url)
        if news is not None:
            return news
        if method == "POST":
            return Answer(405, b"method not allowed", content_type="text/plain; charset=utf-8")
        if parts.path.startswith("/bad/"):
            answer = bad_answer(self.bad, parts.path, parts.query)
        elif parts.path.startswith(("/locked/", "/login")):
            answer = captcha_answer(self.captcha, parts.path)
        elif parts.path == "/hotline/api/orders":
            page = _page_number(query.get("page", ["1"])[0]) or 1
            size = _page_number(query.get("page_size", ["20"])[0]) or 20
            data = self.feeds.hotline_page(page, size, query.get("updated_since", [None])[0])
            answer = Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type=JSON)
        elif parts.path == SIGNED_API_PATH:
            answer = signed_tickets(self.feeds, parts.query)
        elif parts.path == "/hotline/bad-api/orders":
            answer = _bad_hotline_page(query.get("page", ["1"])[0])
        elif parts.path == "/api/container/getIndex":
            container = query.get("containerid", [""])[0]
            page = _page_number(query.get("page", ["1"])[0]) or 1
            if container.endswith("q=坏数据"):
                answer = Answer(200, b'{"ok": 1, "data": {"cards": [', content_type=JSON)
            else:
                data = self.feeds.weibo_page(container, page)
                answer = Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type=JSON)
        else:
            answer = None
        if answer is not None:
            return answer
        status, content_type, html = self.route(target)
        return Answer(status, html.encode("utf-8"), content_type=content_type)

    def answer(self, slug: str, message_id: str, reply: SiteReply) -> None:
        """Give a message its department reply (a reply arriving after a first crawl)."""
        self._change(slug, message_id, reply=reply)

    def edit(self, slug: str, message_id: str, *, title: str | None = None, text: str | None = None) -> None:
        """Edit a message after it was first crawled (a new title shows on the list page)."""
        changes = {k: v for k, v in (("title", title), ("text", text)) if v is not None}
        self._change(slug, message_id, **changes)

    def _change(self, slug: str, message_id: str, **changes: object) -> None:
        boards = self.json_boards if slug in self.json_boards else self.boards
        board = boards[slug]
        messages = [
            dataclasses.replace(m, **changes) if m.id == message_id else m  # type: ignore[arg-type]
            for m in board.messages
        ]
        boards[slug] = dataclasses.replace(board, messages=newest_first(messages))

    def route(self, target: str) -> tuple[int, str, str]:
        """``(status, content type, body)`` for a request target such as ``/liuyan/list.html?page=2``."""
        parts = urlsplit(target)
        path = parts.path
        if path in ("/", "/index.html"):
            return HTTPStatus.OK, HTML, index_page(self.boards.values())
        if path == "/robots.txt":
            return HTTPStatus.OK, "text/plain; charset=utf-8", ROBOTS_TXT
        segments = path.strip("/").split("/")
        board = self.boards.get(segments[0])
        if board is not None and segments[1:] == ["list.html"]:
            number = _page_number(parse_qs(parts.query).get("page", ["1"])[0])
            if number is not None and number <= board.page_count:
                return HTTPStatus.OK, HTML, list_page(board, number)
        if board is not None and len(segments) == 3 and segments[1] == "detail":
            message = (
                board.by_id.get(segments[2].removesuffix(".html")) if segments[2].endswith(".html") else None
            )
            if message is not None:
                return HTTPStatus.OK, HTML, detail_page(board, message)
        return HTTPStatus.NOT_FOUND, HTML, not_found_page()


def _page_number(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) >= 1 else None


def _bad_hotline_page(page: str) -> Answer:
    # Page 1: one good order, one without content, one with an unreadable time; page 2: broken JSON.
    if page != "1":
        return Answer(200, INVALID_JSON, content_type=JSON)
    records = [
        {"orderNo": "YXBAD001", "acceptTime": "2024-06-01 09:00:00", "appealType": "咨询", "title": "好工单",
         "content": "咨询社保卡补办流程。", "status": "待签收"},
        {"orderNo": "YXBAD002", "acceptTime": "2024-06-01 09:05:00", "appealType": "投诉", "title": "缺内容"},
        {"orderNo": "YXBAD003", "acceptTime": "六月一日上午", "appealType": "求助", "title": "时间无法解析",
         "content": "时间格式不对的工单。"},
    ]  # fmt: skip
    data = {"code": 0, "data": {"page": 1, "pages": 2, "total": 4, "records": records}}
    return Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type=JSON)


class _Handler(BaseHTTPRequestHandler):
    server: DemoServer
    protocol_version = "HTTP/1.1"  # keep-alive: Scrapy reuses connections
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait for the
    # client's delayed ACK of the headers (up to 40 ms on Linux) on every kept-alive request.
    disable_nagle_algorithm = True
    server_version = "YuqingDemo/0.1"
    timeout = 30  # an idle keep-alive connection frees its thread after this long

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1024 * 1024)) if length > 0 else b""
        self._respond(send_body=True, method="POST", body=body)

    def _respond(self, *, send_body: bool, method: str = "GET", body: bytes = b"") -> None:
        self.server.count(self.path if method != "POST" else f"POST {self.path}")
        answer = self.server.site.respond(self.path, method=method, body=body)
        if answer.delay:
            time.sleep(answer.delay)  # a slow source: this handler's thread waits, the others serve
        data = answer.body
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # the base class's parameter name
        logger.debug("demo-site %s %s", self.address_string(), format % args)


class DemoServer(ThreadingHTTPServer):
    """A threaded HTTP server with a listen backlog big enough for a crawler's bursts."""

    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.hits: Counter[str] = Counter()
        self._hits_lock = threading.Lock()

    def count(self, target: str) -> None:
        """Count a request for ``target``, so a test can see what a crawler fetched and how often."""
        with self._hits_lock:
            self.hits[target] += 1

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-response is normal for a crawler shutting down; log it quietly."""
        logger.debug("demo-site connection from %s ended with an error", client_address, exc_info=True)


class DemoSite:
    """A running demo site; ``url`` is its base URL. Close it (or use ``with``) to stop serving."""

    def __init__(self, server: DemoServer, now: datetime | None) -> None:
        self._server = server
        self.now = now
        host, port = server.server_address[:2]
        self.port = int(port)
        self.url = f"http://{host!s}:{self.port}"
        self.site = server.site
        self.site.base_url = self.url
        self.boards = server.site.boards
        self.hits = server.hits  # request target -> count, for tests and curious operators
        # A short poll interval makes close() return quickly; serving itself does not poll.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-site", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoSite:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve(
    port: int = 0,
    *,
    data_dir: Path | None = None,
    real_limit: int | None = None,
    host: str = "127.0.0.1",
    now: datetime | None = None,
) -> DemoSite:
    """Serve the demo board (and the real-data board when ``data_dir`` holds it) in a daemon thread.

    ``port=0`` picks a free port. Demo times count back from ``now`` (default: this moment);
    ``real_limit`` caps how many real messages are served (all when None).
    """
    boards = [demo_board(now)]
    feeds = demo_feeds(_anchor(now))
    if data_dir is not None:
        real = real_board(data_dir, limit=real_limit)
        if real is None:
            logger.info("demo-site: %s has no real message-board data; serving the demo board only", data_dir)
        else:
            boards.append(real)
        added = add_real_feeds(feeds, data_dir, limit=real_limit)
        logger.info("demo-site: real data replayed through the APIs: %s", ", ".join(added) or "none")
    site = DemoSite(DemoServer((host, port), Site(boards, feeds, now=now)), now)
    logger.info("demo-site: serving %s at %s", ", ".join(b.slug for b in boards), site.url)
    return site
