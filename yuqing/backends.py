"""Builds the configured backends from settings: the only place that maps configuration to adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yuqing.settings import Settings

if TYPE_CHECKING:
    from archive.base import Archive
    from archive.saved import SavedSearches
    from stream.broker import Broker


def make_broker(settings: Settings) -> Broker:
    """The embedded broker or a Kafka cluster, as ``settings.broker_url`` says."""
    if settings.broker_url == "embedded":
        from stream.embedded import EmbeddedBroker

        return EmbeddedBroker(settings.broker_path)
    from stream.kafka import KafkaBroker, KafkaOptions

    timeout = settings.kafka_session_timeout_ms
    return KafkaBroker(
        KafkaOptions(
            bootstrap=tuple(settings.kafka_bootstrap),
            partitions=settings.topic_partitions,
            session_timeout_ms=timeout,
            heartbeat_interval_ms=max(timeout // 6, 500),
        )
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

    return ElasticArchive(settings.archive_url, index=settings.archive_index)


def archive_exists(settings: Settings) -> bool:
    """Whether there is an archive to read: readers never create an embedded one by opening it."""
    return settings.archive_url != "embedded" or settings.archive_path.exists()


def make_saved_searches(settings: Settings) -> SavedSearches:
    """The installation's saved searches (a file in the home), shared by the CLI, dashboard and scheduler."""
    from archive.saved import SavedSearches

    return SavedSearches(settings.home / "saved_searches.json")
