"""The first pipeline: a :class:`FailedPage` (404, invalid JSON, an unusable export file) goes to posts.dlq.

A page that failed is not a post, so it never reaches the other pipelines: it is dead-lettered with its
reason (one log line, a posts.dlq entry, a ``yuqing/dropped/<reason>`` count) and the crawl goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from core.china_time import CHINA_TZ
from core.messages import dead_letter, encode
from crawlers.items import FailedPage
from crawlers.settings import broker_factory
from yuqing.settings import Settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from stream.broker import Broker, Producer

logger = logging.getLogger(__name__)
STAGE = "crawl"


class DeadLetterPipeline:
    """Sends each :class:`FailedPage` to ``Settings.topic_dlq`` and drops it with its reason."""

    def __init__(
        self, topic: str | None = None, producer: Producer | None = None, broker: Broker | None = None
    ):
        self.topic = topic
        self._producer = producer
        self._broker = broker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Without ``YUQING_SETTINGS`` and ``YUQING_BROKER`` (saved-page tests) failed pages are only
        logged and dropped."""
        settings = crawler.settings.get("YUQING_SETTINGS")
        factory = broker_factory(crawler.settings)
        if not isinstance(settings, Settings) or factory is None:
            return cls()
        broker = factory()
        broker.ensure_topics([settings.topic_dlq])
        return cls(settings.topic_dlq, broker.producer(), broker)

    def process_item(self, item: Any) -> Any:
        """Dead-letter a failed page; pass anything else on."""
        if not isinstance(item, FailedPage):
            return item
        logger.warning(
            "stage=crawl channel=%s event=dead-letter reason=%s url=%s", item.channel, item.reason, item.url
        )
        if self._producer is not None and self.topic is not None:
            letter = dead_letter(
                stage=STAGE,
                error=item.reason,
                topic=f"crawl:{item.channel}",  # not a broker topic: the source the page came from
                partition=-1,
                offset=-1,
                key=item.url,
                payload=item.excerpt.encode("utf-8"),
                failed_at=datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
            )
            self._producer.send(self.topic, item.url, encode(letter))
        # The warning above is the one readable line; the drop itself is counted, not logged again.
        raise DropItem(f"dead-lettered: {_reason_key(item.reason)}", log_level="DEBUG")

    def close_spider(self) -> None:
        """Make the dead letters durable and release the producer."""
        if self._producer is not None:
            try:
                self._producer.flush()
            finally:
                self._producer.close()
                if self._broker is not None:
                    self._broker.close()


def _reason_key(reason: str) -> str:
    # Stats count drops per reason: keep the kind of failure, not its variable detail.
    return reason.split(":", 1)[0].strip() if not reason.startswith("ignored") else reason[:60]
