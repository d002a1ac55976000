"""The shared data's real hotline complaints and Weibo posts, served through the demo APIs and crawled."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from core.china_time import CHINA_TZ
from core.messages import validate_raw
from crawlers.feeds import load_feeds
from demo_site import serve, write_demo_sources
from tests.conftest import SHARED_DATA, shared_data
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings

pytestmark = pytest.mark.slow


def test_real_complaints_and_posts_arrive_through_the_same_apis(tmp_path):
    shared_data("hotline/dongguan_wenzheng_complaints.csv")
    shared_data("stream/weibo_2020_10k.csv")
    settings = Settings(home=tmp_path / "home")
    with serve(data_dir=SHARED_DATA, real_limit=300, now=datetime.now(CHINA_TZ)) as site:
        api, _, weibo = load_feeds(write_demo_sources(tmp_path / "s.yaml", site.url, feeds=True))
        weibo = dataclasses.replace(weibo, keywords=("武汉",), accounts=())
        orders = site.site.feeds.orders
        wuhan = [m for m in site.site.feeds.mblogs if "武汉" in m["text"]]
        stats = by_source(crawl_in_child(settings, sources=[], feeds=[api, weibo]))

    served = {o["orderNo"] for o in orders if o["content"].strip()}
    assert len(orders) == 12 + 300 and stats["demo-12345"].published == len(served)
    assert stats["demo-12345"].dropped == {"missing 诉求内容": len(orders) - len(served)} or len(
        orders
    ) == len(served)
    assert stats["demo-weibo"].published == len(wuhan) > 0
    posts = dict(read_topic(settings, settings.topic_raw))
    for order_no in served:
        post = posts[f"hotline:demo-12345:{order_no}"]
        assert validate_raw(dict(post)) == post
    for mblog in wuhan:
        assert posts[f"weibo:demo-weibo:{mblog['id']}"]["author"]["verified"] is False
