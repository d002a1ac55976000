"""Re-driving dead letters: each pending letter of a stage is published again to the topic it failed on.

The dead-letter topic is its own history. A record that fails leaves one failure letter per attempt;
each replay writes a ``replayed`` marker beside it (with the attempt count), and a record that has
failed ``max_attempts`` times is not replayed again but ``parked``: a marker carrying its payload and
every failure's error and time. A record is pending while it has more failure letters than replayed
markers and no parked one. A failure letter written twice — a batch redone after a worker died between
its dead letters and its commit — names the same record of a stream topic (topic, partition, offset)
and counts once. A replay reads a snapshot of the topic taken when it starts, so it never
reads back what it replays in the same run, and running it twice replays nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from core.china_time import now_iso
from core.errors import MessageError
from core.messages import SCHEMA_VERSION, decode, encode
from stream.broker import Broker

log = logging.getLogger(__name__)
DEFAULT_MAX_ATTEMPTS = 3
SCAN_LIMIT = 1_000_000
REPLAYED, PARKED = "replayed", "parked"


@dataclass
class ReplayReport:
    """What a replay did."""

    replayed: int = 0
    parked: int = 0
    skipped_other_stage: int = 0
    unreadable: int = 0
    repeated: int = 0  # failure letters written again for a failure already counted


@dataclass
class _History:
    failures: list[dict[str, Any]] = field(default_factory=list)
    failed_records: set[tuple[Any, Any, Any]] = field(default_factory=set)
    replayed: int = 0
    parked: bool = False

    @property
    def pending(self) -> bool:
        return not self.parked and len(self.failures) > self.replayed


def letter_identity(letter: dict[str, Any]) -> str:
    """Which record a letter is about: its key, or a digest of its payload when it has none (a file line)."""
    key = letter.get("key")
    if key:
        return str(key)
    payload = str(letter.get("payload", "")).encode("utf-8")
    return "sha256:" + hashlib.sha256(payload).hexdigest()[:32]


def replay_dead_letters(
    broker: Broker,
    *,
    dlq_topic: str,
    stage: str,
    topics: Collection[str],
    fallback_topic: str,
    limit: int = 100_000,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    scan_limit: int = SCAN_LIMIT,
) -> ReplayReport:
    """Replay (or park) each of ``stage``'s pending letters once; return what was done.

    A letter whose original topic is not one of ``topics`` (an imported file, a crawl) goes to
    ``fallback_topic`` (posts.raw). At most ``limit`` letters are replayed per run.
    """
    report = ReplayReport()
    histories: dict[str, _History] = {}
    for record in broker.read(dlq_topic, scan_limit):
        try:
            letter = decode(record.value)
        except MessageError:
            report.unreadable += 1
            continue
        if letter.get("stage") != stage:
            report.skipped_other_stage += 1
            continue
        history = histories.setdefault(letter_identity(letter), _History())
        kind = letter.get("kind")
        if kind == REPLAYED:
            history.replayed += 1
        elif kind == PARKED:
            history.parked = True
        else:
            record_at = (letter.get("topic"), letter.get("partition"), letter.get("offset"))
            if letter.get("topic") in topics and record_at in history.failed_records:
                report.repeated += 1  # the same failure of the same record, written again
                continue
            history.failed_records.add(record_at)
            history.failures.append(letter)
    producer = broker.producer()
    try:
        for identity, history in histories.items():
            if not history.pending:
                continue
            if report.replayed >= limit:
                break
            latest = history.failures[-1]
            attempts = len(history.failures)
            marker: dict[str, Any] = {
                "schema": SCHEMA_VERSION,
                "stage": stage,
                "key": latest.get("key"),
                "identity": identity,
                "attempts": attempts,
                "at": now_iso(),
            }
            if attempts >= max_attempts:
                marker |= {
                    "kind": PARKED,
                    "topic": latest.get("topic"),
                    "payload": latest.get("payload", ""),
                    "history": [
                        {k: letter.get(k) for k in ("error", "failed_at", "topic", "partition", "offset")}
                        for letter in history.failures
                    ],
                }
                producer.send(dlq_topic, latest.get("key") or identity, encode(marker))
                report.parked += 1
                log.warning(
                    "stage=dlq-replay event=parked from_stage=%s key=%s attempts=%d",
                    stage,
                    identity,
                    attempts,
                )
                continue
            target = latest.get("topic") if latest.get("topic") in topics else fallback_topic
            payload = str(latest.get("payload", "")).encode("utf-8")
            producer.send(str(target), latest.get("key"), payload)
            producer.send(dlq_topic, latest.get("key") or identity, encode(marker | {"kind": REPLAYED}))
            report.replayed += 1
            log.info(
                "stage=dlq-replay event=replayed from_stage=%s key=%s to=%s attempts=%d",
                stage,
                identity,
                target,
                attempts,
            )
        producer.flush()
    finally:
        producer.close()
    return report
