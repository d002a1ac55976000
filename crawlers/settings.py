"""Crawl policy: every Scrapy setting the crawlers run with, built from the process's one Settings object.

Politeness lives here and nowhere else: identify ourselves, obey robots.txt, throttle to the server's
pace, retry what is worth retrying (429 included), and give up on slow pages. ``polite=False`` (or a
board's ``polite: false``) is for sites we serve ourselves (the demo board, test servers): no delays,
more parallel requests, robots.txt still obeyed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from crawlers.board_json import JsonBoardSource
from crawlers.feeds import FeedSource
from crawlers.news import NewsSource
from crawlers.sources import BoardSource
from stream.broker import BrokerFactory
from yuqing.settings import Settings

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

# The Scrapy setting that carries the broker factory the composition root hands in (see run_crawl).
BROKER_SETTING = "YUQING_BROKER"
ITEM_PIPELINES = {
    "crawlers.deadletter.DeadLetterPipeline": 50,
    "crawlers.pipelines.NormalisePipeline": 200,
    "crawlers.pipelines.DedupPipeline": 300,
    "crawlers.pipelines.PublishPipeline": 400,
}
# Request order runs low → high, response order high → low: scope is checked first (before Scrapy's
# offsite check at 50 and robots.txt at 100, so another host is never contacted); secrets go on after the
# default headers; a response is decompressed (590) before its charset is checked (580) and before a login
# page is spotted.
DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.ScopeMiddleware": 40,
    "crawlers.middlewares.SkipUnchangedMiddleware": 120,
    "crawlers.middlewares.SecretsMiddleware": 450,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.BlockDetectionMiddleware": 570,
    "crawlers.middlewares.CharsetRepairMiddleware": 580,
}


def crawl_settings(
    settings: Settings,
    *,
    polite: bool = True,
    secrets: Mapping[str, str] | None = None,
    broker: BrokerFactory | None = None,
) -> dict[str, Any]:
    """The Scrapy settings of a crawl publishing to the broker ``broker`` makes (``YUQING_BROKER``).

    Without a broker factory nothing is published (the publishing pipeline is not configured).
    ``YUQING_AUTHOR_SALT`` is ``Settings.author_salt``, the fixed per-deployment salt of author
    pseudonyms (a secret from the environment). An empty salt still gives stable pseudonyms, only ones
    an attacker with a list of names could recompute.
    """
    policy: dict[str, Any] = {
        "BOT_NAME": "yuqing",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": True,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9",
        },
        # Boards are public pages: no session is needed, and no cookie should follow us between sites.
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "DOWNLOAD_TIMEOUT": 30,
        # A message page or API page is tens of kilobytes; a page of megabytes is not one (and a 10 MB
        # page would cost a parse of seconds): it is cancelled, logged and dead-lettered.
        "DOWNLOAD_MAXSIZE": 4 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 1024 * 1024,
        "REDIRECT_MAX_TIMES": 5,  # a redirect loop ends quickly in one dead letter
        "YUQING_RETRY_BACKOFF_BASE": 1.0,  # seconds before the first retry, doubled for each next one
        "YUQING_RETRY_BACKOFF_MAX": 60.0,
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "LOG_LEVEL": settings.log_level,
        "LOG_FORMATTER": "crawlers.observe.BoardLogFormatter",
        "STATS_DUMP": False,  # the runner logs one summary line per board instead of a multi-line dump
        "EXTENSIONS": {"crawlers.observe.DropReasonStats": 500, "crawlers.inbox.InboxMover": 510},
        # Neither a telnet console nor Scrapy 2.19's code-executing RemoteControl HTTP server belongs in a
        # government deployment; RemoteControl would also write job files into the user's profile.
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        # The asyncio reactor is Scrapy's default and what AsyncCrawlerProcess requires; set it explicitly
        # so a project-level override cannot swap it. (REQUEST_FINGERPRINTER_IMPLEMENTATION is gone since
        # Scrapy 2.12: the "2.7" fingerprinter is the only one, so it is not set.)
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback's output (default 100); our
        # callbacks yield one item or a page of requests, and 4 measured ~25% less CPU per item here.
        "CONCURRENT_ITEMS": 4,
        "FEED_EXPORT_ENCODING": "utf-8",  # the startproject template's future-proof value
        "ITEM_PIPELINES": dict(ITEM_PIPELINES),
        "YUQING_SETTINGS": settings,
        BROKER_SETTING: broker,
        "YUQING_AUTHOR_SALT": settings.author_salt,
        "YUQING_FLUSH_EVERY": 200,
        "YUQING_SECRETS": dict(secrets or {}),
    }
    policy.update(pace(polite=polite))
    return policy


def broker_factory(scrapy_settings: BaseSettings) -> BrokerFactory | None:
    """The broker factory a crawl was handed (``YUQING_BROKER`` of a crawler's Scrapy settings), or None."""
    factory = scrapy_settings.get(BROKER_SETTING)
    if factory is not None and not callable(factory):
        raise TypeError(
            f"{BROKER_SETTING} must be a function returning a broker, not {type(factory).__name__}"
        )
    return cast("BrokerFactory | None", factory)


def pace(*, polite: bool) -> dict[str, Any]:
    """How fast to crawl: throttled to the server for other people's sites, flat out for our own.

    :func:`board_settings` applies ``pace(polite=False)`` to a board configured ``polite: false``.
    """
    if polite:
        return {
            "CONCURRENT_REQUESTS": 16,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
            "DOWNLOAD_DELAY": 0.5,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": 1.0,
            "AUTOTHROTTLE_MAX_DELAY": 30.0,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        }
    return {
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
    }


def board_settings(source: BoardSource | FeedSource | JsonBoardSource | NewsSource) -> dict[str, Any]:
    """One source's own policy from sources.yaml, applied over the process-wide policy for its crawler."""
    overrides: dict[str, Any] = {}
    if source.obey_robots is not None:
        overrides["ROBOTSTXT_OBEY"] = source.obey_robots
    if not source.polite:
        overrides.update(pace(polite=False))
    if isinstance(source, JsonBoardSource) or (
        isinstance(source, FeedSource) and source.kind != "hotline-inbox"
    ):
        overrides["DEFAULT_REQUEST_HEADERS"] = {
            "Accept": "application/json",
            "Accept-Language": "zh-CN,zh;q=0.9",
        }
    return overrides


SECRET_PREFIX = "YUQING_SECRET_"  # noqa: S105 - the variable-name prefix, not a secret


def secrets_from(environ: Mapping[str, str]) -> dict[str, str]:
    """The crawl secrets (tokens, cookies) in ``environ``: ``YUQING_SECRET_<NAME>`` → ``{NAME: value}``.

    Entry points pass ``os.environ``; a source names the secret it needs in sources.yaml.
    """
    return {
        key.removeprefix(SECRET_PREFIX): value
        for key, value in environ.items()
        if key.startswith(SECRET_PREFIX)
    }
