"""Kafka cluster settings: the security arguments of every client, and topics created and aligned.

The security arguments are a pure function, checked for each mode and against the configuration
keys kafka-python's clients accept (an unknown key is refused by the client). Topic layout and
configs are checked on real servers: Tansu (replication 1, configs read back with DescribeConfigs,
an existing topic's retention aligned) and noida-db, which, like Kafka, refuses a replication above
its one broker.
"""

from __future__ import annotations

import logging
import random
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.partitioner import DefaultPartitioner
from kafka.partitioner.default import murmur2 as reference_murmur2

from stream.errors import BrokerError
from stream.kafka import (
    DAY_MS,
    KafkaBroker,
    KafkaOptions,
    KafkaSecurity,
    KeyPartitioner,
    murmur2,
    security_kwargs,
)
from tests.servers import ServerProcess
from yuqing.backends import kafka_options
from yuqing.settings import Settings


@pytest.mark.parametrize(
    ("security", "expected"),
    [
        (KafkaSecurity(), {"security_protocol": "PLAINTEXT"}),
        (
            KafkaSecurity(protocol="SSL", ca_file="/etc/yuqing/kafka-ca.pem"),
            {
                "security_protocol": "SSL",
                "ssl_check_hostname": True,
                "ssl_cafile": "/etc/yuqing/kafka-ca.pem",
            },
        ),
        (
            KafkaSecurity(protocol="SSL"),  # the system's CAs
            {"security_protocol": "SSL", "ssl_check_hostname": True},
        ),
        (
            KafkaSecurity(protocol="SASL_PLAINTEXT", username="yuqing", password="pw"),
            {
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_plain_username": "yuqing",
                "sasl_plain_password": "pw",
            },
        ),
        (
            KafkaSecurity(
                protocol="SASL_SSL",
                sasl_mechanism="SCRAM-SHA-512",
                username="yuqing",
                password="pw",
                ca_file="/ca",
            ),
            {
                "security_protocol": "SASL_SSL",
                "ssl_check_hostname": True,
                "ssl_cafile": "/ca",
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": "yuqing",
                "sasl_plain_password": "pw",
            },
        ),
        (
            KafkaSecurity(protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-256", username="u", password="pw"),
            {
                "security_protocol": "SASL_SSL",
                "ssl_check_hostname": True,
                "sasl_mechanism": "SCRAM-SHA-256",
                "sasl_plain_username": "u",
                "sasl_plain_password": "pw",
            },
        ),
    ],
    ids=["plaintext", "ssl-ca", "ssl-system-ca", "sasl-plain", "sasl-ssl-scram-512", "sasl-ssl-scram-256"],
)
def test_security_kwargs_for_each_mode(security: KafkaSecurity, expected: dict[str, object]) -> None:
    kwargs = security_kwargs(security)
    assert kwargs == expected
    # Every key is one each kafka-python client takes (they refuse unknown configuration keys).
    for client in (KafkaProducer, KafkaConsumer, KafkaAdminClient):
        assert set(kwargs) <= set(client.DEFAULT_CONFIG), client.__name__


@pytest.mark.parametrize(
    "security",
    [
        KafkaSecurity(protocol="TLS"),
        KafkaSecurity(protocol="SASL_SSL", sasl_mechanism="GSSAPI", username="u", password="p"),
        KafkaSecurity(protocol="SASL_PLAINTEXT", username="u"),
    ],
    ids=["unknown-protocol", "unsupported-mechanism", "no-password"],
)
def test_security_kwargs_refuse_what_cannot_connect(security: KafkaSecurity) -> None:
    with pytest.raises(ValueError):
        security_kwargs(security)


def test_the_partitioner_picks_the_partition_every_kafka_client_picks() -> None:
    # kafka-python's murmur2 is the Java client's; ours must agree on every key, whatever its length.
    rng = random.Random(20)
    keys = [rng.randbytes(rng.randint(0, 64)) for _ in range(5000)]
    keys += [f"weibo:城市观察:{n}".encode() for n in range(2000)]
    assert [murmur2(key) for key in keys] == [reference_murmur2(key) for key in keys]

    class Cluster:
        def topics(self) -> set[str]:
            return {"posts.raw"}

        def partitions_for_topic(self, topic: str) -> set[int]:
            return {0, 1, 2, 3, 4, 5}

        def available_partitions_for_topic(self, topic: str) -> set[int]:
            return {0, 1, 2, 3, 4, 5}

    ours, theirs, cluster = KeyPartitioner(), DefaultPartitioner(), Cluster()
    for key in keys:
        assert ours.partition("posts.raw", key, key, b"", b"", cluster) == theirs.partition(
            "posts.raw", key, key, b"", b"", cluster
        )
    assert ours.partition("posts.raw", None, None, b"", b"", cluster) in range(6)  # no key: any partition


def test_the_password_never_shows_in_a_repr() -> None:
    options = KafkaOptions(bootstrap=("k:9092",), security=KafkaSecurity("SASL_SSL", "PLAIN", "u", "hunter2"))
    assert "hunter2" not in repr(options)


def test_settings_become_the_options_of_every_client() -> None:
    settings = Settings.from_env(
        {
            "YUQING_BROKER_URL": "kafka://k1:9093,k2:9093",
            "YUQING_TOPIC_PARTITIONS": "6",
            "YUQING_KAFKA_REPLICATION": "3",
            "YUQING_KAFKA_SECURITY": "SASL_SSL",
            "YUQING_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
            "YUQING_KAFKA_USERNAME": "yuqing",
            "YUQING_KAFKA_PASSWORD": "pw",
            "YUQING_KAFKA_CA_FILE": "/etc/yuqing/kafka-ca.pem",
        }
    )
    options = kafka_options(settings)
    assert options.client_kwargs() == {
        "bootstrap_servers": ["k1:9093", "k2:9093"],
        "security_protocol": "SASL_SSL",
        "ssl_check_hostname": True,
        "ssl_cafile": "/etc/yuqing/kafka-ca.pem",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "yuqing",
        "sasl_plain_password": "pw",
    }
    request = KafkaBroker(options).create_topics_request([settings.topic_raw, settings.topic_dlq])
    assert request == {
        "posts.raw": {
            "num_partitions": 6,
            "replication_factor": 3,
            "configs": {"retention.ms": str(14 * DAY_MS), "min.insync.replicas": "2"},
        },
        # Dead letters wait for someone to read and replay them: 90 days.
        "posts.dlq": {
            "num_partitions": 6,
            "replication_factor": 3,
            "configs": {"retention.ms": str(90 * DAY_MS), "min.insync.replicas": "2"},
        },
    }


def _settings(server: ServerProcess, **overrides: object) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "home": Path("unused"),
        "broker_url": f"kafka://{server.extra['bootstrap']}",
        "kafka_session_timeout_ms": 6000,
        "topic_partitions": 2,
        "topic_raw": f"raw-{suffix}",
        "topic_enriched": f"enriched-{suffix}",
        "topic_dlq": f"dlq-{suffix}",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _configs(server: ServerProcess, topic: str) -> dict[str, str]:
    admin = KafkaAdminClient(bootstrap_servers=[str(server.extra["bootstrap"])])
    try:
        found = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)],
            config_filter="all",
        )
        layout = admin.describe_topics([topic])[0]
    finally:
        admin.close()
    wanted = ("retention.ms", "min.insync.replicas")
    configs = {key: str(entry["value"]) for key, entry in found["topic"][topic].items() if key in wanted}
    configs["partitions"] = str(len(layout["partitions"]))
    configs["replication"] = str(len(layout["partitions"][0]["replica_nodes"]))
    return configs


@pytest.mark.servers
def test_topics_are_created_with_replication_partitions_and_retention(tansu_server: ServerProcess) -> None:
    settings = _settings(tansu_server, dlq_retention_days=90, topic_retention_days=14)
    broker = KafkaBroker(kafka_options(settings))
    try:
        broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
    finally:
        broker.close()
    raw = _configs(tansu_server, settings.topic_raw)
    dlq = _configs(tansu_server, settings.topic_dlq)
    assert raw == {
        "retention.ms": str(14 * DAY_MS),
        "min.insync.replicas": "1",
        "partitions": "2",
        "replication": "1",
    }
    assert dlq["retention.ms"] == str(90 * DAY_MS) == "7776000000"


@pytest.mark.servers
def test_an_existing_topic_gets_the_configured_retention_and_its_layout_is_checked(
    tansu_server: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    before = _settings(tansu_server, topic_partitions=1, dlq_retention_days=14)
    broker = KafkaBroker(kafka_options(before))
    broker.ensure_topics([before.topic_dlq])
    broker.close()
    after = _settings(tansu_server, topic_partitions=2, dlq_retention_days=90, topic_dlq=before.topic_dlq)
    broker = KafkaBroker(kafka_options(after))
    with caplog.at_level(logging.INFO, logger="stream.kafka"):
        broker.ensure_topics([after.topic_dlq])
        broker.ensure_topics([after.topic_dlq])  # aligned now: nothing changes a second time
    broker.close()
    assert _configs(tansu_server, after.topic_dlq)["retention.ms"] == str(90 * DAY_MS)
    changed = [r.getMessage() for r in caplog.records if "event=topic-config-changed" in r.getMessage()]
    assert changed == [
        f"event=topic-config-changed topic={after.topic_dlq} config=retention.ms "
        f"from={14 * DAY_MS} to={90 * DAY_MS}"
    ]
    # One partition where two are configured: logged, never changed behind the operator's back.
    assert any(
        "event=topic-mismatch" in r.getMessage() and "partitions=1 wanted_partitions=2" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.servers
def test_a_replication_above_the_brokers_is_refused_by_name(noida_server: ServerProcess) -> None:
    # Like Kafka, noida-db refuses three copies on its one broker; Tansu would accept them.
    settings = _settings(noida_server, kafka_replication=3)
    broker = KafkaBroker(kafka_options(settings))
    try:
        with pytest.raises(BrokerError, match="InvalidReplicationFactor"):
            broker.ensure_topics([settings.topic_raw])
    finally:
        broker.close()
