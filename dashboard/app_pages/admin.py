"""系统管理: accounts, the configured sources (with 试采), the remit taxonomy and unit directory, the
deadline rules, the holiday table, the notification delivery log, and the audit of every change.

Each tab's larger part lives in :mod:`dashboard.sections` (``admin_users``, ``admin_sources``,
``admin_remit``, ``admin_rules``, ``admin_holidays``). The taxonomy and the rules are edited through
:mod:`dashboard.config_files` (validated by the service's own loaders, written where every process
reads them, each change a line of the audit file); accounts and the holiday table through the
ledger's database. Every change checks the role again.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.china_time import CHINA_TZ
from dashboard import config_files
from dashboard.auth import Page, User
from dashboard.sections import admin_holidays, admin_remit, admin_rules, admin_sources, admin_users
from dashboard.sections.admin_common import LEDGER_UNAVAILABLE as LEDGER_UNAVAILABLE
from dashboard.services import Services
from dashboard.session import require
from yuqing.settings import Settings

TAB_KEY = "admin_tab"


def render(services: Services, user: User | None) -> None:
    """Draw the page for an administrator."""
    admin = require(user, Page.ADMIN)
    st.title("系统管理")
    tabs = dict(zip(TABS, st.tabs(list(TABS), key=TAB_KEY, on_change="rerun"), strict=True))
    # The open tab is kept across reruns (a click inside a tab stays there), and only it is drawn.
    opened = next((name for name, tab in tabs.items() if tab.open), next(iter(TABS)))
    with tabs[opened]:
        TABS[opened](services, admin)


def _notices(services: Services, admin: User) -> None:
    _notifications(services.settings)


def _changes(services: Services, admin: User) -> None:
    _audit(services.settings)


def _audit(settings: Settings) -> None:
    lines = config_files.audit_lines(settings)
    st.caption(
        f"在本页所做的每一次修改（账号、职责范围、单位名录、办理时限、节假日），最新的在前（最近 200 条）；"
        f"记录文件：{settings.config_dir / config_files.AUDIT_FILE}。"
    )
    if not lines:
        st.info("暂无修改记录。")
        return
    rows = [
        {
            "时间": line.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "操作人": f"{line.name}（{line.username}）" if line.name else line.username,
            "对象": line.target,
            "修改内容": line.what,
        }
        for line in lines
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


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


TABS: dict[str, Callable[[Services, User], None]] = {
    "用户": admin_users.render,
    "采集来源": admin_sources.render,
    "职责范围": admin_remit.render,
    "办理时限": admin_rules.render,
    "节假日": admin_holidays.render,
    "通知记录": _notices,
    "修改记录": _changes,
}
"""The tabs in order, each with what draws it."""
