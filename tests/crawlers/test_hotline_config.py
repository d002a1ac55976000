"""Hotline APIs by configuration (issue 22): paths to records and fields, four paging styles, three
authentication styles, POST bodies, per-record dead letters and hostile JSON; then the demo site's second
API (other keys, cursor paging, signed query) crawled to posts.raw from configuration alone."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from scrapy import Request
from scrapy.http import TextResponse

from core.china_time import CHINA_TZ
from crawlers.errors import SourceConfigError
from crawlers.feeds import FeedSource, load_feeds
from crawlers.hotline_api import (
    DEFAULT_API,
    MAX_JSON_DEPTH,
    Signing,
    compile_path,
    default_api,
    parse_api,
    sign_url,
    strip_signature,
)
from crawlers.items import FailedPage, HotlineItem
from crawlers.spiders.hotline import API_PAGE_META, HotlineApiSpider
from demo_site import serve
from demo_site.signed_api import SIGNED_API_APP_KEY, SIGNED_API_PATH, SIGNED_API_SECRET
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "crawlers.md"
REQUIRED = {"工单编号": "id", "受理时间": "time", "诉求内容": "text"}


def load_one(tmp_path: Path, entry: dict[str, object]) -> FeedSource:
    path = tmp_path / "sources.yaml"
    base = {
        "kind": "hotline-api",
        "name": "api",
        "display_name": "接口",
        "start_url": "https://h.example/api",
    }
    path.write_text(yaml.safe_dump([{**base, **entry}], allow_unicode=True), encoding="utf-8")
    [source] = load_feeds(path)
    return source


def answer(url: str, data: object) -> TextResponse:
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return TextResponse(url, body=body, encoding="utf-8", request=Request(url))


def first_request(spider: HotlineApiSpider) -> Request:
    return asyncio.run(anext(aiter(spider.start())))


def query_of(request: Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


# -- configuration ---------------------------------------------------------------------------------------


def test_our_own_platform_is_one_configuration_of_the_same_kind():
    api = default_api(50)
    assert api == parse_api(DEFAULT_API, lambda f, r: SourceConfigError("x", r), page_size=50)
    assert api.records.text == "data.records" and api.paging.style == "page"
    assert dict(api.fields)["诉求内容"][0].text == "content" and api.since_param == "updated_since"
    assert default_api(100).paging.size == 100


def test_every_example_in_the_docs_loads(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    examples = [block for block in blocks if "kind: hotline-api" in block and "paging:" in block]
    assert len(examples) >= 4
    styles = set()
    for block in examples:
        path = tmp_path / "sources.yaml"
        path.write_text(block, encoding="utf-8")
        for source in load_feeds(path):
            assert source.api is not None
            styles.add(source.api.paging.style)
            styles.add(source.credentials.style if source.credentials else "none")
    assert {"page", "offset", "cursor", "next_url", "bearer", "header", "signed_query"} <= styles


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"paging": {"style": "pages"}}, "paging.style"),
        ({"paging": {"style": "cursor"}}, "paging.cursor_path"),
        ({"paging": {"style": "next_url"}}, "paging.next_path"),
        ({"paging": {"style": "cursor", "cursor_path": "next", "pages_path": "pages"}}, "paging.pages_path"),
        ({"paging": {"style": "page", "size": 0}}, "paging.size"),
        ({"fields": {**REQUIRED, "工单号": "no"}}, "fields.工单号"),
        ({"fields": {"工单编号": "id", "受理时间": "time"}}, "fields.诉求内容"),
        ({"fields": {**REQUIRED, "诉求标题": "a..b"}}, "fields.诉求标题"),
        ({"records": "data[x]"}, "records"),
        ({"records": ".".join(["a"] * 40)}, "records"),
        ({"body": '{"page": {page}}'}, "body"),
        ({"method": "POST"}, "body"),
        ({"method": "PUT"}, "method"),
        ({"method": "POST", "body": '{"pageNo": {pageNo}}'}, "body"),
        ({"method": "POST", "body": '{"cursor": {cursor}}'}, "body"),
        ({"ok": {"path": "code"}}, "ok"),
        ({"since_format": "yyyy-MM-dd"}, "since_format"),
        ({"auth": {"style": "basic", "secret": "K"}}, "auth.style"),
        ({"auth": {"style": "header", "secret": "K"}}, "auth.header"),
        ({"auth": {"style": "bearer", "secret": "lower"}}, "auth.secret"),
        ({"auth": {"style": "bearer", "secret": "K", "header": "X"}}, "auth.header"),
        ({"auth": {"style": "signed_query", "secret": "K"}}, "auth.sign"),
        (
            {"auth": {"style": "signed_query", "secret": "K", "sign": {"algorithm": "sha512"}}},
            "auth.sign.algorithm",
        ),
        ({"auth": {"style": "signed_query", "secret": "K", "sign": {"app_key": "a"}}}, "auth.sign.app_key"),
        ({"auth": {"style": "bearer", "secret": "K"}, "token_secret": "T"}, "auth"),
        ({"page_size": 20, "paging": {"style": "page", "size": 30}}, "page_size"),
    ],
)
def test_a_wrong_api_configuration_is_refused_naming_its_key(tmp_path, entry, field):
    with pytest.raises(SourceConfigError) as caught:
        load_one(tmp_path, entry)
    assert caught.value.field == field and caught.value.board == "api"
    assert re.search(r"[\u4e00-\u9fff]", caught.value.reason) and " / " in caught.value.reason


def test_json_paths_take_dotted_keys_and_list_indexes():
    record = {"content": {"text": "正文"}, "contacts": [{"phone": "1"}, {"phone": "2"}], "items": ["a", "b"]}
    assert compile_path("content.text").find(record) == "正文"
    assert compile_path("contacts[1].phone").find(record) == "2"
    assert compile_path("contacts[-1].phone").find(record) == "2"
    assert compile_path("items.0").find(record) == "a"
    assert compile_path("$").find(record) is record and compile_path("$.items[1]").find(record) == "b"
    assert compile_path("contacts[5].phone").find(record) is None
    assert compile_path("content.text.more").find(record) is None
    with pytest.raises(ValueError, match="not a path"):
        compile_path("a.[0]")


# -- the spider with a configuration ----------------------------------------------------------------------


def other_platform(tmp_path: Path, **extra: object) -> HotlineApiSpider:
    entry: dict[str, object] = {
        "records": "result.rows",
        "ok": {"path": "errcode", "equals": "0", "message": "errmsg"},
        "fields": {
            "工单编号": "ticket.no", "受理时间": ["acceptedAt", "created"], "诉求内容": "content.text",
            "来电号码": "contacts[0].phone", "诉求类型": "kind",
        },
        "paging": {"style": "page", "param": "pageNo", "size_param": "pageSize", "size": 2,
                   "total_path": "result.total"},
        "since_param": "beginTime",
        "since_format": "%Y-%m-%d %H:%M:%S",
    }  # fmt: skip
    entry.update(extra)
    return HotlineApiSpider(load_one(tmp_path, entry), since="2024-06-01T08:00:00+08:00")


def test_records_and_fields_come_from_their_configured_paths(tmp_path):
    spider = other_platform(tmp_path)
    first = first_request(spider)
    assert query_of(first) == {"pageNo": ["1"], "pageSize": ["2"], "beginTime": ["2024-06-01 08:00:00"]}
    assert first.meta[API_PAGE_META] is True
    rows = [
        {"ticket": {"no": "T1"}, "created": 1717200000, "content": {"text": "路灯坏了"},
         "contacts": [{"phone": "13800138000"}], "kind": "投诉", "vendorFlag": {"x": 1}},
        {"ticket": {"no": "T2"}, "acceptedAt": "2024-06-01 09:00:00", "created": 0,
         "content": {"text": "噪音"}},
    ]  # fmt: skip
    out = list(
        spider.parse(
            answer("https://h.example/api?pageNo=1", {"errcode": 0, "result": {"rows": rows, "total": 3}})
        )
    )
    first_item, second_item, follow = out
    assert isinstance(first_item, HotlineItem) and isinstance(second_item, HotlineItem)
    assert first_item.fields == {"工单编号": "T1", "受理时间": "2024-06-01 08:00:00", "诉求内容": "路灯坏了",
                                 "来电号码": "13800138000", "诉求类型": "投诉"}  # fmt: skip
    assert first_item.extra == {"vendorFlag": '{"x":1}'}  # keys no field claims are kept
    assert second_item.fields["受理时间"] == "2024-06-01 09:00:00"  # the first path holding a value
    assert isinstance(follow, Request) and query_of(follow)["pageNo"] == ["2"]
    last = list(
        spider.parse(
            answer(
                "https://h.example/api?pageNo=2", {"errcode": 0, "result": {"rows": rows[:1], "total": 3}}
            ),
            page=2,
        )
    )
    assert not [o for o in last if isinstance(o, Request)]  # 2 pages of 2 cover a total of 3
    [error] = spider.parse(answer("https://h.example/x", {"errcode": 40001, "errmsg": "令牌过期"}))
    assert isinstance(error, FailedPage) and error.reason == "api error 40001: 令牌过期"
    [shape] = spider.parse(answer("https://h.example/x", {"errcode": 0, "result": {}}))
    assert (
        isinstance(shape, FailedPage) and shape.reason == "unexpected JSON: no list of records at result.rows"
    )


def test_a_record_without_a_required_field_is_its_own_dead_letter_and_the_page_goes_on(tmp_path):
    spider = other_platform(tmp_path)
    rows = [
        {"ticket": {"no": "T1"}, "created": 1717200000, "content": {"text": "好的"}},
        {"ticket": {"no": "T2"}, "created": 1717200000, "contacts": [{"phone": "13800138000"}]},
        {"ticket": {}, "created": 1717200000, "content": {"text": "没有编号"}},
        "not an object",
        {"ticket": {"no": "T5"}, "acceptedAt": "上周", "content": {"text": "时间不对"}},
        {"ticket": {"no": "T6"}, "created": 1717200000123, "content": {"text": "毫秒时间"}},
    ]
    out = list(spider.parse(answer("https://h.example/api?pageNo=1", {"result": {"rows": rows, "total": 6}})))
    items = [o for o in out if isinstance(o, HotlineItem)]
    letters = [o for o in out if isinstance(o, FailedPage)]
    assert [i.fields["工单编号"] for i in items] == ["T1", "T6"]
    assert items[1].fields["受理时间"] == "2024-06-01 08:00:00"
    assert [(f.url.rsplit("#", 1)[1], f.reason) for f in letters] == [
        ("record=2", "bad record: missing 诉求内容 (record 2)"),
        ("record=3", "bad record: missing 工单编号 (record 3)"),
        ("record=4", "record is not an object"),
        ("record=5", "bad record: unparseable 受理时间 (record 5)"),
    ]
    assert "138****8000" in letters[0].excerpt and "13800138000" not in letters[0].excerpt


def test_deep_or_huge_json_is_a_clear_dead_letter_not_a_recursion_error(tmp_path):
    spider = other_platform(tmp_path)
    bomb = b"[" * 200_000 + b"]" * 200_000
    [deep] = spider.parse(answer("https://h.example/a", bomb))
    assert (
        isinstance(deep, FailedPage)
        and deep.reason == f"JSON nested too deeply: more than {MAX_JSON_DEPTH} levels"
    )
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH + 5):
        nested = {"a": nested}
    [legal_but_deep] = spider.parse(answer("https://h.example/b", {"result": {"rows": [nested], "total": 1}}))
    assert isinstance(legal_but_deep, FailedPage) and legal_but_deep.reason.startswith(
        "JSON nested too deeply"
    )
    huge = b'{"result": {"rows": [], "pad": "' + b"x" * (9 * 1024 * 1024) + b'"}}'
    [big] = spider.parse(answer("https://h.example/c", huge))
    assert isinstance(big, FailedPage) and big.reason == "JSON too large: 9.0 MB, over the limit of 8 MB"
    gbk = json.dumps({"result": {"rows": [{"ticket": {"no": "G1"}, "created": 1717200000,
                                           "content": {"text": "国标编码"}}], "total": 1}},
                     ensure_ascii=False).encode("gbk")  # fmt: skip
    [item] = spider.parse(answer("https://h.example/d", gbk))
    assert isinstance(item, HotlineItem) and item.fields["诉求内容"] == "国标编码"


def test_offset_paging_counts_records_and_stops_at_a_short_page(tmp_path):
    spider = other_platform(
        tmp_path, paging={"style": "offset", "param": "skip", "size_param": "take", "size": 2}
    )
    first = first_request(spider)
    assert query_of(first)["skip"] == ["0"] and query_of(first)["take"] == ["2"]
    rows = [{"ticket": {"no": f"T{n}"}, "created": 1717200000, "content": {"text": "x"}} for n in range(3)]
    [*_, follow] = spider.parse(
        answer("https://h.example/a", {"result": {"rows": rows[:2]}}), page=1, offset=0
    )
    assert (
        isinstance(follow, Request) and query_of(follow)["skip"] == ["2"] and follow.cb_kwargs["offset"] == 2
    )
    last = list(spider.parse(answer("https://h.example/a", {"result": {"rows": rows[2:]}}), page=2, offset=2))
    assert not [o for o in last if isinstance(o, Request)]


def test_cursor_paging_follows_the_cursor_until_it_ends_or_repeats(tmp_path):
    spider = other_platform(
        tmp_path,
        paging={
            "style": "cursor",
            "param": "after",
            "cursor_path": "result.next",
            "more_path": "result.hasMore",
        },
    )
    assert "after" not in query_of(spider.page_request(1, offset=0, cursor=None))
    row = {"ticket": {"no": "T1"}, "created": 1717200000, "content": {"text": "x"}}
    page = {"result": {"rows": [row], "next": "c2", "hasMore": True}}
    [_, follow] = spider.parse(answer("https://h.example/a", page))
    assert isinstance(follow, Request) and query_of(follow)["after"] == ["c2"]
    assert follow.cb_kwargs["cursor"] == "c2"
    for ended in ({**page["result"], "hasMore": False}, {**page["result"], "next": None}):
        assert len(list(spider.parse(answer("https://h.example/a", {"result": ended})))) == 1
    assert len(list(spider.parse(answer("https://h.example/a", page), page=2, cursor="c2"))) == 1  # repeats


def test_next_url_paging_follows_the_link_the_answer_gives(tmp_path):
    spider = other_platform(tmp_path, paging={"style": "next_url", "next_path": "links.next"}, max_pages=2)
    row = {"ticket": {"no": "T1"}, "created": 1717200000, "content": {"text": "x"}}
    page = {"result": {"rows": [row]}, "links": {"next": "/api?page=2&token=abc"}}
    [_, follow] = spider.parse(answer("https://h.example/api?page=1", page))
    assert isinstance(follow, Request) and follow.url == "https://h.example/api?page=2&token=abc"
    assert len(list(spider.parse(answer(follow.url, page), page=2))) == 1  # max_pages: 2
    assert (
        len(list(spider.parse(answer("https://h.example/a", {"result": {"rows": [row]}, "links": {}})))) == 1
    )


def test_a_post_api_gets_its_body_template_filled_and_escaped(tmp_path):
    spider = other_platform(
        tmp_path,
        method="POST",
        body='{"pageNo": {page}, "pageSize": {size}, "startTime": "{since}", "after": "{cursor}"}',
        paging={"style": "cursor", "size": 20, "cursor_path": "result.next"},
    )
    first = spider.page_request(1, offset=0, cursor=None)
    assert first.method == "POST" and first.url == "https://h.example/api"
    assert first.headers[b"Content-Type"] == b"application/json; charset=utf-8"
    assert json.loads(first.body) == {
        "pageNo": 1,
        "pageSize": 20,
        "startTime": "2024-06-01 08:00:00",
        "after": "",
    }
    tricky = spider.page_request(2, offset=20, cursor='a"b\\c')
    assert json.loads(tricky.body)["after"] == 'a"b\\c' and json.loads(tricky.body)["pageNo"] == 2
    form = other_platform(tmp_path, method="POST", body_type="form", body="pageNo={page}&since={since}")
    assert form.page_request(1, offset=0, cursor=None).body == b"pageNo=1&since=2024-06-01%2008%3A00%3A00"


def test_a_signed_query_is_computed_as_documented():
    sign = Signing(algorithm="hmac-sha256", timestamp_param="ts", nonce_param="nonce",
                   app_key_param="appKey", app_key="app1")  # fmt: skip
    url = sign_url("https://h.example/api?pageNo=2&q=热线", sign, "s3cret", now=1717200000.5, nonce="n1")
    query = parse_qs(urlsplit(url).query)
    canonical = "appKey=app1&nonce=n1&pageNo=2&q=热线&ts=1717200000"
    assert query["sign"] == [hmac.new(b"s3cret", canonical.encode(), hashlib.sha256).hexdigest()]
    again = sign_url(url, sign, "s3cret", now=1717200100, nonce="n2")  # old signature parameters replaced
    assert parse_qs(urlsplit(again).query)["ts"] == ["1717200100"] and again.count("sign=") == 1
    assert strip_signature(again, sign) == "https://h.example/api?pageNo=2&q=%E7%83%AD%E7%BA%BF"
    md5 = Signing(algorithm="md5", params=("pageNo", "timestamp"), case="upper")
    signed = parse_qs(urlsplit(sign_url("https://h/api?pageNo=1&x=9", md5, "k", now=100.0)).query)
    expected = hashlib.md5(b"pageNo=1&timestamp=100&key=k", usedforsecurity=False).hexdigest().upper()
    assert signed["sign"] == [expected]


def test_the_secrets_middleware_signs_api_pages_and_each_retry_anew():
    from scrapy.utils.test import get_crawler

    from crawlers.hotline_api import parse_auth
    from crawlers.middlewares import SecretsMiddleware

    def fail(field: str, reason: str) -> SourceConfigError:
        return SourceConfigError("x", reason, field=field)

    sign = {"timestamp_param": "ts", "app_key_param": "appKey", "app_key": "a"}
    auth = parse_auth({"style": "signed_query", "secret": "SIGN", "sign": sign}, fail)
    source = FeedSource(
        kind="hotline-api", name="h", display_name="h", start_url="https://h.example/api", auth=auth,
        cookie_secret="C",
    )  # fmt: skip
    crawler = get_crawler(settings_dict={"YUQING_SECRETS": {"SIGN": "k", "C": "sid=1"}})
    crawler.spider = HotlineApiSpider(source)
    middleware = SecretsMiddleware.from_crawler(crawler)
    plain = Request("https://h.example/robots.txt")
    assert middleware.process_request(plain) is None and "sign=" not in plain.url  # not an API page
    page = Request("https://h.example/api?page=1", meta={API_PAGE_META: True})
    signed = middleware.process_request(page)
    assert isinstance(signed, Request) and "sign=" in signed.url and "appKey=a" in signed.url
    assert middleware.process_request(signed) is None  # comes back once, already signed
    assert signed.headers[b"Cookie"] == b"sid=1"
    retry = signed.replace(meta={**signed.meta, "retry_times": 1})
    resigned = middleware.process_request(retry)
    assert isinstance(resigned, Request) and resigned.url.count("sign=") == 1


def test_a_header_key_goes_in_its_header():
    from scrapy.utils.test import get_crawler

    from crawlers.hotline_api import Auth
    from crawlers.middlewares import SecretsMiddleware

    auth = Auth("header", "KEY", header="X-Api-Key", prefix="Key ")
    source = FeedSource(
        kind="hotline-api", name="h", display_name="h", start_url="https://h.example/api", auth=auth
    )
    crawler = get_crawler(settings_dict={"YUQING_SECRETS": {"KEY": "abc"}})
    crawler.spider = HotlineApiSpider(source)
    request = Request("https://h.example/api")
    SecretsMiddleware.from_crawler(crawler).process_request(request)
    assert request.headers[b"X-Api-Key"] == b"Key abc" and b"Authorization" not in request.headers


def test_the_demo_signed_api_refuses_a_stale_or_tampered_request():
    from demo_site.feeds import demo_feeds
    from demo_site.signed_api import signed_tickets

    feeds = demo_feeds(datetime(2024, 6, 3, 9, 30))
    sign = Signing(
        timestamp_param="ts", nonce_param="nonce", app_key_param="appKey", app_key=SIGNED_API_APP_KEY
    )
    good = urlsplit(sign_url("http://x/?limit=5", sign, SIGNED_API_SECRET, now=1000.0)).query

    def reply(query: str, now: float) -> dict[str, object]:
        data: dict[str, object] = json.loads(signed_tickets(feeds, query, now=now).body)
        return data

    first = reply(good, 1000.0)
    assert first["success"] is True and len(first["result"]["items"]) == 5  # type: ignore[index]
    assert reply(good, 1000.0 + 301)["error"] == {"code": 401, "message": "时间戳无效或已过期"}
    assert reply(good.replace("limit=5", "limit=6"), 1000.0)["error"] == {"code": 401, "message": "签名错误"}


# -- the demo site's second API, end to end ----------------------------------------------------------------

V2_SOURCES = """
- kind: hotline-api
  name: demo-v2
  display_name: 另一平台12345接口（演示）
  start_url: {url}{path}
  polite: false
  records: result.items
  ok: {{path: success, equals: true, message: error.message}}
  fields:
    工单编号: ticket.id
    受理时间: created
    诉求类型: category.name
    诉求标题: subject
    诉求内容: body.text
    所属区域: location.district
    承办单位: assignee.unit
    办理状态: progress[0].state
    办结时间: finishedAt
    回访满意度: feedback.rating
    来电人: contacts[0].name
    来电号码: contacts[0].mobile
    答复内容: progress[0].reply
    更新时间: modified
  paging: {{style: cursor, param: cursor, size_param: limit, size: 5, cursor_path: result.nextCursor}}
  since_param: since
  since_format: "%Y-%m-%d %H:%M:%S"
  auth:
    style: signed_query
    secret: DEMO_V2_SIGN
    sign: {{algorithm: hmac-sha256, timestamp_param: ts, nonce_param: nonce, app_key_param: appKey,
           app_key: {app_key}}}
- kind: hotline-api
  name: demo-v2-wrong-key
  display_name: 签名密钥错误（演示）
  start_url: {url}{path}
  polite: false
  records: result.items
  ok: {{path: success, equals: true, message: error.message}}
  fields: {{工单编号: ticket.id, 受理时间: created, 诉求内容: body.text}}
  paging: {{style: cursor, cursor_path: result.nextCursor}}
  auth:
    style: signed_query
    secret: WRONG_SIGN
    sign: {{timestamp_param: ts, nonce_param: nonce, app_key_param: appKey, app_key: {app_key}}}
"""


@pytest.mark.slow
def test_the_second_demo_api_is_crawled_to_posts_raw_by_configuration_only(tmp_path):
    settings = Settings(home=tmp_path / "home")
    with serve(now=datetime(2024, 6, 3, 9, 30, tzinfo=CHINA_TZ)) as site:
        path = tmp_path / "sources.yaml"
        text = V2_SOURCES.format(url=site.url, path=SIGNED_API_PATH, app_key=SIGNED_API_APP_KEY)
        path.write_text(text, encoding="utf-8")
        feeds = load_feeds(path)
        secrets = {"DEMO_V2_SIGN": SIGNED_API_SECRET, "WRONG_SIGN": "not-the-key"}
        stats = by_source(crawl_in_child(settings, sources=[], feeds=feeds, secrets=secrets, polite=False))
        hits = dict(site.hits)
    assert stats["demo-v2"].published == 12 and stats["demo-v2"].finish_reason == "finished"
    assert stats["demo-v2"].pages == 3  # 5 + 5 + 2 records, by cursor
    assert stats["demo-v2-wrong-key"].published == 0
    assert stats["demo-v2-wrong-key"].dropped == {"dead-lettered: api error false": 1}
    api_hits = [target for target in hits if target.startswith(SIGNED_API_PATH)]
    assert api_hits and all("sign=" in t and "appKey=" in t and "ts=" in t for t in api_hits)
    posts = {key: post for key, post in read_topic(settings, settings.topic_raw)}
    order = posts["hotline:demo-v2:YX2024060001"]
    assert order["published_at"] == "2024-05-31T09:50:00+08:00"  # epoch seconds read as China time
    assert order["title"] == "东湖小区夜间施工噪音扰民" and order["region"] == "东湖区"
    assert order["hotline"]["caller"] == "138****8000" and "13800138000" not in order["text"]
    assert order["reply"]["status"] == "replied" and order["reply"]["unit"] == "云溪市住房和城乡建设局"
    assert order["hotline"]["appeal_type"] == "投诉"
    letters = [letter for _, letter in read_topic(settings, settings.topic_dlq)]
    assert [letter["error"] for letter in letters] == ["api error false: 签名错误"]
