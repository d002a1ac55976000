"""系统管理: accounts (add, disable), the configured sources and remit, deadline rules, the holiday table,
and the notification delivery log (read-only).

Sources, the taxonomy and the deadline rules are shown read-only, validated by the same loaders the
services use (they are edited in their files). The holiday table
(:mod:`dashboard.sections.admin_holidays`) is edited through the ledger's services, which recompute
every open deadline; each change checks the role again.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard.accounts import AccountError
from dashboard.auth import ROLE_LABELS, Page, Role, User
from dashboard.labels import CHOOSE
from dashboard.ledger_view import intake_table, policy_table
from dashboard.sections import admin_holidays
from dashboard.services import Services
from dashboard.session import accounts, require
from yuqing.settings import Settings

FLASH_KEY = "admin_flash"
LEDGER_UNAVAILABLE = admin_holidays.LEDGER_UNAVAILABLE
RULES_HELP = (
    "办理时限自收到诉求（立单）时起算。小时：自然小时，夜间和节假日照算；工作日：按国务院节假日安排"
    "（含调休上班日）计算；日、月：依民法典第二百零一至二百零三条，起算当日不计入，最后一日为节假日的"
    "顺延至下一工作日。暂停（补正、征求第三方意见）期间不计时；批准的延期在原时限上延长，累计不超过"
    "最长延期。修改时限请编辑配置文件后重启服务；已立单的工单保留立单时的时限。"
)


def render(services: Services, user: User | None) -> None:
    """Draw the page for an administrator."""
    admin = require(user, Page.ADMIN)
    st.title("系统管理")
    users_tab, sources_tab, remit_tab, rules_tab, holidays_tab, notices_tab = st.tabs(
        ["用户", "采集来源", "职责范围", "办理时限", "节假日", "通知记录"]
    )
    settings = services.settings
    with users_tab:
        _users(services, admin)
    with sources_tab:
        _sources(settings)
    with remit_tab:
        _remit()
    with rules_tab:
        _rules(settings)
    with holidays_tab:
        admin_holidays.render(services, admin)
    with notices_tab:
        _notifications(settings)


def _users(services: Services, admin: User) -> None:
    try:
        store = accounts(services)
        everyone = store.all()
    except SQLAlchemyError:
        st.error(LEDGER_UNAVAILABLE)
        return
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
