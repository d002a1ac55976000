"""Builds the configured backends from settings: the only place that maps configuration to adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yuqing.settings import Settings

if TYPE_CHECKING:
    from archive.base import Archive
    from archive.elastic_cluster import ElasticAuth
    from archive.saved import SavedSearches
    from stream.broker import Broker
    from stream.kafka import KafkaOptions


def make_broker(settings: Settings) -> Broker:
    """The embedded broker or a Kafka cluster, as ``settings.broker_url`` says."""
    if settings.broker_url == "embedded":
        from stream.embedded import EmbeddedBroker

        return EmbeddedBroker(settings.broker_path)
    from stream.kafka import KafkaBroker

    return KafkaBroker(kafka_options(settings))


def kafka_options(settings: Settings) -> KafkaOptions:
    """The Kafka client options ``settings`` say: topics' layout and retention, group timing, security."""
    from stream.kafka import DAY_MS, KafkaOptions, KafkaSecurity

    timeout = settings.kafka_session_timeout_ms
    return KafkaOptions(
        bootstrap=tuple(settings.kafka_bootstrap),
        partitions=settings.topic_partitions,
        replication=settings.kafka_replication,
        min_insync=settings.kafka_min_insync_replicas,
        retention_ms=round(settings.topic_retention_days * DAY_MS),
        retention_overrides=((settings.topic_dlq, round(settings.dlq_retention_days * DAY_MS)),),
        session_timeout_ms=timeout,
        heartbeat_interval_ms=max(timeout // 6, 500),
        security=KafkaSecurity(
            protocol=settings.kafka_security,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_username,
            password=settings.kafka_password,
            ca_file=str(settings.kafka_ca_file) if settings.kafka_ca_file is not None else None,
        ),
    )


def make_archive(settings: Settings, *, writer: bool = False) -> Archive:
    """The embedded archive or Elasticsearch, as ``settings.archive_url`` says.

    A ``writer`` (the index worker) opens the embedded file without mapping it into memory: its
    inserts read few pages, and mapped pages would count towards its resident memory.
    """
    if settings.archive_url == "embedded":
        from archive.embedded import EmbeddedArchive

        return EmbeddedArchive(settings.archive_path, mapped=not writer)
    from archive.elastic import ElasticArchive

    return ElasticArchive(
        settings.archive_url,
        index=settings.archive_index,
        replicas=settings.elastic_replica_count,
        retention_months=settings.archive_retention_months,
        auth=elastic_auth(settings),
    )


def elastic_auth(settings: Settings) -> ElasticAuth:
    """The Elasticsearch credentials and CA of ``settings`` (a user and password in the URL stay there)."""
    from archive.elastic_cluster import ElasticAuth

    return ElasticAuth(
        username=settings.elastic_username,
        password=settings.elastic_password,
        api_key=settings.elastic_api_key,
        ca_file=str(settings.elastic_ca_file) if settings.elastic_ca_file is not None else None,
    )


def archive_exists(settings: Settings) -> bool:
    """Whether there is an archive to read: readers never create an embedded one by opening it."""
    return settings.archive_url != "embedded" or settings.archive_path.exists()


def make_saved_searches(settings: Settings) -> SavedSearches:
    """The installation's saved searches (a file in the home), shared by the CLI, dashboard and scheduler."""
    from archive.saved import SavedSearches

    return SavedSearches(settings.home / "saved_searches.json")
