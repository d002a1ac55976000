"""Run ``run_crawl`` in a spawned child process (a Twisted reactor cannot restart) and read the broker."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from crawlers.runner import CrawlStats
from stream.embedded import EmbeddedBroker
from yuqing.settings import Settings

# Tests wait a tenth of a second before a retry, not a second; and give up after one retry.
FAST_RETRIES = {"YUQING_RETRY_BACKOFF_BASE": 0.1, "RETRY_TIMES": 1}


def _child(settings: Settings, kwargs: dict[str, Any]) -> CrawlStats:
    import warnings

    warnings.simplefilter("error")  # our use of Scrapy must not trigger any deprecation warning
    from yuqing.wiring import crawl_once  # run_crawl with the broker the settings configure

    return crawl_once(settings, **kwargs)


def crawl_in_child(settings: Settings, **kwargs: Any) -> CrawlStats:
    """``run_crawl(settings, **kwargs)`` in a fresh interpreter; returns its stats."""
    kwargs.setdefault("extra_settings", FAST_RETRIES)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_child, settings, kwargs).result(timeout=120)


def read_topic(settings: Settings, topic: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Every record of ``topic`` in the embedded broker as (key, decoded value)."""
    broker = EmbeddedBroker(settings.broker_path)
    try:
        return [(r.key, json.loads(r.value)) for r in broker.read(topic, 100_000)]
    finally:
        broker.close()


def by_source(stats: CrawlStats) -> dict[str, Any]:
    """The per-source stats keyed by source name."""
    return {board.board: board for board in stats.boards}


def start_crawl_process(settings: Settings, **kwargs: Any) -> multiprocessing.process.BaseProcess:
    """Start ``run_crawl`` in a spawned child and return it without waiting (a test may kill it)."""
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(settings, kwargs), daemon=True
    )
    process.start()
    return process
