"""Re-driving dead letters: each letter of a stage is published again to the topic it failed on.

A consumer group per stage (``yuqing-dlq-replay-<stage>``) remembers how far replay got, so a letter
is replayed once per stage; letters of other stages are left for their own replay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass

from stream.broker import Broker
from stream.errors import MessageError
from stream.messages import decode

log = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    """What a replay did."""

    replayed: int = 0
    skipped_other_stage: int = 0
    unreadable: int = 0


def replay_dead_letters(
    broker: Broker,
    *,
    dlq_topic: str,
    stage: str,
    topics: Collection[str],
    fallback_topic: str,
    limit: int = 100_000,
    idle_s: float = 3.0,
) -> ReplayReport:
    """Publish the payload of each of ``stage``'s dead letters again; commit as they are durable.

    A letter whose original topic is not one of ``topics`` (an imported file, a crawl) goes to
    ``fallback_topic`` (posts.raw). Stops after ``limit`` letters or ``idle_s`` without new ones.
    """
    report = ReplayReport()
    consumer = broker.consumer(f"yuqing-dlq-replay-{stage}", [dlq_topic])
    producer = broker.producer()
    idle_since = time.monotonic()
    try:
        while report.replayed < limit and time.monotonic() - idle_since < idle_s:
            records = consumer.poll(min(500, limit - report.replayed), 0.5)
            if not records:
                continue
            idle_since = time.monotonic()
            for record in records:
                try:
                    letter = decode(record.value)
                except MessageError:
                    report.unreadable += 1
                    continue
                if letter.get("stage") != stage:
                    report.skipped_other_stage += 1
                    continue
                target = letter.get("topic") if letter.get("topic") in topics else fallback_topic
                producer.send(str(target), letter.get("key"), str(letter.get("payload", "")).encode("utf-8"))
                report.replayed += 1
                log.info(
                    "stage=dlq-replay event=replayed from_stage=%s key=%s to=%s",
                    stage,
                    letter.get("key"),
                    target,
                )
            producer.flush()
            consumer.commit()
    finally:
        producer.close()
        consumer.close()
    return report
