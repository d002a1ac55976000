"""``yuqing briefing``: the 舆情日报 once (``--date``, ``--out``) or on a schedule (``--at`` / ``--every``).

One-off: the briefing of ``--date`` (yesterday by default) for ``--period`` is written to ``--out``
(.docx, .md or .html; ``<home>/briefings/舆情日报-YYYY-MM-DD.docx`` by default) and, with ``--send``,
announced to the template's recipients. Schedule: every day at ``--at`` (``YUQING_BRIEFING_AT``) the
briefing of the day before is written to ``<home>/briefings/`` and sent, until SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from yuqing.commands import Subparsers
from yuqing.notifications import add_smtp_arguments
from yuqing.settings import Settings

if TYPE_CHECKING:
    from briefing.jobs import Sources
    from response_ledger.notify import Router


def _now() -> datetime:
    from core.china_time import CHINA_TZ

    return datetime.now(CHINA_TZ)


@contextmanager
def _sources(settings: Settings) -> Iterator[Sources]:
    """The configured archive and ledger, closed after the run (the ledger is read, never migrated)."""
    from briefing.jobs import Sources
    from response_ledger.db import make_engine
    from yuqing.backends import make_archive

    archive = make_archive(settings)
    engine = make_engine(settings.ledger_sqlalchemy_url)
    try:
        yield Sources(archive, engine)
    finally:
        engine.dispose()
        archive.close()


def _router(settings: Settings, args: argparse.Namespace) -> Router:
    from yuqing.notifications import router_for

    return router_for(settings, args)


def _once(settings: Settings, args: argparse.Namespace) -> int:
    from briefing.compute import compute_briefing
    from briefing.deliver import briefing_notice, send_briefing
    from briefing.period import parse_day, period_of
    from briefing.render import write_briefing
    from briefing.schedule import briefings_dir, file_name
    from briefing.template import load_template

    day: date = parse_day(args.date) if args.date else _now().date() - timedelta(days=1)
    period = period_of(day, args.period)
    template = load_template(settings.briefing_template_file)
    with _sources(settings) as sources:
        briefing = compute_briefing(sources.archive, sources.ledger, period, now=_now(), template=template)
    out: Path = args.out or briefings_dir(settings.home) / file_name(period)
    write_briefing(briefing, out, pdf=True)  # and a PDF beside a .docx where LibreOffice is installed
    print(f"已生成{briefing.title}（{period.label}）：{out}")
    if args.send:
        sent = send_briefing(_router(settings, args), briefing_notice(briefing, template.recipients, out))
        print("已发送给模板中的接收人。" if sent else "模板未配置接收人（recipients），未发送。")
    return 0


def _scheduled(settings: Settings, args: argparse.Namespace) -> int:
    from briefing.jobs import scheduled_job
    from briefing.schedule import Plan, briefings_dir, covered_period, file_name, parse_at, run_schedule
    from briefing.template import load_template
    from yuqing.signals import stop_on_signals

    if args.every:
        plan = Plan(every=timedelta(seconds=args.every))
    else:
        plan = Plan(at=parse_at(args.at or settings.briefing_at))
    directory = briefings_dir(settings.home)
    job = scheduled_job(
        open_sources=lambda: _sources(settings),
        directory=directory,
        template=load_template(settings.briefing_template_file),
        kind=args.period,
        notifier=_router(settings, args),
        clock=_now,
    )

    def missed(slot: datetime) -> bool:
        return not (directory / file_name(covered_period(slot, args.period))).exists()

    when = f"每 {args.every} 秒" if args.every else f"每天 {plan.at:%H:%M}"
    print(f"舆情简报定时生成已启动：{when}，保存到 {directory}", flush=True)
    run_schedule(job, plan, stop=stop_on_signals(), clock=_now, missed=missed)
    return 0


def _briefing(settings: Settings, args: argparse.Namespace) -> int:
    from briefing.errors import BriefingError
    from response_ledger.errors import DeliveryError

    try:
        if args.at or args.every:
            return _scheduled(settings, args)
        return _once(settings, args)
    except (BriefingError, DeliveryError) as exc:
        print(f"生成简报失败：{exc}", file=sys.stderr)
        return 2


def register(sub: Subparsers) -> None:
    """Add ``briefing``."""
    parser = sub.add_parser(
        "briefing",
        help="舆情日报：生成一期简报（--date/--out），或定时生成并发送（--at HH:MM 或 --every 秒数）",
    )
    parser.add_argument("--date", help="简报日期 YYYY-MM-DD（默认昨天；周报、月报取其所在的周、月）")
    parser.add_argument("--period", choices=("day", "week", "month"), default="day", help="日报、周报或月报")
    parser.add_argument("--out", type=Path, help="输出文件 .docx/.md/.html（默认保存到 <home>/briefings/）")
    parser.add_argument(
        "--send", action="store_true", help="生成后通过邮件、企业微信、钉钉发送给模板中的接收人"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--at", help="定时模式：每天此时（HH:MM，北京时间）生成前一天的简报")
    mode.add_argument("--every", type=int, help="定时模式：每隔多少秒生成一次（演示、测试用）")
    add_smtp_arguments(parser)
    parser.set_defaults(handler=_briefing)
