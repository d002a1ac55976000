"""Moves each hotline export file aside once its crawl has finished, so it is imported exactly once.

Imported files go to ``<inbox>/imported/``, unusable ones (empty, missing columns, unreadable) to
``<inbox>/rejected/``; both keep their name behind a timestamp. A crawl that did not finish (killed,
closed early) moves nothing, so its files are read again next time and dedup drops what was published.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from core.china_time import CHINA_TZ

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def move_aside(path: Path, outcome: str, *, now: datetime) -> Path:
    """Move ``path`` into ``<its folder>/<outcome>/`` under a timestamped name; return the new path."""
    folder = path.parent / outcome
    folder.mkdir(exist_ok=True)
    target = folder / f"{now:%Y%m%d-%H%M%S}-{path.name}"
    path.replace(target)
    return target


class InboxMover:
    """On a finished inbox crawl, moves every file the spider recorded in its ``outcomes``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Connect to ``spider_closed`` (sent after the pipelines flushed to the broker)."""
        return cls(crawler)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Move the files aside when the crawl finished; otherwise leave them to be read again."""
        outcomes: dict[Path, str] | Any = getattr(spider, "outcomes", None)
        if not isinstance(outcomes, dict) or reason != "finished":
            return
        now = datetime.now(CHINA_TZ)
        for path, outcome in outcomes.items():
            try:
                target = move_aside(path, outcome, now=now)
            except OSError as exc:
                logger.error("stage=crawl source=hotline event=move-failed file=%s error=%s", path, exc)
                continue
            logger.info("stage=crawl source=hotline event=%s file=%s moved_to=%s", outcome, path.name, target)
