"""``yuqing up``: the whole service on one machine, as supervised child processes.

Children: the crawl loop, one worker per stage, the scheduler (briefings and the ledger's reminders,
``yuqing schedule``) and the dashboard (plus the demo board site in-process with ``--demo``). A child
that dies is restarted with backoff; SIGTERM or SIGINT stops them all, workers first finishing their
batch.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from yuqing.settings import Settings, settings_env
from yuqing.signals import stop_on_signals
from yuqing.status import pid_dir

log = logging.getLogger(__name__)


@dataclass
class Child:
    """A supervised process and its restart state."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0


def _yuqing(*args: str) -> list[str]:
    return [sys.executable, "-m", "yuqing", *args]


def child_specs(settings: Settings) -> list[Child]:
    """The processes of the embedded service."""
    from yuqing.dashboard_launch import streamlit_argv

    return [
        Child("worker-classify", _yuqing("worker", "classify")),
        Child("worker-index", _yuqing("worker", "index")),
        Child("worker-ledger", _yuqing("worker", "ledger")),
        Child("crawl", _yuqing("crawl", "--every", str(settings.crawl_every_s))),
        Child("scheduler", _yuqing("schedule")),
        Child("dashboard", streamlit_argv(settings)),
    ]


def run_service(
    settings: Settings, *, demo: bool, data_dir: Path | None, real_limit: int, base_env: Mapping[str, str]
) -> int:
    """Start everything, supervise until a stop signal, then stop everything."""
    from classifiers.build import build_default_models

    settings.home.mkdir(parents=True, exist_ok=True)
    build_default_models(settings.model_path)
    site = None
    if demo:
        from demo_site import serve, write_demo_sources

        site = serve(settings.demo_port, data_dir=data_dir, real_limit=real_limit)
        sources = write_demo_sources(
            settings.home / "demo-sources.yaml",
            site.url,
            real=data_dir is not None,
            feeds=True,
            json_board=True,
            news=True,
        )
        settings = dataclasses.replace(
            settings, sources_file=sources, author_salt=settings.author_salt or _demo_salt(settings.home)
        )
        log.info("event=demo-site url=%s", site.url)
    if demo:
        _ensure_demo_account(settings)
    env = {**base_env, **settings_env(settings)}
    children = child_specs(settings)
    stop = stop_on_signals()
    pids = pid_dir(settings)
    pids.mkdir(parents=True, exist_ok=True)
    print(f"舆情监测服务已启动：http://127.0.0.1:{settings.dashboard_port}", flush=True)
    try:
        while not stop.is_set():
            for child in children:
                _keep_alive(child, env, pids)
            stop.wait(1.0)
    finally:
        _stop_all(children, pids)
        if site is not None:
            site.close()
    return 0


def _demo_salt(home: Path) -> str:
    """The demo's pseudonym key: random, made once per home and kept, so pseudonyms stay stable."""
    import secrets

    path = home / "demo-author-salt"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _ensure_demo_account(settings: Settings) -> None:
    """A demo administrator with a fresh random password, printed once, when no account exists yet."""
    import secrets
    from datetime import datetime

    from core.china_time import CHINA_TZ
    from dashboard.accounts import Accounts
    from dashboard.auth import Role
    from response_ledger.db import migrated_engine

    engine = migrated_engine(settings.ledger_sqlalchemy_url)
    accounts = Accounts(engine)
    if accounts.all():
        engine.dispose()
        return
    password = f"demo-{secrets.token_urlsafe(9)}"
    accounts.add("demo", "演示管理员", Role.ADMIN, password, datetime.now(CHINA_TZ))
    engine.dispose()
    print(f"演示账号：demo  密码：{password}（仅显示一次；可用 yuqing users passwd demo 修改）", flush=True)


def _keep_alive(child: Child, env: Mapping[str, str], pids: Path) -> None:
    if child.process is not None and child.process.poll() is None:
        return
    now = time.monotonic()
    if child.process is not None:
        log.warning(
            "event=child-exited name=%s code=%s restarts=%d",
            child.name,
            child.process.returncode,
            child.restarts,
        )
        child.process = None
        child.restarts += 1
        child.next_start = now + min(2 ** min(child.restarts, 5), 30)
    if now < child.next_start:
        return
    child.process = subprocess.Popen(child.argv, env=dict(env))
    (pids / f"{child.name}.pid").write_text(str(child.process.pid))
    log.info("event=child-started name=%s pid=%d", child.name, child.process.pid)


def _stop_all(children: list[Child], pids: Path) -> None:
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
        (pids / f"{child.name}.pid").unlink(missing_ok=True)
        log.info("event=child-stopped name=%s", child.name)
