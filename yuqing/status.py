"""``yuqing status``: which processes run, each stage's lag, and what the archive and DLQ hold."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from yuqing.backends import make_archive, make_broker
from yuqing.settings import Settings
from yuqing.wiring import GROUPS, SOURCE_TOPICS

# The password of a URL's user info (``scheme://user:password@host``), hidden before a URL is shown.
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]+):[^@\s]*@")


def without_password(url: str) -> str:
    """``url`` with the password of its user info replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1:***@", url)


def pid_dir(settings: Settings) -> Path:
    """Where ``yuqing up`` records the pid of each process it supervises."""
    return settings.home / "run"


def running_processes(settings: Settings) -> dict[str, int | None]:
    """Each recorded process and its pid if it is alive (None when it is not)."""
    out: dict[str, int | None] = {}
    directory = pid_dir(settings)
    if not directory.exists():
        return out
    for path in sorted(directory.glob("*.pid")):
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, 0)
            out[path.stem] = pid
        except (ValueError, ProcessLookupError, PermissionError):
            out[path.stem] = None
    return out


def backlog(settings: Settings) -> dict[str, int]:
    """Messages waiting for each stage's group and ``dead_letters``; raises if the broker cannot be read."""
    broker = make_broker(settings)
    try:
        waiting = {
            stage: broker.lag(group, getattr(settings, SOURCE_TOPICS[stage])).lag
            for stage, group in GROUPS.items()
        }
        waiting["dead_letters"] = len(broker.read(settings.topic_dlq, limit=100_000))
    finally:
        broker.close()
    return waiting


def collect_status(settings: Settings) -> dict[str, Any]:
    """Gather the status; a backend that cannot be reached is reported, not raised."""
    status: dict[str, Any] = {
        "backends": {"broker": settings.broker_url, "archive": without_password(settings.archive_url)},
        "processes": running_processes(settings),
    }
    try:
        found = backlog(settings)
        status["dead_letters"] = found.pop("dead_letters")
        status["lag"] = found
    except Exception as exc:  # noqa: BLE001 - status reports any backend failure as text
        status["broker_error"] = str(exc)
    try:
        archive = make_archive(settings)
        try:
            status["archived_posts"] = archive.count()
        finally:
            archive.close()
    except Exception as exc:  # noqa: BLE001 - as above
        status["archive_error"] = str(exc)
    from crawlers.alerts import read_alerts

    status["crawl_alerts"] = read_alerts(settings.crawl_state_path)
    return status


def render_status(status: dict[str, Any]) -> str:
    """A short human-readable summary."""
    lines = [f"后端：消息队列 {status['backends']['broker']}，存档 {status['backends']['archive']}"]
    for name, pid in status["processes"].items():
        lines.append(f"进程 {name}: {'运行中 pid=' + str(pid) if pid else '未运行'}")
    for stage, lag in status.get("lag", {}).items():
        lines.append(f"阶段 {stage} 积压：{lag}")
    if "dead_letters" in status:
        lines.append(f"死信：{status['dead_letters']}")
    if "archived_posts" in status:
        lines.append(f"已入库帖子：{status['archived_posts']}")
    for source, alert in status.get("crawl_alerts", {}).items():
        lines.append(f"采集源 {source} 已暂停至 {alert.get('until', '?')}：{alert.get('reason', '')}")
    for key in ("broker_error", "archive_error"):
        if key in status:
            lines.append(f"错误（{key}）：{status[key]}")
    return "\n".join(lines)
