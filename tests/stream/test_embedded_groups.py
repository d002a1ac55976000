"""The embedded broker's group membership: one reader per group and topic, failover without regress."""

from __future__ import annotations

import time

import pytest

from stream.embedded import EmbeddedBroker
from stream.errors import RebalanceError
from yuqing.settings import Settings


def fill(broker: EmbeddedBroker, topic: str, n: int) -> None:
    producer = broker.producer()
    for i in range(n):
        producer.send(topic, f"k{i}", b"v")
    producer.close()


def test_a_second_member_stands_by_until_the_first_leaves(embedded_settings: Settings) -> None:
    broker = EmbeddedBroker(embedded_settings.broker_path)
    fill(broker, "t", 10)
    first, second = broker.consumer("g", ["t"]), broker.consumer("g", ["t"])
    assert len(first.poll(4, 0.1)) == 4
    first.commit()
    assert second.poll(10, 0.1) == []
    first.close()
    taken_over = second.poll(10, 0.1)
    assert [r.offset for r in taken_over] == list(range(4, 10))
    second.close()


def test_a_crashed_members_lease_expires_and_its_uncommitted_batch_is_redone(
    embedded_settings: Settings,
) -> None:
    broker = EmbeddedBroker(embedded_settings.broker_path, lease_s=0.3)
    fill(broker, "t", 5)
    crashed = broker.consumer("g", ["t"])
    assert len(crashed.poll(5, 0.1)) == 5  # then it dies without committing or leaving
    survivor = broker.consumer("g", ["t"])
    assert survivor.poll(5, 0.1) == []
    time.sleep(0.4)
    assert [r.offset for r in survivor.poll(5, 0.1)] == [0, 1, 2, 3, 4]
    survivor.commit()
    with pytest.raises(RebalanceError):
        crashed.commit()  # a late commit of the dead member cannot move the group's offset
    assert broker.lag("g", "t").committed == 5
