"""One behavioural suite for every broker: the embedded log, Tansu and noida-db's Kafka."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stream.broker import Broker, Consumer, Record
from tests.stream.conftest import broker_settings
from yuqing.backends import make_broker
from yuqing.settings import Settings


def poll_until(consumer: Consumer, count: int, timeout_s: float = 30) -> list[Record]:
    """Poll until ``count`` records arrived (a Kafka group join can take seconds)."""
    out: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < count and time.monotonic() < deadline:
        out.extend(consumer.poll(100, 0.5))
    return out


def test_messages_are_delivered_with_their_keys(any_broker: Broker, any_settings: Settings) -> None:
    producer = any_broker.producer()
    for i in range(20):
        producer.send(any_settings.topic_raw, f"k{i}", f"值{i}".encode())
    producer.close()
    consumer = any_broker.consumer("g-keys", [any_settings.topic_raw])
    try:
        records = poll_until(consumer, 20)
    finally:
        consumer.close()
    assert sorted((r.key, r.value.decode()) for r in records) == sorted(
        (f"k{i}", f"值{i}") for i in range(20)
    )


def test_a_committed_group_resumes_after_its_offset(any_broker: Broker, any_settings: Settings) -> None:
    producer = any_broker.producer()
    for i in range(10):
        producer.send(any_settings.topic_raw, f"a{i}", b"first")
    producer.flush()
    first = any_broker.consumer("g-resume", [any_settings.topic_raw])
    assert len(poll_until(first, 10)) == 10
    first.commit()
    first.close()
    for i in range(5):
        producer.send(any_settings.topic_raw, f"b{i}", b"second")
    producer.close()
    second = any_broker.consumer("g-resume", [any_settings.topic_raw])
    try:
        records = poll_until(second, 5)
        time.sleep(0.5)
        records += second.poll(100, 0.5)
    finally:
        second.close()
    assert sorted(r.key for r in records) == [f"b{i}" for i in range(5)]


def test_uncommitted_reads_are_delivered_again(any_broker: Broker, any_settings: Settings) -> None:
    producer = any_broker.producer()
    for i in range(6):
        producer.send(any_settings.topic_raw, f"u{i}", b"x")
    producer.close()
    first = any_broker.consumer("g-redeliver", [any_settings.topic_raw])
    assert len(poll_until(first, 6)) == 6
    first.close()  # no commit: a crash before the sink finished
    second = any_broker.consumer("g-redeliver", [any_settings.topic_raw])
    try:
        assert sorted(r.key for r in poll_until(second, 6)) == [f"u{i}" for i in range(6)]
    finally:
        second.close()


def test_groups_keep_separate_offsets(any_broker: Broker, any_settings: Settings) -> None:
    producer = any_broker.producer()
    for i in range(4):
        producer.send(any_settings.topic_raw, f"s{i}", b"x")
    producer.close()
    for group in ("g-one", "g-two"):
        consumer = any_broker.consumer(group, [any_settings.topic_raw])
        try:
            assert len(poll_until(consumer, 4)) == 4
            consumer.commit()
        finally:
            consumer.close()


def test_read_returns_messages_without_a_group(any_broker: Broker, any_settings: Settings) -> None:
    producer = any_broker.producer()
    for i in range(3):
        producer.send(any_settings.topic_dlq, f"d{i}", b"{}")
    producer.close()
    deadline = time.monotonic() + 10
    records: list[Record] = []
    while len(records) < 3 and time.monotonic() < deadline:
        records = any_broker.read(any_settings.topic_dlq, limit=10)
    assert sorted(r.key for r in records) == ["d0", "d1", "d2"]


@pytest.mark.parametrize("kind", ["tansu", "noida"])
def test_kafka_topics_are_created_with_the_configured_partitions(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from kafka import KafkaConsumer

    settings = broker_settings(kind, tmp_path, request)
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw])
    broker.ensure_topics([settings.topic_raw])  # a second service start finds it and changes nothing
    broker.close()
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        assert consumer.partitions_for_topic(settings.topic_raw) == set(range(settings.topic_partitions))
    finally:
        consumer.close()


@pytest.mark.parametrize("kind", ["embedded", "tansu", "noida"])
def test_lag_is_the_end_against_the_groups_committed_offset(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = broker_settings(kind, tmp_path, request)
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw])
    producer = broker.producer()
    for i in range(8):
        producer.send(settings.topic_raw, f"l{i}", b"x")
    producer.close()
    consumer = broker.consumer("g-lag", [settings.topic_raw])
    got = poll_until(consumer, 8)
    consumer.commit()
    consumer.close()
    lag = broker.lag("g-lag", settings.topic_raw)
    broker.close()
    assert len(got) == 8 and lag.committed == 8
    if kind != "tansu":  # Tansu under-reports end offsets (DESIGN.md); committed offsets are exact everywhere
        assert (lag.end_offset, lag.lag) == (8, 0)
