"""Faults against real processes: a worker killed mid-batch, the archive down under load, a broker restart,
and poison in the middle of a batch — on the embedded broker, Tansu and noida-db."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.base import Archive
from core.messages import EnrichedPost, decode, encode
from stream.broker import Broker, Record
from stream.decode import parse_raw
from stream.worker import Stage, Worker
from tests.servers import ServerProcess, noida
from tests.stream.conftest import broker_settings
from tests.stream.samples import raw_post
from yuqing.backends import make_archive, make_broker
from yuqing.settings import Settings, settings_env
from yuqing.stages import index_stage

pytestmark = pytest.mark.slow


def enriched_post(n: int) -> EnrichedPost:
    """An enriched post numbered ``n`` (classification is not what these tests are about)."""
    return {
        **raw_post(n),
        "sentiment": {"label": "negative", "score": 0.9},
        "topic": {"label": "交通运输", "score": 0.8, "in_remit": True, "unit": "区交通运输局"},
        "appeal_type": "投诉",
        "risk": {"score": 40, "reasons": []},
        "event_id": f"ev-{n}",
        "models": {"sentiment": "test@1"},
    }


def publish_enriched(settings: Settings, numbers: range) -> None:
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
    producer = broker.producer()
    for n in numbers:
        post = enriched_post(n)
        producer.send(settings.topic_enriched, post["id"], encode(post))
    producer.close()
    broker.close()


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def archived(archive: Archive) -> int:
    archive.refresh()
    return archive.count()


def start_index_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings)}
    return subprocess.Popen([sys.executable, "-m", "yuqing", "worker", "index"], env=env)


@pytest.mark.parametrize("kind", ["embedded", "tansu"])
def test_a_worker_killed_mid_batch_and_restarted_archives_every_post_exactly_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = dataclasses.replace(broker_settings(kind, tmp_path, request), batch_size=100)
    total = 3000
    publish_enriched(settings, range(total))
    archive = make_archive(settings)
    archive.ensure()
    worker = start_index_worker(settings)
    try:
        wait_for(lambda: archived(archive) > 0, 60, "the first batch")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_at = archived(archive)
        assert killed_at < total, "the worker was killed before it finished"
        worker = start_index_worker(settings)
        wait_for(lambda: archived(archive) >= total, 120, "every post archived after the restart")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert archived(archive) == total
    ids = {hit["id"] for hit in archive.search(_all(total)).hits}
    assert ids == {enriched_post(n)["id"] for n in range(total)}
    archive.close()


def _all(size: int) -> object:
    from archive.base import SearchQuery

    return SearchQuery(size=min(size, 10_000))


@pytest.fixture
def own_noida(tmp_path: Path) -> Iterator[ServerProcess]:
    """A noida-db of this test alone, so that stopping it disturbs no other test."""
    server = noida(tmp_path)
    server.start()
    yield server
    server.stop()


def test_an_archive_down_for_ten_seconds_under_load_loses_nothing_and_resumes(
    own_noida: ServerProcess, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home", archive_url=str(own_noida.extra["es_url"]), archive_index="faults"
    )
    archive = make_archive(settings)
    archive.ensure()
    broker = make_broker(settings)
    stop = threading.Event()
    worker = Worker(
        broker,
        index_stage(archive, source=settings.topic_enriched),
        dlq_topic=settings.topic_dlq,
        batch_size=50,
        poll_timeout_s=0.2,
        max_backoff_s=2.0,
        stop=stop,
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    total = 600

    def load() -> None:  # 600 posts over ~15 s, across the outage
        for start in range(0, total, 20):
            publish_enriched(settings, range(start, start + 20))
            time.sleep(0.5)

    loader = threading.Thread(target=load)
    loader.start()
    time.sleep(3)
    own_noida.stop()
    time.sleep(10)
    own_noida.start()
    loader.join()
    probe = make_archive(settings)
    try:
        wait_for(lambda: archived(probe) >= total, 90, "the worker to resume by itself")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert archived(probe) == total
    assert worker.stats.retries > 0, "the outage was seen and retried"
    assert broker.read(settings.topic_dlq, 10) == []
    probe.close()


def test_a_restarted_noida_kafka_keeps_what_was_committed_and_clients_reconnect(
    own_noida: ServerProcess, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        broker_url=f"kafka://{own_noida.extra['bootstrap']}",
        kafka_session_timeout_ms=6000,
        topic_partitions=2,
    )
    broker = make_broker(settings)
    broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def sink(posts: object) -> None:
        with lock:
            for post in posts:  # type: ignore[attr-defined]
                seen[post["id"]] = seen.get(post["id"], 0) + 1

    stop = threading.Event()
    worker = Worker(
        broker,
        Stage("classify", "g-restart", settings.topic_raw, parse_raw, sink),
        dlq_topic=settings.topic_dlq,
        poll_timeout_s=0.5,
        stop=stop,
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    producer = broker.producer()
    for n in range(100):
        producer.send(settings.topic_raw, raw_post(n)["id"], encode(raw_post(n)))
    producer.flush()
    wait_for(lambda: len(seen) == 100, 60, "the first half")
    time.sleep(1.5)  # let the worker commit
    own_noida.stop()
    own_noida.start()
    for n in range(100, 200):
        producer.send(settings.topic_raw, raw_post(n)["id"], encode(raw_post(n)))
    _flush_with_retry(producer)
    try:
        wait_for(lambda: len(seen) == 200, 120, "the second half after the restart")
    finally:
        stop.set()
        thread.join(timeout=30)
        producer.close()
    assert set(seen) == {raw_post(n)["id"] for n in range(200)}
    # Committed work is not redone: only a batch in flight at the restart may be seen twice.
    assert sum(count - 1 for count in seen.values()) <= 100


def _flush_with_retry(producer: object) -> None:
    from stream.errors import TransientError

    for _ in range(20):
        try:
            producer.flush()  # type: ignore[attr-defined]
            return
        except TransientError:
            time.sleep(1)
    raise AssertionError("the producer never reconnected")


def test_poison_in_the_middle_of_a_kafka_batch_lands_in_the_dlq_and_the_rest_is_delivered(
    any_broker: Broker, any_settings: Settings
) -> None:
    s = any_settings
    producer = any_broker.producer()
    good = [raw_post(i) for i in range(6)]
    for post in good[:3]:
        producer.send(s.topic_raw, post["id"], encode(post))
    producer.send(s.topic_raw, "poison", b'{"schema": 1, "id": ')
    for post in good[3:]:
        producer.send(s.topic_raw, post["id"], encode(post))
    producer.close()
    delivered: list[str] = []
    stop = threading.Event()
    worker = Worker(
        any_broker,
        Stage(
            "classify",
            "g-poison",
            s.topic_raw,
            parse_raw,
            lambda posts: delivered.extend(p["id"] for p in posts),
        ),
        dlq_topic=s.topic_dlq,
        poll_timeout_s=0.3,
        stop=stop,
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(delivered) == 6 and worker.stats.dead_lettered == 1, 60, "the batch")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert sorted(delivered) == sorted(p["id"] for p in good)
    letters: list[Record] = []
    wait_for(lambda: bool(letters.extend(any_broker.read(s.topic_dlq, 10)) or letters), 10, "the dead letter")
    letter = decode(letters[0].value)
    assert (letter["stage"], letter["key"]) == ("classify", "poison")
    assert "not JSON" in letter["error"]


def start_worker(settings: Settings, stage: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings)}
    return subprocess.Popen([sys.executable, "-m", "yuqing", "worker", stage], env=env)


def ledger_counts(settings: Settings) -> tuple[int, int]:
    """(tickets, posts linked to tickets) in the ledger database."""
    from sqlalchemy import create_engine, func, select

    from response_ledger.tables import ticket_posts, tickets

    engine = create_engine(settings.ledger_sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return (
                int(conn.execute(select(func.count()).select_from(tickets)).scalar_one()),
                int(conn.execute(select(func.count()).select_from(ticket_posts)).scalar_one()),
            )
    finally:
        engine.dispose()


def test_a_ledger_worker_killed_mid_batch_and_restarted_opens_each_ticket_exactly_once(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home", batch_size=50)
    total = 400
    publish_enriched(settings, range(total))  # unanswered board messages, one event each: one ticket each
    worker = start_worker(settings, "ledger")
    try:
        wait_for(lambda: _linked(settings) > 0, 90, "the first tickets")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        assert _linked(settings) < total, "the worker was killed before it finished"
        worker = start_worker(settings, "ledger")
        wait_for(lambda: _linked(settings) >= total, 120, "every post ticketed after the restart")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert ledger_counts(settings) == (total, total)


def _linked(settings: Settings) -> int:
    try:
        return ledger_counts(settings)[1]
    except Exception:  # noqa: BLE001 - the worker creates the schema on start; until then there is nothing
        return 0
