"""News (``kind: news``): configuration, RSS/Atom parsing, the article's fields by selector, feed and
extractor, the demo site's paper and portal crawled into posts.raw, the bad cases, and a reprint on a
second site joining the original's event."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest

from core.china_time import CHINA_TZ
from core.messages import validate_raw
from crawlers.catalog import load_all
from crawlers.errors import SourceConfigError
from crawlers.items import FailedPage, NewsItem
from crawlers.news import FeedError, NewsSource, parse_feed, parse_news, read_article
from crawlers.normalise import parse_loose_time
from crawlers.normalise_news import news_native_id, news_post
from crawlers.spiders.board import POST_ID_META, SIGNATURE_META
from crawlers.spiders.news import NewsSpider
from demo_site import serve, write_demo_sources
from demo_site.news import article_page, atom, demo_news, rss
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from yuqing.settings import Settings

NOW = datetime(2024, 6, 3, 9, 30, tzinfo=CHINA_TZ)
FEED = {"kind": "news", "name": "daily", "display_name": "日报", "feed_url": "http://s/news/rss.xml"}


def news(**changes: object) -> NewsSource:
    return parse_news(Path("sources.yaml"), {**FEED, **changes}, 0)


def test_a_news_source_is_a_feed_or_a_list_page():
    feed = news(outlet="某市日报", id_pattern=r"/(\d+)\.html", allowed_hosts=["www.example.cn"])
    assert feed.kind == "news" and feed.start_url == "http://s/news/rss.xml" and feed.links is None
    assert feed.allowed_hosts == ("www.example.cn",)
    listing = news(feed_url=None, list_url="http://s/list.html", list={"links": "a.news::attr(href)"},
                   fields={"published_at": {"css": "span.time::text", "re": r"\d{4}-\d\d-\d\d"}})  # fmt: skip
    assert listing.links is not None and listing.selector("published_at") is not None


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"list_url": "http://s/list.html"}, "feed_url", "exactly one"),
        ({"feed_url": None}, "feed_url", "exactly one"),
        ({"feed_url": None, "list_url": "http://s/l.html"}, "list", "links"),
        ({"list": {"links": "a::attr(href)"}}, "list", "only with list_url"),
        ({"fields": {"body": "div"}}, "fields.body", "unknown key"),
        ({"fields": {"text": "div[["}}, "fields.text", "invalid CSS"),
        ({"feed_url": "ftp://s/rss"}, "feed_url", "not an http"),
        ({"cookie_secret": "NEWS_COOKIE", "feed_url": "http://news.example.cn/rss"}, "feed_url", "https"),
    ],
)
def test_a_news_entry_that_cannot_work_is_refused_naming_the_field(changes, field, reason):
    with pytest.raises(SourceConfigError, match=reason) as caught:
        news(**changes)
    assert caught.value.field == field


def test_rss_and_atom_feeds_give_the_same_entries():
    sites = demo_news(NOW.replace(tzinfo=None))
    outlet, articles = sites.outlets["news"], sites.articles["news"]
    from_rss = parse_feed(rss(outlet, articles, "http://s").encode("utf-8"))
    from_atom = parse_feed(atom(outlet, articles, "http://s").encode("utf-8"))
    assert from_rss.title == from_atom.title == "云溪日报"
    for one, other in zip(from_rss.entries, from_atom.entries, strict=True):
        assert one.link == other.link and one.title == other.title and one.author == other.author
        assert parse_loose_time(one.published) == parse_loose_time(other.published)
    assert [e.link for e in from_rss.entries] == [
        "http://s/news/articles/1002.html",
        "http://s/news/articles/1001.html",
    ]
    assert (from_rss.entries[0].published_tag, from_rss.entries[0].author_tag) == ("pubDate", "creator")
    assert from_atom.entries[0].author_tag == "author/name"


def test_a_feed_that_is_not_one_is_refused_and_entities_are_not_expanded():
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body>hello</body></html>")
    with pytest.raises(FeedError, match="invalid feed"):
        parse_feed(b"")
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&x;</title><link>http://s/a</link></item></channel></rss>"
    )
    [entry] = parse_feed(evil).entries
    assert "root" not in (entry.title or "") and entry.link == "http://s/a"
    rdf = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"><item><title>t</title><link>http://s/b</link>'
        b"<dc:date>2024-06-01T09:00:00+08:00</dc:date></item></rdf:RDF>"
    )
    [entry] = parse_feed(rdf).entries
    assert entry.link == "http://s/b" and entry.published_tag == "date"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sat, 01 Jun 2024 09:00:00 +0800", "2024-06-01T09:00:00+08:00"),
        ("2024-06-01T01:00:00Z", "2024-06-01T09:00:00+08:00"),
        ("2024-06-01 09:00", "2024-06-01T09:00:00+08:00"),
        ("2024年6月1日 09:00", "2024-06-01T09:00:00+08:00"),
        ("发布时间：2024-06-01 09:00:05　来源：云溪日报", "2024-06-01T09:00:05+08:00"),
        ("2024-06-01", "2024-06-01T00:00:00+08:00"),
        ("某一天", None),
    ],
)
def test_news_times_are_read_in_their_common_forms(text, expected):
    found = parse_loose_time(text)
    assert (found.isoformat() if found else None) == expected


def test_an_articles_fields_come_from_selectors_then_the_feed_then_the_extractor():
    sites = demo_news(NOW.replace(tzinfo=None))
    original = sites.article("news", "1001")
    reprint = sites.article("nanwan", "5001")
    assert original is not None and reprint is not None
    html = article_page(sites.outlets["nanwan"], original.paragraphs, reprint)
    source = news(feed_url=None, list_url="http://s/nanwan/list.html", list={"links": "a::attr(href)"},
                  fields={"published_at": "span.pubtime::text"})  # fmt: skip
    fields = read_article(source, html, "http://s/nanwan/articles/5001.html", None, None)
    assert fields["text"].value == "\n".join(original.paragraphs)  # navigation, sidebar and footer gone
    assert fields["text"].where == "正文提取器 trafilatura 正文"
    assert fields["published_at"].where == "页面 css span.pubtime::text"
    assert fields["title"].value == original.title and fields["outlet"].value == "南湾资讯网"
    assert fields["author"].value is None and "正文提取器" in fields["author"].where


def test_the_spider_follows_each_entry_and_dead_letters_those_it_cannot_read():
    spider = NewsSpider(news(id_pattern=r"/articles/(\d+)\.html"))
    sites = demo_news(NOW.replace(tzinfo=None))
    from scrapy import Request
    from scrapy.http import HtmlResponse, XmlResponse

    body = rss(sites.outlets["news"], sites.articles["news"], "http://s").encode("utf-8")
    requests = list(spider.parse_feed(XmlResponse("http://s/news/rss.xml", body=body)))
    assert [r.url for r in requests if isinstance(r, Request)] == [
        "http://s/news/articles/1002.html", "http://s/news/articles/1001.html",
    ]  # fmt: skip
    first = requests[0]
    assert isinstance(first, Request) and first.meta[POST_ID_META] == "news:daily:1002"
    assert len(first.meta[SIGNATURE_META]) == 32
    bad = b"<rss><channel><item><title>no link</title></item></channel></rss>"
    [failed] = spider.parse_feed(XmlResponse("http://s/news/rss.xml", body=bad))
    assert isinstance(failed, FailedPage) and failed.reason == "bad entry: missing link (entry 1)"
    article = sites.article("news", "1002")
    assert article is not None
    page = article_page(sites.outlets["news"], article.paragraphs, article).encode("utf-8")
    response = HtmlResponse(first.url, body=page, encoding="utf-8", request=first)
    [item] = spider.parse_article(response, **first.cb_kwargs)
    assert isinstance(item, NewsItem) and item.native_id == "1002" and item.author == "陈晓"
    assert item.trace is not None and item.trace["published_at"] == "订阅源 pubDate"
    empty = HtmlResponse("http://s/news/articles/empty.html", body=b"<html><body><nav>x</nav></body></html>",
                         request=Request("http://s/news/articles/empty.html"))  # fmt: skip
    [nothing] = spider.parse_article(empty)
    assert isinstance(nothing, FailedPage) and nothing.reason.startswith("bad article: missing")


def test_an_article_becomes_a_news_post_masked_with_its_outlet_and_byline():
    source = news(region="云溪市")
    item = NewsItem(
        channel="daily",
        url="http://s/news/articles/7.html#top",
        native_id=news_native_id("http://s/news/articles/7.html#top", None),
        title="标题",
        text="热线电话13800138000\n\n第二段",
        published_at="Sat, 01 Jun 2024 09:00:00 +0800",
        author="记者 李明",
        outlet="云溪日报",
        origin="http://s/news/rss.xml",
        signature="sig",
    )
    post = validate_raw(news_post(item, source, salt="s", fetched_at=NOW))
    assert (
        post["source"] == "news"
        and post["id"] == f"news:daily:{item.native_id}"
        and len(item.native_id or "") == 20
    )
    assert (
        post["text"] == "热线电话138****8000\n第二段" and post["published_at"] == "2024-06-01T09:00:00+08:00"
    )
    assert post["author"]["name"] == "李明" and post["region"] == "云溪市"
    assert post["raw"] == {
        "outlet": "云溪日报",
        "site": "s",
        "origin": "http://s/news/rss.xml",
        "list_signature": "sig",
    }
    assert news_native_id("http://s/a/7.html", r"/(\d+)\.html") == "7"
    assert news_native_id("http://s/a/7.html#x", None) == news_native_id("http://s/a/7.html", None)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("news")
    settings = Settings(home=root / "home")
    with serve(now=datetime.now(CHINA_TZ)) as site:
        path = write_demo_sources(root / "sources.yaml", site.url, news=True)
        sources = [s for s in load_all(path) if isinstance(s, NewsSource)]
        daily = sources[0]
        bad = dataclasses.replace(daily, name="bad-news", feed_url=f"{site.url}/news/bad-rss.xml")
        first = crawl_in_child(settings, sources=[*sources, bad])
        before = dict(site.hits)
        second = crawl_in_child(settings, sources=sources)
        refetched = sorted(t for t, n in site.hits.items() if "/articles/" in t and n > before.get(t, 0))
        yield settings, by_source(first), by_source(second), refetched


@pytest.mark.slow
def test_the_demo_news_feed_and_portal_reach_posts_raw(crawled):
    settings, first, _, _ = crawled
    assert first["demo-yunxi-daily"].published == 2 and first["demo-nanwan-news"].published == 1
    assert first["demo-yunxi-daily"].kind == "news"
    posts = dict(read_topic(settings, settings.topic_raw))
    original = posts["news:demo-yunxi-daily:1001"]
    reprint = posts["news:demo-nanwan-news:5001"]
    other = posts["news:demo-yunxi-daily:1002"]
    for post in (original, reprint, other):
        assert validate_raw(dict(post)) == post and post["source"] == "news" and post["region"] == "云溪市"
    assert original["raw"]["outlet"] == "云溪日报" and reprint["raw"]["outlet"] == "南湾资讯网"
    assert original["author"]["name"] == reprint["author"]["name"] == "李明"
    assert original["text"] == reprint["text"] and original["title"] == reprint["title"]
    assert (
        original["text"].startswith("记者从云溪市住房和城乡建设局获悉") and "责任编辑" not in original["text"]
    )
    assert "相关阅读" not in other["text"] and "版权所有" not in other["text"]


@pytest.mark.slow
def test_a_re_crawl_fetches_the_feed_and_list_but_no_article_again(crawled):
    _, _, second, refetched = crawled
    assert (
        second["demo-yunxi-daily"].skipped_unchanged == 2
        and second["demo-nanwan-news"].skipped_unchanged == 1
    )
    assert second["demo-yunxi-daily"].published == 0 and refetched == []


@pytest.mark.slow
def test_each_bad_entry_or_article_is_a_dead_letter_and_the_good_one_arrives(crawled):
    settings, first, _, _ = crawled
    assert first["bad-news"].published == 1
    assert first["bad-news"].dropped == {
        "dead-lettered: bad entry": 1,
        "dead-lettered: http 404": 1,
        "dead-lettered: bad article": 2,
    }
    letters = {
        letter["key"].rsplit("/", 1)[-1]: letter["error"]
        for _, letter in read_topic(settings, settings.topic_dlq)
        if letter["topic"] == "crawl:bad-news"
    }
    assert letters == {
        "bad-rss.xml#entry=2": "bad entry: missing link (entry 2)",
        "9404.html": "http 404",
        "empty.html": "bad article: missing text",
        "nodate.html": "bad article: unparseable published_at",
    }


@pytest.mark.slow
def test_a_reprint_on_another_site_joins_the_original_articles_event(crawled, models_dir):
    from classifiers.enrich import Enricher

    settings, _, _, _ = crawled
    posts = dict(read_topic(settings, settings.topic_raw))
    batch = [
        posts[k]
        for k in ("news:demo-yunxi-daily:1001", "news:demo-yunxi-daily:1002", "news:demo-nanwan-news:5001")
    ]
    enricher = Enricher.load(models_dir)
    first, other, reprint = enricher.enrich_many([validate_raw(dict(p)) for p in batch])
    assert reprint["event_id"] == first["event_id"] != other["event_id"]
    # A fresh classify worker (its memory empty) gives the reprint the same event when it comes alone.
    [alone] = Enricher.load(models_dir).enrich_many([validate_raw(dict(batch[2]))])
    assert alone["event_id"] == first["event_id"]
    assert json.dumps(first["models"])
