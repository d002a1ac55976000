"""Continuous crawling: every source on its own schedule, 7×24, each cycle in a fresh process.

A Twisted reactor cannot restart, so each cycle runs ``yuqing crawl --only <due sources>`` as a child.
A source with ``every: N`` in sources.yaml runs every N seconds, the others every ``default_every_s``.
A cycle that fails (a crash, a bad source) is logged and the loop goes on; within a cycle each source
fails alone (see :func:`crawlers.runner.run_crawl`). Every completed cycle is recorded in the crawl
state (:mod:`crawlers.rounds`), so the briefing schedule knows how far the crawl has got.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from core.china_time import CHINA_TZ
from crawlers.catalog import load_all
from crawlers.rounds import record_cycle
from crawlers.sources import PACKAGED_SOURCES
from yuqing.settings import Settings, settings_env

logger = logging.getLogger(__name__)
Runner = Callable[[Sequence[str], Mapping[str, str]], int]


def source_schedule(settings: Settings, default_every_s: int) -> dict[str, int]:
    """Each configured source's period in seconds."""
    path = settings.sources_file or PACKAGED_SOURCES
    return {source.name: source.every or default_every_s for source in load_all(path)}


def _run_child(argv: Sequence[str], env: Mapping[str, str]) -> int:
    return subprocess.call(list(argv), env=dict(env))


def crawl_forever(
    settings: Settings,
    *,
    every_s: int,
    base_env: Mapping[str, str],
    stop: threading.Event,
    run: Runner = _run_child,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = lambda: datetime.now(CHINA_TZ),
) -> int:
    """Crawl each source when it is due until ``stop`` is set; returns 0."""
    env = {**base_env, **settings_env(settings)}
    due: dict[str, float] = {}
    while not stop.is_set():
        try:
            periods = source_schedule(settings, every_s)  # re-read: adding a source needs no restart
        except Exception as exc:  # noqa: BLE001 - a broken sources file is logged and retried next tick
            logger.error("stage=crawl event=schedule-failed error=%s", exc)
            stop.wait(every_s)
            continue
        now = clock()
        ready = sorted(name for name in periods if due.get(name, 0.0) <= now)
        if ready:
            started = wall()
            code = run([sys.executable, "-m", "yuqing", "crawl", "--only", ",".join(ready)], env)
            if code != 0:
                logger.error("stage=crawl event=cycle-failed code=%d sources=%s", code, ",".join(ready))
            try:
                record_cycle(
                    settings.crawl_state_path,
                    configured=list(periods),
                    crawled=ready,
                    started=started,
                    finished=wall(),
                    code=code,
                )
            except OSError as exc:  # the crawl goes on; the briefing schedule waits for a record
                logger.error("stage=crawl event=rounds-not-recorded error=%s", exc)
            for name in ready:
                due[name] = now + periods[name]
        upcoming = min((due.get(name, now) for name in periods), default=now + every_s)
        stop.wait(max(upcoming - clock(), 1.0))
    return 0
