"""Item pipelines one at a time: normalised messages and what cannot be one, dedup, publishing."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from core.china_time import CHINA_TZ
from core.masking import pseudonym
from core.messages import validate_raw
from crawlers.items import BoardItem
from crawlers.pipelines import DedupPipeline, NormalisePipeline, PublishPipeline
from crawlers.spiders.board import BoardSpider
from crawlers.state import SeenStore, content_fingerprint
from stream.embedded import EmbeddedBroker

FETCHED = datetime(2024, 6, 3, 9, 30, 5, tzinfo=CHINA_TZ)
URL = "http://127.0.0.1:8600/liuyan/detail/10016.html"


def board_item(**changes: object) -> BoardItem:
    """A message as the spider reads it off a page, unanswered, with a phone and an ID number."""
    item = BoardItem(
        channel="demo-liuyan",
        url=URL,
        native_id=" 10016 ",
        title="外卖站点拖欠骑手工资　两个月",
        published_at="2024-05-30 05:00:00",
        author="杨小兵",
        text="　　我的联系电话是13800138000，\n\n身份证号11010519491231002X。 ",
        status="未回复",
    )
    return dataclasses.replace(item, **changes)


def normalise(source, item, salt="pepper"):
    return NormalisePipeline(salt=salt, source=source, clock=lambda: FETCHED).process_item(item)


def test_a_complete_item_becomes_a_post_the_contract_accepts_as_it_is(demo_source):
    post = normalise(demo_source, board_item())
    assert validate_raw(json.loads(json.dumps(post))) == post


@pytest.mark.parametrize("field", ["native_id", "title", "published_at", "text"])
def test_an_item_without_a_required_field_is_dropped_naming_the_field(demo_source, field):
    with pytest.raises(DropItem, match=f"^missing {field}$"):
        normalise(demo_source, board_item(**{field: " \u3000 "}))


def test_normalise_builds_the_posts_raw_message_with_personal_data_masked(demo_source):
    post = normalise(demo_source, board_item())

    assert post == {
        "schema": 1,
        "id": "board:demo-liuyan:10016",
        "source": "board",
        "channel": "demo-liuyan",
        "url": URL,
        "title": "外卖站点拖欠骑手工资 两个月",
        "text": "我的联系电话是138****8000，\n身份证号110105********002X。",
        "published_at": "2024-05-30T05:00:00+08:00",
        "fetched_at": "2024-06-03T09:30:05+08:00",
        "author": {"id_hash": pseudonym("杨小兵", scope="demo-liuyan", key="pepper"), "name": "杨**"},
        "region": "云溪市",
        "reply": {"status": "pending", "replied_at": None, "unit": None, "text": None},
        "raw": {"board": "云溪市人民政府 网上留言（演示）", "status_text": "未回复"},
    }


def test_an_answered_message_carries_the_reply_with_numbers_masked(demo_source):
    item = board_item(
        status="已回复",
        reply_unit=" 南湾区人力资源和社会保障局 ",
        replied_at="2024-05-31 10:15:00",
        reply_text="　　您好！请致电13900001111联系劳动监察大队。\n　　感谢您的支持！",
    )
    assert normalise(demo_source, item)["reply"] == {
        "status": "replied",
        "replied_at": "2024-05-31T10:15:00+08:00",
        "unit": "南湾区人力资源和社会保障局",
        "text": "您好！请致电139****1111联系劳动监察大队。\n感谢您的支持！",
    }


def test_a_replied_status_label_alone_marks_the_message_replied(demo_source):
    reply = normalise(demo_source, board_item(status="【已办结】"))["reply"]
    assert reply == {"status": "replied", "replied_at": None, "unit": None, "text": None}


def test_an_unreadable_reply_time_is_kept_as_text_not_guessed(demo_source):
    post = normalise(demo_source, board_item(reply_text="已处理。", replied_at="上周"))
    assert post["reply"]["replied_at"] is None
    assert post["raw"]["replied_at_text"] == "上周"


def test_an_unparseable_publication_time_is_dropped(demo_source):
    with pytest.raises(DropItem, match=r"^unparseable published_at$"):
        normalise(demo_source, board_item(published_at="2024/05/30"))


def test_normalise_takes_the_salt_from_scrapy_settings_and_the_board_from_the_spider(demo_source):
    crawler = get_crawler(BoardSpider, {"YUQING_AUTHOR_SALT": "deployment-salt"})
    crawler.spider = BoardSpider(demo_source)
    pipeline = NormalisePipeline.from_crawler(crawler)
    pipeline.open_spider()

    post = pipeline.process_item(board_item())
    assert post["author"]["id_hash"] == pseudonym("杨小兵", scope="demo-liuyan", key="deployment-salt")


def test_a_post_seen_twice_in_one_crawl_is_dropped(demo_source):
    post = normalise(demo_source, board_item())
    pipeline = DedupPipeline()
    assert pipeline.process_item(post) is post
    with pytest.raises(DropItem, match=r"^duplicate in this crawl$"):
        pipeline.process_item(dict(post))


def test_an_unchanged_post_is_not_published_again_but_a_changed_one_is(demo_source, tmp_path):
    post = normalise(demo_source, board_item())
    store = SeenStore(tmp_path / "published.sqlite")
    store.remember([(post["id"], content_fingerprint(post))])

    with pytest.raises(DropItem, match=r"^unchanged since the last crawl$"):
        DedupPipeline(store).process_item({**post, "fetched_at": "2024-06-04T00:00:00+08:00"})
    answered = normalise(demo_source, board_item(status="已回复", reply_text="已督促站点发放工资。"))
    assert DedupPipeline(store).process_item(answered) is answered
    store.close()


class FakeProducer:
    """Records what a pipeline sends and when it flushes."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, str | None, bytes]] = []
        self.flushed: list[list[str | None]] = []
        self.closed = False

    def send(self, topic: str, key: str | None, value: bytes) -> None:
        self.queued.append((topic, key, value))

    def flush(self) -> None:
        if self.queued:
            self.flushed.append([key for _, key, _ in self.queued])
        self.queued = []

    def close(self) -> None:
        self.flush()
        self.closed = True


def test_publishing_without_yuqing_settings_is_not_configured():
    with pytest.raises(NotConfigured, match="YUQING_SETTINGS"):
        PublishPipeline.from_crawler(get_crawler(BoardSpider))


def test_publishing_without_a_broker_handed_in_is_not_configured(embedded_settings):
    # The crawlers never build a broker from settings: without YUQING_BROKER there is none.
    with pytest.raises(NotConfigured, match=r"^YUQING_BROKER not set"):
        PublishPipeline.from_crawler(get_crawler(BoardSpider, {"YUQING_SETTINGS": embedded_settings}))


def test_posts_are_sent_keyed_by_id_flushed_every_n_and_remembered_after_the_flush(demo_source, tmp_path):
    posts = [normalise(demo_source, board_item(native_id=str(n))) for n in (1, 2, 3)]
    producer, store = FakeProducer(), SeenStore(tmp_path / "published.sqlite")
    stats = get_crawler(BoardSpider).stats
    pipeline = PublishPipeline("posts.raw", producer, flush_every=2, store=store, stats=stats)

    for post in posts:
        assert pipeline.process_item(post) is post
    assert producer.flushed == [["board:demo-liuyan:1", "board:demo-liuyan:2"]]
    assert store.fingerprint("board:demo-liuyan:3") is None  # sent, not yet acknowledged
    pipeline.close_spider()

    assert producer.flushed[-1] == ["board:demo-liuyan:3"] and producer.closed
    assert stats.get_value("yuqing/published") == 3
    fresh = SeenStore(tmp_path / "published.sqlite")
    assert fresh.fingerprint("board:demo-liuyan:3") == content_fingerprint(posts[2])
    fresh.close()


def test_a_message_failing_the_schema_is_dropped_and_never_sent(demo_source):
    producer = FakeProducer()
    pipeline = PublishPipeline("posts.raw", producer)
    post = {**normalise(demo_source, board_item()), "published_at": "last week"}

    with pytest.raises(DropItem, match=r"^invalid message: published_at$"):
        pipeline.process_item(post)
    pipeline.close_spider()
    assert producer.flushed == []


def test_published_posts_arrive_in_the_embedded_broker(demo_source, embedded_settings):
    made: list[EmbeddedBroker] = []

    def factory() -> EmbeddedBroker:
        made.append(EmbeddedBroker(embedded_settings.broker_path))
        return made[-1]

    crawler = get_crawler(BoardSpider, {"YUQING_SETTINGS": embedded_settings, "YUQING_BROKER": factory})
    pipeline = PublishPipeline.from_crawler(crawler)
    post = normalise(demo_source, board_item())
    pipeline.process_item(post)
    pipeline.close_spider()
    assert len(made) == 1  # the pipeline's broker came from the factory handed in

    broker = EmbeddedBroker(embedded_settings.broker_path)
    [record] = broker.read(embedded_settings.topic_raw, 10)
    broker.close()
    assert record.key == "board:demo-liuyan:10016"
    assert json.loads(record.value) == post
