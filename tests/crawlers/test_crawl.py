"""Whole crawls of the locally served demo site into an embedded broker, each in a child process.

A Twisted reactor cannot restart, so every crawl runs in a fresh interpreter: ``run_crawl`` in a spawned
child (with warnings as errors), or the ``python -m crawlers`` command.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.china_time import CHINA_TZ
from core.masking import mask_name, mask_text
from core.messages import validate_raw
from crawlers.normalise import normalise_line, normalise_text
from crawlers.runner import CrawlStats
from crawlers.sources import BoardSource, load_sources
from demo_site import DemoSite, serve, write_demo_sources
from demo_site.content import SiteMessage, demo_messages, real_messages
from stream.embedded import EmbeddedBroker
from tests.conftest import REPO, SHARED_DATA, shared_data
from yuqing.settings import Settings

pytestmark = pytest.mark.slow


def _crawl_in_child(settings: Settings, sources: list[BoardSource]) -> CrawlStats:
    import warnings

    warnings.simplefilter("error")  # our use of Scrapy must not trigger any deprecation warning
    from yuqing.wiring import crawl_once  # run_crawl with the broker the settings configure

    return crawl_once(settings, sources=sources)  # the demo boards are configured polite: false


def crawl(settings: Settings, sources: list[BoardSource]) -> CrawlStats:
    """Run one crawl in a spawned child process and return its stats."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_crawl_in_child, settings, sources).result(timeout=120)


def crawl_command(home: Path, sources: Path) -> subprocess.CompletedProcess[str]:
    """``python -m crawlers --fast`` with warnings as errors and a clean ``YUQING_*`` environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env["YUQING_HOME"] = str(home)
    env["YUQING_AUTHOR_SALT"] = "test-deployment-key"  # a deployment's own key: required to crawl
    argv = [sys.executable, "-W", "error", "-m", "crawlers", "--sources", str(sources), "--fast"]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def published(settings: Settings) -> list[tuple[str | None, dict[str, Any]]]:
    broker = EmbeddedBroker(settings.broker_path)
    try:
        return [(r.key, json.loads(r.value)) for r in broker.read(settings.topic_raw, 100_000)]
    finally:
        broker.close()


def iso(naive: datetime) -> str:
    return naive.replace(tzinfo=CHINA_TZ).isoformat()


def expected_reply(message: SiteMessage) -> dict[str, Any]:
    if message.reply is None:
        return {"status": "pending", "replied_at": None, "unit": None, "text": None}
    return {
        "status": "replied",
        "replied_at": iso(message.reply.replied_at),
        "unit": message.reply.unit,
        "text": mask_text(normalise_text(message.reply.text)),
    }


@dataclass
class DemoCrawl:
    site: DemoSite
    now: datetime
    settings: Settings
    sources: Path
    stats: CrawlStats
    hits: dict[str, int]


@pytest.fixture(scope="module")
def demo_crawl(tmp_path_factory: pytest.TempPathFactory):
    """One crawl into a fresh embedded broker of the demo board, a board whose server is down, and a
    board that ignores robots.txt and whose list page is missing."""
    root = tmp_path_factory.mktemp("demo-crawl")
    now = datetime.now(CHINA_TZ).replace(microsecond=0)
    settings = Settings(home=root / "home")
    with serve(now=now) as site:
        sources = write_demo_sources(root / "sources.yaml", site.url)
        [demo] = load_sources(sources)
        down = dataclasses.replace(demo, name="down", start_url="http://127.0.0.1:9/list.html")
        missing = dataclasses.replace(
            demo, name="missing", start_url=site.url + "/missing/list.html", obey_robots=False
        )
        stats = crawl(settings, [demo, down, missing])
        yield DemoCrawl(site, now, settings, sources, stats, dict(site.hits))


def test_every_demo_message_arrives_exactly_once_with_its_fields(demo_crawl):
    records = published(demo_crawl.settings)
    keys = [key for key, _ in records]
    assert len(keys) == len(set(keys)) == 40

    posts = dict(records)
    for message in demo_messages(demo_crawl.now):
        post = posts[f"board:demo-liuyan:{message.id}"]
        assert validate_raw(dict(post)) == post
        assert post["id"] == f"board:demo-liuyan:{message.id}"
        assert (post["source"], post["channel"], post["region"]) == ("board", "demo-liuyan", "云溪市")
        assert post["url"] == f"{demo_crawl.site.url}/liuyan/detail/{message.id}.html"
        assert post["title"] == mask_text(normalise_line(message.title))
        assert post["text"] == mask_text(normalise_text(message.text))
        assert post["published_at"] == iso(message.posted_at)
        assert post["author"]["name"] == mask_name(message.author)
        assert post["reply"] == expected_reply(message)


def test_answered_messages_carry_their_reply_and_personal_numbers_are_masked(demo_crawl):
    posts = dict(published(demo_crawl.settings))
    replied = [p for p in posts.values() if p["reply"]["status"] == "replied"]
    assert len(replied) == 20 and all(p["reply"]["text"] and p["reply"]["unit"] for p in replied)

    text = posts["board:demo-liuyan:10016"]["text"]
    assert "138****8000" in text and "110105********002X" in text
    assert "13800138000" not in text and "11010519491231002X" not in text


def test_the_crawl_reports_its_counts_and_fetches_each_page_once(demo_crawl):
    demo, down, missing = demo_crawl.stats.boards
    assert (demo.board, demo.published, demo.dropped, demo.pages, demo.errors) == (
        "demo-liuyan",
        40,
        {},
        43,
        0,
    )
    assert demo.finish_reason == "finished"
    assert (down.board, down.published, down.pages) == ("down", 0, 0)
    assert down.errors >= 1 and not down.failed
    assert (missing.published, missing.pages, missing.errors) == (0, 1, 0)  # a 404 list page is no error
    assert demo_crawl.stats.published == 40 and demo_crawl.stats.failed == []
    summary = json.loads(json.dumps(demo_crawl.stats.as_dict()))
    assert (summary["published"], summary["pages"], summary["failed"]) == (40, 44, [])
    assert [b["board"] for b in summary["boards"]] == ["demo-liuyan", "down", "missing"]

    # Obeyed even when crawling fast, by the demo board; the board configured not to obey never asks.
    assert demo_crawl.hits["/robots.txt"] == 1
    assert demo_crawl.hits["/missing/list.html"] == 1
    assert set(demo_crawl.hits.values()) == {1}
    assert len(demo_crawl.hits) == 1 + 3 + 40 + 1


def test_a_second_crawl_by_the_command_fetches_no_unchanged_detail_page(demo_crawl):
    before = dict(demo_crawl.site.hits)
    result = crawl_command(demo_crawl.settings.home, demo_crawl.sources)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    assert (
        "channel=demo-liuyan event=finished reason=finished pages=3 published=0 dropped=0 errors=0 "
        "skipped_unchanged=40" in result.stderr
    )
    fetched = {t: n - before.get(t, 0) for t, n in demo_crawl.site.hits.items() if n > before.get(t, 0)}
    assert not [target for target in fetched if "/detail/" in target]
    assert len(published(demo_crawl.settings)) == 40


def test_the_command_reports_a_broken_sources_file(tmp_path):
    broken = tmp_path / "sources.yaml"
    broken.write_text("- name: Bad:Name\n", encoding="utf-8")
    result = crawl_command(tmp_path / "home", broken)

    assert result.returncode == 2
    assert "配置错误" in result.stderr and "field 'name'" in result.stderr


def test_a_crawl_of_the_real_data_board_publishes_every_served_message(tmp_path):
    path = shared_data("boards/teddy2020_messages_with_replies.csv")
    settings = Settings(home=tmp_path / "home")
    with serve(data_dir=SHARED_DATA, real_limit=200) as site:
        sources = load_sources(write_demo_sources(tmp_path / "sources.yaml", site.url, real=True))
        stats = crawl(settings, [s for s in sources if s.name == "teddy2020-liuyan"])

    assert (stats.published, stats.dropped, stats.pages, stats.errors) == (200, {}, 210, 0)
    records = published(settings)
    assert len(records) == len({key for key, _ in records}) == 200
    posts = dict(records)
    for message in real_messages(path, limit=200):
        post = posts[f"board:teddy2020-liuyan:{message.id}"]
        assert post["title"] == mask_text(normalise_line(message.title))
        assert post["text"] == mask_text(normalise_text(message.text))
        assert post["published_at"] == iso(message.posted_at)
        assert post["author"]["name"] == mask_name(message.author)
        assert post["reply"] == expected_reply(message)
