"""Hotline and Weibo-like sources without a network: configuration, spider callbacks on saved answers
of the demo APIs and export files, normalisation, the middlewares' decisions and the scheduler."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse

from core.china_time import CHINA_TZ
from crawlers.alerts import pause_source, paused_until, read_alerts
from crawlers.errors import ItemRejected, SourceConfigError
from crawlers.feeds import FeedSource, load_feeds
from crawlers.items import FailedPage, HotlineItem, WeiboItem
from crawlers.middlewares import CharsetRepairMiddleware
from crawlers.normalise_feeds import hotline_post, html_to_text, parse_weibo_time, weibo_count, weibo_post
from crawlers.schedule import crawl_forever
from crawlers.settings import secrets_from
from crawlers.spiders.hotline import HotlineApiSpider, HotlineInboxSpider
from crawlers.spiders.weibo import WeiboSpider
from demo_site.exports import write_exports
from demo_site.feeds import demo_feeds
from yuqing.settings import Settings

NOW = datetime(2024, 6, 3, 9, 30, tzinfo=CHINA_TZ)
API = FeedSource(kind="hotline-api", name="h", display_name="热线", start_url="http://s/hotline/api/orders")
WEIBO = FeedSource(kind="weibo", name="w", display_name="微博", api_url="http://s/api/container/getIndex")


def json_response(url: str, data: object) -> TextResponse:
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return TextResponse(url, body=body, encoding="utf-8", request=Request(url))


def test_feed_sources_are_configured_by_kind_and_checked(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "- {kind: hotline-inbox, name: files, display_name: 导出, inbox: in, every: 300}\n"
        "- {kind: weibo, name: wb, display_name: 微博, api_url: 'https://x/api', keywords: [云溪], "
        "cookie_secret: WEIBO_COOKIE}\n",
        encoding="utf-8",
    )
    inbox, weibo = load_feeds(path)
    assert inbox.inbox == tmp_path / "in" and inbox.every == 300
    assert weibo.keywords == ("云溪",) and weibo.cookie_secret == "WEIBO_COOKIE"
    path.write_text("- {kind: weibo, name: wb, display_name: 微博, api_url: 'ftp://x'}\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="api_url"):
        load_feeds(path)
    path.write_text("- {kind: hotline-api, name: h, display_name: h, start_url: 'http://x', token: abc}\n")
    with pytest.raises(SourceConfigError, match="unknown key"):
        load_feeds(path)


def test_secrets_come_only_from_yuqing_secret_variables():
    assert secrets_from({"YUQING_SECRET_HOTLINE_TOKEN": "t", "HOME": "/root"}) == {"HOTLINE_TOKEN": "t"}


def test_the_hotline_api_spider_maps_records_and_follows_pages():
    feeds = demo_feeds(NOW.replace(tzinfo=None))
    spider = HotlineApiSpider(API, since="2024-06-01T00:00:00+08:00")
    page = feeds.hotline_page(1, 5, None)
    out = list(spider.parse(json_response("http://s/hotline/api/orders?page=1", page), page=1))
    items = [o for o in out if isinstance(o, HotlineItem)]
    [follow] = [o for o in out if isinstance(o, Request)]
    assert len(items) == 5 and "page=2" in follow.url and "updated_since=2024-06-01" in follow.url
    assert items[0].fields["工单编号"] == page["data"]["records"][0]["orderNo"]
    assert set(items[0].fields) <= {"工单编号", "受理时间", "诉求类型", "诉求标题", "诉求内容", "所属区域",
                                    "承办单位", "办理状态", "办结时间", "回访满意度", "来电人", "来电号码",
                                    "答复内容", "更新时间"}  # fmt: skip
    [failed] = spider.parse(json_response("http://s/p2", b'{"code": 0, "data": {'), page=2)
    assert isinstance(failed, FailedPage) and failed.reason.startswith("invalid JSON")
    [error] = spider.parse(json_response("http://s/p3", {"code": 401, "msg": "令牌无效"}), page=3)
    assert isinstance(error, FailedPage) and error.reason == "api error 401: 令牌无效"


def test_a_work_order_is_masked_hashed_and_typed():
    item = HotlineItem(
        "h",
        "http://s/api",
        {"工单编号": "A1", "受理时间": "2024/06/01 08:00", "诉求类型": "其它事项",
         "诉求内容": "电话13800138000", "来电号码": "138-0013-8000", "办理状态": "已办结",
         "办结时间": "2024-06-02 10:00:00", "承办单位": "某局"},
    )  # fmt: skip
    post = hotline_post(item, API, salt="s", fetched_at=NOW)
    assert post["text"] == "电话138****8000" and post["hotline"]["caller"] == "138****8000"
    assert post["hotline"]["appeal_type"] == "其他" and post["raw"]["appeal_type_text"] == "其它事项"
    assert post["reply"] == {
        "status": "replied",
        "replied_at": "2024-06-02T10:00:00+08:00",
        "unit": "某局",
        "text": None,
    }
    other_salt = hotline_post(item, API, salt="t", fetched_at=NOW)
    assert post["author"]["id_hash"] != other_salt["author"]["id_hash"]
    with pytest.raises(ItemRejected, match="missing 受理时间"):
        hotline_post(
            HotlineItem("h", "x", {"工单编号": "A2", "诉求内容": "有"}), API, salt="", fetched_at=NOW
        )


def test_a_work_order_links_to_its_own_page_or_to_nothing(tmp_path):
    import dataclasses

    fields = {"工单编号": "YX 2024/01", "受理时间": "2024-06-01", "诉求内容": "路灯不亮"}
    item = HotlineItem("h", "http://s/hotline/api/orders", fields)
    # Read from the API: the API's address is where it was found, not the order's page.
    plain = hotline_post(item, API, salt="s", fetched_at=NOW)
    assert plain["url"] == "" and plain["raw"]["origin"] == "http://s/hotline/api/orders"
    with_page = dataclasses.replace(API, detail_url="https://s/order/{工单编号}?from=yuqing")
    assert hotline_post(item, with_page, salt="s", fetched_at=NOW)["url"] == (
        "https://s/order/YX2024%2F01?from=yuqing"  # spaces dropped from the number, the rest encoded
    )
    path = tmp_path / "sources.yaml"
    path.write_text(
        "- {kind: hotline-inbox, name: f, display_name: f, inbox: in, detail_url: 'https://s/o/{工单编号}'}\n",
        encoding="utf-8",
    )
    assert load_feeds(path)[0].detail_url == "https://s/o/{工单编号}"
    path.write_text(
        "- {kind: hotline-inbox, name: f, display_name: f, inbox: in, detail_url: 'https://s/o'}\n"
    )
    with pytest.raises(SourceConfigError, match="detail_url"):
        load_feeds(path)


def test_the_inbox_spider_reads_good_files_and_names_what_is_wrong_with_bad_ones(tmp_path):
    spider = HotlineInboxSpider(FeedSource(kind="hotline-inbox", name="f", display_name="f", inbox=tmp_path))
    results: dict[str, list[object]] = {}
    for path in write_exports(tmp_path):
        response = Response(path.as_uri(), body=path.read_bytes(), request=Request(path.as_uri()))
        results[path.name] = list(spider.parse(response, path=path))
    assert [i.fields["工单编号"] for i in results["good.csv"]] == ["YXF0001", "YXF0002"]  # type: ignore[attr-defined]
    assert results["good.xlsx"][0].fields["受理时间"] == "2024-06-04 09:00:00"  # type: ignore[attr-defined]
    assert results["good.xlsx"][0].fields["来电号码"] == "13700002222"  # type: ignore[attr-defined]
    [extra] = results["extra-columns.xlsx"]
    assert extra.extra == {"紧急程度": "紧急", "坐席工号": "A1024"}  # type: ignore[attr-defined]
    assert [f.reason for f in results["empty.xlsx"]] == ["empty file: no header row"]  # type: ignore[attr-defined]
    assert [f.reason for f in results["missing-columns.xlsx"]] == ["missing columns: 工单编号、受理时间"]  # type: ignore[attr-defined]
    assert {p.name: o for p, o in spider.outcomes.items()} == {
        "good.csv": "imported", "good.xlsx": "imported", "extra-columns.xlsx": "imported",
        "empty.xlsx": "rejected", "missing-columns.xlsx": "rejected",
    }  # fmt: skip


def test_the_weibo_spider_reads_cards_and_groups_and_stops_at_the_watermark():
    feeds = demo_feeds(NOW.replace(tzinfo=None))
    page = feeds.weibo_page("100103type=1&q=云溪", 1)
    spider = WeiboSpider(WEIBO)
    out = list(
        spider.parse(json_response("http://s/api/container/getIndex?page=1", page), "c", "search:云溪", 1)
    )
    assert len([o for o in out if isinstance(o, WeiboItem)]) == 7 and isinstance(out[-1], Request)
    watermarked = WeiboSpider(WEIBO, since=NOW.isoformat())
    out = list(watermarked.parse(json_response("http://s/x", page), "c", "search:云溪", 1))
    assert not [o for o in out if isinstance(o, Request)]  # every post is older than the watermark
    assert list(spider.parse(json_response("http://s/x", {"ok": 0, "msg": "没有更多"}), "c", "q", 2)) == []


def test_mblog_html_becomes_text_and_relative_times_are_resolved():
    assert html_to_text('好<br>的<img alt="[赞]" src="x"><a href="/t">#话题#</a>') == "好\n的[赞]#话题#"
    assert parse_weibo_time("5分钟前", now=NOW) == NOW - timedelta(minutes=5)
    assert parse_weibo_time("昨天 08:15", now=NOW) == datetime(2024, 6, 2, 8, 15, tzinfo=CHINA_TZ)
    assert parse_weibo_time("Sat Jun 01 10:11:12 +0800 2024", now=NOW) == datetime(
        2024, 6, 1, 10, 11, 12, tzinfo=CHINA_TZ
    )
    mblog = {
        "id": 1,
        "created_at": "刚刚",
        "text": "<span>a</span>",
        "reposts_count": "1.2万",
        "user": {"id": 9},
    }
    post = weibo_post(WeiboItem("w", "http://s/api", "q", mblog), WEIBO, salt="", fetched_at=NOW)
    assert post["metrics"]["reposts"] == 12000 and post["url"] == "http://s/detail/1" and post["text"] == "a"
    with pytest.raises(ItemRejected, match="created_at"):
        weibo_post(
            WeiboItem("w", "http://s", "q", {"id": 2, "created_at": "很久以前", "text": "x"}),
            WEIBO,
            salt="",
            fetched_at=NOW,
        )


def test_a_page_whose_charset_header_lies_is_decoded_by_its_bytes():
    body = "<html><head><title>留言</title></head><body>路灯</body></html>".encode("gbk")
    lying = HtmlResponse("http://s/p", body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    fixed = CharsetRepairMiddleware().process_response(Request("http://s/p"), lying)
    assert isinstance(fixed, HtmlResponse) and "路灯" in fixed.text


def test_a_paused_source_stays_paused_until_its_time(tmp_path: Path):
    pause_source(tmp_path, "b", reason="login-or-captcha", url="http://s/login", now=NOW)
    assert read_alerts(tmp_path)["b"]["reason"] == "login-or-captcha"
    assert paused_until(tmp_path, "b", now=NOW + timedelta(minutes=59)) is not None
    assert paused_until(tmp_path, "b", now=NOW + timedelta(minutes=61)) is None


def test_the_scheduler_runs_each_source_when_due_and_survives_a_failing_cycle(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "- {kind: weibo, name: fast, display_name: f, api_url: 'http://x/a', keywords: [k], every: 10}\n"
        "- {kind: weibo, name: slow, display_name: s, api_url: 'http://x/a', keywords: [k], every: 30}\n",
        encoding="utf-8",
    )
    settings = Settings(home=tmp_path, sources_file=sources)
    now = [0.0]
    calls: list[str] = []
    stop = threading.Event()

    class Clock:
        def __call__(self) -> float:
            return now[0]

    def run(argv, env) -> int:
        calls.append(argv[-1])
        now[0] += 10
        if len(calls) >= 4:
            stop.set()
        return 1 if len(calls) == 1 else 0  # the first cycle fails; the loop goes on

    stop_wait = stop.wait
    stop.wait = lambda timeout=None: stop_wait(0)  # type: ignore[method-assign]
    crawl_forever(settings, every_s=60, base_env={}, stop=stop, run=run, clock=Clock())
    assert calls == ["fast,slow", "fast", "fast", "fast,slow"]


def test_credentials_named_by_a_source_are_attached_from_the_secrets_setting():
    from scrapy.utils.test import get_crawler

    from crawlers.middlewares import SecretsMiddleware

    source = FeedSource(kind="weibo", name="w", display_name="w", api_url="https://s/a", keywords=("k",),
                        token_secret="WB_TOKEN", cookie_secret="WB_COOKIE")  # fmt: skip
    crawler = get_crawler(settings_dict={"YUQING_SECRETS": {"WB_TOKEN": "t0k", "WB_COOKIE": "SUB=abc"}})
    crawler.spider = WeiboSpider(source)
    request = Request("https://s/a")
    SecretsMiddleware.from_crawler(crawler).process_request(request)
    assert request.headers[b"Authorization"] == b"Bearer t0k" and request.headers[b"Cookie"] == b"SUB=abc"


def test_only_a_login_page_pauses_a_source_not_a_message_about_logging_in():
    from crawlers.middlewares import _BLOCK_TITLE, _BLOCK_URL

    assert _BLOCK_URL.search("http://s/login?next=/x") and _BLOCK_URL.search("http://s/passport/captcha.html")
    assert not _BLOCK_URL.search("http://s/verify-results/list.html")
    assert _BLOCK_TITLE.search("<title>用户登录 - 某市政府</title>")
    assert not _BLOCK_TITLE.search("<title>社保网站无法登录怎么办 - 网上留言</title>")


def test_a_full_crawl_turns_the_unchanged_page_skipping_off(tmp_path):
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from crawlers.middlewares import SkipUnchangedMiddleware

    settings = Settings(home=tmp_path)
    assert SkipUnchangedMiddleware.from_crawler(get_crawler(settings_dict={"YUQING_SETTINGS": settings}))
    with pytest.raises(NotConfigured):
        SkipUnchangedMiddleware.from_crawler(
            get_crawler(settings_dict={"YUQING_SETTINGS": settings, "YUQING_INCREMENTAL": False})
        )


def test_a_timeout_after_its_retries_is_a_dead_letter_named_timeout():
    from twisted.internet.error import TimeoutError as TwistedTimeoutError
    from twisted.python.failure import Failure

    from crawlers.spiders.common import SkippedRequest, failed_page

    failure = Failure(TwistedTimeoutError("took longer than 30 seconds"))
    failure.request = Request("http://s/slow.html")  # type: ignore[attr-defined]
    assert failed_page("b", failure) == FailedPage("b", "http://s/slow.html", "timeout")
    assert failed_page("b", Failure(SkippedRequest("unchanged"))) is None


@pytest.mark.parametrize(
    ("printed", "count"),
    [
        ("1.2万", 12_000),
        ("3千", 3_000),
        ("10万+", 100_000),
        ("0.29万", 2_900),
        ("1,234", 1_234),
        ("1亿", 10**8),
        (56, 56),
        (None, 0),
        ("", 0),
    ],
)
def test_weibo_printed_counts_become_integers(printed, count):
    assert weibo_count(printed, field="reposts_count") == count


@pytest.mark.parametrize("printed", ["abc", "-3", "NaN", "--", True, -1])
def test_a_count_that_is_no_number_is_refused_with_its_field(printed):
    with pytest.raises(ItemRejected, match="unparseable reposts_count"):
        weibo_count(printed, field="reposts_count")
