"""舆情检索's saved searches (保存的查询): listed for every role that may search, saved and deleted by
分析员 and 管理员, each optionally an alert rule (预警阈值, see :mod:`dashboard.search_alerts`).

Loading and deleting run in button callbacks (before the form is drawn again, so loading may set
the form's fields); what they report waits in the session for the next drawing. The store is the
services' (the same file ``yuqing archive saved`` reads and writes).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import pandas as pd
import streamlit as st

from archive.base import SortOrder
from archive.errors import ArchiveError, QueryError
from archive.saved import SavedSearch
from core.china_time import CHINA_TZ
from dashboard.auth import Role, User
from dashboard.labels import ALL, CHOOSE, EMPTY
from dashboard.search_data import Search
from dashboard.services import Services
from dashboard.session import as_account_now

# Roles that may add and delete saved searches; every role that may open the page can load them.
EDITORS = frozenset({Role.ANALYST, Role.ADMIN})
THRESHOLD_HELP = (
    "设置后即为预警规则：自上次确认该预警（或保存该查询）以来，新发布的命中帖子达到此数量时，"
    "“值班监测”页提醒一次，并按配置发送通知；确认后重新计数。"
)


def _flash(kind: str, message: str) -> None:
    st.session_state["saved_message"] = (kind, message)


def load(services: Services, name: str | None) -> None:
    """Put the saved search ``name`` into the form and run it (in a callback, or before the form)."""
    if not name:
        return
    try:
        saved = services.saved_searches.get(name)
    except (QueryError, ArchiveError) as exc:
        _flash("error", f"无法载入：{exc}")
        return
    st.session_state["search_text"] = saved.query
    for key in ("search_source", "search_sentiment", "search_topic"):
        st.session_state[key] = ALL
    st.session_state["search_sort"] = saved.sort
    st.session_state["search_done"] = True
    _flash("success", f"已载入“{saved.name}”并检索。")


@as_account_now
def _delete(services: Services, user: User, name: str | None) -> None:
    if user.role not in EDITORS:
        _flash("error", "只有分析员和管理员可以删除保存的查询。")
        return
    if not name:
        return
    try:
        services.saved_searches.delete(name)
    except (QueryError, ArchiveError) as exc:
        _flash("error", f"删除失败：{exc}")
        return
    _flash("success", f"已删除“{name}”。")


@as_account_now
def _save(services: Services, user: User, search: Search | None) -> None:
    if user.role not in EDITORS:
        _flash("error", "只有分析员和管理员可以保存查询。")
        return
    if search is None or not search.text:
        _flash("error", "请先输入检索式并检索，再保存。")
        return
    name = str(st.session_state.get("saved_name") or "").strip()
    threshold = st.session_state.get("saved_threshold")
    saved = SavedSearch(
        name=name,
        query=search.text,
        sort=cast(SortOrder, search.sort),  # one of the page's SORTS
        alert_threshold=int(threshold) if threshold is not None else None,
        created_at=datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
    )
    try:
        services.saved_searches.save(saved)
    except QueryError as exc:
        _flash("error", f"保存失败：{exc.message}")
        return
    except ArchiveError as exc:
        _flash("error", f"保存失败：{exc}")
        return
    st.session_state["saved_name"] = ""
    _flash("success", f"已保存“{name}”。")


def render(services: Services, user: User, search: Search | None) -> None:
    """The 保存的查询 expander: the list, 载入并检索, and for editors 删除 and the save form."""
    with st.expander("保存的查询", expanded=True):
        message = st.session_state.pop("saved_message", None)
        if message is not None:
            kind, text = message
            (st.error if kind == "error" else st.success)(text)
        try:
            saved = services.saved_searches.all()
        except ArchiveError as exc:
            st.error(f"无法读取保存的查询：{exc}")
            return
        editor = user.role in EDITORS
        if saved:
            st.dataframe(
                pd.DataFrame(
                    {
                        "名称": [item.name for item in saved],
                        "检索式": [item.query for item in saved],
                        "预警阈值": [
                            EMPTY if item.alert_threshold is None else str(item.alert_threshold)
                            for item in saved
                        ],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
            names = [item.name for item in saved]
            pick, load_box, delete = st.columns([3, 1, 1], vertical_alignment="bottom")
            name = pick.selectbox("选择查询", names, placeholder=CHOOSE, key="saved_pick")
            load_box.button("载入并检索", key="saved_load", on_click=load, args=(services, name))
            if editor:
                delete.button("删除", key="saved_delete", on_click=_delete, args=(services, user, name))
            if any(item.alert_threshold is not None for item in saved):
                st.caption(THRESHOLD_HELP)
        else:
            st.caption("还没有保存的查询。")
        if not editor:
            return
        with st.form("save_search"):
            st.markdown("**保存当前检索式**")
            # st.text, not markdown: the query is typed text and is shown as it is.
            st.text(f"检索式：{search.text}" if search is not None and search.text else "请先检索，再保存。")
            name_box, threshold_box = st.columns(2)
            name_box.text_input("名称", key="saved_name")
            threshold_box.number_input(
                "预警阈值（可选）",
                min_value=1,
                value=None,
                step=1,
                key="saved_threshold",
                help=THRESHOLD_HELP,
            )
            st.form_submit_button("保存", on_click=_save, args=(services, user, search))
