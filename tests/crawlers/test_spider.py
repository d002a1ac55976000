"""The board spider's callbacks fed saved pages (rendered from our own demo content): exact output."""

from __future__ import annotations

import asyncio
import dataclasses

from scrapy import Request

from crawlers.items import BoardItem
from crawlers.spiders.board import BoardSpider
from tests.crawlers.make_pages import PAGES, rendered_pages

NEWEST_FIRST = [str(n) for n in range(10040, 10000, -1)]


def test_saved_pages_are_what_the_demo_site_renders() -> None:
    for name, html in rendered_pages().items():
        assert (PAGES / name).read_text(encoding="utf-8") == html, (
            f"regenerate: python -m tests.crawlers.make_pages ({name})"
        )


def test_start_requests_the_boards_first_list_page(demo_source):
    spider = BoardSpider(demo_source)

    async def collect() -> list[Request]:
        return [request async for request in spider.start()]

    [request] = asyncio.run(collect())
    assert request.url == "http://127.0.0.1:8600/liuyan/list.html"
    assert request.callback == spider.parse
    assert request.cb_kwargs == {"page": 1}
    assert spider.name == "board-demo-liuyan"


def test_a_list_page_yields_every_detail_page_then_the_next_list_page(demo_source, saved_page):
    spider = BoardSpider(demo_source)
    output = list(spider.parse(saved_page("list_1.html", "/liuyan/list.html"), page=1))

    details, following = output[:-1], output[-1]
    assert [r.url for r in details] == [
        f"http://127.0.0.1:8600/liuyan/detail/{n}.html" for n in NEWEST_FIRST[:15]
    ]
    assert all(r.callback == spider.parse_detail for r in details)
    assert following.url == "http://127.0.0.1:8600/liuyan/list.html?page=2"
    assert following.callback == spider.parse
    assert following.cb_kwargs == {"page": 2}


def test_the_last_list_page_has_no_next_page(demo_source, saved_page):
    spider = BoardSpider(demo_source)
    output = list(spider.parse(saved_page("list_3.html", "/liuyan/list.html?page=3"), page=3))

    assert [r.url for r in output] == [
        f"http://127.0.0.1:8600/liuyan/detail/{n}.html" for n in NEWEST_FIRST[30:]
    ]


def test_max_pages_stops_pagination(demo_source, saved_page):
    spider = BoardSpider(dataclasses.replace(demo_source, max_pages=1))
    output = list(spider.parse(saved_page("list_1.html", "/liuyan/list.html"), page=1))

    assert len(output) == 15
    assert all(r.callback == spider.parse_detail for r in output)


def test_a_replied_detail_page_yields_every_field_as_the_page_shows_it(demo_source, saved_page):
    spider = BoardSpider(demo_source)
    url_path = "/liuyan/detail/10005.html"
    [item] = list(spider.parse_detail(saved_page("detail_10005_replied.html", url_path)))

    assert item == BoardItem(
        channel="demo-liuyan",
        url="http://127.0.0.1:8600" + url_path,
        native_id="10005",
        title="小区“停车费”上涨 & 物业不公示账目",
        published_at="2024-05-29 00:25:00",
        author="赵**",
        text=(
            "我们东湖区金桂苑小区的物业这个月突然贴出通知，地面停车费从每月150元涨到260元，"
            "事先没有征求业主意见，也没有召开业主大会。\n"
            "业主要求物业公开停车收入和公共收益的账目，物业一直推说“还在整理”。"
            "请问物业能不能自己决定涨价？公共收益的账目应该怎么公开？"
        ),
        status="已回复",
        reply_unit="东湖区住房和城乡建设局",
        replied_at="2024-05-30 03:50:00",
        reply_text=(
            "　　您好！根据《物业管理条例》和我市住宅小区停车管理的有关规定，利用业主共有道路或场地设置的"
            "车位收费标准，应当由业主大会决定或者经业主共同决定，物业服务企业无权单方面调整。\n"
            "　　我局已约谈金桂苑小区物业服务企业，责令其暂停执行新的收费标准，并在十五日内公示近两年的"
            "公共收益收支情况。所在社区将指导小区尽快筹备成立业主大会。"
        ),
    )


def test_a_pending_detail_page_has_no_reply_fields(demo_source, saved_page):
    spider = BoardSpider(demo_source)
    [item] = list(spider.parse_detail(saved_page("detail_10016_pending.html", "/liuyan/detail/10016.html")))

    assert item.native_id == "10016"
    assert item.status == "未回复"
    assert (item.reply_unit, item.replied_at, item.reply_text) == (None, None, None)
    assert "13800138000" in item.text  # the spider keeps the page's text; masking is a pipeline's job


def test_label_anchored_xpath_configuration_reads_the_same_page_layout(real_layout_source, saved_page):
    spider = BoardSpider(real_layout_source)
    page = saved_page("real_layout_detail_10010.html", "/real/detail/10010.html")
    [item] = list(spider.parse_detail(page))

    assert item.channel == "teddy2020-liuyan"
    assert item.native_id == "10010"
    assert item.title == "17楼以上水压不足，高峰期水压<0.1兆帕"
    assert item.published_at == "2024-05-29 18:40:00"
    assert item.author == "冯**"
    assert item.status == "已回复"
    assert item.replied_at == "2024-05-30 15:30:00"
    assert item.reply_unit is None
    assert item.reply_text.startswith("　　您好！按照我市城镇供水管理条例")


def test_label_anchored_xpath_configuration_follows_rows_and_the_pager(real_layout_source, saved_page):
    spider = BoardSpider(real_layout_source)
    output = list(spider.parse(saved_page("real_layout_list_1.html", "/real/list.html"), page=1))

    assert [r.url for r in output[:-1]] == [
        f"http://127.0.0.1:8600/real/detail/{n}.html" for n in NEWEST_FIRST[:20]
    ]
    assert output[-1].url == "http://127.0.0.1:8600/real/list.html?page=2"


def test_the_native_id_comes_from_the_url_pattern_without_a_page_selector(demo_source, saved_page):
    fields = dataclasses.replace(demo_source.fields, native_id=None)
    spider = BoardSpider(dataclasses.replace(demo_source, fields=fields))
    [item] = list(spider.parse_detail(saved_page("detail_10016_pending.html", "/liuyan/detail/10016.html")))

    assert item.native_id == "10016"


def test_without_an_id_pattern_the_native_id_is_the_pages_own_number(demo_source, saved_page):
    spider = BoardSpider(dataclasses.replace(demo_source, id_pattern=None))
    request = next(iter(spider.parse(saved_page("list_1.html", "/liuyan/list.html"), page=1)))
    assert request.meta == {}  # nothing to key the incremental skip with before the page is fetched
    [item] = list(spider.parse_detail(saved_page("detail_10016_pending.html", "/liuyan/other.html?m=x")))

    assert item.native_id == "10016"


def test_a_board_post_is_skipped_and_published_under_one_id_even_when_url_and_page_disagree(
    demo_source, saved_page
):
    # The detail URL numbers the message 77; the page itself says 10016. The id is chosen once, from
    # the URL on the list page, and the published post carries the id the incremental skip looks up.
    from datetime import datetime

    from core.china_time import CHINA_TZ
    from crawlers.normalise import to_raw_post
    from crawlers.spiders.board import NATIVE_ID_META, POST_ID_META, SIGNATURE_META

    spider = BoardSpider(demo_source)
    url = "http://127.0.0.1:8600/liuyan/detail/77.html"
    list_page = saved_page("list_1.html", "/liuyan/list.html")
    request = spider._detail_request(list_page, "row text", url)
    assert request.meta[POST_ID_META] == "board:demo-liuyan:77"
    assert request.meta[NATIVE_ID_META] == "77" and request.meta[SIGNATURE_META]

    page = saved_page("detail_10016_pending.html", "/liuyan/detail/10016.html")
    detail = page.replace(url=url, request=request)
    [item] = list(spider.parse_detail(detail))
    post = to_raw_post(item, demo_source, salt="", fetched_at=datetime.now(CHINA_TZ))

    assert item.native_id == "77"
    assert post["id"] == request.meta[POST_ID_META]
