"""舆情检索's saved searches (保存的查询): listed for every role that may search, saved, replaced and
deleted by 分析员 and 管理员, each optionally an alert rule (预警阈值, see :mod:`dashboard.search_alerts`).

Saving under a name that is taken asks first: the page shows what the name holds now and offers
替换 (``SavedSearches.save(replace=True)``) or 取消. Deleting asks too, and nothing is picked until
someone picks it. Loading, saving and deleting run in button callbacks (before the form is drawn
again, so loading may set the form's fields, and a refused save keeps what was typed); what they
report waits in the session for the next drawing. The store is the services' (the same file
``yuqing archive saved`` reads and writes).
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
    "填写 N 后，该查询即为预警规则：从保存（或替换）该查询时起，按发布时间累计新发布、且符合该检索式的"
    "帖子；累计达到 N 条时，“值班监测”页出现一条【检索预警】，设置了通知地址的还会发送一次通知。"
    "该预警被确认之前不会再次预警；确认后从确认时起重新累计。只按检索式计数，页面上的起止日期不随查询保存；"
    "发布时间早于起算时刻、采集较晚的帖子不计入。不填则只保存查询，不预警。"
)
PENDING_KEY = "saved_replace_pending"
DELETE_KEY = "saved_delete_pending"


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
    st.session_state.pop(DELETE_KEY, None)
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
        taken = name in {item.name for item in services.saved_searches.all()}
    except ArchiveError as exc:
        _flash("error", f"保存失败：{exc}")
        return
    if taken:  # ask first: 替换 or 取消, the typed name and threshold kept meanwhile
        st.session_state[PENDING_KEY] = saved
        return
    _store(services, saved, replace=False)


def _store(services: Services, saved: SavedSearch, *, replace: bool) -> None:
    try:
        services.saved_searches.save(saved, replace=replace)
    except QueryError as exc:
        _flash("error", f"保存失败：{exc.message}")
        return
    except ArchiveError as exc:
        _flash("error", f"保存失败：{exc}")
        return
    st.session_state["saved_name"] = ""
    st.session_state["saved_threshold"] = None
    _flash(
        "success", f"已替换“{saved.name}”，预警从现在起重新计数。" if replace else f"已保存“{saved.name}”。"
    )


@as_account_now
def _replace(services: Services, user: User) -> None:
    pending = st.session_state.pop(PENDING_KEY, None)
    if user.role not in EDITORS:
        _flash("error", "只有分析员和管理员可以替换保存的查询。")
        return
    if isinstance(pending, SavedSearch):
        _store(services, pending, replace=True)


def _cancel(key: str) -> None:
    st.session_state.pop(key, None)


def _ask_delete(name: str | None) -> None:
    if name:
        st.session_state[DELETE_KEY] = name


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
            _listed(services, user, saved, editor=editor)
        else:
            st.caption("还没有保存的查询。")
        if not editor:
            return
        _save_form(services, user, search, saved)


def _listed(services: Services, user: User, saved: list[SavedSearch], *, editor: bool) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                "名称": [item.name for item in saved],
                "检索式": [item.query for item in saved],
                "预警阈值": [
                    EMPTY if item.alert_threshold is None else str(item.alert_threshold) for item in saved
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    names = [item.name for item in saved]
    pick, load_box, delete = st.columns([3, 1, 1], vertical_alignment="bottom")
    # Nothing picked at first: 载入 and 删除 act only on a search someone chose.
    name = pick.selectbox("选择查询", names, index=None, placeholder=CHOOSE, key="saved_pick")
    load_box.button(
        "载入并检索", key="saved_load", on_click=load, args=(services, name), disabled=name is None
    )
    if editor:
        delete.button("删除", key="saved_delete", on_click=_ask_delete, args=(name,), disabled=name is None)
    doomed = st.session_state.get(DELETE_KEY)
    if editor and doomed in names:
        with st.container(border=True):
            # st.text: the name was typed by an analyst.
            st.warning(
                "确定删除下面这个保存的查询吗？删除后不能恢复；它若是预警规则，未确认的预警由系统解除。"
            )
            st.text(f"名称：{doomed}")
            yes, no = st.columns(2)
            yes.button(
                "确认删除",
                type="primary",
                key="saved_delete_yes",
                on_click=_delete,
                args=(services, user, doomed),
            )
            no.button("取消", key="saved_delete_no", on_click=_cancel, args=(DELETE_KEY,))
    if not editor and any(item.alert_threshold is not None for item in saved):
        st.caption("预警阈值：" + THRESHOLD_HELP)


def _save_form(services: Services, user: User, search: Search | None, saved: list[SavedSearch]) -> None:
    pending = st.session_state.get(PENDING_KEY)
    if isinstance(pending, SavedSearch):
        current = next((item for item in saved if item.name == pending.name), None)
        with st.container(border=True, key="saved_replace_box"):
            st.warning("已有同名的保存查询。替换后，该名称改存当前检索式和预警阈值，预警从替换时起重新计数。")
            # st.text: names and queries were typed by analysts.
            st.text(f"名称：{pending.name}")
            if current is not None:
                threshold = "不预警" if current.alert_threshold is None else f"{current.alert_threshold} 条"
                st.text(f"原检索式：{current.query}（预警阈值：{threshold}）")
            new_threshold = "不预警" if pending.alert_threshold is None else f"{pending.alert_threshold} 条"
            st.text(f"新检索式：{pending.query}（预警阈值：{new_threshold}）")
            yes, no = st.columns(2)
            yes.button("替换", type="primary", key="saved_replace", on_click=_replace, args=(services, user))
            no.button("取消", key="saved_replace_cancel", on_click=_cancel, args=(PENDING_KEY,))
    with st.form("save_search"):
        st.markdown("**保存当前检索式**")
        # st.text, not markdown: the query is typed text and is shown as it is.
        st.text(f"检索式：{search.text}" if search is not None and search.text else "请先检索，再保存。")
        name_box, threshold_box = st.columns(2)
        name_box.text_input("名称", key="saved_name", help="与已有查询同名时，会先询问是否替换。")
        threshold_box.number_input(
            "预警阈值（可选，条）",
            min_value=1,
            value=None,
            step=1,
            key="saved_threshold",
            help=THRESHOLD_HELP,
        )
        st.caption("预警阈值：" + THRESHOLD_HELP)
        st.form_submit_button("保存", on_click=_save, args=(services, user, search))
