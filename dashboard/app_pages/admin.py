"""系统管理: accounts (add, disable), the configured sources and remit, deadline rules, the holiday table,
and the notification delivery log (read-only).

Sources, the taxonomy and the deadline rules are shown read-only, validated by the same loaders the
services use (they are edited in their files). The holiday table is edited here through the
ledger's services, which recompute every open deadline; each change checks the role again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard import queries
from dashboard.accounts import AccountError
from dashboard.auth import ROLE_LABELS, Page, Role, User, may_open
from dashboard.labels import CHOOSE
from dashboard.ledger_view import holiday_table, intake_table, parse_day, policy_table
from dashboard.session import accounts, require
from yuqing.settings import Settings

log = logging.getLogger(__name__)
FLASH_KEY = "admin_flash"
HOLIDAY_FLASH_KEY = "admin_holiday_flash"
HOLIDAY_KINDS = {False: "放假", True: "调休上班"}
# The holiday table's years: from chinesecalendar's first year; a typo such as 20270 is refused.
MIN_YEAR, MAX_YEAR = 2004, 2099
LEDGER_UNAVAILABLE = "台账数据库暂时无法连接，请稍后再试。"
RULES_HELP = (
    "办理时限自收到诉求（立单）时起算。小时：自然小时，夜间和节假日照算；工作日：按国务院节假日安排"
    "（含调休上班日）计算；日、月：依民法典第二百零一至二百零三条，起算当日不计入，最后一日为节假日的"
    "顺延至下一工作日。暂停（补正、征求第三方意见）期间不计时；批准的延期在原时限上延长，累计不超过"
    "最长延期。修改时限请编辑配置文件后重启服务；已立单的工单保留立单时的时限。"
)


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for an administrator."""
    admin = require(user, Page.ADMIN)
    st.title("系统管理")
    users_tab, sources_tab, remit_tab, rules_tab, holidays_tab, notices_tab = st.tabs(
        ["用户", "采集来源", "职责范围", "办理时限", "节假日", "通知记录"]
    )
    with users_tab:
        _users(settings, admin)
    with sources_tab:
        _sources(settings)
    with remit_tab:
        _remit()
    with rules_tab:
        _rules(settings)
    with holidays_tab:
        _holidays(settings, admin)
    with notices_tab:
        _notifications(settings)


def _users(settings: Settings, admin: User) -> None:
    store = accounts(settings)
    everyone = store.all()
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    rows = [
        {
            "用户名": a.user.username,
            "姓名": a.user.display_name,
            "角色": a.user.role.label,
            "单位": a.user.unit or "—",
            "状态": "启用" if a.active else "停用",
        }
        for a in everyone
    ]
    st.dataframe(pd.DataFrame(rows, columns=["用户名", "姓名", "角色", "单位", "状态"]), hide_index=True)
    with st.form("add_user", clear_on_submit=True):
        st.subheader("添加用户")
        username = st.text_input("用户名", key="new_username")
        name = st.text_input("姓名", key="new_name")
        role = st.selectbox(
            "角色", list(Role), format_func=lambda r: ROLE_LABELS[r], placeholder=CHOOSE, key="new_role"
        )
        unit = st.text_input("单位（办理人员必填）", key="new_unit")
        password = st.text_input("初始密码", type="password", key="new_password")
        if st.form_submit_button("添加") and role is not None:
            _act(
                lambda now: store.add(
                    username.strip(), name.strip(), role, password, now, unit=unit.strip() or None
                ),
                f"已添加用户 {username}",
            )
    with st.form("disable_user"):
        st.subheader("停用用户")
        # Not oneself: an administrator who disabled their own account would be signed out mid-task.
        target = st.selectbox(
            "用户",
            [a.user.username for a in everyone if a.active and a.user.username != admin.username],
            placeholder=CHOOSE,
            key="disable_target",
            help="不能停用当前登录的账号，也不能停用最后一名启用的管理员。",
        )
        if st.form_submit_button("停用") and target:
            _act(lambda now: store.disable(target, now), f"已停用用户 {target}")
    disabled = [a.user.username for a in everyone if not a.active]
    if disabled:
        with st.form("enable_user"):
            st.subheader("启用用户")
            again = st.selectbox("用户", disabled, placeholder=CHOOSE, key="enable_target")
            if st.form_submit_button("启用") and again:
                _act(lambda now: store.enable(again, now), f"已启用用户 {again}")


def _act(action: object, done: str) -> None:
    try:
        action(datetime.now(CHINA_TZ))  # type: ignore[operator]
    except (AccountError, ValueError) as exc:
        st.error(f"操作失败：{exc}")
        return
    # Rerun so the table above shows the change; the confirmation survives the rerun.
    st.session_state[FLASH_KEY] = done
    st.rerun()


def _sources(settings: Settings) -> None:
    from crawlers.errors import CrawlerError
    from crawlers.sources import PACKAGED_SOURCES, load_sources

    path = settings.sources_file or PACKAGED_SOURCES
    try:
        sources = load_sources(path)
    except CrawlerError as exc:
        st.error(f"采集来源配置有误：{exc}")
        return
    st.caption(f"配置文件：{path}")
    st.dataframe(
        pd.DataFrame([{"渠道": s.name, "名称": s.display_name, "起始地址": s.start_url} for s in sources]),
        hide_index=True,
    )


def _remit() -> None:
    from classifiers.errors import TaxonomyError
    from classifiers.taxonomy import load_taxonomy

    try:
        taxonomy = load_taxonomy()
    except TaxonomyError as exc:
        st.error(f"职责范围配置有误：{exc}")
        return
    st.caption(f"部门：{taxonomy.department}；低于 {taxonomy.min_score:.0%} 置信度的帖子视为职责外")
    st.dataframe(
        pd.DataFrame(
            [
                {"话题": t.label, "说明": t.description, "责任单位": t.unit, "关键词": "、".join(t.keywords)}
                for t in taxonomy.topics
            ]
        ),
        hide_index=True,
    )


def _rules(settings: Settings) -> None:
    from response_ledger.errors import RuleError, describe
    from response_ledger.policy import default_policy_path, load_policy

    path = settings.ledger_policy_file or default_policy_path()
    st.caption(f"配置文件：{path}")
    try:
        policy = load_policy(settings.ledger_policy_file)
    except RuleError as exc:
        st.error(f"办理时限配置有误，请修改配置文件后重启服务。{describe(exc)}")
        with st.expander("错误详情"):
            st.text(exc.reason)
        return
    st.caption(RULES_HELP)
    st.dataframe(policy_table(policy), hide_index=True)
    st.subheader("立单规则")
    st.dataframe(intake_table(policy), hide_index=True)
    st.caption(
        f"提醒：时限用去 {policy.due_soon_fraction:.0%} 时提醒承办人；"
        f"超期 {policy.leader_after_hours} 小时后通知单位领导并记督办。"
    )


CHANNEL_LABELS = {"mailto": "邮件", "wecom": "企业微信", "dingtalk": "钉钉"}
NOTIFICATION_COLUMNS = ["时间", "渠道", "接收方", "主题", "第几次", "结果", "失败原因"]


def _notifications(settings: Settings) -> None:
    from response_ledger.delivery_log import delivery_log_path, read_attempts

    path = delivery_log_path(settings.home)
    attempts = read_attempts(path)
    st.caption(
        "提醒和简报的每一次发送尝试，最新的在前（最近 500 条）。临时故障会按间隔加倍自动重试；"
        "机器人密钥、签名等已隐去。"
    )
    if not attempts:
        st.info("暂无通知记录。")
        return
    rows = [
        {
            "时间": a.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "渠道": CHANNEL_LABELS.get(a.channel, a.channel),
            "接收方": a.target,
            "主题": a.subject,
            "第几次": a.attempt,
            "结果": "成功" if a.ok else "失败",
            "失败原因": a.error or "—",
        }
        for a in attempts
    ]
    st.dataframe(pd.DataFrame(rows, columns=NOTIFICATION_COLUMNS), hide_index=True)


def _holidays(settings: Settings, user: User) -> None:
    from response_ledger.calendar import WorkCalendar
    from response_ledger.unit_of_work import SqlUnitOfWork

    flash = st.session_state.pop(HOLIDAY_FLASH_KEY, None)
    if flash:
        st.success(flash)
    try:
        engine = queries.ledger_for_writing(settings)
        with SqlUnitOfWork(engine) as uow:
            entries = uow.holidays.entries()
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
            _change_holiday(settings, user, day_text, is_workday=bool(is_workday), name=name.strip())
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
                _change_holiday(settings, user, target.isoformat(), remove=True)


def _change_holiday(
    settings: Settings,
    user: User,
    day_text: str,
    *,
    is_workday: bool = False,
    name: str = "",
    remove: bool = False,
) -> None:
    from response_ledger import services
    from response_ledger.unit_of_work import SqlUnitOfWork

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
        with (
            st.spinner("正在更新节假日表并重新计算未办结工单的时限……"),
            SqlUnitOfWork(queries.ledger_for_writing(settings)) as uow,
        ):
            if remove:
                moved = services.remove_holiday(uow, day)
            else:
                moved = services.set_holiday(uow, day, is_workday=is_workday, name=name)
    except SQLAlchemyError:
        log.warning("event=holiday-change-failed day=%s", day, exc_info=True)
        st.error(LEDGER_UNAVAILABLE)
        return
    what = "已删除" if remove else f"已保存（{HOLIDAY_KINDS[is_workday]}{'，' + name if name else ''}）"
    log.info(
        "event=holiday-%s day=%s user=%s moved=%d", "removed" if remove else "set", day, user.username, moved
    )
    st.session_state[HOLIDAY_FLASH_KEY] = f"{day.isoformat()} {what}，重新计算了 {moved} 个未办结工单的时限。"
    st.rerun()
