"""Run every configured board once in this process and report what happened.

Scrapy runs on a Twisted reactor, and a reactor cannot be restarted: call :func:`run_crawl` at most once
per process. A scheduler that crawls every minute starts ``yuqing crawl`` each time (or a
``multiprocessing`` child with the spawn context); tests do the same. The caller hands in the broker to
publish to, as a factory (:func:`yuqing.wiring.crawl_once` does, from settings).
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scrapy import Spider
from scrapy.crawler import AsyncCrawlerProcess, Crawler

from core.china_time import CHINA_TZ
from crawlers.alerts import paused_until
from crawlers.catalog import AnySource, kind_of, load_all
from crawlers.feeds import FeedSource
from crawlers.observe import DROPPED_STAT_PREFIX, PUBLISHED_STAT
from crawlers.pipelines import SEEN_FILE
from crawlers.settings import board_settings, crawl_settings
from crawlers.sources import PACKAGED_SOURCES
from crawlers.spiders.board import BoardSpider
from crawlers.spiders.board_json import JsonBoardSpider
from crawlers.spiders.hotline import HotlineApiSpider, HotlineInboxSpider
from crawlers.spiders.news import NewsSpider
from crawlers.spiders.weibo import WeiboSpider
from crawlers.state import SeenStore
from stream.broker import BrokerFactory
from yuqing.settings import Settings

# The next crawl of an API source asks from a little before the last one started: clocks differ.
WATERMARK_OVERLAP = timedelta(minutes=10)
SPIDERS: dict[str, type[Spider]] = {
    "board": BoardSpider,
    "board-json": JsonBoardSpider,
    "news": NewsSpider,
    "hotline-api": HotlineApiSpider,
    "hotline-inbox": HotlineInboxSpider,
    "weibo": WeiboSpider,
}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BoardStats:
    """One board's crawl: posts published (acknowledged by the broker), drops by reason, pages fetched."""

    board: str
    published: int
    dropped: Mapping[str, int]
    pages: int
    errors: int
    finish_reason: str
    kind: str = "board"
    skipped_unchanged: int = 0
    elapsed_s: float = 0.0  # from the spider's opening to its closing (Scrapy's elapsed_time_seconds)

    @property
    def failed(self) -> bool:
        """Whether the crawl could not start (bad broker settings, an unreachable broker, ...)."""
        return self.finish_reason.startswith("failed")

    @property
    def dead_letters(self) -> int:
        """Pages and records sent to the dead letters (each counted under its reason in ``dropped``)."""
        return sum(n for reason, n in self.dropped.items() if reason.startswith("dead-lettered"))


@dataclass(frozen=True)
class CrawlStats:
    """The counts of one :func:`run_crawl`, per board and in total."""

    boards: tuple[BoardStats, ...] = field(default_factory=tuple)

    @property
    def published(self) -> int:
        """Posts published by every board."""
        return sum(board.published for board in self.boards)

    @property
    def dropped(self) -> dict[str, int]:
        """Dropped items by reason, over every board."""
        total: Counter[str] = Counter()
        for board in self.boards:
            total.update(board.dropped)
        return dict(total)

    @property
    def pages(self) -> int:
        """Pages fetched (list and detail pages; robots.txt not counted)."""
        return sum(board.pages for board in self.boards)

    @property
    def errors(self) -> int:
        """Errors logged while crawling."""
        return sum(board.errors for board in self.boards)

    @property
    def failed(self) -> list[str]:
        """Names of the boards whose crawl could not start."""
        return [board.board for board in self.boards if board.failed]

    def as_dict(self) -> dict[str, Any]:
        """Totals and per-board counts as plain JSON-ready values (for ``yuqing crawl``'s output)."""
        return {
            "published": self.published,
            "dropped": self.dropped,
            "pages": self.pages,
            "errors": self.errors,
            "failed": self.failed,
            "boards": [
                {**dataclasses.asdict(board), "dropped": dict(board.dropped)} for board in self.boards
            ],
        }


def run_crawl(
    settings: Settings,
    *,
    broker: BrokerFactory,
    sources: Sequence[AnySource] | None = None,
    feeds: Sequence[FeedSource] | None = None,
    polite: bool = True,
    only: Collection[str] | None = None,
    secrets: Mapping[str, str] | None = None,
    extra_settings: Mapping[str, Any] | None = None,
) -> CrawlStats:
    """Crawl each source once and publish its posts to ``settings.topic_raw``; once per process.

    ``broker`` makes the broker the pipelines publish to and dead-letter through (each crawler's
    pipelines call it and close what it returns); it travels to them as the Scrapy setting
    ``YUQING_BROKER``, so it must survive a deep copy (a function or a ``functools.partial`` does).

    Sources of every kind (boards, JSON boards, news, hotline API and inbox, Weibo-like) default to
    ``settings.sources_file``, else the packaged ``crawlers/sources.yaml``; given ``sources`` alone, only
    those run (``feeds`` adds more, for callers that keep boards and feeds apart). ``only`` names the
    sources to run (a scheduler's due ones). ``secrets`` maps secret names to values (tokens, cookies)
    and comes from the entry point's environment. ``polite=False`` drops the delays for every source; a
    source configured ``polite: false`` drops them for itself. Either is only for sites we serve ourselves.
    A source paused after a login or captcha page is skipped until its pause ends. ``extra_settings``
    override the crawl policy (``{"YUQING_INCREMENTAL": False}`` fetches every detail page again).
    """
    path = settings.sources_file or PACKAGED_SOURCES
    if sources is None:
        loaded = load_all(path)
        sources = [source for source in loaded if not isinstance(source, FeedSource)]
        if feeds is None:
            feeds = [source for source in loaded if isinstance(source, FeedSource)]
    everything: list[AnySource] = [*sources, *(feeds or [])]
    if only is not None:
        everything = [source for source in everything if source.name in only]
    policy = crawl_settings(settings, polite=polite, secrets=secrets, broker=broker)
    policy.update(extra_settings or {})
    # An entry point that configured logging itself keeps its handlers; otherwise Scrapy installs one.
    policy["LOG_INSTALL_ROOT_HANDLER"] = not logging.getLogger().handlers
    process = AsyncCrawlerProcess(policy)
    started: list[tuple[AnySource, Crawler, Any]] = []
    paused: list[BoardStats] = []
    store = SeenStore(settings.crawl_state_path / SEEN_FILE)
    began = datetime.now(CHINA_TZ)
    try:
        for source in everything:
            until = paused_until(settings.crawl_state_path, source.name, now=began)
            kind = kind_of(source)
            if until is not None:
                logger.warning(
                    "stage=crawl channel=%s event=skipped reason=paused until=%s", source.name, until
                )
                paused.append(BoardStats(source.name, 0, {}, 0, 0, f"paused until {until.isoformat()}", kind))
                continue
            crawler = process.create_crawler(SPIDERS[kind])
            # A source's own policy outranks the process-wide one (the runner's settings are "project").
            crawler.settings.setdict(board_settings(source), priority="spider")
            kwargs: dict[str, Any] = {"source": source}
            if kind in ("hotline-api", "weibo"):
                kwargs["since"] = store.watermark(source.name)
            logger.info("stage=crawl source=%s channel=%s event=start", kind, source.name)
            started.append((source, crawler, process.crawl(crawler, **kwargs)))
        # Signal handlers can only be installed from the main thread.
        process.start(install_signal_handlers=threading.current_thread() is threading.main_thread())
        boards = tuple(_board_stats(source, crawler, task) for source, crawler, task in started)
        finished = datetime.now(CHINA_TZ)
        for board in boards:
            # Only a crawl that finished moves the watermark: a killed or failed one is read again.
            if board.kind in ("hotline-api", "weibo") and board.finish_reason == "finished":
                store.set_watermark(board.board, (began - WATERMARK_OVERLAP).isoformat(timespec="seconds"))
            _remember(store, board, began, finished)
    finally:
        store.close()
    for board in boards:
        logger.info(
            "stage=crawl source=%s channel=%s event=finished reason=%s pages=%d published=%d dropped=%d "
            "errors=%d skipped_unchanged=%d",
            board.kind,
            board.board,
            board.finish_reason,
            board.pages,
            board.published,
            sum(board.dropped.values()),
            board.errors,
            board.skipped_unchanged,
        )
    return CrawlStats(boards + tuple(paused))


def _remember(store: SeenStore, board: BoardStats, began: datetime, finished: datetime) -> None:
    """Record the source's latest crawl for the 系统管理 page (:func:`crawlers.catalog.describe_sources`)."""
    try:
        store.record_crawl(
            {
                "source": board.board,
                "kind": board.kind,
                "started": began.isoformat(timespec="seconds"),
                "finished": finished.isoformat(timespec="seconds"),
                "finish_reason": board.finish_reason,
                "published": board.published,
                "pages": board.pages,
                "errors": board.errors,
                "dead_letters": board.dead_letters,
                "dropped": board.dropped,
            }
        )
    except sqlite3.Error as exc:  # the crawl itself is done and published; only its record is lost
        logger.error("stage=crawl channel=%s event=crawl-log-failed error=%s", board.board, exc)


def _board_stats(source: AnySource, crawler: Crawler, task: Any) -> BoardStats:
    failure = task.exception() if task.done() and not task.cancelled() else None
    try:
        stats: dict[str, Any] = dict(crawler.stats.get_stats())
    except AttributeError:  # the crawler failed before Scrapy created its stats collector
        stats = {}
    if failure is not None:
        logger.error(
            "stage=crawl channel=%s event=failed error=%s",
            source.name,
            failure,
            exc_info=failure,
        )
    reason = str(stats.get("finish_reason", "unknown"))
    if failure is not None:
        reason = f"failed to start: {failure}"
    return BoardStats(
        board=source.name,
        published=int(stats.get(PUBLISHED_STAT, 0)),
        dropped={
            key.removeprefix(DROPPED_STAT_PREFIX): int(value)
            for key, value in stats.items()
            if key.startswith(DROPPED_STAT_PREFIX)
        },
        pages=int(stats.get("response_received_count", 0)) - int(stats.get("robotstxt/response_count", 0)),
        errors=int(stats.get("log_count/ERROR", 0)),
        finish_reason=reason,
        kind=kind_of(source),
        skipped_unchanged=int(stats.get("yuqing/skipped_unchanged", 0)),
        elapsed_s=float(stats.get("elapsed_time_seconds", 0.0)),
    )
