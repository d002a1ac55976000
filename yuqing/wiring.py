"""Wires the stream's processes from settings: a stage's worker (broker, topics, the enricher, the archive
or the ledger) and a crawl (the broker its pipelines publish to)."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from stream.errors import TransientError
from stream.worker import Worker
from yuqing.backends import make_archive, make_broker
from yuqing.settings import Settings

if TYPE_CHECKING:
    from crawlers.runner import CrawlStats

STAGES = ("classify", "index", "ledger")
GROUPS = {"classify": "yuqing-classify", "index": "yuqing-index", "ledger": "yuqing-ledger"}
# The topic each stage's group reads, by settings field.
SOURCE_TOPICS = {"classify": "topic_raw", "index": "topic_enriched", "ledger": "topic_enriched"}
log = logging.getLogger(__name__)
T = TypeVar("T")


def _when_reachable(step: str, action: Callable[[], T], stop: threading.Event | None) -> T:
    """Run a start-up step, waiting out a broker or archive that is down, as a running worker does.

    A worker restarted during an outage (after a crash, by ``yuqing up`` or a restart policy) would
    otherwise exit on its first connection and be restarted again and again, each time later.
    """
    from archive.errors import ArchiveUnavailable

    delay = 0.5
    while True:
        try:
            return action()
        except (TransientError, ArchiveUnavailable) as exc:
            log.warning("event=start-retry step=%s reason=%s wait_s=%.1f", step, exc, delay)
            if (stop or threading.Event()).wait(delay):
                raise
            delay = min(delay * 2, 30.0)


def build_worker(settings: Settings, stage: str, *, stop: threading.Event | None = None) -> Worker[Any]:
    """A ready worker for ``stage`` (topics are created when missing)."""
    broker = make_broker(settings)
    topics = [settings.topic_raw, settings.topic_enriched, settings.topic_dlq]
    _when_reachable("topics", lambda: broker.ensure_topics(topics), stop)
    if stage == "classify":
        from classifiers.enrich import Enricher
        from yuqing.stages import classify_stage

        enricher = Enricher.load(
            settings.model_path, settings.taxonomy_path, event_memory=settings.event_memory
        )
        producer = _when_reachable("producer", broker.producer, stop)
        definition: Any = classify_stage(
            enricher, producer, source=settings.topic_raw, target=settings.topic_enriched
        )
    elif stage == "index":
        from yuqing.stages import index_stage

        archive = make_archive(settings, writer=True)
        _when_reachable("archive", archive.ensure, stop)
        definition = index_stage(archive, source=settings.topic_enriched)
    elif stage == "ledger":
        from response_ledger.policy import load_policy
        from response_ledger.unit_of_work import engine_from_settings
        from yuqing.stages import ledger_stage

        definition = ledger_stage(
            engine_from_settings(settings),
            source=settings.topic_enriched,
            policy=load_policy(settings.ledger_policy_path),  # read once per worker process
        )
    else:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
    return Worker(broker, definition, dlq_topic=settings.topic_dlq, batch_size=settings.batch_size, stop=stop)


def crawl_once(settings: Settings, **options: Any) -> CrawlStats:
    """:func:`crawlers.runner.run_crawl` publishing through the broker ``settings`` configure.

    The crawlers never build a broker themselves: their pipelines call the factory handed in here.
    ``options`` are ``run_crawl``'s (``only``, ``polite``, ``secrets`` …). Once per process, as Scrapy's
    reactor cannot restart.
    """
    from crawlers.runner import run_crawl

    return run_crawl(settings, broker=functools.partial(make_broker, settings), **options)
