"""The worker's failure policy, on the embedded broker with an in-memory sink."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from core.messages import RawPost, decode, encode
from stream.decode import parse_raw
from stream.embedded import EmbeddedBroker
from stream.errors import TransientError
from stream.worker import Stage, Worker
from tests.stream.samples import raw_post
from yuqing.settings import Settings


def publish(broker: EmbeddedBroker, topic: str, values: Sequence[tuple[str | None, bytes]]) -> None:
    producer = broker.producer()
    for key, value in values:
        producer.send(topic, key, value)
    producer.close()


def test_a_poison_message_mid_batch_goes_to_the_dlq_and_the_rest_is_delivered(
    embedded_settings: Settings,
) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    good = [raw_post(i) for i in range(5)]
    values: list[tuple[str | None, bytes]] = [(p["id"], encode(p)) for p in good[:2]]
    values.append(("bad", b"\xff\xfe not json"))
    values.append(("half", encode({"schema": 1, "id": "board:x:9", "source": "board"})))
    values += [(p["id"], encode(p)) for p in good[2:]]
    publish(broker, s.topic_raw, values)
    delivered: list[RawPost] = []
    stage = Stage("classify", "g", s.topic_raw, parse_raw, delivered.extend)
    Worker(broker, stage, dlq_topic=s.topic_dlq, batch_size=100, poll_timeout_s=0.1).run(max_batches=1)

    assert [p["id"] for p in delivered] == [p["id"] for p in good]
    letters = [decode(r.value) for r in broker.read(s.topic_dlq, limit=10)]
    assert [(d["stage"], d["key"], d["offset"]) for d in letters] == [
        ("classify", "bad", 2),
        ("classify", "half", 3),
    ]
    assert "not UTF-8" in letters[0]["error"]
    assert "text: missing" in letters[1]["error"] or "channel: missing" in letters[1]["error"]
    assert broker.lag("g", s.topic_raw).lag == 0


def test_a_transient_sink_failure_holds_the_offset_and_retries_until_it_succeeds(
    embedded_settings: Settings,
) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    publish(broker, s.topic_raw, [(p["id"], encode(p)) for p in (raw_post(i) for i in range(3))])
    calls: list[int] = []
    delivered: list[RawPost] = []
    lag_during_outage: list[int] = []

    def flaky(posts: Sequence[RawPost]) -> None:
        calls.append(len(posts))
        if len(calls) < 3:
            lag_during_outage.append(broker.lag("g", s.topic_raw).lag)
            raise TransientError("archive down", retry_after=0.01)
        delivered.extend(posts)

    worker = Worker(
        broker,
        Stage("index", "g", s.topic_raw, parse_raw, flaky),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.1,
        max_backoff_s=0.05,
    )
    stats = worker.run(max_batches=1)
    assert calls == [3, 3, 3]
    assert lag_during_outage == [3, 3]
    assert len(delivered) == 3 and stats.retries == 2
    assert broker.lag("g", s.topic_raw).lag == 0


def test_a_stop_during_an_outage_abandons_the_batch_without_committing(embedded_settings: Settings) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    publish(broker, s.topic_raw, [(p["id"], encode(p)) for p in (raw_post(i) for i in range(2))])
    stop = threading.Event()

    def down(posts: Sequence[RawPost]) -> None:
        stop.set()
        raise TransientError("archive down", retry_after=0.01)

    Worker(
        broker,
        Stage("index", "g", s.topic_raw, parse_raw, down),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.1,
        stop=stop,
    ).run()
    assert broker.lag("g", s.topic_raw).lag == 2


def test_embedded_offsets_survive_a_new_broker_on_the_same_file(embedded_settings: Settings) -> None:
    s = embedded_settings
    first = EmbeddedBroker(s.broker_path)
    publish(first, s.topic_raw, [(p["id"], encode(p)) for p in (raw_post(i) for i in range(4))])
    Worker(
        first,
        Stage("x", "g", s.topic_raw, parse_raw, lambda posts: None),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.1,
        batch_size=3,
    ).run(max_batches=1)
    first.close()
    reopened = EmbeddedBroker(s.broker_path)
    assert reopened.lag("g", s.topic_raw).lag == 1
    assert reopened.lag("g", s.topic_raw).end_offset == 4


def test_records_the_sink_refuses_for_good_are_dead_lettered_and_the_rest_committed(
    embedded_settings: Settings,
) -> None:
    from stream.errors import PartialFailure

    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    posts = [raw_post(i) for i in range(3)]
    publish(broker, s.topic_raw, [(p["id"], encode(p)) for p in posts])
    stored: list[str] = []

    def picky(batch: Sequence[RawPost]) -> None:
        stored.extend(p["id"] for p in batch if p["id"] != posts[1]["id"])
        raise PartialFailure({posts[1]["id"]: "risk: not a number"})

    stats = Worker(
        broker, Stage("index", "g", s.topic_raw, parse_raw, picky), dlq_topic=s.topic_dlq, poll_timeout_s=0.1
    ).run(max_batches=1)
    letters = [decode(r.value) for r in broker.read(s.topic_dlq, limit=10)]
    assert [(d["key"], d["stage"]) for d in letters] == [(posts[1]["id"], "index")]
    assert "risk: not a number" in letters[0]["error"]
    assert stored == [posts[0]["id"], posts[2]["id"]]
    assert (stats.delivered, stats.dead_lettered) == (2, 1)
    assert broker.lag("g", s.topic_raw).lag == 0


def test_dead_letters_are_replayed_once_to_the_topic_they_failed_on(embedded_settings: Settings) -> None:
    from stream.replay import replay_dead_letters

    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    post = raw_post(7)
    # The classify stage once failed on this post (say, a bug since fixed): it sits in the DLQ.
    publish(broker, s.topic_raw, [(post["id"], encode(post))])

    def broken(posts: Sequence[RawPost]) -> None:
        raise RuntimeError("never")

    def failing_parse(record: object) -> RawPost:
        raise ValueError("classifier bug")

    Worker(
        broker,
        Stage("classify", "g", s.topic_raw, failing_parse, broken),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.1,
    ).run(max_batches=1)
    assert len(broker.read(s.topic_dlq, 10)) == 1

    kwargs = {
        "dlq_topic": s.topic_dlq,
        "stage": "classify",
        "topics": {s.topic_raw},
        "fallback_topic": s.topic_raw,
    }
    first = replay_dead_letters(broker, **kwargs)  # type: ignore[arg-type]
    again = replay_dead_letters(broker, **kwargs)  # type: ignore[arg-type]
    assert (first.replayed, again.replayed) == (1, 0)
    replayed = broker.read(s.topic_raw, 10)
    assert [r.key for r in replayed] == [post["id"], post["id"]]
    assert decode(replayed[1].value) == post
