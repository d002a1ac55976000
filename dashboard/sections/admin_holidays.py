"""系统管理 → 节假日: the holiday table, a year's schedule entered in one go and marked complete, and
single days added or removed. Read and changed through :mod:`dashboard.admin_data`, which recomputes
every open deadline and writes a line of the audit file.

A year is known from the table only once it is marked complete (:mod:`response_ledger.calendar`):
the State Council's notice is pasted as lines (or uploaded as a CSV), checked line by line, shown for
a look, and written with 确认录入, replacing that year's days; one date entered alone never makes the
year known, so the 尚未录入 warning stays until someone says the year is whole. Each change checks
the role again (:mod:`dashboard.sections.admin_common`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard import admin_data, flash
from dashboard.auth import Page, User, may_open
from dashboard.holiday_text import Parsed, parse_csv, parse_lines
from dashboard.labels import CHOOSE
from dashboard.ledger_view import holiday_table, parse_day
from dashboard.sections.admin_common import LEDGER_UNAVAILABLE, admin_action, ask, confirmation, forget
from dashboard.services import Services
from response_ledger.calendar import HolidayEntry, WorkCalendar, package_covers

log = logging.getLogger(__name__)
FLASH = "admin_holiday_flash"
FLASH_KEY = FLASH  # the name earlier releases' tests use
PREVIEW_KEY = "holiday_preview"
REMOVE_KEY = "holiday_remove_pending"
UNMARK_KEY = "holiday_unmark_pending"
HOLIDAY_KINDS = {False: "放假", True: "调休上班"}
# The holiday table's years: from chinesecalendar's first year; a typo such as 20270 is refused.
MIN_YEAR, MAX_YEAR = 2004, 2099
# Streamlit's file uploader speaks English ("Upload", "200MB per file"): its words replaced in Chinese.
UPLOADER_STYLE = """<style>
.st-key-holiday_csv [data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
.st-key-holiday_csv [data-testid="stFileUploaderDropzone"] button p { font-size: 0; }
.st-key-holiday_csv [data-testid="stFileUploaderDropzone"] button p::after {
  content: "选择 CSV 文件"; font-size: 0.875rem; }
</style>"""
MAX_UPLOAD = 1_000_000
EXAMPLE = "2027-01-01 休 元旦\n2027-02-06..2027-02-13 休 春节\n2027-02-14 班 春节调休\n"


@dataclass(frozen=True)
class Preview:
    """A year's schedule read from the form, waiting for 确认录入."""

    year: int
    parsed: Parsed
    complete: bool


def render(services: Services, user: User) -> None:
    """The holiday tab: which years are known, the table, and the forms that change it."""
    flash.show(FLASH)
    try:
        state = admin_data.holidays(services)
    except SQLAlchemyError:
        log.warning("event=holidays-unavailable", exc_info=True)
        st.error(LEDGER_UNAVAILABLE)
        return
    calendar = WorkCalendar(state.entries, state.complete)
    this_year = datetime.now(CHINA_TZ).year
    for year in (this_year, this_year + 1):
        if not calendar.is_scheduled(date(year, 6, 1)):
            entered = sum(entry.day.year == year for entry in state.entries)
            st.warning(
                f"{year} 年的节假日安排尚未录入完整：落在该年的时限只按周末计算，并标为暂定。"
                + (
                    f"本表已有该年 {entered} 天，核对无误后请标记为“已录入完整”。"
                    if entered
                    else "国务院公布安排后（通常在 11 月），请在下方“录入全年安排”中"
                    "一次录入该年的全部放假日和调休上班日。"
                )
            )
    known = max(y for y in range(MIN_YEAR, this_year + 3) if package_covers(y))
    st.caption(
        f"系统内置 {MIN_YEAR}–{known} 年的国务院节假日安排；本表中的日期优先于内置安排。"
        "内置安排之外的年份，只有录入全年安排并标记为“已录入完整”后才视为已知——只录入其中几天不会。"
        "每次修改后，所有未办结工单的时限都会重新计算。"
    )
    _years(services, user, state, this_year)
    if state.entries:
        st.dataframe(
            holiday_table(state.entries), hide_index=True, height=min(420, 35 * (len(state.entries) + 1) + 3)
        )
    else:
        st.info("节假日表为空。")
    _year_form(services, user, calendar, this_year)
    left, right = st.columns(2)
    with left:
        _day_form(services, user)
    with right:
        _remove_form(services, user, state.entries, calendar)


def _years(services: Services, user: User, state: admin_data.Holidays, this_year: int) -> None:
    years = sorted(
        {entry.day.year for entry in state.entries} | set(state.complete) | {this_year, this_year + 1}
    )
    rows = []
    for year in years:
        days = [entry for entry in state.entries if entry.day.year == year]
        off = sum(not entry.is_workday for entry in days)
        if year in state.complete:
            by, at = state.complete[year]
            status = f"已录入完整（{by}，{at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}）"
        elif package_covers(year):
            status = "内置安排" + ("，本表另有调整" if days else "")
        elif days:
            status = "已录入部分日期，未标记完整（暂定）"
        else:
            status = "未录入（暂定：只按周末计算）"
        rows.append({"年份": str(year), "放假": off, "调休上班": len(days) - off, "状态": status})
    st.dataframe(pd.DataFrame(rows), hide_index=True, height="content")
    open_years = [
        y
        for y in years
        if y not in state.complete and not package_covers(y) and any(e.day.year == y for e in state.entries)
    ]
    marked = sorted(state.complete)
    if not open_years and not marked:
        return
    slots = iter(st.columns(2))
    if open_years:
        left = next(slots)
        to_mark = left.selectbox(
            "标记为已录入完整",
            open_years,
            index=None,
            placeholder=CHOOSE,
            key="holiday_mark_year",
            help="确认该年的全部放假日和调休上班日都已在本表中后再标记。",
        )
        left.button(
            "标记完整",
            key="holiday_mark",
            disabled=to_mark is None,
            on_click=_mark,
            args=(services, user, to_mark),
        )
    if marked:
        right = next(slots)
        to_unmark = right.selectbox(
            "取消“已录入完整”", marked, index=None, placeholder=CHOOSE, key="holiday_unmark_year"
        )
        right.button(
            "取消标记…",
            key="holiday_unmark_ask",
            disabled=to_unmark is None,
            on_click=ask,
            args=(UNMARK_KEY, to_unmark),
        )
        pending = st.session_state.get(UNMARK_KEY)
        if pending is not None:
            with right:
                confirmation(
                    UNMARK_KEY,
                    "确定取消该年的“已录入完整”标记吗？落在该年的时限将重新只按周末计算并标为暂定。",
                    f"年份：{pending}",
                    "确认取消标记",
                    lambda: _unmark(services, user, int(pending)),
                )


@admin_action(FLASH)
def _mark(services: Services, user: User, year: int | None) -> None:
    if year is None:
        return
    entries = admin_data.holidays(services).entries  # a database down is reported by admin_action
    if not any(entry.day.year == year and not entry.is_workday for entry in entries):
        flash.leave(FLASH, "error", f"{year} 年在本表中还没有放假日，不能标记为已录入完整。")
        return
    _done(lambda: admin_data.mark_year(services, user, year, complete=True), f"{year} 年已标记为已录入完整")
    st.session_state["holiday_mark_year"] = None


@admin_action(FLASH)
def _unmark(services: Services, user: User, year: int) -> None:
    forget(UNMARK_KEY)
    _done(
        lambda: admin_data.mark_year(services, user, year, complete=False),
        f"已取消 {year} 年的“已录入完整”标记",
    )
    st.session_state["holiday_unmark_year"] = None


def _done(change: object, what: str) -> bool:
    """Run a change; leave ``what`` and how many deadlines moved, or why it failed."""
    try:
        with st.spinner("正在更新节假日表并重新计算未办结工单的时限……"):
            moved = change()  # type: ignore[operator]
    except (SQLAlchemyError, ValueError):
        log.warning("event=holiday-change-failed what=%s", what, exc_info=True)
        flash.leave(FLASH, "error", LEDGER_UNAVAILABLE)
        return False
    flash.leave(FLASH, "success", f"{what}，重新计算了 {moved} 个未办结工单的时限。")
    return True


def _year_form(services: Services, user: User, calendar: WorkCalendar, this_year: int) -> None:
    with st.container(border=True, key="holiday_year_box"):
        st.subheader("录入全年安排")
        st.caption(
            "按国务院办公厅通知逐行填写：日期或日期范围、类型（休＝放假，班＝调休上班）、名称（可不填），"
            "如“2027-10-01..2027-10-07 休 国庆节”“2027-09-26 班 国庆节调休”。"
            "也可上传 CSV 文件（日期,类型,名称）。"
            "确认后替换本表中该年的全部日期。"
        )
        wanted = next(
            (y for y in (this_year + 1, this_year) if not calendar.is_scheduled(date(y, 6, 1))), this_year + 1
        )
        with st.form("holiday_year", border=False):
            st.number_input(
                "年份", min_value=MIN_YEAR, max_value=MAX_YEAR, value=wanted, step=1, key="holiday_year"
            )
            st.text_area("安排（每行一项）", key="holiday_lines", height=180, placeholder=EXAMPLE)
            st.file_uploader(
                "或上传 CSV 文件（日期,类型,名称，每行一项）",
                type=["csv", "txt"],
                key="holiday_csv",
                help="文件不超过 1 MB；上传文件后以文件内容为准，上面的文本框不再读取。",
            )
            st.html(UPLOADER_STYLE)
            st.checkbox(
                "以上是该年的全部安排（放假日和调休上班日都已列出），录入后标记为“已录入完整”",
                key="holiday_complete",
            )
            if st.form_submit_button("检查并预览"):
                _preview()
        preview = st.session_state.get(PREVIEW_KEY)
        if isinstance(preview, Preview):
            _show_preview(services, user, preview)


def _preview() -> None:
    state = st.session_state
    year = int(state.get("holiday_year") or 0)
    upload = state.get("holiday_csv")
    text = str(state.get("holiday_lines") or "")
    if upload is not None and upload.size > MAX_UPLOAD:
        parsed = Parsed(problems=((0, "文件超过 1 MB，请只上传该年的节假日安排"),))
    elif upload is not None:
        parsed = parse_csv(upload.getvalue(), year)
    else:
        parsed = parse_lines(text, year)
    state[PREVIEW_KEY] = Preview(year, parsed, bool(state.get("holiday_complete")))


def _show_preview(services: Services, user: User, preview: Preview) -> None:
    parsed = preview.parsed
    if parsed.problems:
        st.error(f"有 {len(parsed.problems)} 处需要改正，改正后再预览（尚未写入任何日期）：")
        # The lines were typed or uploaded: plain text.
        st.text(
            "\n".join(f"第 {number} 行：{reason}" if number else reason for number, reason in parsed.problems)
        )
        return
    off = sum(not entry.is_workday for entry in parsed.entries)
    if preview.complete and not off:
        st.error("没有放假日，不能标记为已录入完整。")
        return
    mark = "，并标记为“已录入完整”" if preview.complete else "（不标记完整：该年仍视为暂定）"
    st.info(
        f"{preview.year} 年：放假 {off} 天，调休上班 {len(parsed.entries) - off} 天。"
        f"确认后替换本表中该年的全部日期{mark}。"
    )
    st.dataframe(
        holiday_table(parsed.entries), hide_index=True, height=min(420, 35 * (len(parsed.entries) + 1) + 3)
    )
    yes, no = st.columns(2)
    yes.button(
        "确认录入",
        type="primary",
        key="holiday_year_yes",
        on_click=_write_year,
        args=(services, user, preview),
    )
    no.button("取消", key="holiday_year_no", on_click=forget, args=(PREVIEW_KEY,))


@admin_action(FLASH)
def _write_year(services: Services, user: User, preview: Preview) -> None:
    forget(PREVIEW_KEY)
    entries: list[HolidayEntry] = list(preview.parsed.entries)
    done = _done(
        lambda: admin_data.set_year(services, user, preview.year, entries, complete=preview.complete),
        f"已录入 {preview.year} 年的 {len(entries)} 天" + ("并标记为已录入完整" if preview.complete else ""),
    )
    if done:
        st.session_state["holiday_lines"] = ""
        st.session_state["holiday_complete"] = False


def _day_form(services: Services, user: User) -> None:
    with st.form("holiday_add"):
        st.subheader("添加或修改单日")
        day_text = st.text_input("日期（YYYY-MM-DD）", key="holiday_day", placeholder="2027-01-01")
        is_workday = st.radio(
            "类型",
            list(HOLIDAY_KINDS),
            format_func=HOLIDAY_KINDS.__getitem__,
            horizontal=True,
            key="holiday_kind",
        )
        name = st.text_input("名称", key="holiday_name", max_chars=50, placeholder="如 元旦、春节调休")
        if st.form_submit_button("保存"):
            change_holiday(services, user, day_text, is_workday=bool(is_workday), name=name.strip())


def _remove_form(services: Services, user: User, entries: list[HolidayEntry], calendar: WorkCalendar) -> None:
    if not entries:
        return
    with st.container(border=True):
        st.subheader("删除单日")
        target = st.selectbox(
            "日期",
            [entry.day for entry in entries],
            index=None,
            placeholder=CHOOSE,
            key="holiday_remove_day",
            format_func=lambda d: f"{d.isoformat()}（{HOLIDAY_KINDS[calendar.is_workday(d)]}）",
        )
        st.button(
            "删除…",
            key="holiday_remove_ask",
            disabled=target is None,
            on_click=ask,
            args=(REMOVE_KEY, target),
        )
        pending = st.session_state.get(REMOVE_KEY)
        if isinstance(pending, date):
            confirmation(
                REMOVE_KEY,
                "确定从节假日表删除这一天吗？",
                f"日期：{pending.isoformat()}",
                "确认删除",
                lambda: _remove(services, user, pending),
            )


@admin_action(FLASH)
def _remove(services: Services, user: User, day: date) -> None:
    forget(REMOVE_KEY)
    if _done(lambda: admin_data.change_day(services, user, day, remove=True), f"{day.isoformat()} 已删除"):
        st.session_state["holiday_remove_day"] = None


def change_holiday(
    services: Services,
    user: User,
    day_text: str,
    *,
    is_workday: bool = False,
    name: str = "",
    remove: bool = False,
) -> None:
    """Set or remove the day typed as ``day_text`` for ``user`` (an administrator), then rerun."""
    if not may_open(user.role, Page.ADMIN):  # the page checked already; a change checks again
        st.error("无权访问此页面。")
        return
    try:
        day = parse_day(day_text)
    except ValueError as exc:
        st.error(str(exc))
        return
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        st.error(f"年份 {day.year} 超出范围，请填写 {MIN_YEAR}–{MAX_YEAR} 年的日期。")
        return
    try:
        with st.spinner("正在更新节假日表并重新计算未办结工单的时限……"):
            moved = admin_data.change_day(
                services, user, day, remove=remove, is_workday=is_workday, name=name
            )
    except SQLAlchemyError:
        log.warning("event=holiday-change-failed day=%s", day, exc_info=True)
        st.error(LEDGER_UNAVAILABLE)
        return
    what = "已删除" if remove else f"已保存（{HOLIDAY_KINDS[is_workday]}{'，' + name if name else ''}）"
    log.info(
        "event=holiday-%s day=%s user=%s moved=%d", "removed" if remove else "set", day, user.username, moved
    )
    try:
        known = package_covers(day.year) or day.year in admin_data.holidays(services).complete
    except SQLAlchemyError:
        known = True  # the change is written; only the remark is left out
    note = "" if remove or known else f"（{day.year} 年尚未标记为已录入完整，该年的时限仍为暂定）"
    flash.leave(FLASH, "success", f"{day.isoformat()} {what}，重新计算了 {moved} 个未办结工单的时限。{note}")
    st.rerun()
