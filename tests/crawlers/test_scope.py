"""Crawler scope (issue 19): a source stays on its own hosts over http(s), a secret goes only to the origin
it was configured for and only over https (http for loopback hosts only), redirects included."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from scrapy import Request
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawlers.errors import SourceConfigError
from crawlers.feeds import FeedSource, load_feeds
from crawlers.hotline_api import Auth, Signing
from crawlers.middlewares import OutOfScope, ScopeMiddleware, SecretsMiddleware
from crawlers.scope import is_loopback, may_carry_secret, out_of_scope
from crawlers.sources import load_sources
from crawlers.spiders.hotline import HotlineApiSpider
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings


def board_entry(url: str, **extra: object) -> dict[str, object]:
    return {
        "name": "scope-board",
        "display_name": "范围测试",
        "start_url": url,
        "polite": False,
        "time_format": "%Y-%m-%d %H:%M:%S",
        "id_pattern": r"/detail/(\d+)\.html",
        "list": {"rows": "li.row", "detail_link": "a::attr(href)"},
        "fields": {"title": "h1::text", "published_at": "span.time::text", "text": "div.text"},
        **extra,
    }


def write(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


# -- rules -------------------------------------------------------------------------------------------------


def test_a_source_stays_on_its_hosts_over_http_or_https(tmp_path):
    [board] = load_sources(write(tmp_path, [board_entry("https://liuyan.example.gov.cn/list.html")]))
    assert out_of_scope("https://liuyan.example.gov.cn/detail/1.html", board) is None
    assert out_of_scope("http://LIUYAN.example.gov.cn:8080/detail/1.html", board) is None  # same host name
    assert out_of_scope("https://evil.example.com/detail/1.html", board) == "another host"
    assert out_of_scope("https://cdn.liuyan.example.gov.cn/x", board) == "another host"
    assert out_of_scope("file:///etc/passwd", board) == "not http(s)"
    assert out_of_scope("ftp://liuyan.example.gov.cn/x", board) == "not http(s)"
    assert out_of_scope("data:text/html,<h1>x</h1>", board) == "not http(s)"
    hosts = ["files.example.gov.cn", "*.cdn.example.gov.cn", "10.1.2.3"]
    [wider] = load_sources(
        write(tmp_path, [board_entry("https://liuyan.example.gov.cn/l", allowed_hosts=hosts)])
    )
    assert wider.allowed_hosts == ("files.example.gov.cn", "*.cdn.example.gov.cn", "10.1.2.3")
    for url in ("https://files.example.gov.cn/a", "https://img.cdn.example.gov.cn/a", "http://10.1.2.3/a"):
        assert out_of_scope(url, wider) is None
    assert out_of_scope("https://cdn.example.gov.cn/a", wider) == "another host"  # *. is subdomains only


def test_an_inbox_reads_only_files_inside_its_folder(tmp_path):
    inbox = FeedSource(kind="hotline-inbox", name="f", display_name="f", inbox=tmp_path / "in")
    (tmp_path / "in").mkdir()
    assert out_of_scope((tmp_path / "in" / "a.csv").as_uri(), inbox) is None
    assert out_of_scope((tmp_path / "in" / ".." / "secret.csv").as_uri(), inbox) == "outside the inbox"
    assert out_of_scope("file:///etc/passwd", inbox) == "outside the inbox"
    assert out_of_scope("http://127.0.0.1/a.csv", inbox) == "outside the inbox"


@pytest.mark.parametrize("hosts", ["x.gov.cn", ["https://y.gov.cn/"], ["y.gov.cn:8080"], [""], []])
def test_allowed_hosts_must_be_host_names(tmp_path, hosts):
    with pytest.raises(SourceConfigError, match="allowed_hosts") as caught:
        load_sources(write(tmp_path, [board_entry("https://x.gov.cn/", allowed_hosts=hosts)]))
    assert "主机名" in caught.value.reason


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"kind": "hotline-api", "start_url": "http://hotline.example.gov.cn/api",
          "token_secret": "T"}, "start_url"),
        ({"kind": "hotline-api", "start_url": "http://10.0.0.8/api",
          "auth": {"style": "header", "secret": "K", "header": "X-Api-Key"}}, "start_url"),
        ({"kind": "weibo", "api_url": "http://m.example.com/api", "keywords": ["k"],
          "cookie_secret": "C"}, "api_url"),
    ],
)  # fmt: skip
def test_a_source_with_a_secret_and_a_plain_http_url_is_refused(tmp_path, entry, field):
    base = {"name": "s", "display_name": "带密钥的来源"}
    with pytest.raises(SourceConfigError) as caught:
        load_feeds(write(tmp_path, [{**base, **entry}]))
    assert caught.value.field == field
    assert "必须用 https" in caught.value.reason and "loopback" in caught.value.reason


def test_plain_http_with_a_secret_is_fine_on_this_machine_and_https_anywhere(tmp_path):
    entries = [
        {"kind": "hotline-api", "name": "a", "display_name": "a", "start_url": "http://127.0.0.1:8600/x",
         "token_secret": "T"},
        {"kind": "hotline-api", "name": "b", "display_name": "b", "start_url": "http://localhost:8600/x",
         "token_secret": "T"},
        {"kind": "hotline-api", "name": "c", "display_name": "c", "start_url": "https://h.example.gov.cn/x",
         "token_secret": "T"},
        {"kind": "hotline-api", "name": "d", "display_name": "d", "start_url": "http://h.example.gov.cn/x"},
    ]  # fmt: skip
    assert [feed.name for feed in load_feeds(write(tmp_path, entries))] == ["a", "b", "c", "d"]
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("127.0.0.1.example.com")


def test_a_secret_goes_only_to_the_origin_it_was_configured_for_and_only_safely():
    api = FeedSource(kind="hotline-api", name="h", display_name="h", start_url="https://h.example/api",
                     token_secret="T", allowed_hosts=("files.example",))  # fmt: skip
    assert may_carry_secret("https://h.example/api?page=2", api)
    assert may_carry_secret("https://h.example:443/other", api)
    assert not may_carry_secret("https://files.example/api", api)  # allowed to fetch, not to get the token
    assert not may_carry_secret("https://h.example:8443/api", api)
    assert not may_carry_secret("http://h.example/api", api)  # a downgrade
    local = FeedSource(kind="hotline-api", name="l", display_name="l", start_url="http://127.0.0.1:8600/api")
    assert may_carry_secret("http://127.0.0.1:8600/api?page=2", local)
    assert not may_carry_secret("http://localhost:8600/api", local)


def middleware_for(source: FeedSource, secrets: dict[str, str]) -> SecretsMiddleware:
    crawler = get_crawler(settings_dict={"YUQING_SECRETS": secrets})
    crawler.spider = HotlineApiSpider(source)
    return SecretsMiddleware.from_crawler(crawler)


def test_credentials_a_redirect_copied_to_another_host_are_removed():
    sign = Signing(timestamp_param="ts", app_key_param="appKey", app_key="a")
    for auth, header in (
        (Auth("bearer", "K"), b"Authorization"),
        (Auth("header", "K", header="X-Api-Key"), b"X-Api-Key"),
    ):
        source = FeedSource(kind="hotline-api", name="h", display_name="h", start_url="https://h.example/api",
                            auth=auth, cookie_secret="C")  # fmt: skip
        middleware = middleware_for(source, {"K": "s3cret", "C": "sid=1"})
        own = Request("https://h.example/api")
        middleware.process_request(own)
        assert header in own.headers and b"Cookie" in own.headers
        moved = own.replace(url="https://elsewhere.example/api")  # what a redirect builds from it
        assert middleware.process_request(moved) is None
        assert header not in moved.headers and b"Cookie" not in moved.headers
    signed_source = FeedSource(kind="hotline-api", name="h", display_name="h", start_url="https://h.example/api",
                               auth=Auth("signed_query", "K", sign=sign))  # fmt: skip
    middleware = middleware_for(signed_source, {"K": "s3cret"})
    echoed = Request(
        "https://elsewhere.example/api?page=1&appKey=a&ts=1&sign=abc", meta={"yuqing_api_page": True}
    )
    stripped = middleware.process_request(echoed)
    assert isinstance(stripped, Request) and stripped.url == "https://elsewhere.example/api?page=1"
    assert middleware.process_request(stripped) is None


def test_the_scope_middleware_refuses_counts_and_logs(caplog):
    crawler = get_crawler()
    source = FeedSource(kind="hotline-api", name="h", display_name="h", start_url="https://h.example/api")
    crawler.spider = HotlineApiSpider(source)
    crawler.stats = MemoryStatsCollector(crawler)
    middleware = ScopeMiddleware.from_crawler(crawler)
    assert middleware.process_request(Request("https://h.example/api?page=2")) is None
    with caplog.at_level("WARNING", logger="crawlers.middlewares"), pytest.raises(OutOfScope):
        middleware.process_request(Request("file:///etc/passwd"))
    assert crawler.stats.get_value("yuqing/dropped/out of scope: not http(s)") == 1
    assert "event=out-of-scope reason=not http(s) url=file:///etc/passwd" in caplog.text


# -- end to end: a tiny server answering as two hosts (127.0.0.1 and localhost) -------------------------


@dataclass
class Seen:
    host: str
    path: str
    authorization: str | None
    api_key: str | None


class _Handler(BaseHTTPRequestHandler):
    server: _TwoHosts

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        port = self.server.server_address[1]
        self.server.seen.append(
            Seen(host, self.path, self.headers.get("Authorization"), self.headers.get("X-Api-Key"))
        )
        other = f"http://localhost:{port}"
        if self.path.startswith("/list.html"):
            rows = [
                "/detail/1.html",
                f"{other}/detail/2.html",
                "file:///etc/passwd",
                "ftp://127.0.0.1/detail/4.html",
                "/go/5.html",
            ]
            links = "".join(f'<li class="row"><a href="{link}">留言</a></li>' for link in rows)
            self._send(200, "text/html; charset=utf-8", f"<html><body><ul>{links}</ul></body></html>")
        elif self.path.startswith("/detail/"):
            number = self.path.split("/")[-1].split(".")[0]
            self._send(
                200,
                "text/html; charset=utf-8",
                f"<html><head><title>留言{number}</title></head><body><h1>留言标题{number}</h1>"
                f'<span class="time">2024-06-01 10:00:00</span>'
                f'<div class="text">内容{number}</div></body></html>',
            )
        elif self.path.startswith("/go/"):
            self._redirect(f"{other}/detail/5.html")
        elif self.path.startswith("/api/orders") and host == "127.0.0.1":
            # "We moved": to another host, echoing the query (signature included) as platforms do.
            self._redirect(f"{other}/api/moved?{self.path.split('?', 1)[1]}")
        elif self.path.startswith("/api/"):
            source = self.path.split("src=")[1].split("&")[0]
            record = {"orderNo": f"S-{source}", "acceptTime": "2024-06-01 09:00:00", "content": "咨询"}
            body = {"code": 0, "data": {"page": 1, "pages": 1, "records": [record]}}
            self._send(200, "application/json", json.dumps(body, ensure_ascii=False))
        else:
            self._send(404, "text/plain", "not found")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, content_type: str, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _TwoHosts(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []


@pytest.fixture(scope="module")
def two_hosts() -> Iterator[_TwoHosts]:
    server = _TwoHosts()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.slow
def test_off_host_and_file_links_and_redirects_are_not_fetched_and_secrets_do_not_follow(tmp_path, two_hosts):
    port = two_hosts.server_address[1]
    here = f"http://127.0.0.1:{port}"
    sign = {"timestamp_param": "ts", "app_key_param": "appKey", "app_key": "app1"}
    api = {"kind": "hotline-api", "polite": False}
    orders = f"{here}/api/orders?src="
    path = write(
        tmp_path,
        [
            board_entry(f"{here}/list.html"),
            {**api, "name": "api-bearer", "display_name": "令牌", "start_url": f"{orders}bearer",
             "token_secret": "SCOPE_TOKEN", "allowed_hosts": ["localhost"]},
            {**api, "name": "api-key", "display_name": "密钥头", "start_url": f"{orders}key",
             "auth": {"style": "header", "secret": "SCOPE_KEY", "header": "X-Api-Key"},
             "allowed_hosts": ["localhost"]},
            {**api, "name": "api-signed", "display_name": "签名", "start_url": f"{orders}signed",
             "auth": {"style": "signed_query", "secret": "SCOPE_SIGN", "sign": sign},
             "allowed_hosts": ["localhost"]},
            {**api, "name": "api-closed", "display_name": "不许跳转", "start_url": f"{orders}closed",
             "token_secret": "SCOPE_TOKEN"},
        ],
    )  # fmt: skip
    settings = Settings(home=tmp_path / "home")
    secrets = {"SCOPE_TOKEN": "tok-123", "SCOPE_KEY": "key-456", "SCOPE_SIGN": "sig-789"}
    stats = by_source(
        crawl_in_child(
            settings, sources=load_sources(path), feeds=load_feeds(path), secrets=secrets, polite=False
        )
    )
    seen = list(two_hosts.seen)

    # The board: its own detail page only; the other host, file:// and ftp:// links and the redirect to
    # another host are refused before anything is sent, each counted.
    posts = dict(read_topic(settings, settings.topic_raw))
    assert sorted(k for k in posts if k.startswith("board:")) == ["board:scope-board:1"]
    assert not [s for s in seen if s.host == "localhost" and s.path.startswith("/detail/")]
    assert not [p for p in posts.values() if "root:" in p["text"]]
    assert stats["scope-board"].dropped == {
        "out of scope: another host": 2,  # the link to localhost, the redirect to it
        "out of scope: not http(s)": 2,  # file:///etc/passwd, ftp://
    }
    assert [s.path for s in seen if s.path.startswith("/go/")] == ["/go/5.html"]

    # The APIs: the first request carries the credentials; after the redirect to another (allowed) host
    # none of them does, not even the signature the server echoed into the new URL.
    def at(host: str, src: str) -> list[Seen]:
        return [s for s in seen if s.host == host and f"src={src}" in s.path]

    [bearer_here] = at("127.0.0.1", "bearer")
    [bearer_there] = at("localhost", "bearer")
    assert bearer_here.authorization == "Bearer tok-123" and bearer_there.authorization is None
    [key_here] = at("127.0.0.1", "key")
    [key_there] = at("localhost", "key")
    assert key_here.api_key == "key-456" and key_there.api_key is None
    [signed_here] = at("127.0.0.1", "signed")
    [signed_there] = at("localhost", "signed")
    assert "sign=" in signed_here.path and "appKey=app1" in signed_here.path
    assert (
        "sign=" not in signed_there.path
        and "appKey" not in signed_there.path
        and "ts=" not in signed_there.path
    )
    for name in ("api-bearer", "api-key", "api-signed"):
        assert stats[name].published == 1, name
    # Without allowed_hosts the redirect to another host is refused: nothing is fetched there.
    assert at("localhost", "closed") == [] and len(at("127.0.0.1", "closed")) == 1
    assert stats["api-closed"].published == 0
    assert stats["api-closed"].dropped == {"out of scope: another host": 1}
