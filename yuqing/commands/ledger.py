"""``yuqing ledger …``: the response ledger (舆情回应台账) from the command line.

Handlers are thin: parse, build the engine and policy from settings, call a service, print Chinese.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from yuqing.commands import Subparsers
from yuqing.notifications import add_smtp_arguments
from yuqing.settings import Settings


def _now() -> datetime:
    from core.china_time import CHINA_TZ

    return datetime.now(CHINA_TZ)


def _moment(text: str) -> datetime:
    from core.china_time import china_time

    try:
        return china_time(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"无法识别的时间：{text}（应为 ISO 8601，如 2026-10-01T09:00:00+08:00）"
        ) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"无法识别的日期：{text}（应为 YYYY-MM-DD）") from None


def _engine(settings: Settings) -> Any:
    from response_ledger.unit_of_work import engine_from_settings

    return engine_from_settings(settings)


def _policy(settings: Settings) -> Any:
    from response_ledger.policy import load_policy

    return load_policy(settings.ledger_policy_path)


def _uow(settings: Settings) -> Any:
    from response_ledger.unit_of_work import SqlUnitOfWork

    return SqlUnitOfWork(_engine(settings))


def _due(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.calendar import WorkCalendar
    from response_ledger.deadlines import Rule, compute_due

    calendar = WorkCalendar()
    if not args.no_table:
        with _uow(settings) as uow:
            calendar = uow.holidays.calendar()
    due = compute_due(Rule.parse(args.rule), args.start, calendar)
    print(str(due))
    if due is not None and due.provisional:
        print(
            "注意：时限落在尚未公布节假日安排的年份，仅按周末计算，为暂定时限；补录节假日后将重新计算。",
            file=sys.stderr,
        )
    return 0


def _holiday(settings: Settings, args: argparse.Namespace) -> int:
    from core.china_time import CHINA_TZ
    from response_ledger import services

    with _uow(settings) as uow:
        if args.holiday_command == "list":
            for entry in uow.holidays.entries():
                if args.year is None or entry.day.year == args.year:
                    print(
                        f"{entry.day.isoformat()}\t{'调休上班' if entry.is_workday else '放假'}\t{entry.name}"
                    )
            return 0
        if args.holiday_command == "add":
            moved = services.set_holiday(uow, args.day, is_workday=args.workday, name=args.name)
        elif args.holiday_command == "complete":
            # A year counts as known from the table only once marked complete (response_ledger.calendar).
            moved = services.mark_year_complete(
                uow, args.year, complete=not args.undo, by=args.actor, at=datetime.now(CHINA_TZ)
            )
        else:
            moved = services.remove_holiday(uow, args.day)
        complete = sorted(uow.holidays.complete_years())
    print(f"节假日表已更新，重新计算了 {moved} 个未办结工单的时限。")
    print(f"已录入完整的年份：{'、'.join(map(str, complete)) or '（无）'}")
    return 0


def _open(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger import services

    now = _now()
    with _uow(settings) as uow:
        ticket = services.new_ticket(
            uow, _policy(settings), ticket_class=args.ticket_class, source="manual", summary=args.summary,
            unit=args.unit, found_at=args.found_at or now, start=args.found_at or now, actor=args.actor,
            post_id=args.post_id, comment=args.comment,
        )  # fmt: skip
        uow.commit()
    print(f"已立单 {ticket.id}，责任单位 {ticket.unit}，办理时限 {_when(ticket.due_at, ticket.provisional)}")
    return 0


def _act(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger import services
    from response_ledger.workflow import Action

    try:
        action = Action(args.action)
    except ValueError:
        print(f"未知的办理动作：{args.action}（可用：{'、'.join(a.value for a in Action)}）", file=sys.stderr)
        return 2
    data = {
        k: v
        for k, v in (
            ("unit", args.unit),
            ("amount", args.amount),
            ("satisfaction", args.satisfaction),
            ("topic", args.topic),
            ("sentiment", args.sentiment),
            ("appeal", args.appeal),
            ("urgency", args.urgent),
        )
        if v
    }
    with _uow(settings) as uow:
        ticket = services.act(
            uow, args.ticket, action, actor=args.actor, now=_now(), comment=args.comment,
            data=data, expected_version=args.version,
        )  # fmt: skip
    due = _when(ticket.due_at, ticket.provisional)
    print(f"工单 {ticket.id} 当前状态：{ticket.status.value}（版本 {ticket.version}），办理时限 {due}")
    return 0


def _when(moment: datetime | None, provisional: bool) -> str:
    if moment is None:
        return "暂停计时"
    text = moment.astimezone(_now().tzinfo).strftime("%Y-%m-%d %H:%M")
    return text + ("（暂定）" if provisional else "")


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.queries import unit_worklist

    for row in unit_worklist(_engine(settings), args.unit, limit=args.limit):
        print(
            f"{row['id']}\t{row['status']}\t{_when(row['due_at'], row['provisional'])}\t{row['summary'][:40]}"
        )
    return 0


def _show(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.workflow import ACTION_LABELS

    with _uow(settings) as uow:
        ticket = uow.tickets.get(args.ticket)
    due = _when(ticket.due_at, ticket.provisional)
    print(f"{ticket.id}\t{ticket.unit}\t{ticket.status.value}\t版本 {ticket.version}\t时限 {due}")
    for event in ticket.events:
        at = event.at.astimezone(_now().tzinfo).strftime("%Y-%m-%d %H:%M")
        print(f"  {event.seq}\t{at}\t{ACTION_LABELS[event.action]}\t{event.actor}\t{event.comment}")
    return 0


def _metrics(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.queries import metrics

    now = _now()
    end = args.end or now
    start = args.start or end - timedelta(days=30)
    for row in metrics(_engine(settings), start=start, end=end, now=now, unit=args.unit):
        print(json.dumps({
            "责任单位": row.unit, "工单数": row.tickets, "签收率": row.sign_rate, "响应率": row.response_rate,
            "按时办结率": row.on_time_close_rate, "超期数": row.overdue,
            "平均办理时长（小时）": row.avg_handling_hours, "满意率": row.satisfaction_rate,
        }, ensure_ascii=False))  # fmt: skip
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from briefing.template import load_template
    from response_ledger.ledger_book import (
        BookTitle,
        book_metrics,
        export_csv,
        export_xlsx,
        ledger_rows,
        masked_rows,
    )  # fmt: skip

    engine, now = _engine(settings), _now()
    # Flagged 即将到期 at the policy's share of a limit's time, as the reminders and the pages are.
    rows = ledger_rows(engine, now=now, unit=args.unit, due_soon_fraction=_policy(settings).due_soon_fraction)
    if not args.unmasked:  # a file leaves the system: personal numbers stay masked unless asked for
        rows = masked_rows(rows)
    if args.path.suffix.lower() == ".csv":
        count = export_csv(rows, args.path)
    else:
        # The exporting office is the one the briefing template names (YUQING_BRIEFING_TEMPLATE_FILE).
        department = args.department or load_template(settings.briefing_template_file).department
        title = BookTitle(department=department, exported_at=now, unit=args.unit)
        unit_metrics = book_metrics(engine, now=now, unit=args.unit)
        count = export_xlsx(rows, args.path, title=title, unit_metrics=unit_metrics)
    print(f"已导出 {count} 条台账记录到 {args.path}")
    return 0


TASK_NAMES = {"topic": "主题", "sentiment": "情感", "appeal": "诉求类型", "urgency": "紧急程度"}


def _corrections(settings: Settings, args: argparse.Namespace) -> int:
    from archive.errors import ArchiveError
    from classifiers.corrections import correction_of, write_corrections
    from response_ledger.queries import classifier_corrections
    from yuqing.backends import make_archive

    marks = classifier_corrections(_engine(settings))
    wanted = [(mark, post_id) for mark in marks for post_id in mark.post_ids]
    posts: dict[str, Any] = dict.fromkeys(post_id for _, post_id in wanted)  # each post read once
    if posts:
        try:
            archive = make_archive(settings)
            try:
                posts = {post_id: archive.get(post_id) for post_id in posts}
            finally:
                archive.close()
        except ArchiveError as exc:
            print(f"舆情库无法读取，未导出：{exc}", file=sys.stderr)
            return 2
    rows = [
        correction_of(
            posts[post_id],
            label=mark.label,
            task=mark.task,
            corrected_by=mark.actor,
            corrected_at=mark.at.isoformat(timespec="seconds"),
        )
        for mark, post_id in wanted
        if posts[post_id] is not None
    ]
    count = write_corrections(args.out, rows)
    tickets = len({mark.ticket_id for mark in marks})
    each = "、".join(f"{name} {sum(r.task == task for r in rows)} 条" for task, name in TASK_NAMES.items())
    print(f"已导出 {count} 条更正（{each}；共 {tickets} 件工单）到 {args.out}")
    if missing := sum(post is None for post in posts.values()):
        print(f"另有 {missing} 条关联帖子不在舆情库中，其更正未导出。")
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.ledger_book import import_xlsx

    with _uow(settings) as uow:
        report = import_xlsx(uow, args.path, actor=args.actor, now=_now())
    print(
        f"导入 {len(report.imported)} 条，重复跳过 {report.duplicates} 条，无法读取 {len(report.errors)} 条。"
    )
    for number, reason in report.errors:
        print(f"  第 {number} 行：{reason}")
    return 1 if report.errors else 0


def _remind(settings: Settings, args: argparse.Namespace) -> int:
    from response_ledger.reminders import send_reminders
    from yuqing.notifications import router_for

    router = router_for(settings, args)
    with _uow(settings) as uow:
        sent = send_reminders(uow, router, now=_now(), policy=_policy(settings))
    print(f"已发送 {len(sent)} 条提醒。")
    return 0


def _run(handler: Any) -> Any:
    """Translate ledger errors into one Chinese line and exit code 2 (a conflict is 3)."""

    def wrapped(settings: Settings, args: argparse.Namespace) -> int:
        from response_ledger.errors import ConcurrencyConflict, LedgerError, describe

        try:
            return int(handler(settings, args))
        except ConcurrencyConflict as exc:
            print(f"操作冲突：工单 {exc.ticket_id} 已被他人修改，请刷新后重试。", file=sys.stderr)
            return 3
        except LedgerError as exc:
            print(f"台账操作失败：{describe(exc)}", file=sys.stderr)
            return 2

    return wrapped


def register(sub: Subparsers) -> None:
    """Add ``ledger`` and its subcommands."""
    parser = sub.add_parser("ledger", help="舆情回应台账：工单、办理时限、考核指标、台账导入导出")
    cmds = parser.add_subparsers(dest="ledger_command", required=True)

    due = cmds.add_parser("due", help="计算办理时限，如 --rule workdays:20 --start 2026-09-30T10:00:00+08:00")
    due.add_argument("--rule", required=True)
    due.add_argument("--start", required=True, type=_moment)
    due.add_argument("--no-table", action="store_true", help="不使用台账中的节假日表")
    due.set_defaults(handler=_run(_due))

    holiday = cmds.add_parser("holiday", help="节假日表（管理员维护）")
    hcmds = holiday.add_subparsers(dest="holiday_command", required=True)
    add = hcmds.add_parser("add", help="添加放假日；调休上班日加 --workday")
    add.add_argument("day", type=_day)
    add.add_argument("--workday", action="store_true")
    add.add_argument("--name", default="")
    remove = hcmds.add_parser("remove")
    remove.add_argument("day", type=_day)
    listing = hcmds.add_parser("list")
    listing.add_argument("--year", type=int)
    complete = hcmds.add_parser(
        "complete", help="标记某年的安排已全部录入（之后该年才视为已知）；--undo 取消"
    )
    complete.add_argument("year", type=int)
    complete.add_argument("--undo", action="store_true")
    complete.add_argument("--actor", default="命令行", help="记录的标记人")
    holiday.set_defaults(handler=_run(_holiday))

    opener = cmds.add_parser("open", help="人工立单")
    opener.add_argument("--class", dest="ticket_class", required=True)
    opener.add_argument("--unit", required=True)
    opener.add_argument("--summary", required=True)
    opener.add_argument("--actor", required=True)
    opener.add_argument("--post-id")
    opener.add_argument("--found-at", type=_moment)
    opener.add_argument("--comment", default="")
    opener.set_defaults(handler=_run(_open))

    act = cmds.add_parser(
        "act",
        help=(
            "办理工单：sign 签收、return 退回、reassign 改派、request_extension 申请延期、"
            "approve_extension 批准延期、reject_extension 驳回延期、pause 暂停、resume 恢复、"
            "respond 答复、follow_up 回访、reopen 重办、close 办结、escalate 督办（--comment 写明理由）、"
            "correct_topic 更正主题（--topic）、"
            "correct_judgement 更正研判（--sentiment、--appeal、--urgent 至少一项）"
        ),
    )
    act.add_argument("ticket")
    act.add_argument("action")
    act.add_argument("--actor", required=True)
    act.add_argument("--comment", default="")
    act.add_argument("--unit", help="改派的新责任单位")
    act.add_argument("--amount", help="延期时长，如 workdays:10")
    act.add_argument("--satisfaction", choices=["满意", "基本满意", "不满意"])
    act.add_argument("--topic", help="更正后的主题")
    # The values are checked by the ledger (a Chinese reason), not argparse: importing the ledger
    # here would slow every yuqing command.
    act.add_argument("--sentiment", help="更正研判：情感，negative 负面、neutral 中性、positive 正面")
    act.add_argument("--appeal", help="更正研判：诉求类型，投诉、举报、求助、咨询、建议、表扬")
    act.add_argument("--urgent", help="更正研判：是否紧急，yes 紧急、no 不紧急")
    act.add_argument("--version", type=int, help="您看到的版本号；已被他人修改时拒绝操作")
    act.set_defaults(handler=_run(_act))

    listing = cmds.add_parser("list", help="本单位未办结工单，按时限排序")
    listing.add_argument("--unit", required=True)
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(handler=_run(_list))

    show = cmds.add_parser("show", help="查看工单及办理过程")
    show.add_argument("ticket")
    show.set_defaults(handler=_run(_show))

    corrections = cmds.add_parser(
        "corrections",
        help="导出工单上的主题更正和研判更正（情感、诉求类型、紧急程度），作为训练数据"
        "（每行注明任务；classify train 按 --task 读取对应的行）",
    )
    corrections.add_argument("--out", type=Path, required=True, help="写入的 CSV 文件（覆盖）")
    corrections.set_defaults(handler=_run(_corrections))

    met = cmds.add_parser("metrics", help="各单位考核指标（按立单时间统计）")
    met.add_argument("--start", type=_moment, help="起始时间，默认为结束时间前 30 天")
    met.add_argument("--end", type=_moment, help="结束时间，默认为当前时间")
    met.add_argument("--unit")
    met.set_defaults(handler=_run(_metrics))

    export = cmds.add_parser("export", help="导出台账（.xlsx 或 .csv）")
    export.add_argument("path", type=Path)
    export.add_argument("--unit", help="只导出此责任单位的工单")
    export.add_argument("--department", help="标题行中的单位名称（默认取简报模板的 department）")
    export.add_argument(
        "--unmasked", action="store_true", help="不隐去摘要和答复中的手机号、身份证号（默认隐去）"
    )
    export.set_defaults(handler=_run(_export))

    importer = cmds.add_parser("import", help="导入既有台账（.xlsx）")
    importer.add_argument("path", type=Path)
    importer.add_argument("--actor", default="台账导入")
    importer.set_defaults(handler=_run(_import))

    remind = cmds.add_parser("remind", help="发送即将到期、超期提醒及督办通知")
    add_smtp_arguments(remind)
    remind.set_defaults(handler=_run(_remind))
