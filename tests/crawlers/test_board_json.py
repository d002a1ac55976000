"""JSON boards (``kind: board-json``): configuration, paths into records, the spider on saved answers,
and the demo site's 问政平台 crawled into posts.raw, re-crawled incrementally, with its bad records."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from scrapy import Request
from scrapy.http import JsonRequest, TextResponse

from core.china_time import CHINA_TZ
from core.messages import validate_raw
from crawlers.board_json import JsonBoardSource, parse_json_board, read_fields, resolve, value_text
from crawlers.catalog import load_all
from crawlers.errors import SourceConfigError
from crawlers.items import BoardItem, FailedPage
from crawlers.normalise import to_raw_post
from crawlers.spiders.board import POST_ID_META, SIGNATURE_META
from crawlers.spiders.board_json import JsonBoardSpider
from demo_site import WEB_SOURCES, serve, write_demo_sources
from demo_site.content import SiteReply
from demo_site.json_board import BAD_SLUG, json_board
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings

NOW = datetime(2024, 6, 3, 9, 30, tzinfo=CHINA_TZ)
ENTRY = {
    "kind": "board-json",
    "name": "wz",
    "display_name": "问政",
    "list": {
        "url": "http://s/api/letters",
        "method": "POST",
        "body": {"pageNo": "{page}", "pageSize": 5, "filter": "page-{page}"},
        "records": "data.list",
        "id": "letterId",
        "pages": "data.pages",
    },
    "detail": {"url": "http://s/api/letter?id={id}", "record": "data"},
    "fields": {
        "title": "title",
        "published_at": "createTime",
        "text": "content",
        "author": "userName",
        "status": "statusName",
        "reply_text": "replies.replyContent",
        "replied_at": "replies[0].replyTime",
        "reply_unit": "replies[0].orgName",
    },
}


def source(**changes: object) -> JsonBoardSource:
    return parse_json_board(Path("sources.yaml"), {**ENTRY, **changes}, 0)


def answer(url: str, data: object, request: Request | None = None) -> TextResponse:
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return TextResponse(url, body=body, encoding="utf-8", request=request or Request(url))


def test_a_json_board_is_configured_with_endpoints_and_dotted_paths():
    board = source()
    assert board.kind == "board-json" and board.list_endpoint.method == "POST" and board.paged
    assert board.path_of("reply_text") == "replies.replyContent"
    assert board.time_format[0] == "%Y-%m-%d %H:%M:%S"  # the common forms, without a time_format
    get = source(list={"url": "http://s/api/letters", "page_param": "page", "records": "rows", "id": "id"})
    assert get.list_endpoint.method == "GET" and get.page_param == "page" and get.detail_endpoint is not None


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"fields": {"title": "t", "text": "c"}}, "fields.published_at", "missing"),
        ({"list": {**ENTRY["list"], "method": "PUT"}}, "list.method", "GET or POST"),  # type: ignore[dict-item]
        ({"list": {**ENTRY["list"], "method": "GET"}}, "list.body", "POST only"),  # type: ignore[dict-item]
        ({"detail": {"url": "http://s/api/letter"}}, "detail.url", "{id}"),
        ({"list": {**ENTRY["list"], "records": "data..list"}}, "list.records", "a path such as"),  # type: ignore[dict-item]
        ({"selectors": {}}, "selectors", "unknown key"),
        ({"cookie_secret": "WZ_COOKIE", "list": {**ENTRY["list"], "url": "http://wz.example.cn/api"}},  # type: ignore[dict-item]
         "list.url", "https"),
        ({"page_url": "http://s/letter"}, "page_url", "{id}"),
    ],
)  # fmt: skip
def test_a_json_board_entry_that_cannot_work_is_refused_naming_the_field(changes, field, reason):
    with pytest.raises(SourceConfigError, match=reason) as caught:
        source(**changes)
    assert caught.value.field == field


def test_paths_read_through_lists_and_values_become_text():
    document = {
        "data": {"list": [{"id": 1}, {"id": 2}]},
        "replies": [{"text": "<p>第一段</p><p>第二段&amp;</p>", "at": 1717203600000}, {"text": "再答复"}],
    }
    assert resolve(document, "data.list.id") == [1, 2]
    assert resolve(document, "replies[1].text") == ["再答复"] == resolve(document, "replies.1.text")
    assert resolve(document, "replies[-1].text") == ["再答复"] and resolve(document, "replies[9].text") == []
    assert resolve(document, "$") == [document] and resolve(document, "missing.path") == []
    assert value_text(resolve(document, "replies.text")) == "第一段\n第二段&\n再答复"
    assert value_text(resolve(document, "replies.at"), time=True) == "2024-06-01 09:00:00"
    assert value_text([1717203600], time=True) == "2024-06-01 09:00:00"  # epoch seconds too
    assert value_text(resolve(document, "data")) is None  # an object is not text


def test_a_field_comes_from_the_detail_first_then_the_list_record_and_says_so():
    board = source()
    found = read_fields(board, {"title": "列表标题", "statusName": "已回复"}, {"title": "详情标题"})
    assert (found["title"].value, found["title"].where) == ("详情标题", "详情 title")
    assert (found["status"].value, found["status"].where) == ("已回复", "列表 statusName")
    assert found["text"].value is None and found["text"].where == "详情 content；列表 content"


def test_the_spider_posts_each_page_and_follows_until_the_last():
    spider = JsonBoardSpider(source())
    first = spider._list_request(1, 1)
    assert isinstance(first, JsonRequest) and first.method == "POST"
    assert json.loads(first.body) == {"filter": "page-1", "pageNo": 1, "pageSize": 5}
    page = {"data": {"pages": 2, "list": [{"letterId": "A1", "title": "t", "statusName": "办理中"}]}}
    out = list(spider.parse(answer("http://s/api/letters", page), page=1, count=1))
    detail, following = out
    assert isinstance(detail, Request) and detail.url == "http://s/api/letter?id=A1"
    assert detail.meta[POST_ID_META] == "board:wz:A1" and len(detail.meta[SIGNATURE_META]) == 32
    assert isinstance(following, JsonRequest) and json.loads(following.body)["pageNo"] == 2
    last = list(spider.parse(answer("http://s/api/letters", page), page=2, count=2))
    assert len(last) == 1  # page 2 of 2: no further page
    get = JsonBoardSpider(source(list={"url": "http://s/api?size=5&page=9", "page_param": "page",
                                       "records": "rows", "id": "id"}))  # fmt: skip
    assert get._list_request(3, 3).url == "http://s/api?size=5&page=3"


def test_a_reply_or_status_change_on_the_list_changes_the_signature_a_view_count_does_not():
    spider = JsonBoardSpider(source())

    def signature(record: dict[str, object]) -> str:
        page = {"data": {"pages": 1, "list": [record]}}
        [detail] = spider.parse(answer("http://s/api/letters", page), page=1, count=1)
        return str(detail.meta[SIGNATURE_META])  # type: ignore[union-attr]

    pending = {"letterId": "A1", "title": "路灯", "statusName": "办理中", "views": 10}
    assert signature({**pending, "views": 99}) == signature(pending)
    assert signature({**pending, "statusName": "已回复"}) != signature(pending)


def test_bad_records_are_failed_pages_with_reasons_and_the_page_goes_on():
    spider = JsonBoardSpider(dataclasses.replace(source(), detail_endpoint=None))
    records = [
        {"letterId": "A1", "title": "好", "createTime": "2024-06-01 09:00:00", "content": "<p>正文</p>"},
        "不是记录",
        {"title": "没有编号", "createTime": "2024-06-01 09:00:00", "content": "x"},
        {"letterId": "A4", "title": "坏时间", "createTime": "上周三", "content": "x"},
        {"letterId": "A5", "title": "没有正文", "createTime": "2024-06-01 09:00:00"},
    ]
    out = list(spider.parse(answer("http://s/api/letters", {"data": {"pages": 1, "list": records}}), 1, 1))
    [good] = [o for o in out if isinstance(o, BoardItem)]
    assert good.native_id == "A1" and good.text == "正文" and good.trace["title"] == "列表 title"  # type: ignore[index]
    assert [o.reason for o in out if isinstance(o, FailedPage)] == [
        "bad record: not an object (record 2)",
        "bad record: missing id at letterId (record 3)",
        "bad record: unparseable published_at",
        "bad record: missing text",
    ]
    [broken] = spider.parse(answer("http://s/api/letters", b'{"data": {'), 1, 1)
    assert isinstance(broken, FailedPage) and broken.reason.startswith("invalid JSON")
    [nowhere] = spider.parse(answer("http://s/api/letters", {"code": 500, "msg": "系统繁忙"}), 1, 1)
    assert isinstance(nowhere, FailedPage) and nowhere.reason == "no records at data.list"


def test_a_json_board_message_is_built_like_an_html_boards():
    board = source()
    spider = JsonBoardSpider(board)
    detail = {
        "data": {
            "title": "路灯不亮",
            "content": "<p>电话13800138000</p>",
            "createTime": 1717203600000,
            "userName": "张三",
            "statusName": "已回复",
            "replies": [{"orgName": "城管局", "replyContent": "已修复", "replyTime": "2024-06-02 10:00:00"}],
        }
    }
    [item] = spider.parse_detail(answer("http://s/api/letter?id=A1", detail), {"letterId": "A1"}, "A1", "sig")
    assert isinstance(item, BoardItem)
    post = validate_raw(to_raw_post(item, board, salt="s", fetched_at=NOW))
    assert post["id"] == "board:wz:A1" and post["source"] == "board" and post["text"] == "电话138****8000"
    assert post["published_at"] == "2024-06-01T09:00:00+08:00" and post["author"]["name"] == "张*"
    assert post["reply"] == {
        "status": "replied", "replied_at": "2024-06-02T10:00:00+08:00", "unit": "城管局", "text": "已修复"
    }  # fmt: skip
    assert post["raw"]["list_signature"] == "sig"
    [missing] = spider.parse_detail(answer("http://s/x", {"code": 404, "msg": "留言不存在"}), {}, "A9", "s")
    assert isinstance(missing, FailedPage) and missing.reason == "no record at data: 留言不存在"


def test_demo_sources_add_the_json_board_only_when_asked(tmp_path):
    plain = load_all(write_demo_sources(tmp_path / "a.yaml", "http://h:1"))
    assert [s.name for s in plain] == ["demo-liuyan"]
    path = write_demo_sources(tmp_path / "b.yaml", "http://h:1", json_board=True)
    [_, board] = load_all(path)
    assert isinstance(board, JsonBoardSource) and board.list_endpoint.url == "http://h:1/wenzheng/api/letters"
    assert board.page_url == "http://h:1/wenzheng/#/letter/{id}"
    assert (
        board.detail_endpoint is not None
        and board.detail_endpoint.url == "http://h:1/wenzheng/api/letter?id={id}"
    )


def test_the_demo_json_board_counts_back_from_its_anchor():
    board, areas = json_board(NOW.replace(tzinfo=None))
    assert len(board.messages) == 7 and sum(m.reply is not None for m in board.messages) == 3
    assert all(m.posted_at < NOW.replace(tzinfo=None) for m in board.messages) and areas["WZ2024060101"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("board-json")
    settings = Settings(home=root / "home")
    with serve(now=datetime.now(CHINA_TZ)) as site:
        path = write_demo_sources(root / "sources.yaml", site.url, json_board=True)
        [_, board] = load_all(path)
        assert isinstance(board, JsonBoardSource)
        bad = dataclasses.replace(
            board,
            name="bad-wz",
            list_endpoint=dataclasses.replace(board.list_endpoint, url=f"{site.url}/{BAD_SLUG}/api/letters"),
            detail_endpoint=dataclasses.replace(
                board.detail_endpoint,  # type: ignore[arg-type]
                url=f"{site.url}/{BAD_SLUG}/api/letter?id={{id}}",
            ),
        )
        private = dataclasses.replace(
            board,
            name="private-wz",
            list_endpoint=dataclasses.replace(board.list_endpoint, url=f"{site.url}/private/api/letters"),
        )
        first = crawl_in_child(settings, sources=[board, bad, private])
        hits = dict(site.hits)
        second = crawl_in_child(settings, sources=[board])
        site.site.answer(
            "wenzheng",
            "WZ2024060106",
            SiteReply("云溪市发展和改革委员会", site.site.anchor, "充电桩下月开工。"),
        )
        before = dict(site.hits)
        third = crawl_in_child(settings, sources=[board])
        details = sorted(t for t, n in site.hits.items() if "/api/letter?" in t and n > before.get(t, 0))
        yield settings, by_source(first), by_source(second), by_source(third), hits, details


@pytest.mark.slow
def test_the_demo_json_board_reaches_posts_raw_with_its_replies(crawled):
    settings, first, _, _, hits, _ = crawled
    assert first["demo-wenzheng"].published == 7 and first["demo-wenzheng"].kind == "board-json"
    assert hits["POST /wenzheng/api/letters"] == 2  # two pages of five, POSTed
    posts = {
        key: post for key, post in read_topic(settings, settings.topic_raw) if "demo-wenzheng" in str(key)
    }
    assert len(posts) == 7
    for post in posts.values():
        assert validate_raw(dict(post)) == post and post["source"] == "board" and post["region"] == "云溪市"
    answered = posts["board:demo-wenzheng:WZ2024060101"]
    assert answered["reply"]["status"] == "replied" and answered["reply"]["unit"] == "云溪市城市管理局"
    assert answered["text"].count("\n") == 1  # two paragraphs of HTML
    assert answered["url"].endswith("/wenzheng/#/letter/WZ2024060101")
    assert "13800138000" not in json.dumps(posts, ensure_ascii=False)


@pytest.mark.slow
def test_a_re_crawl_fetches_only_the_letter_whose_reply_arrived(crawled):
    settings, _, second, third, _, details = crawled
    assert second["demo-wenzheng"].published == 0 and second["demo-wenzheng"].skipped_unchanged == 7
    assert third["demo-wenzheng"].published == 1 and third["demo-wenzheng"].skipped_unchanged == 6
    assert details == ["/wenzheng/api/letter?id=WZ2024060106"]
    versions = [
        p for k, p in read_topic(settings, settings.topic_raw) if k == "board:demo-wenzheng:WZ2024060106"
    ]
    assert [v["reply"]["status"] for v in versions] == ["pending", "replied"]
    assert versions[-1]["reply"]["text"] == "充电桩下月开工。"


@pytest.mark.slow
def test_bad_records_are_dead_lettered_and_the_good_one_arrives(crawled):
    settings, first, _, _, _, _ = crawled
    assert first["bad-wz"].published == 1
    assert first["bad-wz"].dropped == {
        "dead-lettered: bad record": 4,
        "dead-lettered: invalid JSON": 1,
    }
    letters = [
        letter for _, letter in read_topic(settings, settings.topic_dlq) if letter["topic"] == "crawl:bad-wz"
    ]
    assert sorted(
        letter["error"].split(":")[0] if "JSON" in letter["error"] else letter["error"] for letter in letters
    ) == [
        "bad record: missing id at letterId (record 3)",
        "bad record: missing text",
        "bad record: not an object (record 2)",
        "bad record: unparseable published_at",
        "invalid JSON",
    ]
    assert first["private-wz"].dropped == {"dead-lettered: ignored: Forbidden by robots.txt": 1}


def test_the_demo_json_board_entry_uses_post_paging_and_a_detail_endpoint():
    entries = yaml.safe_load(WEB_SOURCES.read_text(encoding="utf-8"))
    [entry] = [e for e in entries if e["kind"] == "board-json"]
    assert set(entry["list"]) == {"url", "method", "body", "records", "id", "pages"}
    assert entry["list"]["body"]["pageNo"] == "{page}" and "{id}" in entry["detail"]["url"]
