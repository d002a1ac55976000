"""Brokers for the stream tests: the embedded log, Tansu and noida-db's Kafka, behind one fixture."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream.broker import Broker
from tests.servers import ServerProcess
from yuqing.backends import make_broker
from yuqing.settings import Settings

BROKERS = ["embedded", "tansu", "noida"]


def broker_settings(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings pointing at the broker ``kind`` with topic names unique to the test."""
    suffix = uuid.uuid4().hex[:8]
    topics = {
        "topic_raw": f"raw-{suffix}",
        "topic_enriched": f"enriched-{suffix}",
        "topic_dlq": f"dlq-{suffix}",
    }
    if kind == "embedded":
        return Settings(home=tmp_path / "home", **topics)  # type: ignore[arg-type]
    server: ServerProcess = request.getfixturevalue(f"{kind}_server")
    return Settings(
        home=tmp_path / "home",
        broker_url=f"kafka://{server.extra['bootstrap']}",
        kafka_session_timeout_ms=6000,
        topic_partitions=2,
        **topics,  # type: ignore[arg-type]
    )


@pytest.fixture(params=BROKERS)
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each broker in turn."""
    return broker_settings(str(request.param), tmp_path, request)


@pytest.fixture
def any_broker(any_settings: Settings) -> Iterator[Broker]:
    """Each broker in turn, with the test's topics created."""
    broker = make_broker(any_settings)
    broker.ensure_topics([any_settings.topic_raw, any_settings.topic_enriched, any_settings.topic_dlq])
    yield broker
    broker.close()
