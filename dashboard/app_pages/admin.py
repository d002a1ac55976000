"""系统管理: accounts (add, disable, reset a password) and a view of the configured sources and remit.

Editing sources, the taxonomy, deadline rules and the holiday table from here comes with the ledger;
until then they are shown read-only, validated by the same loaders the services use.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard.accounts import AccountError
from dashboard.auth import ROLE_LABELS, Page, Role, User
from dashboard.session import accounts, require
from stream.messages import CHINA_TZ
from yuqing.settings import Settings

FLASH_KEY = "admin_flash"


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for an administrator."""
    require(user, Page.ADMIN)
    st.title("系统管理")
    users_tab, sources_tab, remit_tab = st.tabs(["用户", "采集来源", "职责范围"])
    with users_tab:
        _users(settings)
    with sources_tab:
        _sources(settings)
    with remit_tab:
        _remit()


def _users(settings: Settings) -> None:
    store = accounts(settings)
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
        for a in store.all()
    ]
    st.dataframe(pd.DataFrame(rows, columns=["用户名", "姓名", "角色", "单位", "状态"]), hide_index=True)
    with st.form("add_user", clear_on_submit=True):
        st.subheader("添加用户")
        username = st.text_input("用户名", key="new_username")
        name = st.text_input("姓名", key="new_name")
        role = st.selectbox("角色", list(Role), format_func=lambda r: ROLE_LABELS[r], key="new_role")
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
        target = st.selectbox(
            "用户", [a.user.username for a in store.all() if a.active], key="disable_target"
        )
        if st.form_submit_button("停用") and target:
            _act(lambda now: store.disable(target, now), f"已停用用户 {target}")


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
