"""系统管理's holiday table (节假日): the days an administrator adds or removes, read and changed
through the ledger (:mod:`dashboard.ledger_data`), which recomputes every open deadline.

Each change checks the role again: the page checked it, a click may come from a page left open.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard import ledger_data
from dashboard.auth import Page, User, may_open
from dashboard.labels import CHOOSE
from dashboard.ledger_view import holiday_table, parse_day
from dashboard.services import Services
from response_ledger.calendar import WorkCalendar
from response_ledger.queries import holiday_entries

log = logging.getLogger(__name__)
FLASH_KEY = "admin_holiday_flash"
HOLIDAY_KINDS = {False: "放假", True: "调休上班"}
# The holiday table's years: from chinesecalendar's first year; a typo such as 20270 is refused.
MIN_YEAR, MAX_YEAR = 2004, 2099
LEDGER_UNAVAILABLE = "台账数据库暂时无法连接，请稍后再试。"


def render(services: Services, user: User) -> None:
    """The holiday tab: years without a schedule, the table, and the forms that change it."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    try:
        entries = holiday_entries(services.ledger())
    except SQLAlchemyError:
        log.warning("event=holidays-unavailable", exc_info=True)
        st.error(LEDGER_UNAVAILABLE)
        return
    calendar = WorkCalendar(entries)
    this_year = datetime.now(CHINA_TZ).year
    for year in (this_year, this_year + 1):
        if not calendar.is_scheduled(date(year, 6, 1)):
            st.warning(
                f"{year} 年的节假日安排尚未录入：落在该年的时限只按周末计算，并标为暂定。"
                "国务院公布安排后（通常在 11 月），请一并录入该年的全部放假日和调休上班日。"
            )
    known = max(y for y in range(MIN_YEAR, this_year + 3) if WorkCalendar().is_scheduled(date(y, 6, 1)))
    st.caption(
        f"系统内置 {MIN_YEAR}–{known} 年的国务院节假日安排；本表中的日期优先于内置安排。"
        "本表录入某年的任一天，即视为该年安排已全部录入。每次修改后，所有未办结工单的时限都会重新计算。"
    )
    if entries:
        st.dataframe(holiday_table(entries), hide_index=True)
    else:
        st.info("节假日表为空。")
    with st.form("holiday_add"):
        st.subheader("添加或修改")
        day_text = st.text_input("日期（YYYY-MM-DD）", key="holiday_day", placeholder="2027-01-01")
        is_workday = st.radio(
            "类型", list(HOLIDAY_KINDS), format_func=HOLIDAY_KINDS.__getitem__, horizontal=True,
            key="holiday_kind",
        )  # fmt: skip
        name = st.text_input("名称", key="holiday_name", max_chars=50, placeholder="如 元旦、春节调休")
        if st.form_submit_button("保存"):
            change_holiday(services, user, day_text, is_workday=bool(is_workday), name=name.strip())
    if entries:
        with st.form("holiday_remove"):
            st.subheader("删除")
            target = st.selectbox(
                "日期",
                [entry.day for entry in entries],
                format_func=lambda d: f"{d.isoformat()}（{HOLIDAY_KINDS[calendar.is_workday(d)]}）",
                placeholder=CHOOSE,
                key="holiday_remove_day",
            )
            if st.form_submit_button("删除") and target is not None:
                change_holiday(services, user, target.isoformat(), remove=True)


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
            moved = ledger_data.change_holiday(services, day, remove=remove, is_workday=is_workday, name=name)
    except SQLAlchemyError:
        log.warning("event=holiday-change-failed day=%s", day, exc_info=True)
        st.error(LEDGER_UNAVAILABLE)
        return
    what = "已删除" if remove else f"已保存（{HOLIDAY_KINDS[is_workday]}{'，' + name if name else ''}）"
    log.info(
        "event=holiday-%s day=%s user=%s moved=%d", "removed" if remove else "set", day, user.username, moved
    )
    st.session_state[FLASH_KEY] = f"{day.isoformat()} {what}，重新计算了 {moved} 个未办结工单的时限。"
    st.rerun()
