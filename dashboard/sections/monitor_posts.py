"""值班监测's newest posts: the table, the selected post, and 立案 or 升级 from it.

A selection names a row of the table as last drawn; the refresh can shift rows (a new post on top),
so it is carried by post id. 立案 and 升级 go through the ledger (:mod:`dashboard.ledger_data`),
which opens a ticket only for a post without one; the role is checked again at the click.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError
from dashboard import flash, ledger_data, monitor_data
from dashboard.alerts import may_act
from dashboard.auth import User
from dashboard.monitor_data import MonitorPosts
from dashboard.sections.monitor_alerts import LEDGER_UNAVAILABLE, NOT_ALLOWED
from dashboard.services import Services
from dashboard.session import as_account_now
from response_ledger.errors import LedgerError, describe

TABLE_HEIGHT = 600  # about 16 rows: a duty officer reads the newest posts without scrolling the grid
BODY_CHARS = 500  # of the selected post's text: enough to decide on a ticket without opening the source
TABLE_KEY = "monitor_posts"
SHOWN_KEY = "monitor_shown_ids"  # the post ids of the table as last drawn, row by row
FLASH_KEY = "monitor_action_flash"


def render(services: Services, user: User, posts: MonitorPosts, total: int) -> None:
    """The table of the newest posts, then what may be done with the selected one."""
    st.subheader("最新帖子")
    st.caption(
        f"按发布时间倒序，显示最新 {len(posts.ids)} 条，共 {total:,} 条；选中一行可立案（建台账）或升级工单"
    )
    selected = _keep_selection(posts.ids)
    st.dataframe(
        posts.table,
        key=TABLE_KEY,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=TABLE_HEIGHT,
        column_config={
            # Pixel widths that fit "YYYY-MM-DD HH:MM" and the badges; titles take what is left.
            # Links are plain text columns: shown, never followed from here.
            "发布时间": st.column_config.TextColumn(width=125),
            "来源": st.column_config.TextColumn(width=70),
            "标题": st.column_config.TextColumn(width=220),
            "情感": st.column_config.TextColumn(width=50),
            "风险": st.column_config.TextColumn(width=60),
            "台账": st.column_config.TextColumn(width=160),  # fits a ticket id, YQ- and 16 hex digits
            "话题": st.column_config.TextColumn(width=90),
            "链接": st.column_config.TextColumn(),
        },
    )
    st.session_state[SHOWN_KEY] = posts.ids
    _actions(services, user, posts, selected)


def _keep_selection(ids: tuple[str, ...]) -> str | None:
    """The selected post's id, with the grid's selection moved onto that post's row in ``ids``.

    An action always applies to the post the officer chose, wherever its row moved.
    """
    shown: tuple[str, ...] = st.session_state.get(SHOWN_KEY) or ()
    state = st.session_state.get(TABLE_KEY)
    try:
        rows = list(state["selection"]["rows"]) if state else []
    except (KeyError, TypeError):
        rows = []
    selected = shown[rows[0]] if rows and 0 <= rows[0] < len(shown) else None
    wanted = [ids.index(selected)] if selected in ids else []
    if rows != wanted:
        st.session_state[TABLE_KEY] = {"selection": {"rows": wanted}}
    return selected if wanted else None


def _actions(services: Services, user: User, posts: MonitorPosts, selected: str | None) -> None:
    flash.show(FLASH_KEY)
    if selected is None:
        st.caption("在上表中选中一条帖子，即可立案（建台账）或升级其工单。")
        return
    row = posts.table.iloc[posts.ids.index(selected)]
    try:
        chosen = monitor_data.post(services, selected)
    except ArchiveError:
        chosen = None
    body = " ".join((chosen.get("text", "") if chosen else "").split()) or str(row["摘要"])
    with st.container(border=True):
        st.markdown("**已选帖子**")
        # Post fields are untrusted: st.text shows them as they are, never as markdown or HTML.
        st.text(f"标题：{row['标题']}")
        st.text(f"正文：{body[:BODY_CHARS]}{'…' if len(body) > BODY_CHARS else ''}")
        st.text(f"链接：{row['链接']}")
        ticket = monitor_data.ticket_of_post(services, selected)
        if ticket is not None:
            st.info(f"该帖子已有工单 {ticket}。")
        if not may_act(user.role):
            st.caption(NOT_ALLOWED)
            return
        left, right, _ = st.columns([2, 1, 5])
        left.button(
            "立案（建台账）",
            key="monitor_open",
            type="primary",
            on_click=_open,
            args=(services, user, selected),
        )
        right.button("升级", key="monitor_escalate", on_click=_escalate, args=(services, user, selected))


@as_account_now
def _open(services: Services, user: User, post_id: str) -> None:
    if not may_act(user.role):
        flash.leave(FLASH_KEY, "error", NOT_ALLOWED)
        return
    try:
        post = services.archive().get(post_id)
        if post is None:
            flash.leave(FLASH_KEY, "error", "舆情库中找不到该帖子，未立案。")
            return
        done = ledger_data.open_from_post(services, user, post)
    except LedgerError as exc:
        flash.leave(FLASH_KEY, "error", f"立案失败：{describe(exc)}")
        return
    except (SQLAlchemyError, ArchiveError):
        flash.leave(FLASH_KEY, "error", f"立案失败：{LEDGER_UNAVAILABLE}")
        return
    if not done.opened:
        flash.leave(FLASH_KEY, "info", f"该帖子已有工单 {done.ticket_id}，未重复立案。")
        return
    # The 台账 column shows the new ticket now, not when the cache expires.
    monitor_data.monitor_posts.clear()
    flash.leave(FLASH_KEY, "success", f"已立案，工单编号 {done.ticket_id}。")


@as_account_now
def _escalate(services: Services, user: User, post_id: str) -> None:
    if not may_act(user.role):
        flash.leave(FLASH_KEY, "error", NOT_ALLOWED)
        return
    try:
        ticket = ledger_data.escalate_post(services, user, post_id)
    except LedgerError as exc:
        flash.leave(FLASH_KEY, "error", f"升级失败：{describe(exc)}")
        return
    except SQLAlchemyError:
        flash.leave(FLASH_KEY, "error", f"升级失败：{LEDGER_UNAVAILABLE}")
        return
    if ticket is None:
        flash.leave(FLASH_KEY, "warning", "该帖子尚未立案，请先立案（建台账）再升级。")
        return
    flash.leave(FLASH_KEY, "success", f"已升级（督办）工单 {ticket.id}，累计督办 {ticket.escalations} 次。")
