"""The Kafka broker adapter (kafka-python): topics with partitions, consumer groups, lz4 compression.

Thin by design: it translates kafka-python's errors into :mod:`stream.errors` so the worker's failure
policy is the same for Kafka and the embedded broker. Every client (producer, consumer, admin) gets
the same security arguments from :func:`security_kwargs`: TLS, SASL (PLAIN, SCRAM) or both.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError
from kafka.partitioner import DefaultPartitioner, Partitioner

from stream.broker import Lag, Record
from stream.errors import BrokerError, RebalanceError, TransientError

log = logging.getLogger(__name__)


DAY_MS = 24 * 3600 * 1000
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    """How clients reach the brokers: TLS, SASL or both. The password never shows in a repr."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str | None = None


def security_kwargs(security: KafkaSecurity) -> dict[str, Any]:
    """The keyword arguments every kafka-python client (producer, consumer, admin) takes for ``security``.

    TLS (SSL, SASL_SSL) checks the broker's certificate and host name against ``ca_file``, or the
    system's CAs when there is none; SASL (SASL_PLAINTEXT, SASL_SSL) logs in with the user and
    password by PLAIN or SCRAM-SHA-256/512.
    """
    if security.protocol not in SECURITY_PROTOCOLS:
        raise ValueError(f"unknown Kafka security protocol {security.protocol!r}")
    kwargs: dict[str, Any] = {"security_protocol": security.protocol}
    if security.protocol.endswith("SSL"):
        kwargs["ssl_check_hostname"] = True
        if security.ca_file:
            kwargs["ssl_cafile"] = security.ca_file
    if security.protocol.startswith("SASL_"):
        if security.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(f"unsupported SASL mechanism {security.sasl_mechanism!r}")
        if not security.username or not security.password:
            raise ValueError(f"{security.protocol} needs a username and a password")
        kwargs["sasl_mechanism"] = security.sasl_mechanism
        kwargs["sasl_plain_username"] = security.username
        kwargs["sasl_plain_password"] = security.password
    return kwargs


@dataclass(frozen=True)
class KafkaOptions:
    """Client options that differ between production and tests (Tansu's group join is slow)."""

    bootstrap: tuple[str, ...]
    partitions: int = 3
    # Copies of each partition, and how many must have a write before acks=all answers.
    replication: int = 1
    min_insync: int = 1
    retention_ms: int = 14 * DAY_MS
    # Topics kept longer or shorter than ``retention_ms`` (the dead letters: 90 days).
    retention_overrides: tuple[tuple[str, int], ...] = ()
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 2_000
    # lz4 (the ``lz4`` wheel): kafka-python's gzip is fixed at level 9, ~31 µs per post to compress
    # against ~1.4 µs, which made the classify worker compress more than it classified.
    compression: str = "lz4"
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    def topic_configs(self, name: str) -> dict[str, str]:
        """The configs the service sets on topic ``name``."""
        retention = dict(self.retention_overrides).get(name, self.retention_ms)
        return {"retention.ms": str(retention), "min.insync.replicas": str(self.min_insync)}

    def client_kwargs(self) -> dict[str, Any]:
        """Bootstrap servers and security: what every client of this cluster is given."""
        return {"bootstrap_servers": list(self.bootstrap), **security_kwargs(self.security)}


class KafkaBroker:
    """A :class:`stream.broker.Broker` over a Kafka cluster."""

    def __init__(self, options: KafkaOptions) -> None:
        self.options = options
        self._admin: KafkaAdminClient | None = None

    def _admin_client(self) -> KafkaAdminClient:
        if self._admin is None:
            try:
                self._admin = KafkaAdminClient(**self.options.client_kwargs())
            except KafkaError as exc:
                raise TransientError(f"kafka unreachable: {exc}", retry_after=2.0) from exc
        return self._admin

    def create_topics_request(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What :meth:`ensure_topics` asks the cluster for each of ``names`` it must create."""
        return {
            name: {
                "num_partitions": self.options.partitions,
                "replication_factor": self.options.replication,
                "configs": self.options.topic_configs(name),
            }
            for name in names
        }

    def ensure_topics(self, names: Iterable[str]) -> None:
        """Create missing topics (partitions, replication, retention, min.insync.replicas); align the rest.

        A topic that exists keeps its partitions and replication (changing either is an operator's
        reassignment): a difference is logged (``event=topic-mismatch``). Its retention and
        min.insync.replicas are set to the configured ones (``event=topic-config-changed``); a
        cluster that refuses (no AlterConfigs permission) is logged and the service goes on.
        """
        wanted = list(dict.fromkeys(names))
        admin = self._admin_client()
        try:
            existing = set(admin.list_topics())
        except KafkaError as exc:
            raise TransientError(f"kafka unreachable: {exc}", retry_after=2.0) from exc
        missing = [name for name in wanted if name not in existing]
        if missing:
            try:
                admin.create_topics(self.create_topics_request(missing))
            except TopicAlreadyExistsError:
                pass  # another process created them first
            except KafkaError as exc:
                raise BrokerError(f"cannot create topics {missing}: {exc}") from exc
        present = [name for name in wanted if name in existing]
        if present:
            self._align(admin, present)

    def _align(self, admin: KafkaAdminClient, names: list[str]) -> None:
        """Log partition and replication differences of existing topics; set their configs."""
        try:
            described = admin.describe_topics(names)
        except KafkaError as exc:
            log.warning("event=topic-check-failed topics=%s reason=%s", ",".join(names), exc)
            return
        for topic in described:
            partitions = topic.get("partitions") or []
            replication = min((len(p.get("replica_nodes") or []) for p in partitions), default=0)
            if len(partitions) < self.options.partitions or replication != self.options.replication:
                log.warning(
                    "event=topic-mismatch topic=%s partitions=%d wanted_partitions=%d replication=%d "
                    "wanted_replication=%d (an existing topic keeps its layout: reassign it on the cluster)",
                    topic.get("name"),
                    len(partitions),
                    self.options.partitions,
                    replication,
                    self.options.replication,
                )
        try:
            current = admin.describe_configs(
                # Every config of each topic: Tansu drops the connection when asked for named keys.
                [ConfigResource(ConfigResourceType.TOPIC, name) for name in names],
                config_filter="all",
            ).get("topic", {})
        except KafkaError as exc:
            log.warning("event=topic-check-failed topics=%s reason=%s", ",".join(names), exc)
            return
        changes = []
        for name in names:
            have = {key: str(entry.get("value")) for key, entry in current.get(name, {}).items()}
            differ = {
                key: value
                for key, value in self.options.topic_configs(name).items()
                if have.get(key) != value
            }
            for key, value in differ.items():
                log.info(
                    "event=topic-config-changed topic=%s config=%s from=%s to=%s",
                    name,
                    key,
                    have.get(key),
                    value,
                )
            if differ:
                changes.append(ConfigResource(ConfigResourceType.TOPIC, name, differ))
        if not changes:
            return
        try:
            results = admin.alter_configs(changes, raise_on_unknown=False).get("topic", {})
        except KafkaError as exc:
            results = {resource.name: str(exc) for resource in changes}
        for name, result in results.items():
            if result != "OK":
                log.warning("event=topic-config-refused topic=%s reason=%s", name, result)

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
            consumer = KafkaConsumer(group_id=group, enable_auto_commit=False, **self.options.client_kwargs())
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
        consumer = KafkaConsumer(enable_auto_commit=False, **self.options.client_kwargs())
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


_MURMUR_M = 0x5BD1E995
_WORDS: dict[int, struct.Struct] = {}


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash of ``data`` (``Utils.murmur2`` of the Java client), as kafka-python's.

    The same value as ``kafka.partitioner.default.murmur2``, about twice as fast: the key's
    4-byte words are unpacked at once instead of assembled byte by byte. A producer hashes every
    key it sends, and the classify worker sends every post.
    """
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    count = length >> 2
    words = _WORDS.get(count)
    if words is None:
        words = _WORDS.setdefault(count, struct.Struct(f"<{count}I"))
    for k in words.unpack_from(data):
        k = (k * _MURMUR_M) & 0xFFFFFFFF
        k ^= k >> 24
        h = ((h * _MURMUR_M) & 0xFFFFFFFF) ^ ((k * _MURMUR_M) & 0xFFFFFFFF)
    tail = length & 3
    if tail:
        end = count << 2
        if tail == 3:
            h ^= data[end + 2] << 16
        if tail >= 2:
            h ^= data[end + 1] << 8
        h = ((h ^ data[end]) * _MURMUR_M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _MURMUR_M) & 0xFFFFFFFF
    return h ^ (h >> 15)


class KeyPartitioner(Partitioner):  # type: ignore[misc]  # kafka-python has no type hints
    """kafka-python's default partitioner (murmur2 of the key, as Java clients) with a faster hash.

    A post's id picks the same partition as any other Kafka client would; a message without a key
    goes where the default partitioner sends it.
    """

    def __init__(self) -> None:
        self._default = DefaultPartitioner()
        self._sorted: dict[str, tuple[frozenset[int], list[int]]] = {}

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes | None,
        value: Any,
        serialized_value: Any,
        cluster: Any,
    ) -> int:
        if serialized_key is None:
            return int(self._default.partition(topic, key, serialized_key, value, serialized_value, cluster))
        partitions = cluster.partitions_for_topic(topic)
        if partitions is None:
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        known = self._sorted.get(topic)
        if known is None or known[0] != partitions:
            known = (frozenset(partitions), sorted(partitions))
            self._sorted[topic] = known
        ordered = known[1]
        return ordered[(murmur2(serialized_key) & 0x7FFFFFFF) % len(ordered)]


class KafkaProducerAdapter:
    """Sends asynchronously and checks every future on ``flush``."""

    def __init__(self, options: KafkaOptions) -> None:
        try:
            self._producer = KafkaProducer(
                **options.client_kwargs(),
                acks="all",
                partitioner=KeyPartitioner(),
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
                **options.client_kwargs(),
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
