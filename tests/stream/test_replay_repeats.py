"""A failure written twice to posts.dlq is one failure (found by `yuqing bench faults`).

Dead letters are part of the at-least-once batch: a worker that dies (or loses its partitions) after
its dead letters are durable and before its commit does the batch again and writes them again. Replay
counts a record's failures against ``--max-attempts``, so a repeated letter must not count twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.messages import RawPost, decode, encode
from stream.broker import Consumer, Record
from stream.decode import parse_raw
from stream.embedded import EmbeddedBroker
from stream.errors import RebalanceError
from stream.replay import replay_dead_letters
from stream.worker import Stage, Worker
from tests.stream.samples import raw_post
from yuqing.settings import Settings


class CommitLostOnce:
    """A consumer whose first commit is refused, as after a rebalance (a member killed, a broker restart)."""

    def __init__(self, inner: Consumer) -> None:
        self.inner = inner
        self.refused = False

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        return self.inner.poll(max_records, timeout_s)

    def commit(self) -> None:
        if not self.refused:
            self.refused = True
            raise RebalanceError("generation changed")
        self.inner.commit()

    def rewind(self) -> None:
        self.inner.rewind()

    def close(self) -> None:
        self.inner.close()


class LosesFirstCommit(EmbeddedBroker):
    def consumer(self, group: str, topics: Sequence[str]) -> Any:
        return CommitLostOnce(super().consumer(group, topics))


def test_a_letter_written_again_by_a_redone_batch_counts_as_one_failure(embedded_settings: Settings) -> None:
    s = embedded_settings
    poison, good = raw_post(7), raw_post(8)
    broker = LosesFirstCommit(s.broker_path)
    producer = broker.producer()
    for post in (poison, good):
        producer.send(s.topic_raw, post["id"], encode(post))
    producer.close()

    def breaks_on_seven(posts: Sequence[RawPost]) -> None:
        if any(p["id"] == poison["id"] for p in posts):
            raise RuntimeError("tokeniser bug")

    def worker(on: EmbeddedBroker) -> Worker[RawPost]:
        stage = Stage("classify", "g", s.topic_raw, parse_raw, breaks_on_seven)
        return Worker(on, stage, dlq_topic=s.topic_dlq, poll_timeout_s=0.05)

    worker(broker).run(idle_exit_s=0.1)  # the batch is done twice: its letter is written twice
    first = [decode(r.value) for r in broker.read(s.topic_dlq, 10)]
    assert len(first) == 2
    assert {(d["key"], d["topic"], d["partition"], d["offset"]) for d in first} == {
        (poison["id"], s.topic_raw, 0, 0)
    }

    plain = EmbeddedBroker(s.broker_path)
    kwargs: dict[str, Any] = {
        "dlq_topic": s.topic_dlq,
        "stage": "classify",
        "topics": {s.topic_raw},
        "fallback_topic": s.topic_raw,
        "max_attempts": 3,
    }
    reports = []
    for _ in range(4):
        reports.append(replay_dead_letters(plain, **kwargs))
        worker(plain).run(idle_exit_s=0.1)  # the replayed post fails again
    # Three real attempts before it is parked: the repeated letter is not a second failure.
    assert [(r.replayed, r.parked) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    assert reports[0].repeated == 1
    assert [r.key for r in plain.read(s.topic_raw, 100)].count(poison["id"]) == 3
    letters = [decode(r.value) for r in plain.read(s.topic_dlq, 100)]
    (parked,) = [d for d in letters if d.get("kind") == "parked"]
    assert parked["attempts"] == 3
    assert len({h["offset"] for h in parked["history"]}) == 3
