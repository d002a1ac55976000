"""Item pipelines, in this order: normalise → dedup → publish (priorities in crawlers/settings.py).

Each class decides one thing. A bad item is dropped with ``DropItem("<short reason>")``; the reason is
counted per board in the crawl's stats (``yuqing/dropped/<reason>``), so keep it free of values.

The crawl is one of the stream's edges: a post is checked against the contract once, as it is
published (:class:`PublishPipeline`), and deduplicated once, before that (:class:`DedupPipeline`).
Normalising refuses only what it cannot build a post from (no id, no time, no text). The broker is not
built here: the composition root hands a factory in as the Scrapy setting ``YUQING_BROKER``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured

from core.china_time import CHINA_TZ
from core.errors import MessageError
from core.messages import encode, validate_raw
from crawlers.board_json import JsonBoardSource
from crawlers.errors import ItemRejected
from crawlers.feeds import FeedSource
from crawlers.items import BoardItem, HotlineItem, NewsItem, WeiboItem
from crawlers.news import NewsSource
from crawlers.normalise import to_raw_post
from crawlers.normalise_feeds import hotline_post, weibo_post
from crawlers.normalise_news import news_post
from crawlers.observe import PUBLISHED_STAT
from crawlers.settings import broker_factory
from crawlers.sources import BoardSource
from crawlers.state import SeenStore, content_fingerprint
from yuqing.settings import Settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from stream.broker import Broker, Producer

logger = logging.getLogger(__name__)

SEEN_FILE = "published.sqlite"
DEFAULT_FLUSH_EVERY = 200


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


def _yuqing_settings(crawler: Crawler) -> Settings | None:
    value = crawler.settings.get("YUQING_SETTINGS")
    if value is not None and not isinstance(value, Settings):
        raise TypeError(f"YUQING_SETTINGS must be a yuqing.settings.Settings, not {type(value).__name__}")
    return value


Source = BoardSource | FeedSource | JsonBoardSource | NewsSource


def to_message(item: Any, source: Source | None, *, salt: str, fetched_at: datetime) -> Any:
    """The posts.raw message of a board, JSON board, news, hotline or Weibo-like item; anything else is
    returned unchanged. Raises :class:`ItemRejected` when the item cannot be a message."""
    if not isinstance(item, BoardItem | HotlineItem | WeiboItem | NewsItem):
        return item
    if isinstance(item, BoardItem) and isinstance(source, BoardSource | JsonBoardSource):
        return to_raw_post(item, source, salt=salt, fetched_at=fetched_at)
    if isinstance(item, NewsItem) and isinstance(source, NewsSource):
        return news_post(item, source, salt=salt, fetched_at=fetched_at)
    if isinstance(item, HotlineItem) and isinstance(source, FeedSource):
        return hotline_post(item, source, salt=salt, fetched_at=fetched_at)
    if isinstance(item, WeiboItem) and isinstance(source, FeedSource):
        return weibo_post(item, source, salt=salt, fetched_at=fetched_at)
    raise RuntimeError(f"NormalisePipeline has no configuration for {type(item).__name__} items")


class NormalisePipeline:
    """Turns a board, JSON board, news, hotline or Weibo-like item into a posts.raw dict: clean text, ISO
    times, masking."""

    def __init__(
        self,
        *,
        salt: str = "",
        source: Source | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.salt = salt
        self.source = source
        self.clock = clock
        self._crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Read the author salt (Scrapy setting ``YUQING_AUTHOR_SALT``) and remember the crawler."""
        pipeline = cls(salt=crawler.settings.get("YUQING_AUTHOR_SALT") or "")
        pipeline._crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        """Take the source's configuration (time formats, labels, region) from the running spider."""
        spider = self._crawler.spider if self._crawler is not None else None
        source = getattr(spider, "source", None)
        if self.source is None and isinstance(
            source, BoardSource | FeedSource | JsonBoardSource | NewsSource
        ):
            self.source = source

    def process_item(self, item: Any) -> Any:
        """Return the message dict; ``DropItem("missing <field>")`` for an item without an id, a title, a
        time or a text, ``DropItem("unparseable published_at")`` if the time does not parse."""
        try:
            return to_message(item, self.source, salt=self.salt, fetched_at=self.clock())
        except ItemRejected as exc:
            raise DropItem(exc.reason) from exc


class DedupPipeline:
    """Drops a post seen earlier in this crawl, or published by an earlier crawl with the same content."""

    def __init__(self, store: SeenStore | None = None) -> None:
        self._store = store
        self._seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Use the crawl-state file under ``Settings.crawl_state_path``; without settings, dedup one crawl."""
        settings = _yuqing_settings(crawler)
        return cls(None if settings is None else SeenStore(settings.crawl_state_path / SEEN_FILE))

    def process_item(self, item: Any) -> Any:
        """Pass a new or changed post on."""
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return item
        post_id: str = item["id"]
        if post_id in self._seen:
            raise DropItem("duplicate in this crawl", log_level="INFO")
        self._seen.add(post_id)
        if self._store is not None and self._store.fingerprint(post_id) == content_fingerprint(item):
            raise DropItem("unchanged since the last crawl", log_level="DEBUG")
        return item

    def close_spider(self) -> None:
        """Close the crawl-state file."""
        if self._store is not None:
            self._store.close()


class PublishPipeline:
    """Sends each post to ``Settings.topic_raw`` keyed by its id; flushes every N posts and at the end.

    Only after a flush (the broker acknowledged) are the posts counted as ``yuqing/published`` and
    remembered as published, so a crash re-publishes rather than loses them.
    """

    def __init__(
        self,
        topic: str,
        producer: Producer,
        *,
        flush_every: int = DEFAULT_FLUSH_EVERY,
        store: SeenStore | None = None,
        stats: StatsCollector | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.topic = topic
        self._producer = producer
        self._flush_every = max(flush_every, 1)
        self._store = store
        self._stats = stats
        self._broker = broker
        self._pending: list[tuple[str, str, str | None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """A producer of the broker ``YUQING_BROKER`` makes; ``NotConfigured`` without it or the settings."""
        settings = _yuqing_settings(crawler)
        factory = broker_factory(crawler.settings)
        if settings is None or factory is None:
            missing = " and ".join(
                name
                for name, value in (("YUQING_SETTINGS", settings), ("YUQING_BROKER", factory))
                if value is None
            )
            raise NotConfigured(f"{missing} not set: there is no broker to publish to")
        broker = factory()
        broker.ensure_topics([settings.topic_raw])
        return cls(
            settings.topic_raw,
            broker.producer(),
            flush_every=crawler.settings.getint("YUQING_FLUSH_EVERY", DEFAULT_FLUSH_EVERY),
            store=SeenStore(settings.crawl_state_path / SEEN_FILE),
            stats=crawler.stats,
            broker=broker,
        )

    def process_item(self, item: Any) -> Any:
        """Check the message against the contract (the crawl's one validation) and queue it; ``DropItem``
        if it is not a valid message."""
        try:
            post = validate_raw(item)
        except MessageError as exc:
            logger.warning("stage=crawl source=%s event=invalid error=%s", item.get("source", "-"), exc)
            raise DropItem(f"invalid message: {exc.field}" if exc.field else "invalid message") from exc
        self._producer.send(self.topic, post["id"], encode(post))
        signature = post.get("raw", {}).get("list_signature")
        self._pending.append((post["id"], content_fingerprint(post), signature))
        if len(self._pending) >= self._flush_every:
            self.flush()
        return post

    def flush(self) -> None:
        """Wait until the broker holds every queued post, then count and remember them."""
        if not self._pending:
            return
        # This blocks the crawl's event loop until the broker answers; batching keeps that rare.
        self._producer.flush()
        done, self._pending = self._pending, []
        if self._store is not None:
            self._store.remember(done)
        if self._stats is not None:
            self._stats.inc_value(PUBLISHED_STAT, len(done))
        logger.info("stage=crawl topic=%s event=flushed count=%d", self.topic, len(done))

    def close_spider(self) -> None:
        """Flush what is queued, then release the producer, the broker and the state file."""
        try:
            self.flush()
        finally:
            self._producer.close()
            if self._broker is not None:
                self._broker.close()
            if self._store is not None:
                self._store.close()
