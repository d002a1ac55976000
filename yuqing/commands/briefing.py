"""``yuqing briefing``: one 舆情日报 (``--date``, ``--out``), now.

The briefing of ``--date`` (yesterday by default) for ``--period`` is written to ``--out`` (.docx,
.md or .html; ``<home>/briefings/舆情日报-YYYY-MM-DD.docx`` by default) and, with ``--send``,
announced to the template's recipients. The schedule (every morning, catching up, reminders) is
``yuqing schedule`` (:mod:`yuqing.scheduler`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from yuqing.commands import Subparsers
from yuqing.notifications import add_smtp_arguments
from yuqing.settings import Settings

if TYPE_CHECKING:
    from response_ledger.notify import Router


def _now() -> datetime:
    from core.china_time import CHINA_TZ

    return datetime.now(CHINA_TZ)


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
    from yuqing.scheduler import settings_sources

    day: date = parse_day(args.date) if args.date else _now().date() - timedelta(days=1)
    period = period_of(day, args.period)
    template = load_template(settings.briefing_template_file)
    with settings_sources(settings) as sources:
        briefing = compute_briefing(sources.archive, sources.ledger, period, now=_now(), template=template)
    out: Path = args.out or briefings_dir(settings.home) / file_name(period)
    # And a PDF beside a .docx where LibreOffice is installed; in the office's own Word file if it has one.
    write_briefing(briefing, out, pdf=True, docx_template=settings.briefing_docx_template)
    print(f"已生成{briefing.title}（{period.label}）：{out}")
    if args.send:
        sent = send_briefing(_router(settings, args), briefing_notice(briefing, template.recipients, out))
        print("已发送给模板中的接收人。" if sent else "模板未配置接收人（recipients），未发送。")
    return 0


def _briefing(settings: Settings, args: argparse.Namespace) -> int:
    from briefing.errors import BriefingError
    from response_ledger.errors import DeliveryError

    try:
        return _once(settings, args)
    except (BriefingError, DeliveryError) as exc:
        print(f"生成简报失败：{exc}", file=sys.stderr)
        return 2


def register(sub: Subparsers) -> None:
    """Add ``briefing``."""
    parser = sub.add_parser(
        "briefing",
        help="舆情日报：生成一期简报（--date/--out）；定时生成和发送由 yuqing schedule 负责",
    )
    parser.add_argument("--date", help="简报日期 YYYY-MM-DD（默认昨天；周报、月报取其所在的周、月）")
    parser.add_argument("--period", choices=("day", "week", "month"), default="day", help="日报、周报或月报")
    parser.add_argument("--out", type=Path, help="输出文件 .docx/.md/.html（默认保存到 <home>/briefings/）")
    parser.add_argument(
        "--send", action="store_true", help="生成后通过邮件、企业微信、钉钉发送给模板中的接收人"
    )
    add_smtp_arguments(parser)
    parser.set_defaults(handler=_briefing)
