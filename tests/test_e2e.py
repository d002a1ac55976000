"""The whole path, each stage real: demo board site → Scrapy → broker → classify → index → search → page.

Runs embedded and against Tansu + noida-db's Elasticsearch; a second run serves real messages from
../shared/data through the same site where it is present.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from archive.base import SearchQuery
from demo_site import DemoSite, serve, write_demo_sources
from demo_site.content import demo_messages
from tests.conftest import SHARED_DATA
from tests.servers import ServerProcess
from yuqing.backends import make_archive, make_broker
from yuqing.settings import Settings, settings_env
from yuqing.wiring import build_worker

pytestmark = pytest.mark.slow
REAL_LIMIT = 150


@pytest.fixture
def demo_site() -> Iterator[DemoSite]:
    site = serve(0)
    yield site
    site.close()


def backend_settings(kind: str, home: Path, models_dir: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for the embedded backends, or Tansu + noida-db's Elasticsearch with unique names."""
    if kind == "embedded":
        return Settings(home=home, models_dir=models_dir)
    tansu: ServerProcess = request.getfixturevalue("tansu_server")
    noida: ServerProcess = request.getfixturevalue("noida_server")
    suffix = str(abs(hash(home)) % 10**8)
    return Settings(
        home=home,
        models_dir=models_dir,
        broker_url=f"kafka://{tansu.extra['bootstrap']}",
        archive_url=str(noida.extra["es_url"]),
        archive_index=f"e2e-{suffix}",
        kafka_session_timeout_ms=6000,
        topic_raw=f"raw-{suffix}",
        topic_enriched=f"enriched-{suffix}",
        topic_dlq=f"dlq-{suffix}",
        topic_partitions=2,
    )


def crawl(settings: Settings) -> dict[str, object]:
    """`yuqing crawl` in its own process, as the scheduler runs it (a Twisted reactor cannot restart)."""
    # A deployment's own pseudonym key: the crawler refuses to run without one.
    env = {**os.environ, **settings_env(settings), "YUQING_AUTHOR_SALT": settings.author_salt or "e2e-key"}
    done = subprocess.run(
        [sys.executable, "-m", "yuqing", "crawl"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_workers_until_archived(settings: Settings, expected: int, timeout_s: float = 120) -> int:
    """Run the classify and index workers until the archive holds ``expected`` posts; return the count."""
    stop = threading.Event()
    workers = [build_worker(settings, stage, stop=stop) for stage in ("classify", "index")]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    archive = make_archive(settings)
    deadline = time.monotonic() + timeout_s
    count = 0
    try:
        while time.monotonic() < deadline:
            archive.refresh()
            count = archive.count()
            if count >= expected:
                break
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        archive.close()
    return count


@pytest.mark.parametrize("kind", ["embedded", "kafka"])
def test_a_demo_board_message_is_crawled_classified_indexed_found_and_shown(
    kind: str,
    demo_site: DemoSite,
    models_dir: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = backend_settings(kind, tmp_path / "home", models_dir, request)
    sources = write_demo_sources(tmp_path / "sources.yaml", demo_site.url)
    settings = dataclasses.replace(settings, sources_file=sources)
    expected = len(demo_messages())

    stats = crawl(settings)
    assert stats["published"] == expected

    assert run_workers_until_archived(settings, expected) == expected
    archive = make_archive(settings)
    try:
        hits = archive.search(SearchQuery(text="拖欠工资", size=50)).hits
        assert hits, "the wage-arrears demo message is searchable"
        hit = hits[0]
        assert hit["source"] == "board" and hit["id"].startswith("board:")
        assert hit["topic"]["label"] == "劳动保障" and hit["topic"]["unit"]
        assert hit["sentiment"]["label"] in ("negative", "neutral", "positive")
        assert hit["models"]["sentiment"].startswith("sentiment-")
        assert archive.count(SearchQuery(filters={"source": "board"})) == expected
    finally:
        archive.close()

    # Re-crawling and re-processing duplicates nothing: the archive is idempotent by post id.
    crawl(settings)
    assert run_workers_until_archived(settings, expected + 1, timeout_s=15) == expected

    broker = make_broker(settings)
    try:
        assert broker.read(settings.topic_dlq, limit=10) == []
    finally:
        broker.close()

    from streamlit.testing.v1 import AppTest

    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    from core.china_time import CHINA_TZ
    from dashboard.auth import Role, User
    from tests.dashboard.samples import add_account

    duty = User("duty", "值班员", Role.DUTY)
    add_account(settings.ledger_sqlalchemy_url, duty)  # the app checks it on every run
    app = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "yuqing" / "dashboard_app.py"), default_timeout=60
    )
    app.session_state["user"] = duty
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    assert not app.exception
    frame = app.dataframe[0].value
    assert 0 < len(frame) <= expected
    assert any("工资" in str(title) for title in frame["标题"])


def test_real_board_messages_flow_through_the_same_site(models_dir: Path, tmp_path: Path) -> None:
    if not (SHARED_DATA / "boards" / "teddy2020_messages_with_replies.csv").exists():
        pytest.skip("../shared/data is absent: the real-message run needs the shared data folder")
    site = serve(0, data_dir=SHARED_DATA, real_limit=REAL_LIMIT)
    try:
        settings = Settings(
            home=tmp_path / "home",
            models_dir=models_dir,
            sources_file=write_demo_sources(tmp_path / "s.yaml", site.url, real=True),
        )
        stats = crawl(settings)
        expected = len(demo_messages()) + REAL_LIMIT
        assert stats["published"] == expected
        assert run_workers_until_archived(settings, expected) == expected
        archive = make_archive(settings)
        try:
            replied = archive.count(SearchQuery(filters={"reply_status": "replied"}))
            assert replied >= REAL_LIMIT  # every real message in that file carries the department's reply
        finally:
            archive.close()
    finally:
        site.close()


def test_letters_crawled_from_a_board_are_judged_by_the_letter_models_built_from_our_seeds(
    demo_site: DemoSite, models_dir: Path, tmp_path: Path
) -> None:
    """The demo board (our own letters) crawled, classified with the models `yuqing models build`
    trains from the seed letters the repository ships, archived; then the labels are read back."""
    settings = Settings(
        home=tmp_path / "home",
        models_dir=models_dir,
        sources_file=write_demo_sources(tmp_path / "sources.yaml", demo_site.url),
    )
    expected = len(demo_messages())
    assert crawl(settings)["published"] == expected
    assert run_workers_until_archived(settings, expected) == expected
    archive = make_archive(settings)
    try:
        posts = {
            hit["id"].rsplit(":", 1)[-1]: hit
            for hit in archive.search(SearchQuery(filters={"source": "board"}, size=100)).hits
        }
    finally:
        archive.close()
    assert len(posts) == expected
    models = posts["10001"]["models"]
    assert models["sentiment_letter"].startswith("sentiment-letter-") and models["urgency"].startswith(
        "urgency-"
    )
    # Questions of policy are neutral 咨询; thanks are 表扬; a proposal is 建议; a private build-out 举报.
    for question in ("10007", "10019", "10023"):
        assert posts[question]["appeal_type"] == "咨询" and posts[question]["sentiment"]["label"] == "neutral"
    assert posts["10009"]["appeal_type"] == "表扬" and posts["10009"]["sentiment"]["label"] == "positive"
    assert posts["10008"]["appeal_type"] == "建议"
    assert posts["10015"]["appeal_type"] == "举报"
    # Twelve unpaid workers and unpaid migrant workers rank above every question, with their reasons.
    urgent = [posts[i]["risk"] for i in ("10001", "10039")]
    calm = [posts[i]["risk"]["score"] for i in ("10007", "10019", "10023", "10008", "10009")]
    assert min(r["score"] for r in urgent) > max(calm)
    assert all(r["reasons"][0].startswith("紧急程度") for r in urgent)
    assert any(reason.startswith("关键表述：") for reason in urgent[0]["reasons"])
