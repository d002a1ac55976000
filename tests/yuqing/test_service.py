"""`yuqing up --demo`, as the README's run command starts it: posts reach the archive and the dashboard
answers, and a SIGTERM stops every child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port, http_ok, wait_until
from yuqing.backends import make_archive
from yuqing.settings import Settings, settings_env
from yuqing.status import running_processes

pytestmark = pytest.mark.slow


def test_up_demo_crawls_classifies_indexes_and_serves_the_dashboard_then_stops_cleanly(
    models_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home", models_dir=models_dir, dashboard_port=free_port(), demo_port=free_port()
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("YUQING_")}
    env.update(settings_env(settings))
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen(
        [sys.executable, "-m", "yuqing", "up", "--demo"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        archive = make_archive(settings)

        def archived() -> bool:
            try:
                return archive.count() >= 40
            except Exception:  # noqa: BLE001 - the index worker creates the archive on start
                return False

        wait_until(archived, 120, "40 demo posts in the archive")
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{settings.dashboard_port}/_stcore/health"), 60, "dashboard"
        )
        children = running_processes(settings)
        assert set(children) == {
            "crawl",
            "dashboard",
            "scheduler",
            "worker-classify",
            "worker-index",
            "worker-ledger",
        }
        assert all(children.values()), children
        output = (tmp_path / "up.log").read_text(encoding="utf-8", errors="replace")
        assert "演示账号：demo" in output
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
        log.close()
    assert up.returncode == 0
    time.sleep(0.5)
    for pid in children.values():
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
