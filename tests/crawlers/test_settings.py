"""Crawl policy: what every crawl runs with, and a board's own overrides."""

from __future__ import annotations

import dataclasses

import pytest

from crawlers.settings import ITEM_PIPELINES, board_settings, crawl_settings, pace
from yuqing.settings import Settings


def test_a_crawl_identifies_itself_obeys_robots_throttles_and_retries_429():
    settings = Settings(user_agent="yuqing-test/1.0 (+https://example.gov.cn)", log_level="WARNING")
    policy = crawl_settings(settings)

    assert policy["USER_AGENT"] == "yuqing-test/1.0 (+https://example.gov.cn)"
    assert policy["ROBOTSTXT_OBEY"] is True
    assert policy["AUTOTHROTTLE_ENABLED"] is True and policy["DOWNLOAD_DELAY"] > 0
    assert policy["CONCURRENT_REQUESTS_PER_DOMAIN"] <= 2
    assert 429 in policy["RETRY_HTTP_CODES"] and policy["DOWNLOAD_TIMEOUT"] <= 60
    assert policy["LOG_LEVEL"] == "WARNING"
    assert policy["TELNETCONSOLE_ENABLED"] is False and policy["REMOTE_CONTROL_ENABLED"] is False
    assert policy["YUQING_SETTINGS"] is settings
    assert policy["YUQING_AUTHOR_SALT"] == ""
    assert policy["YUQING_BROKER"] is None  # nothing to publish to unless a broker factory is handed in


def test_the_broker_factory_handed_in_reaches_the_crawl_and_must_be_callable():
    from scrapy.settings import Settings as ScrapySettings

    from crawlers.settings import broker_factory

    def factory():
        raise AssertionError("not called by crawl_settings")

    policy = crawl_settings(Settings(), broker=factory)
    assert policy["YUQING_BROKER"] is factory
    assert broker_factory(ScrapySettings(policy)) is factory
    with pytest.raises(TypeError, match="YUQING_BROKER must be a function"):
        broker_factory(ScrapySettings({"YUQING_BROKER": "embedded"}))


def test_pipelines_run_dead_letter_normalise_dedup_publish_in_that_order():
    # No separate validation step: normalising refuses what it cannot build, publishing checks the contract.
    order = sorted(ITEM_PIPELINES, key=ITEM_PIPELINES.__getitem__)
    assert [name.rsplit(".", 1)[1] for name in order] == [
        "DeadLetterPipeline",
        "NormalisePipeline",
        "DedupPipeline",
        "PublishPipeline",
    ]


def test_crawling_our_own_sites_drops_the_delays_but_still_obeys_robots():
    policy = crawl_settings(Settings(), polite=False)
    assert policy["AUTOTHROTTLE_ENABLED"] is False and policy["DOWNLOAD_DELAY"] == 0
    assert policy["ROBOTSTXT_OBEY"] is True


def test_a_board_overrides_only_what_it_configures(demo_source):
    assert board_settings(dataclasses.replace(demo_source, polite=True)) == {}
    assert board_settings(demo_source) == pace(polite=False)  # the packaged demo board is our own site
    assert board_settings(dataclasses.replace(demo_source, polite=True, obey_robots=False)) == {
        "ROBOTSTXT_OBEY": False
    }


def test_retries_back_off_on_429_and_5xx_and_pages_of_megabytes_are_refused():
    policy = crawl_settings(Settings())
    assert {429, 500, 502, 503, 504} <= set(policy["RETRY_HTTP_CODES"])
    middlewares = policy["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert "crawlers.middlewares.BackoffRetryMiddleware" in middlewares
    assert policy["YUQING_RETRY_BACKOFF_BASE"] > 0 and policy["DOWNLOAD_MAXSIZE"] < 10 * 1024 * 1024
    assert policy["AUTOTHROTTLE_ENABLED"] is True and policy["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2


def test_secrets_come_from_the_caller_and_api_sources_ask_for_json():
    from crawlers.feeds import FeedSource

    policy = crawl_settings(Settings(), secrets={"HOTLINE_TOKEN": "t0ken"})
    assert policy["YUQING_SECRETS"] == {"HOTLINE_TOKEN": "t0ken"}
    api = FeedSource(kind="hotline-api", name="h", display_name="热线", start_url="http://x/api")
    assert board_settings(api)["DEFAULT_REQUEST_HEADERS"]["Accept"] == "application/json"
