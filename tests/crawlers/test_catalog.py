"""One sources file, every kind: loaded in its order, names unique across kinds, scheduled, described."""

from __future__ import annotations

import pytest

from crawlers.board_json import JsonBoardSource
from crawlers.catalog import describe_sources, kind_of, load_all
from crawlers.errors import SourceConfigError
from crawlers.feeds import FeedSource
from crawlers.news import NewsSource
from crawlers.schedule import source_schedule
from crawlers.sources import BoardSource
from crawlers.state import SeenStore, count_published, read_crawls
from demo_site import write_demo_sources
from yuqing.settings import Settings

NEWS = "- {kind: news, name: paper, display_name: 日报, feed_url: 'http://s/rss.xml', every: 600}\n"
JSON_BOARD = (
    "- kind: board-json\n  name: wz\n  display_name: 问政\n"
    "  list: {url: 'http://s/api', records: data, id: id}\n"
    "  fields: {title: t, published_at: at, text: c}\n"
)


def test_every_kind_loads_from_one_file_in_its_order(tmp_path):
    path = write_demo_sources(tmp_path / "s.yaml", "http://h:1", feeds=True, json_board=True, news=True)
    sources = load_all(path)
    assert [kind_of(s) for s in sources] == [
        "board", "hotline-api", "hotline-inbox", "weibo", "board-json", "news", "news",
    ]  # fmt: skip
    assert isinstance(sources[0], BoardSource) and isinstance(sources[1], FeedSource)
    assert isinstance(sources[4], JsonBoardSource) and isinstance(sources[5], NewsSource)
    periods = source_schedule(Settings(home=tmp_path, sources_file=path), 60)
    assert periods["demo-wenzheng"] == 60 and set(periods) == {s.name for s in sources}


def test_a_name_is_unique_across_kinds_and_an_unknown_kind_is_named(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(NEWS + JSON_BOARD, encoding="utf-8")
    news, board = load_all(path)
    assert news.every == 600 and isinstance(board, JsonBoardSource) and board.records == "data"
    path.write_text(NEWS + NEWS.replace("日报", "晚报"), encoding="utf-8")
    with pytest.raises(SourceConfigError, match="another source has this name"):
        load_all(path)
    path.write_text("- {kind: forum, name: f, display_name: 论坛}\n", encoding="utf-8")
    with pytest.raises(
        SourceConfigError, match="unknown kind 'forum'; expected one of board, board-json, news"
    ):
        load_all(path)


def test_describe_sources_reads_the_crawl_log_and_published_ids_without_writing(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(NEWS + JSON_BOARD, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", sources_file=path, crawl_every_s=90)
    fresh = describe_sources(settings)
    assert [(i.name, i.items, i.status, i.schedule) for i in fresh] == [
        ("paper", 0, "从未抓取", "每 600 秒"),
        ("wz", 0, "从未抓取", "每轮（90 秒）"),
    ]
    assert not settings.crawl_state_path.exists()  # reading never creates the state
    store = SeenStore(settings.crawl_state_path / "published.sqlite")
    store.remember(
        [("news:paper:1", "f1"), ("news:paper:2", "f2"), ("news:papers:3", "f3"), ("board:wz:9", "f")]
    )
    store.record_crawl(
        {"source": "paper", "kind": "news", "started": "2024-06-01T09:00:00+08:00",
         "finished": "2024-06-01T09:01:00+08:00", "finish_reason": "finished", "published": 2, "pages": 3,
         "errors": 0, "dead_letters": 1, "dropped": {"dead-lettered: http 404": 1}}
    )  # fmt: skip
    store.close()
    paper, board = describe_sources(settings)
    assert (paper.items, paper.last_published, paper.last_dead_letters, paper.status) == (2, 2, 1, "正常")
    assert (
        paper.last_dropped == {"dead-lettered: http 404": 1}
        and paper.as_row()["上次抓取"] == "2024-06-01 09:01"
    )
    assert board.items == 1 and board.kind_label == "JSON 留言板"
    assert read_crawls(tmp_path / "absent.sqlite") == {}
    assert count_published(tmp_path / "absent.sqlite", ["news:paper:"]) == {"news:paper:": 0}
