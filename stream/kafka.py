"""The Kafka broker adapter (kafka-python): topics with partitions, consumer groups, lz4 compression.

Thin by design: it translates kafka-python's errors into :mod:`stream.errors` so the worker's failure
policy is the same for Kafka and the embedded broker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError

from stream.broker import Lag, Record
from stream.errors import BrokerError, RebalanceError, TransientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaOptions:
    """Client options that differ between production and tests (Tansu's group join is slow)."""

    bootstrap: tuple[str, ...]
    partitions: int = 3
    retention_ms: int = 14 * 24 * 3600 * 1000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 2_000
    # lz4 (the ``lz4`` wheel): kafka-python's gzip is fixed at level 9, ~31 µs per post to compress
    # against ~1.4 µs, which made the classify worker compress more than it classified.
    compression: str = "lz4"


class KafkaBroker:
    """A :class:`stream.broker.Broker` over a Kafka cluster."""

    def __init__(self, options: KafkaOptions) -> None:
        self.options = options
        self._admin: KafkaAdminClient | None = None

    def _admin_client(self) -> KafkaAdminClient:
        if self._admin is None:
            try:
                self._admin = KafkaAdminClient(bootstrap_servers=list(self.options.bootstrap))
            except KafkaError as exc:
                raise TransientError(f"kafka unreachable: {exc}", retry_after=2.0) from exc
        return self._admin

    def ensure_topics(self, names: Iterable[str]) -> None:
        """Create missing topics with the configured partitions and retention."""
        admin = self._admin_client()
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                name,
                self.options.partitions,
                1,
                topic_configs={"retention.ms": str(self.options.retention_ms)},
            )
            for name in names
            if name not in existing
        ]
        if not missing:
            return
        try:
            admin.create_topics(missing)
        except TopicAlreadyExistsError:
            pass  # another process created them first
        except KafkaError as exc:
            raise BrokerError(f"cannot create topics {[t.name for t in missing]}: {exc}") from exc

    def producer(self) -> KafkaProducerAdapter:
        """A producer with acks from all in-sync replicas and compression."""
        return KafkaProducerAdapter(self.options)

    def consumer(self, group: str, topics: Sequence[str]) -> KafkaConsumerAdapter:
        """A member of ``group``; offsets are committed only by the worker."""
        return KafkaConsumerAdapter(self.options, group, topics)

    def lag(self, group: str, topic: str) -> Lag:
        """End offsets against the group's committed offsets, summed over partitions.

        The reading consumer names the group but never subscribes, so it does not join it or disturb
        its members. (Tansu under-reports end offsets: its lag figures are low.)
        """
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=list(self.options.bootstrap), group_id=group, enable_auto_commit=False
            )
        except KafkaError as exc:
            raise TransientError(f"kafka unreachable: {exc}") from exc
        try:
            parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            ends = consumer.end_offsets(tps) if tps else {}
            done = sum(consumer.committed(tp) or 0 for tp in tps)
        except KafkaError as exc:
            raise TransientError(f"kafka lag unavailable: {exc}") from exc
        finally:
            consumer.close(autocommit=False)
        return Lag(group=group, topic=topic, end_offset=sum(ends.values()), committed=done)

    def read(self, topic: str, limit: int, offset: int = 0) -> list[Record]:
        """Read up to ``limit`` messages from every partition starting at ``offset`` (no group)."""
        consumer = KafkaConsumer(bootstrap_servers=list(self.options.bootstrap), enable_auto_commit=False)
        try:
            parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            if not tps:
                return []
            consumer.assign(tps)
            ends = consumer.end_offsets(tps)
            for tp in tps:
                consumer.seek(tp, offset)
            out: list[Record] = []
            idle = 0
            while len(out) < limit and idle < 3 and any(consumer.position(tp) < ends[tp] for tp in tps):
                batch = consumer.poll(timeout_ms=500, max_records=limit - len(out))
                idle = 0 if batch else idle + 1
                for messages in batch.values():
                    out.extend(_record(m) for m in messages)
            return out[:limit]
        finally:
            consumer.close()

    def close(self) -> None:
        """Close the admin client."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None


def _record(message: Any) -> Record:
    key = message.key.decode("utf-8", errors="replace") if message.key is not None else None
    return Record(message.topic, message.partition, message.offset, key, message.value)


class KafkaProducerAdapter:
    """Sends asynchronously and checks every future on ``flush``."""

    def __init__(self, options: KafkaOptions) -> None:
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=list(options.bootstrap),
                acks="all",
                compression_type=options.compression,
                linger_ms=20,
                batch_size=256 * 1024,
                retries=5,
                retry_backoff_ms=200,
            )
        except KafkaError as exc:
            raise TransientError(f"kafka unreachable: {exc}", retry_after=2.0) from exc
        self._futures: list[Any] = []

    def send(self, topic: str, key: str | None, value: bytes) -> None:
        """Queue one message."""
        self._futures.append(
            self._producer.send(topic, key=key.encode("utf-8") if key is not None else None, value=value)
        )

    def flush(self) -> None:
        """Wait for every acknowledgement; any failure makes the whole batch transient."""
        futures, self._futures = self._futures, []
        try:
            self._producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)
        except KafkaError as exc:
            raise TransientError(f"kafka produce failed: {exc}", retry_after=1.0) from exc

    def close(self) -> None:
        """Flush and close."""
        try:
            self.flush()
        finally:
            self._producer.close(timeout=5)


class KafkaConsumerAdapter:
    """A consumer-group member with manual commits."""

    def __init__(self, options: KafkaOptions, group: str, topics: Sequence[str]) -> None:
        try:
            self._consumer = KafkaConsumer(
                *topics,
                bootstrap_servers=list(options.bootstrap),
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=options.session_timeout_ms,
                heartbeat_interval_ms=options.heartbeat_interval_ms,
                # Bound what the client prefetches, so a slow sink means a slow consumer, not a growing heap.
                max_partition_fetch_bytes=1024 * 1024,
                fetch_max_bytes=8 * 1024 * 1024,
            )
        except KafkaError as exc:
            raise TransientError(f"kafka unreachable: {exc}", retry_after=2.0) from exc

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Fetch up to ``max_records`` messages across the assigned partitions."""
        try:
            batch = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        except KafkaError as exc:
            raise TransientError(f"kafka poll failed: {exc}") from exc
        return [_record(m) for messages in batch.values() for m in messages]

    def commit(self) -> None:
        """Commit the positions of everything polled."""
        try:
            self._consumer.commit()
        except CommitFailedError as exc:
            raise RebalanceError(f"kafka group rebalanced before commit: {exc}") from exc
        except KafkaError as exc:
            raise TransientError(f"kafka commit failed: {exc}") from exc

    def rewind(self) -> None:
        """Seek every assigned partition back to its committed offset."""
        for tp in self._consumer.assignment():
            committed = self._consumer.committed(tp)
            if committed is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    def close(self) -> None:
        """Leave the group."""
        self._consumer.close(autocommit=False)
