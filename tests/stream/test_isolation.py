"""Stage isolation (issue 19): one bad record goes to the DLQ alone, the batch goes on, nothing stops
for a record; replay counts attempts, parks a record after N and never reads back its own output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.messages import EnrichedPost, RawPost, decode, encode
from crawlers.ingest import ingest_file
from stream.broker import Record
from stream.decode import parse_raw
from stream.embedded import EmbeddedBroker
from stream.errors import SystemicFailure
from stream.replay import replay_dead_letters
from stream.worker import Stage, Worker
from tests.stream.samples import raw_post
from yuqing.backends import make_archive
from yuqing.settings import Settings
from yuqing.stages import classify_stage, index_stage


class ReachEnricher:
    """Adds the enriched fields, reading metrics the way the risk formula does (sums of counters)."""

    def enrich_many(self, posts: Sequence[RawPost]) -> list[EnrichedPost]:
        out = []
        for post in posts:
            m: dict[str, Any] = dict(post.get("metrics") or {})
            reach = m.get("reposts", 0) + m.get("comments", 0)  # "1.2万" + 0 raises TypeError
            out.append(
                {
                    **post,
                    "sentiment": {"label": "negative", "score": 0.9},
                    "topic": {"label": "交通运输", "score": 0.8, "in_remit": True, "unit": None},
                    "appeal_type": None,
                    "risk": {"score": min(100, reach), "reasons": []},
                    "event_id": f"ev-{post['id']}",
                    "models": {"test": "reach@1"},
                }
            )
        return out  # type: ignore[return-value]


def weibo_with_printed_count(n: int) -> dict[str, Any]:
    return {
        **raw_post(n),
        "id": f"weibo:acct:{n}",
        "source": "weibo",
        "channel": "acct",
        "metrics": {"reposts": "1.2万", "comments": 3},
    }


def publish(broker: EmbeddedBroker, topic: str, values: Sequence[tuple[str | None, bytes]]) -> None:
    producer = broker.producer()
    for key, value in values:
        producer.send(topic, key, value)
    producer.close()


def letters(broker: EmbeddedBroker, topic: str) -> list[dict[str, Any]]:
    return [decode(r.value) for r in broker.read(topic, 1000)]


def test_a_printed_weibo_count_is_refused_at_ingest_and_the_40_good_posts_reach_the_archive(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    s = embedded_settings
    posts: list[Any] = [raw_post(i) for i in range(40)]
    posts.insert(20, weibo_with_printed_count(99))
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in posts) + "\n", encoding="utf-8")
    broker = EmbeddedBroker(s.broker_path)
    report = ingest_file(path, broker.producer(), topic=s.topic_raw, dlq_topic=s.topic_dlq)
    assert (report.published, report.dead_lettered) == (40, 1)
    assert "metrics.reposts: not a non-negative integer: '1.2万'" in report.errors[0]
    # The same post published by an older producer, past the edge: the classify parse refuses it.
    publish(broker, s.topic_raw, [("weibo:acct:99", encode(weibo_with_printed_count(99)))])

    run_classify_and_index(s, broker)
    archive = make_archive(s)
    archive.refresh()
    assert archive.count() == 40
    found = [(d["stage"], d["key"]) for d in letters(broker, s.topic_dlq)]
    assert found == [("ingest", None), ("classify", "weibo:acct:99")]
    assert broker.lag("yuqing-classify", s.topic_raw).lag == 0
    archive.close()


def run_classify_and_index(s: Settings, broker: EmbeddedBroker, *, parse: Any = parse_raw) -> None:
    classify = classify_stage(ReachEnricher(), broker.producer(), source=s.topic_raw, target=s.topic_enriched)
    classify = Stage(classify.name, classify.group, classify.topic, parse, classify.sink)
    Worker(broker, classify, dlq_topic=s.topic_dlq, poll_timeout_s=0.05).run(idle_exit_s=0.2)
    archive = make_archive(s, writer=True)
    archive.ensure()
    index = index_stage(archive, source=s.topic_enriched)
    Worker(broker, index, dlq_topic=s.topic_dlq, poll_timeout_s=0.05).run(idle_exit_s=0.2)
    archive.close()


def test_a_post_that_breaks_enrichment_is_bisected_out_and_the_rest_of_the_batch_is_archived(
    embedded_settings: Settings,
) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    good = [raw_post(i) for i in range(40)]
    values = [(p["id"], encode(p)) for p in good]
    values.insert(13, ("weibo:acct:99", encode(weibo_with_printed_count(99))))
    publish(broker, s.topic_raw, values)

    def lenient_parse(record: Record) -> RawPost:
        return decode(record.value)  # type: ignore[return-value] - the contract's check skipped, as before issue 19

    run_classify_and_index(s, broker, parse=lenient_parse)
    archive = make_archive(s)
    archive.refresh()
    assert archive.count() == 40
    (letter,) = letters(broker, s.topic_dlq)
    assert (letter["stage"], letter["key"], letter["offset"]) == ("classify", "weibo:acct:99", 13)
    assert letter["error"].startswith("TypeError: ")
    assert decode(letter["payload"].encode("utf-8"))["metrics"]["reposts"] == "1.2万"
    archive.close()


class PickyArchive:
    """An archive whose bulk write raises (not a typed refusal) whenever one given post is in it."""

    def __init__(self, poison: set[str]) -> None:
        self.poison = poison
        self.stored: dict[str, EnrichedPost] = {}
        self.calls = 0

    def index(self, posts: list[EnrichedPost]) -> None:
        self.calls += 1
        bad = [p["id"] for p in posts if p["id"] in self.poison]
        if bad:
            raise KeyError(f"no mapping for {bad[0]}")
        self.stored.update((p["id"], p) for p in posts)


def test_the_index_sink_dead_letters_only_the_posts_it_cannot_store(embedded_settings: Settings) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    posts = ReachEnricher().enrich_many([raw_post(i) for i in range(100)])
    publish(broker, s.topic_enriched, [(p["id"], encode(p)) for p in posts])
    poison = {posts[7]["id"], posts[64]["id"]}
    archive = PickyArchive(poison)
    stats = Worker(
        broker,
        index_stage(archive, source=s.topic_enriched),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.05,  # type: ignore[arg-type]
    ).run(max_batches=1)
    assert set(archive.stored) == {p["id"] for p in posts} - poison
    assert {(d["stage"], d["key"]) for d in letters(broker, s.topic_dlq)} == {("index", k) for k in poison}
    assert (stats.delivered, stats.dead_lettered) == (98, 2)
    assert archive.calls < 30  # bisection, not one write per post
    assert broker.lag("yuqing-index", s.topic_enriched).lag == 0


def test_a_batch_where_every_record_fails_stops_the_worker_loudly_and_commits_nothing(
    embedded_settings: Settings,
) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    publish(broker, s.topic_raw, [(p["id"], encode(p)) for p in (raw_post(i) for i in range(5))])
    calls: list[int] = []

    def dead(posts: Sequence[RawPost]) -> None:
        calls.append(len(posts))
        raise ConnectionRefusedError("model server down")

    worker = Worker(
        broker,
        Stage("classify", "g", s.topic_raw, parse_raw, dead),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.05,
        max_backoff_s=0.01,
        systemic_retries=2,
    )
    with pytest.raises(SystemicFailure, match="all 5 records"):
        worker.run()
    assert broker.read(s.topic_dlq, 10) == []
    assert broker.lag("g", s.topic_raw).lag == 5
    assert calls.count(5) == 3  # the first try and two retries after a backoff


def test_a_lone_failing_record_is_dead_lettered_not_a_reason_to_stop(embedded_settings: Settings) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    post = raw_post(1)
    publish(broker, s.topic_raw, [(post["id"], encode(post))])

    def broken(posts: Sequence[RawPost]) -> None:
        raise ValueError("cannot tokenise")

    stats = Worker(
        broker,
        Stage("classify", "g", s.topic_raw, parse_raw, broken),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.05,
    ).run(max_batches=1)
    assert stats.dead_lettered == 1 and broker.lag("g", s.topic_raw).lag == 0
    assert letters(broker, s.topic_dlq)[0]["error"] == "ValueError: cannot tokenise"


def test_replay_parks_a_record_after_three_attempts_and_never_replays_its_own_output(
    embedded_settings: Settings,
) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    poison, good = raw_post(7), raw_post(8)
    publish(broker, s.topic_raw, [(poison["id"], encode(poison)), (good["id"], encode(good))])

    def breaks_on_seven(posts: Sequence[RawPost]) -> None:
        if any(p["id"] == poison["id"] for p in posts):
            raise RuntimeError("tokeniser bug")

    worker = Worker(
        broker,
        Stage("classify", "g", s.topic_raw, parse_raw, breaks_on_seven),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.05,
    )
    kwargs: dict[str, Any] = {
        "dlq_topic": s.topic_dlq,
        "stage": "classify",
        "topics": {s.topic_raw},
        "fallback_topic": s.topic_raw,
        "max_attempts": 3,
    }
    reports = []
    for _ in range(5):
        worker.run(idle_exit_s=0.1)  # the worker fails the replayed post again
        reports.append(replay_dead_letters(broker, **kwargs))
    assert [(r.replayed, r.parked) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    assert [r.key for r in broker.read(s.topic_raw, 100)].count(poison["id"]) == 3
    parked = [d for d in letters(broker, s.topic_dlq) if d.get("kind") == "parked"]
    assert len(parked) == 1 and parked[0]["attempts"] == 3
    assert [h["error"] for h in parked[0]["history"]] == ["RuntimeError: tokeniser bug"] * 3
    assert decode(parked[0]["payload"].encode("utf-8")) == poison


def test_a_replay_run_reads_a_snapshot_so_a_failure_during_it_waits_for_the_next_run(
    embedded_settings: Settings,
) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    post = raw_post(3)
    letter = {
        "schema": 1,
        "stage": "classify",
        "error": "x",
        "topic": s.topic_raw,
        "partition": 0,
        "offset": 0,
        "key": post["id"],
        "payload": json.dumps(post, ensure_ascii=False),
        "failed_at": "2026-11-20T09:00:00+08:00",
    }
    publish(broker, s.topic_dlq, [(post["id"], encode(letter))])
    report = replay_dead_letters(
        broker, dlq_topic=s.topic_dlq, stage="classify", topics={s.topic_raw}, fallback_topic=s.topic_raw
    )
    assert report.replayed == 1 and len(broker.read(s.topic_raw, 100)) == 1
