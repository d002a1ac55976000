"""How a crawl reports itself: one readable log line per item event, and drop reasons in the stats.

Scrapy's default formatter logs a whole item (a full message text) per event; a duty officer reading
the log wants ``stage=crawl source=board channel=... id=... event=...`` on one line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals
from scrapy.logformatter import LogFormatter, LogFormatterResult

from crawlers.items import BoardItem, FailedPage, HotlineItem, NewsItem, WeiboItem
from crawlers.normalise import board_post_id
from crawlers.normalise_feeds import hotline_post_id, weibo_post_id
from crawlers.normalise_news import news_post_id

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

DROPPED_STAT_PREFIX = "yuqing/dropped/"
PUBLISHED_STAT = "yuqing/published"


def _describe(item: Any) -> dict[str, Any]:
    if isinstance(item, BoardItem):
        post = board_post_id(item.channel, item.native_id) or "-"
        return {"source": "board", "channel": item.channel, "id": post, "url": item.url}
    if isinstance(item, HotlineItem):
        post = hotline_post_id(item.channel, item.fields.get("工单编号")) or "-"
        return {"source": "hotline", "channel": item.channel, "id": post, "url": item.origin}
    if isinstance(item, NewsItem):
        post = news_post_id(item.channel, item.native_id) or "-"
        return {"source": "news", "channel": item.channel, "id": post, "url": item.url}
    if isinstance(item, WeiboItem):
        post = weibo_post_id(item.channel, item.mblog) or "-"
        return {"source": "weibo", "channel": item.channel, "id": post, "url": item.url}
    if isinstance(item, FailedPage):
        return {"source": "-", "channel": item.channel, "id": "-", "url": item.url}
    if isinstance(item, dict):
        return {
            "source": item.get("source", "-"),
            "channel": item.get("channel", "-"),
            "id": item.get("id", "-"),
            "url": item.get("url", "-"),
        }
    return {"source": "-", "channel": "-", "id": "-", "url": "-"}


class BoardLogFormatter(LogFormatter):
    """Logs each scraped, dropped or failed item as one ``key=value`` line (never the item's text)."""

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        """A post handed to the broker (it is durable after the next flush line)."""
        return {
            "level": logging.INFO,
            "msg": "stage=crawl source=%(source)s channel=%(channel)s id=%(id)s event=queued",
            "args": _describe(item),
        }

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        """A dropped item with its reason, at the level the pipeline chose (WARNING by default)."""
        settings = spider.crawler.settings
        level: Any = getattr(exception, "log_level", None) or settings["DEFAULT_DROPITEM_LOG_LEVEL"]
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        return {
            "level": int(level),
            "msg": "stage=crawl source=%(source)s channel=%(channel)s id=%(id)s event=dropped "
            "reason=%(reason)s url=%(url)s",
            "args": {**_describe(item), "reason": str(exception)},
        }

    def item_error(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        """An item a pipeline failed on (the traceback follows)."""
        return {
            "level": logging.ERROR,
            "msg": "stage=crawl source=%(source)s channel=%(channel)s id=%(id)s event=error url=%(url)s",
            "args": _describe(item),
        }


class DropReasonStats:
    """Counts dropped items per reason as ``yuqing/dropped/<reason>`` in the crawl's stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Connect to the crawler's ``item_dropped`` signal."""
        return cls(crawler)

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        """Count one drop under its reason."""
        self.crawler.stats.inc_value(DROPPED_STAT_PREFIX + str(exception))
