"""Every bad case of the demo site: one clear log line, a dead letter or a dropped item with its reason,
no good item lost and the crawl going on; a source that starts demanding a login is paused."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime

import pytest

from core.china_time import CHINA_TZ
from crawlers.alerts import read_alerts
from crawlers.feeds import load_feeds
from crawlers.sources import load_sources
from demo_site import serve, write_demo_sources
from demo_site.bad import GOOD_IDS
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bad_crawl(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("bad")
    settings = Settings(home=root / "home")
    with serve(now=datetime.now(CHINA_TZ)) as site:
        path = write_demo_sources(root / "sources.yaml", site.url, feeds=True, inbox=root / "inbox")
        [board] = load_sources(path)
        api, _, weibo = load_feeds(path)
        sources = [
            dataclasses.replace(board, name="bad", start_url=site.url + "/bad/list.html"),
            dataclasses.replace(board, name="locked", start_url=site.url + "/locked/list.html"),
            dataclasses.replace(board, name="private", start_url=site.url + "/private/list.html"),
        ]
        feeds = [
            dataclasses.replace(api, name="bad-api", start_url=site.url + "/hotline/bad-api/orders"),
            dataclasses.replace(weibo, name="bad-weibo", keywords=("坏数据",), accounts=()),
        ]
        first = crawl_in_child(settings, sources=sources, feeds=feeds)
        hits = dict(site.hits)
        second = crawl_in_child(settings, sources=sources, feeds=feeds)
        yield settings, by_source(first), by_source(second), hits


def test_every_good_page_of_the_bad_board_arrives_once(bad_crawl):
    settings, first, _, _ = bad_crawl
    posts = dict(read_topic(settings, settings.topic_raw))
    assert sorted(k.rsplit(":", 1)[1] for k in posts if k.startswith("board:bad:")) == sorted(GOOD_IDS)
    assert first["bad"].published == len(GOOD_IDS) and first["bad"].finish_reason == "finished"
    # GBK, GB18030 (with a character GBK lacks) and a GBK page behind a UTF-8 header all read right.
    assert posts["board:bad:90005"]["title"] == "异常测试留言90005：小区路灯损坏"
    assert posts["board:bad:90006"]["title"] == "异常测试留言90006：小区路灯损坏𠮷"
    assert "夜间出行很不方便" in posts["board:bad:90007"]["text"]
    assert "夜间出行很不方便" in posts["board:bad:90011"]["text"]  # slow, not lost


def test_each_bad_page_is_a_dead_letter_or_a_drop_with_its_reason(bad_crawl):
    settings, first, _, hits = bad_crawl
    assert first["bad"].dropped == {
        "missing text": 1,  # truncated HTML
        "missing title": 1,
        "dead-lettered: http 404": 1,
        "dead-lettered: http 500": 1,
        "dead-lettered: http 429": 1,
        "dead-lettered: ignored: max redirections reached": 1,
        "dead-lettered: too large": 1,
    }
    assert hits["/bad/detail/90009.html"] == 2 and hits["/bad/detail/90008.html"] == 2  # retried once
    assert hits["/bad/detail/90001.html"] == 1  # repeated on page 2, fetched once
    letters = [letter for _, letter in read_topic(settings, settings.topic_dlq)]
    by_url = {letter["key"].split("/")[-1]: letter for letter in letters}
    assert by_url["90004.html"]["error"] == "http 404" and by_url["90004.html"]["stage"] == "crawl"
    assert by_url["90012.html"]["error"].startswith("too large")
    assert by_url["orders?page=2&page_size=50"]["error"].startswith("invalid JSON")
    assert first["bad-api"].published == 1
    # A record without a required field, or with a time that is none, is its own dead letter (issue 22).
    assert first["bad-api"].dropped == {"dead-lettered: bad record": 2, "dead-lettered: invalid JSON": 1}
    page_1 = "orders?page=1&page_size=50"
    assert by_url[f"{page_1}#record=2"]["error"] == "bad record: missing 诉求内容 (record 2)"
    assert by_url[f"{page_1}#record=3"]["error"] == "bad record: unparseable 受理时间 (record 3)"
    assert first["bad-weibo"].dropped == {"dead-lettered: invalid JSON": 1}


def test_a_source_answering_with_a_login_page_is_paused_with_an_alert(bad_crawl):
    settings, first, second, _ = bad_crawl
    assert first["locked"].finish_reason == "paused: login or captcha page"
    alert = read_alerts(settings.crawl_state_path)["locked"]
    assert alert["status"] == "paused" and alert["reason"] == "login-or-captcha"
    assert "/login" in alert["url"]
    assert second["locked"].finish_reason.startswith("paused until")
    assert second["bad"].published == 0 and second["bad"].skipped_unchanged == len(GOOD_IDS)


def test_robots_txt_is_obeyed_per_source(bad_crawl):
    _, first, _, hits = bad_crawl
    assert not [target for target in hits if target.startswith("/private/")]
    assert first["private"].dropped == {"dead-lettered: ignored: Forbidden by robots.txt": 1}


def test_one_clear_line_per_bad_case(bad_crawl, caplog):
    # The dead-letter pipeline's line is the readable one: source, reason and URL.
    from crawlers.deadletter import DeadLetterPipeline
    from crawlers.items import FailedPage

    with (
        caplog.at_level(logging.WARNING, logger="crawlers.deadletter"),
        pytest.raises(Exception, match="dead"),
    ):
        DeadLetterPipeline().process_item(FailedPage("bad", "http://x/90004.html", "http 404"))
    assert caplog.messages == [
        "stage=crawl channel=bad event=dead-letter reason=http 404 url=http://x/90004.html"
    ]
    assert json.loads(json.dumps(first_dict(bad_crawl)))  # stats stay JSON-ready


def first_dict(bad_crawl):
    return {name: dataclasses.asdict(s) for name, s in bad_crawl[1].items()}
