"""The stages the composition root binds to the worker: classify, index and ledger, on the embedded
backends. Their sinks are idempotent by post id, the only deduplication after the crawl's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from core.messages import EnrichedPost, RawPost, decode, encode
from stream.decode import parse_enriched, parse_raw
from stream.embedded import EmbeddedBroker
from stream.worker import Worker
from tests.stream.samples import raw_post
from yuqing.backends import make_archive
from yuqing.settings import Settings
from yuqing.stages import classify_stage, index_stage, ledger_stage


def enriched(n: int, *, text: str | None = None, risk: int = 40) -> EnrichedPost:
    post: dict[str, Any] = {
        **(raw_post(n) if text is None else raw_post(n, text=text)),
        "sentiment": {"label": "negative", "score": 0.9},
        "topic": {"label": "交通运输", "score": 0.8, "in_remit": True, "unit": None},
        "appeal_type": None,
        "risk": {"score": risk, "reasons": []},
        "event_id": f"ev-{n}",
        "models": {"test": "x@1"},
    }
    return post  # type: ignore[return-value]


def publish(broker: EmbeddedBroker, topic: str, posts: Sequence[EnrichedPost | RawPost]) -> None:
    producer = broker.producer()
    for post in posts:
        producer.send(topic, post["id"], encode(post))
    producer.close()


def drain(broker: EmbeddedBroker, s: Settings, stage: Any) -> Any:
    return Worker(broker, stage, dlq_topic=s.topic_dlq, poll_timeout_s=0.05).run(idle_exit_s=0.2)


class TaggingEnricher:
    def enrich_many(self, posts: Sequence[RawPost]) -> list[EnrichedPost]:
        return [enriched(int(post["id"].rsplit(":", 1)[1])) for post in posts]


def test_the_stages_decode_at_the_worker_edge() -> None:
    archive: Any = object()
    assert classify_stage(TaggingEnricher(), None, source="r", target="e").parse is parse_raw  # type: ignore[arg-type]
    assert index_stage(archive, source="e").parse is parse_enriched
    assert ledger_stage(archive, source="e").parse is parse_enriched


def test_classify_produces_each_post_keyed_by_its_id(embedded_settings: Settings) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    publish(broker, s.topic_raw, [raw_post(n) for n in range(5)])
    enricher: Any = TaggingEnricher()
    stage = classify_stage(enricher, broker.producer(), source=s.topic_raw, target=s.topic_enriched)
    stats = drain(broker, s, stage)
    records = broker.read(s.topic_enriched, 100)
    assert stats.delivered == 5
    assert (
        [r.key for r in records]
        == [decode(r.value)["id"] for r in records]
        == [raw_post(n)["id"] for n in range(5)]
    )
    assert broker.lag("yuqing-classify", s.topic_raw).lag == 0


def test_a_post_twice_in_one_batch_is_archived_once_as_its_latest_version(
    embedded_settings: Settings,
) -> None:
    # A re-crawl may put two versions of one post in a batch; the archive (idempotent by id) keeps the last.
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    first, second = enriched(1, text="第一版：道路积水"), enriched(1, text="第二版：道路积水已排除")
    publish(broker, s.topic_enriched, [first, enriched(2), second])
    archive = make_archive(s, writer=True)
    archive.ensure()
    stats = drain(broker, s, index_stage(archive, source=s.topic_enriched))
    archive.refresh()
    assert (stats.delivered, stats.dead_lettered) == (3, 0)
    assert archive.count() == 2
    stored = archive.get(first["id"])
    assert stored is not None and stored["text"] == "第二版：道路积水已排除"
    archive.close()


def test_a_post_the_archive_refuses_is_dead_lettered_and_the_rest_stored(embedded_settings: Settings) -> None:
    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    refused = enriched(7, risk=1000)  # not a score the archive stores
    publish(broker, s.topic_enriched, [enriched(6), refused, enriched(8)])
    archive = make_archive(s, writer=True)
    archive.ensure()
    stats = drain(broker, s, index_stage(archive, source=s.topic_enriched))
    archive.refresh()
    assert (stats.delivered, stats.dead_lettered) == (2, 1)
    assert archive.count() == 2 and archive.get(refused["id"]) is None
    [letter] = [decode(r.value) for r in broker.read(s.topic_dlq, 10)]
    assert (letter["stage"], letter["key"]) == ("index", refused["id"])
    assert letter["error"].startswith("rejected by the sink: risk.score")
    archive.close()


def test_a_redelivered_batch_opens_each_ticket_once(embedded_settings: Settings) -> None:
    from response_ledger.tables import tickets
    from response_ledger.unit_of_work import engine_from_settings

    s = embedded_settings
    broker = EmbeddedBroker(s.broker_path)
    posts = [enriched(n) for n in range(4)]
    publish(broker, s.topic_enriched, posts)
    engine = engine_from_settings(s)
    drain(broker, s, ledger_stage(engine, source=s.topic_enriched))
    publish(broker, s.topic_enriched, posts)  # the same posts again, as after a crash before the commit
    stats = drain(broker, s, ledger_stage(engine, source=s.topic_enriched))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(tickets)).scalar_one()
    assert stats.delivered == 4 and count == 4
    engine.dispose()
