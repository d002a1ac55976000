"""One stage of the stream as a consumer-group member: poll a batch, process, sink, dead-letter, commit.

The failure policy is the same for every stage and every broker:
- a record that cannot be decoded or processed is poison: it goes to the dead-letter topic with the
  stage and the reason, and the rest of the batch goes on. A sink that raises anything but
  :class:`TransientError` is bisected (halves sunk again, recursively) until the failing records are
  found alone; those are dead-lettered and every other record is delivered;
- only a batch of two or more records in which every record fails on its own is systemic (a bug, a
  dead dependency): the worker backs off and retries it ``systemic_retries`` times, then stops loudly
  with :class:`SystemicFailure`, nothing committed;
- a sink that raises :class:`TransientError` (archive or broker down) is retried with exponential
  backoff while the offsets stay where they are, so nothing is lost and the worker resumes by itself;
- offsets are committed only after the sink and the dead letters are durable (at-least-once);
- a stop request (SIGTERM, SIGINT) lets the current batch finish and commit, then leaves the group.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from core.china_time import now_iso
from core.errors import MessageError
from core.messages import dead_letter, encode
from stream.broker import Broker, Consumer, Producer, Record
from stream.errors import PartialFailure, RebalanceError, SystemicFailure, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Stage(Generic[T]):
    """A stage: how to turn one record into an item (pure), and where a batch of items goes (I/O)."""

    name: str
    group: str
    topic: str
    parse: Callable[[Record], T]
    sink: Callable[[Sequence[T]], None]


@dataclass
class BatchReport:
    """What one batch did."""

    polled: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    retries: int = 0


@dataclass
class WorkerStats:
    """Running totals of a worker, for logs and ``yuqing status``."""

    batches: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    retries: int = 0
    last: BatchReport = field(default_factory=BatchReport)


class _StopRequested(Exception):
    """A stop arrived while a batch was waiting out a transient failure."""


class Worker(Generic[T]):
    """Runs a :class:`Stage` against a broker until told to stop."""

    def __init__(
        self,
        broker: Broker,
        stage: Stage[T],
        *,
        dlq_topic: str,
        batch_size: int = 500,
        poll_timeout_s: float = 1.0,
        max_backoff_s: float = 30.0,
        systemic_retries: int = 3,
        stop: threading.Event | None = None,
    ) -> None:
        self.broker = broker
        self.stage = stage
        self.dlq_topic = dlq_topic
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.max_backoff_s = max_backoff_s
        self.systemic_retries = systemic_retries
        self.stop = stop or threading.Event()
        self.stats = WorkerStats()
        self._consumer: Consumer | None = None
        self._dlq: Producer | None = None

    def run(self, *, max_batches: int | None = None, idle_exit_s: float | None = None) -> WorkerStats:
        """Process batches until stopped, or after ``max_batches``, or after ``idle_exit_s`` idle."""
        self._consumer = self._connect()
        log.info(
            "stage=%s event=started group=%s topic=%s", self.stage.name, self.stage.group, self.stage.topic
        )
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set():
                report = self.run_once()
                if report.polled:
                    idle_since = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - idle_since >= idle_exit_s:
                    break
                if max_batches is not None and self.stats.batches >= max_batches:
                    break
        finally:
            self.close()
        log.info(
            "stage=%s event=stopped delivered=%d dead_lettered=%d retries=%d",
            self.stage.name,
            self.stats.delivered,
            self.stats.dead_lettered,
            self.stats.retries,
        )
        return self.stats

    def _connect(self) -> Consumer:
        delay = 0.5
        while True:
            try:
                return self.broker.consumer(self.stage.group, [self.stage.topic])
            except TransientError as exc:
                if self.stop.is_set():
                    raise
                log.warning("stage=%s event=connect-retry reason=%s wait_s=%.1f", self.stage.name, exc, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, self.max_backoff_s)

    def run_once(self) -> BatchReport:
        """Poll one batch and see it through to a commit."""
        consumer = self._consumer or self._connect()
        self._consumer = consumer
        report = BatchReport()
        try:
            records = consumer.poll(self.batch_size, self.poll_timeout_s)
        except TransientError as exc:
            log.warning("stage=%s event=poll-failed reason=%s", self.stage.name, exc)
            self.stop.wait(1.0)
            return report
        report.polled = len(records)
        if not records:
            return report
        pairs: list[tuple[Record, T]] = []
        poison: list[tuple[Record, str]] = []
        for record in records:
            try:
                pairs.append((record, self.stage.parse(record)))
            except MessageError as exc:
                poison.append((record, str(exc)))
            except Exception as exc:  # noqa: BLE001 - parse is pure: any failure is this record's, not transient
                poison.append((record, f"{type(exc).__name__}: {exc}"))
        try:
            if pairs:
                poison += self._deliver(pairs, report)
            if poison:
                report.retries += self._with_backoff("dead-letter", lambda: self._dead_letter(poison))
            report.retries += self._with_backoff("commit", consumer.commit)
        except _StopRequested:
            # Nothing committed: the next member of the group gets this batch again.
            log.warning("stage=%s event=batch-abandoned records=%d", self.stage.name, len(records))
            return report
        except RebalanceError as exc:
            # Another member owns these records now and redoes them; the sinks are idempotent.
            log.warning("stage=%s event=commit-lost reason=%s", self.stage.name, exc)
            consumer.rewind()
            return report
        report.delivered, report.dead_lettered = len(records) - len(poison), len(poison)
        self._account(report)
        return report

    def _deliver(self, pairs: list[tuple[Record, T]], report: BatchReport) -> list[tuple[Record, str]]:
        """Sink the batch, isolating failing records; return them with their reasons.

        A batch where every record fails on its own (two or more of them) is retried after a backoff
        ``systemic_retries`` times, then :class:`SystemicFailure` stops the worker.
        """
        delay = 0.5
        for attempt in range(self.systemic_retries + 1):
            failed, raised = self._isolate(pairs, report)
            if len(pairs) < 2 or len(raised) < len(pairs):
                return failed
            log.error(
                "stage=%s event=systemic-failure records=%d attempt=%d reason=%s",
                self.stage.name,
                len(pairs),
                attempt + 1,
                raised[0],
            )
            if attempt < self.systemic_retries:
                report.retries += 1
                if self.stop.wait(delay):
                    raise _StopRequested
                delay = min(delay * 2, self.max_backoff_s)
        raise SystemicFailure(self.stage.name, len(pairs), raised[0])

    def _isolate(
        self, pairs: list[tuple[Record, T]], report: BatchReport
    ) -> tuple[list[tuple[Record, str]], list[str]]:
        """Sink ``pairs``, bisecting on failure; return (failed records with reasons, exceptions raised)."""
        failed: list[tuple[Record, str]] = []
        raised: list[str] = []

        def sink(chunk: list[tuple[Record, T]]) -> None:
            rejected: dict[str, str] = {}

            def attempt() -> None:
                try:
                    self.stage.sink([item for _, item in chunk])
                except PartialFailure as exc:
                    rejected.update(exc.rejected)

            try:
                report.retries += self._with_backoff("sink", attempt)
            except (_StopRequested, RebalanceError):
                raise
            except Exception as exc:  # noqa: BLE001 - any failure may be one record's: bisect to find it
                if len(chunk) > 1:
                    middle = len(chunk) // 2
                    sink(chunk[:middle])
                    sink(chunk[middle:])
                    return
                reason = f"{type(exc).__name__}: {exc}"
                failed.append((chunk[0][0], reason))
                raised.append(reason)
                return
            failed.extend(
                (r, f"rejected by the sink: {rejected[r.key]}") for r, _ in chunk if r.key in rejected
            )

        sink(pairs)
        return failed, raised

    def _with_backoff(self, what: str, action: Callable[[], Any]) -> int:
        """Run ``action``; on :class:`TransientError` wait and retry until it succeeds. Return the retries."""
        retries = 0
        delay = 0.5
        while True:
            try:
                action()
                return retries
            except TransientError as exc:
                retries += 1
                wait = max(delay, exc.retry_after)
                log.warning(
                    "stage=%s event=%s-retry attempt=%d reason=%s wait_s=%.1f",
                    self.stage.name,
                    what,
                    retries,
                    exc,
                    wait,
                )
                if self.stop.wait(wait):
                    raise _StopRequested from exc
                delay = min(delay * 2, self.max_backoff_s)

    def _dead_letter(self, poison: list[tuple[Record, str]]) -> None:
        if self._dlq is None:
            self._dlq = self.broker.producer()
        for record, reason in poison:
            log.warning(
                "stage=%s event=dead-letter topic=%s partition=%d offset=%d key=%s reason=%s",
                self.stage.name,
                record.topic,
                record.partition,
                record.offset,
                record.key,
                reason,
            )
            message = dead_letter(
                stage=self.stage.name,
                error=reason,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                payload=record.value,
                failed_at=now_iso(),
            )
            self._dlq.send(self.dlq_topic, record.key, encode(message))
        self._dlq.flush()

    def _account(self, report: BatchReport) -> None:
        self.stats.batches += 1
        self.stats.delivered += report.delivered
        self.stats.dead_lettered += report.dead_lettered
        self.stats.retries += report.retries
        self.stats.last = report
        log.info(
            "stage=%s event=batch delivered=%d dead_lettered=%d retries=%d",
            self.stage.name,
            report.delivered,
            report.dead_lettered,
            report.retries,
        )

    def close(self) -> None:
        """Leave the group and close the dead-letter producer."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._dlq is not None:
            self._dlq.close()
            self._dlq = None
