"""Hotline, inbox and Weibo-like sources crawled with the board, then re-crawled incrementally."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.china_time import CHINA_TZ
from core.messages import validate_raw
from crawlers.feeds import FeedSource, load_feeds
from crawlers.sources import BoardSource, load_sources
from demo_site import DemoSite, serve, write_demo_sources
from demo_site.content import SiteReply
from demo_site.exports import GOOD_ORDERS, write_exports
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings

pytestmark = pytest.mark.slow


@dataclass
class World:
    site: DemoSite
    now: datetime
    settings: Settings
    boards: list[BoardSource]
    feeds: list[FeedSource]
    inbox: Path

    def crawl(self):
        return crawl_in_child(self.settings, sources=self.boards, feeds=self.feeds)

    def posts(self) -> dict[str, dict]:
        return dict(read_topic(self.settings, self.settings.topic_raw))

    def detail_hits(self, before: dict[str, int]) -> list[str]:
        return sorted(t for t, n in self.site.hits.items() if "/detail/" in t and n > before.get(t, 0))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("incremental")
    now = datetime.now(CHINA_TZ).replace(microsecond=0)
    with serve(now=now) as site:
        inbox = root / "inbox"
        write_exports(inbox)
        path = write_demo_sources(root / "sources.yaml", site.url, feeds=True, inbox=inbox)
        world = World(site, now, Settings(home=root / "home"), load_sources(path), load_feeds(path), inbox)
        world.first = world.crawl()  # type: ignore[attr-defined]
        yield world


def test_a_full_crawl_publishes_every_source_once(world):
    stats = by_source(world.first)
    assert {name: s.published for name, s in stats.items()} == {
        "demo-liuyan": 40,
        "demo-12345": 12,
        "demo-12345-files": len(GOOD_ORDERS),
        "demo-weibo": 8,
    }
    assert stats["demo-weibo"].dropped == {"duplicate in this crawl": 3}  # a post both searched and followed
    posts = world.posts()
    assert len(posts) == 40 + 12 + len(GOOD_ORDERS) + 8
    for post in posts.values():
        assert validate_raw(dict(post)) == post


def test_hotline_orders_are_masked_and_callers_pseudonymous(world):
    posts = world.posts()
    order = posts["hotline:demo-12345:YX2024060006"]
    assert order["hotline"] == {
        "order_no": "YX2024060006",
        "appeal_type": "投诉",
        "caller": "138****8000",
        "unit": "南湾区住房和城乡建设局",
        "status": "已签收",
    }
    assert "110105********002X" in order["text"] and "11010519491231002X" not in order["text"]
    assert order["reply"]["status"] == "pending" and order["region"] == "南湾区"
    # The same phone number called twice more: one pseudonym across orders, and no number in it.
    same_caller = {
        posts[f"hotline:demo-12345:YX20240600{n}"]["author"]["id_hash"] for n in ("01", "06", "11")
    }
    assert len(same_caller) == 1 and "13800138000" not in str(posts)
    done = posts["hotline:demo-12345:YX2024060001"]
    assert done["reply"]["status"] == "replied" and done["reply"]["unit"] == "云溪市住房和城乡建设局"
    assert done["raw"]["回访满意度"] == "满意"


def test_export_files_are_imported_once_and_moved_aside_with_reasons(world):
    posts = world.posts()
    assert posts["hotline:demo-12345-files:YXF0102"]["published_at"] == "2024-06-04T11:30:00+08:00"
    assert posts["hotline:demo-12345-files:YXF0101"]["hotline"]["caller"] == "137****2222"
    assert posts["hotline:demo-12345-files:YXF0002"]["published_at"] == "2024-06-02T14:10:00+08:00"
    assert posts["hotline:demo-12345-files:YXF0201"]["raw"]["extra"] == {
        "紧急程度": "紧急",
        "坐席工号": "A1024",
    }
    assert sorted(p.name.split("-", 2)[2] for p in (world.inbox / "imported").iterdir()) == [
        "extra-columns.xlsx",
        "good.csv",
        "good.xlsx",
    ]
    assert sorted(p.name.split("-", 2)[2] for p in (world.inbox / "rejected").iterdir()) == [
        "empty.xlsx",
        "missing-columns.xlsx",
    ]
    assert by_source(world.first)["demo-12345-files"].dropped == {
        "dead-lettered: empty file": 1,
        "dead-lettered: missing columns": 1,
    }
    letters = [letter for _, letter in read_topic(world.settings, world.settings.topic_dlq)]
    reasons = {letter["key"].rsplit("/", 1)[1]: letter["error"] for letter in letters}
    assert reasons == {
        "empty.xlsx": "empty file: no header row",
        "missing-columns.xlsx": "missing columns: 工单编号、受理时间",
    }


def test_weibo_posts_are_text_with_counts_users_and_the_reposted_id(world):
    posts = world.posts()
    repost = posts["weibo:demo-weibo:4900000000000004"]
    assert repost["raw"]["retweeted_id"] == "4900000000000003"
    assert (
        repost["text"]
        == "转发理由：终于有车位了！云溪的交警这次给力\n//@云溪交警:【出行提示】临时接送车位今起启用"
    )
    assert repost["author"]["name"] == "爱******" and repost["author"]["verified"] is False
    angry = posts["weibo:demo-weibo:4900000000000002"]
    assert "[怒]" in angry["text"] and "<" not in angry["text"] and angry["region"] == "云溪"
    official = posts["weibo:demo-weibo:4900000000000001"]
    assert official["author"]["name"] == "云溪发布" and official["author"]["followers"] == 1250000
    assert official["metrics"] == {"reposts": 215, "comments": 388, "likes": 1024}
    assert official["published_at"] == (world.now - timedelta(minutes=5000)).isoformat()
    assert "138****8000" in posts["weibo:demo-weibo:4900000000000005"]["text"]


def test_a_re_run_fetches_no_unchanged_detail_page_and_publishes_nothing(world):
    before = dict(world.site.hits)
    stats = by_source(world.crawl())
    assert world.detail_hits(before) == []
    assert {name: s.published for name, s in stats.items()} == dict.fromkeys(stats, 0)
    assert stats["demo-liuyan"].skipped_unchanged == 40 and stats["demo-liuyan"].pages == 3
    assert stats["demo-weibo"].pages == 3  # one page per query: the watermark says the rest is old


def test_a_reply_that_arrives_later_and_an_edit_are_picked_up(world):
    world.site.site.answer(
        "liuyan",
        "10016",
        SiteReply("云溪市人力资源和社会保障局", world.now.replace(tzinfo=None), "已责令站点补发工资。"),
    )
    world.site.site.edit("liuyan", "10005", title="（已更正）小区门口道路积水", text="更正后的留言内容。")
    before = dict(world.site.hits)
    stats = by_source(world.crawl())

    assert world.detail_hits(before) == ["/liuyan/detail/10005.html", "/liuyan/detail/10016.html"]
    assert stats["demo-liuyan"].published == 2
    records = read_topic(world.settings, world.settings.topic_raw)
    latest = dict(records)
    assert latest["board:demo-liuyan:10016"]["reply"]["status"] == "replied"
    assert latest["board:demo-liuyan:10016"]["reply"]["text"] == "已责令站点补发工资。"
    assert latest["board:demo-liuyan:10005"]["text"] == "更正后的留言内容。"


def test_a_work_order_closed_later_is_fetched_again_through_the_watermark(world):
    order = next(o for o in world.site.site.feeds.orders if o["orderNo"] == "YX2024060004")
    closed = datetime.now(CHINA_TZ).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")
    order.update(status="已办结", finishTime=closed, updateTime=closed, replyContent="已对电镀厂立案查处。")
    stats = by_source(world.crawl())

    assert stats["demo-12345"].published == 1
    post = world.posts()["hotline:demo-12345:YX2024060004"]
    assert post["reply"]["status"] == "replied" and post["reply"]["text"] == "已对电镀厂立案查处。"
