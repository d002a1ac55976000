"""值班监测's alerts: the ones waiting for 确认 (the first few open, gravest kind first), the
acknowledged, and each alert's own action — a ticket alert opens its ticket on 回应台账, a 检索预警
its saved search on 舆情检索, a high-risk post is chosen below for 立案, a spike filters the posts to
its topic or source.

Alert titles and details quote posts, ticket summaries and typed queries: ``st.text`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard import alert_data, flash, links
from dashboard.acks import AcknowledgeRefused, StoredAlert
from dashboard.alert_data import Board
from dashboard.alerts import may_act, post_of_alert, spike_of_alert, ticket_of_alert
from dashboard.auth import Page, User, may_open
from dashboard.labels import SOURCE_LABELS
from dashboard.services import Services
from dashboard.session import as_account_now

ALERTS_SHOWN = 30  # alerts drawn with their 确认 button; the rest are counted below them
ALERTS_OPEN = 5  # of those, drawn open above the posts; the others wait in a collapsed list
ACKED_SHOWN = 20
LEDGER_UNAVAILABLE = "回应台账暂时无法连接：工单提醒、确认和立案暂不可用，请稍后再试。"
NOT_ALLOWED = "您的角色只能查看；确认提醒、立案和升级由值班员或管理员操作。"
SAVED_RULE = (
    "检索预警：设有预警阈值的保存查询，自上次确认（或保存）以来新发布的命中帖子达到阈值即提醒；"
    "确认后重新计数。"
)
FLASH_KEY = "monitor_alert_flash"
# The post chosen on the monitor, by id: a row of the newest posts, or a high-risk alert's 查看帖子.
SELECTED_KEY = "monitor_selected"
# Set by a spike's 筛选帖子: the filters (drawn outside the refreshing part) need the whole page redrawn.
REDRAW_KEY = "monitor_redraw"
SCROLL_KEY = "monitor_scroll"  # the part of the page to bring into view at the next drawing
POST_PANEL, POSTS_SECTION = "monitor_post_panel", "monitor_posts_section"


def render(services: Services, user: User, board: Board | None) -> None:
    """The alert section; ``board`` None: the ledger's database (where alerts live) is down."""
    st.subheader("待确认提醒")
    flash.show(FLASH_KEY)
    if board is None:
        st.error(LEDGER_UNAVAILABLE)
        return
    acting = may_act(user.role)
    if not board.active:
        st.success("当前没有待确认的提醒。")
    # A long list of alerts would push the posts off the screen: the first few stay open.
    for item in board.active[:ALERTS_OPEN]:
        _card(services, user, item, board, acting)
    more = board.active[ALERTS_OPEN:]
    if more:
        with st.expander(f"更多待确认提醒（{len(more)} 条）"):
            for item in more:
                _card(services, user, item, board, acting)
    hidden = board.count - len(board.active)
    if hidden > 0:
        st.caption(f"另有 {hidden:,} 条较早的提醒未列出，确认上面的提醒后依次显示。")
    if board.notes:
        st.caption("；".join(board.notes) + "。")
    st.caption(SAVED_RULE)
    if not acting:
        st.caption(NOT_ALLOWED)
    with st.expander(f"已确认（最近 {len(board.acked)} 条）"):
        if board.acked:
            st.dataframe(_acked_table(board.acked), hide_index=True, width="stretch")
        else:
            st.text("还没有确认过的提醒。")


def _card(services: Services, user: User, item: StoredAlert, board: Board, acting: bool) -> None:
    alert = item.alert
    with st.container(border=True):
        left, right = st.columns([9, 1], vertical_alignment="center")
        # Titles and details quote posts, ticket summaries and typed queries: plain text only.
        left.text(f"{alert.kind.label}{alert.title}")
        left.text(alert.detail)
        sent = "；已发送通知" if item.notified_at is not None else ""
        left.caption(f"提醒于 {item.raised_at.astimezone(CHINA_TZ):%m-%d %H:%M}{sent}")
        if acting:
            right.button(
                "确认", key=f"ack:{alert.id}", on_click=_acknowledge, args=(services, user, alert.id)
            )
        ticket = ticket_of_alert(alert.id)
        opens_ticket = ticket is not None and may_open(user.role, Page.LEDGER)
        if opens_ticket and ticket is not None and right.button("打开工单", key=f"open:{alert.id}"):
            links.open_ticket(ticket[0])
        search = board.searches.get(alert.id)
        opens_search = search is not None and may_open(user.role, Page.SEARCH)
        if opens_search and search is not None and right.button("打开检索", key=f"search:{alert.id}"):
            links.open_saved_search(search)
        post_id = post_of_alert(alert.id)
        if post_id is not None:
            right.button("查看帖子", key=f"post:{alert.id}", on_click=_choose_post, args=(post_id,))
        spike = spike_of_alert(alert.id)
        if spike is not None and (spike[0] == "topic" or spike[1] in SOURCE_LABELS):
            right.button("筛选帖子", key=f"filter:{alert.id}", on_click=_filter_posts, args=spike)


def _choose_post(post_id: str) -> None:
    # A callback: the post is the chosen one (shown with its 立案/升级 below), and comes into view.
    st.session_state[SELECTED_KEY] = post_id
    st.session_state[SCROLL_KEY] = POST_PANEL


def _filter_posts(field_name: str, code: str) -> None:
    # A callback, before any widget is drawn: the sidebar's filters show the spike's topic or source.
    if field_name == "topic":
        st.session_state["filter_topic"], st.session_state["filter_source"] = code, None
    else:
        st.session_state["filter_source"], st.session_state["filter_topic"] = code, None
    st.session_state["filter_sentiment"], st.session_state["filter_keyword"] = None, ""
    st.session_state[REDRAW_KEY] = True
    st.session_state[SCROLL_KEY] = POSTS_SECTION


def _acked_table(acked: Sequence[StoredAlert]) -> pd.DataFrame:
    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone(CHINA_TZ):%m-%d %H:%M}" if moment else "—"

    return pd.DataFrame(
        [
            {
                "类型": a.alert.kind.label,
                "提醒": a.alert.title,
                "确认人": a.acked_by or "—",
                "确认时间": when(a.acked_at),
            }
            for a in acked
        ]
    )


@as_account_now
def _acknowledge(services: Services, user: User, alert_id: str) -> None:
    # A callback: it runs before the fragment redraws, so the acknowledged alert is gone at once.
    try:
        done = alert_data.alert_store(services).acknowledge(alert_id, user, datetime.now(CHINA_TZ))
    except AcknowledgeRefused:
        flash.leave(FLASH_KEY, "error", NOT_ALLOWED)
        return
    except SQLAlchemyError:
        flash.leave(FLASH_KEY, "error", LEDGER_UNAVAILABLE)
        return
    if done:
        flash.leave(FLASH_KEY, "success", "已确认该提醒：所有值班员的提醒列表中都不再显示。")
    else:
        flash.leave(FLASH_KEY, "info", "该提醒已由他人确认。")
