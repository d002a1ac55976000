"""``yuqing schedule``: the scheduled briefings, the ledger's reminders and the saved searches' alerts.

See :mod:`yuqing.scheduler` for the jobs, how missed runs are caught up and where the state is kept.
``--once`` checks every job once (catching up what is due) and exits, instead of running until
SIGTERM. A second scheduler on the same home refuses to start.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from yuqing.commands import Subparsers
from yuqing.notifications import add_smtp_arguments
from yuqing.settings import Settings

if TYPE_CHECKING:
    from yuqing.scheduler import Schedule

_KIND_NAMES = {"day": "舆情日报 每天", "week": "舆情周报 每周一", "month": "舆情月报 每月 1 日"}


def _schedule(settings: Settings, args: argparse.Namespace) -> int:
    from briefing.errors import BriefingError
    from yuqing.notifications import router_for
    from yuqing.scheduler import AlreadyRunning, hold_lock, service_schedule

    try:
        lock = hold_lock(settings.home)
    except AlreadyRunning:
        print("定时任务无法启动：另一个定时任务进程正在运行（同一数据目录只能运行一个）。", file=sys.stderr)
        return 2
    with lock:
        try:
            schedule = service_schedule(settings, notifier=router_for(settings, args))
        except BriefingError as exc:  # an unreadable YUQING_BRIEFING_AT or template
            print(f"定时任务无法启动：{exc}", file=sys.stderr)
            return 2
        return _run(settings, schedule, once=args.once)


def _run(settings: Settings, schedule: Schedule, *, once: bool) -> int:
    from briefing.schedule import briefings_dir
    from yuqing.scheduler import run_scheduler
    from yuqing.signals import stop_on_signals

    jobs = [f"{_KIND_NAMES[kind]} {settings.briefing_at}" for kind in settings.briefing_kinds]
    if settings.remind_every_minutes:
        jobs.append(f"回应台账提醒 每 {settings.remind_every_minutes} 分钟")
    if settings.alert_addresses:
        jobs.append("检索预警通知 每分钟")
    print(f"定时任务已启动：{'；'.join(jobs) or '无'}。简报保存到 {briefings_dir(settings.home)}", flush=True)
    if once:
        try:
            schedule.check_all()
        finally:
            schedule.close()
        return 0
    return run_scheduler(schedule, stop=stop_on_signals())


def register(sub: Subparsers) -> None:
    """Add ``schedule``."""
    parser = sub.add_parser(
        "schedule",
        help="定时任务：按时生成并发送舆情日报（及周报、月报），定时发送回应台账的到期、超期提醒和检索预警通知",
    )
    parser.add_argument("--once", action="store_true", help="只检查一次：补做到期未做的任务后退出")
    add_smtp_arguments(parser)
    parser.set_defaults(handler=_schedule)
