"""回应台账: tickets by deadline, one ticket's posts and history, the steps it allows, the 台账 export.

Staff see their own unit's tickets only: the unit goes into every query, and the ticket they open
and every step they take are checked against it again by the ledger. Reads are not cached: after a
step the list and the history must show it at once, and each read is one indexed query (a page of
tickets, a count), so the first render costs the same at 100,000 tickets as at 100. The open
ticket and its steps are :mod:`dashboard.sections.ledger_ticket`. Text from the public (summaries,
posts, comments, unit names) only reaches the screen in dataframe cells and ``st.text``, never
markdown.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from functools import partial

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard import ledger_data, links, scroll
from dashboard.auth import Page, Role, User
from dashboard.labels import ALL, CHOOSE
from dashboard.ledger_view import highlight_overdue, scope_unit, shows_personal_data, ticket_table
from dashboard.sections import ledger_ticket
from dashboard.sections.ledger_steps import UNAVAILABLE
from dashboard.services import Services
from dashboard.session import require
from response_ledger.queries import ticket_count, ticket_page, ticket_units

log = logging.getLogger(__name__)

PAGE_SIZE = 50
TABLE_HEIGHT = 560  # about 15 rows; the rest of the page of 50 scrolls inside the grid
ROW_PX = 35  # Streamlit's dataframe row (and header) height: a short list gets a short grid
EMPTY_MESSAGE = "台账里还没有工单。采集的帖子符合立单规则、或值班员人工立单后，工单会出现在这里。"
NONE_IN_SCOPE = "没有符合条件的工单。"
NO_UNIT = "您的账号未设置所属单位，无法查看台账，请联系管理员。"
# The ticket open on the page, by id: it stays open through steps, errors, a closed ticket leaving
# the 未办结 list and a list whose order changed. The list's row selection, the 查看工单 picker and
# a link from another page (``?ticket=…``, e.g. an alert on 值班监测) all set it.
OPEN_KEY = links.OPEN_TICKET_KEY
PICKER_KEY = "ledger_ticket"
LIST_KEY = "ledger_list"
SHOWN_KEY = "ledger_shown_ids"
SCOPES = {"open": "未办结", "all": "全部（含已办结）"}
# Set when a ticket is opened (a row, the picker, a link): its panel is brought into view once, so
# it is not left below the list. A step on the open ticket does not move the page.
SCROLL_KEY = "ledger_scroll_to_ticket"
PANEL_KEY = "ledger_ticket_panel"
# Pixel widths that show each flag and countdown whole at 1440 px ("【签收超时】", "已超期 3天2小时");
# the summary takes what is left.
LIST_CONFIG = {
    "标记": st.column_config.TextColumn(width=110),
    "工单编号": st.column_config.TextColumn(width=170),
    "当前状态": st.column_config.TextColumn(width=80),
    "剩余时间": st.column_config.TextColumn(width=130),
    "办理时限": st.column_config.TextColumn(width=135),
    "当前环节": st.column_config.TextColumn(width=160),
    "督办": st.column_config.TextColumn(width=55),
    "摘要": st.column_config.TextColumn(width="medium"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def render(services: Services, user: User | None) -> None:
    """Draw the page for a permitted user; an empty or unreachable ledger is a message, never a traceback."""
    user = require(user, Page.LEDGER)
    st.title("回应台账")
    if user.role is Role.STAFF and not user.unit:
        st.error(NO_UNIT)
        st.stop()
    wanted = links.follow(links.TICKET_PARAM)  # ``?ticket=…`` opens that ticket once
    if wanted is not None:
        st.session_state[OPEN_KEY] = wanted
        st.session_state[SCROLL_KEY] = True
    try:
        _ledger(services, user, datetime.now(CHINA_TZ))
    except SQLAlchemyError:
        log.warning("event=ledger-unavailable url=%s", _safe_url(services), exc_info=True)
        st.error(UNAVAILABLE)


def _safe_url(services: Services) -> str:
    from sqlalchemy.engine import make_url

    return make_url(services.settings.ledger_sqlalchemy_url).render_as_string(hide_password=True)


def _picked() -> None:
    # The 查看工单 picker's on_change: the picked ticket is the open one (None closes it).
    st.session_state[OPEN_KEY] = st.session_state.get(PICKER_KEY)
    st.session_state[SCROLL_KEY] = True


def _row_clicked() -> None:
    # The list's on_select: a clicked row opens its ticket.
    shown: tuple[str, ...] = st.session_state.get(SHOWN_KEY) or ()
    state = st.session_state.get(LIST_KEY)
    try:
        rows = list(state["selection"]["rows"]) if state else []
    except (KeyError, TypeError):
        rows = []
    if rows and 0 <= rows[0] < len(shown):
        st.session_state[OPEN_KEY] = shown[rows[0]]
        st.session_state[SCROLL_KEY] = True


def _ledger(services: Services, user: User, now: datetime) -> None:
    if not ledger_data.has_tickets(services):
        st.info(EMPTY_MESSAGE)
        return
    unit, include_closed = _filters(services, user)
    total = ticket_count(services.ledger(), unit=unit, include_closed=include_closed)
    opened: str | None = st.session_state.get(OPEN_KEY)
    if total == 0:
        _nothing_in_scope(services, user, unit, include_closed)
    else:
        _list(services, user, unit, include_closed, total, now, opened)
    scroll_to = st.session_state.pop(SCROLL_KEY, False)
    if opened is not None:
        with st.container(key=PANEL_KEY):
            ledger_ticket.render(services, user, opened, now)
        if scroll_to:
            scroll.into_view(PANEL_KEY)


def _nothing_in_scope(services: Services, user: User, unit: str | None, include_closed: bool) -> None:
    if unit is None and include_closed:
        st.info(EMPTY_MESSAGE)
        return
    units = ticket_units(services.ledger())
    if unit is not None and unit not in units:
        # Most often a unit name typed differently on the account: say so, and what the ledger has.
        whose = "您账号的所属单位" if user.role is Role.STAFF else "所选责任单位"
        st.info(f"台账中没有任何工单的责任单位是{whose}（见上方“责任单位”）。")
        # Unit names arrive with the posts: plain text, never markdown.
        st.text("台账中现有的责任单位：" + ("、".join(units) if units else "（暂无）"))
        if user.role is Role.STAFF:
            st.caption("如单位名称有误（如简称与全称不一致），请联系管理员修改账号的所属单位。")
        return
    st.info(NONE_IN_SCOPE + ("可选择“全部（含已办结）”查看已办结的工单。" if not include_closed else ""))


def _list(
    services: Services,
    user: User,
    unit: str | None,
    include_closed: bool,
    total: int,
    now: datetime,
    opened: str | None,
) -> None:
    mask = not shows_personal_data(user.role)
    pages = math.ceil(total / PAGE_SIZE)
    # A new scope starts on its first page; the same scope keeps the page, within its page count.
    same_scope = st.session_state.get("ledger_seen_scope") == (unit, include_closed)
    page = min(int(st.session_state.get("ledger_page") or 1), pages) if same_scope else 1
    st.session_state["ledger_page"], st.session_state["ledger_seen_scope"] = page, (unit, include_closed)
    rows = ticket_page(
        services.ledger(), unit=unit, include_closed=include_closed, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    due_soon = services.policy().due_soon_fraction
    table = ticket_table(rows, now, mask=mask, due_soon_fraction=due_soon)
    ids = tuple(str(i) for i in table["工单编号"])
    # The list's selection follows the open ticket (its row may have moved, or left the page).
    wanted = [ids.index(opened)] if opened in ids else []
    state = st.session_state.get(LIST_KEY)
    try:
        current = list(state["selection"]["rows"]) if state else []
    except (KeyError, TypeError):
        current = []
    if current != wanted:
        st.session_state[LIST_KEY] = {"selection": {"rows": wanted, "columns": []}}
    st.session_state[SHOWN_KEY] = ids
    # No unit name here: captions are markdown, and unit names arrive with the posts.
    st.caption(
        f"共 {total:,} 件，按办理时限排序（最紧迫在前）；第 {page}/{pages} 页；更新于 {now:%H:%M:%S}。"
        "点击一行即可打开该工单。"
    )
    st.dataframe(
        highlight_overdue(table),
        key=LIST_KEY,
        on_select=_row_clicked,
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=min(TABLE_HEIGHT, ROW_PX * (len(table) + 1) + 3),
        column_config=LIST_CONFIG,
    )
    left, right = st.columns([1, 3])
    left.number_input("页码", min_value=1, max_value=pages, step=1, key="ledger_page")
    with right:
        _export(services, unit, mask, due_soon)
    summaries = dict(zip(table["工单编号"], table["摘要"], strict=True))
    options: list[str | None] = [None, *summaries]
    if opened is not None and opened not in summaries:
        options.append(opened)  # open, but not on this page of the list (closed, or another page)
    # The picker shows the open ticket; its labels leave out the status, which changes with each step.
    st.session_state[PICKER_KEY] = opened
    st.selectbox(
        "查看工单",
        options,
        format_func=lambda i: CHOOSE if i is None else f"{i} · {summaries.get(i, '')[:30]}".rstrip(" ·"),
        placeholder=CHOOSE,
        key=PICKER_KEY,
        on_change=_picked,
    )


def _filters(services: Services, user: User) -> tuple[str | None, bool]:
    left, right = st.columns(2)
    picked: str | None = None
    if user.role is Role.STAFF:
        left.text_input("责任单位", value=user.unit or "", disabled=True, key="ledger_own_unit")
    else:
        picked = left.selectbox(
            "责任单位",
            [None, *ticket_units(services.ledger())],
            format_func=lambda u: ALL if u is None else u,
            placeholder=ALL,
            key="ledger_unit",
        )
    scope = right.radio(
        "范围", list(SCOPES), format_func=SCOPES.__getitem__, horizontal=True, key="ledger_scope"
    )
    return scope_unit(user, picked), scope == "all"


def _export(services: Services, unit: str | None, mask: bool, due_soon: float) -> None:
    st.download_button(
        "导出台账（Excel）",
        # Built only when clicked (on a thread of its own): the whole 台账 may be 100,000 rows.
        data=partial(
            ledger_data.workbook,
            services.ledger(),
            unit=unit,
            mask=mask,
            department=ledger_data.department(services.settings),
            due_soon_fraction=due_soon,
        ),
        file_name=f"舆情回应台账-{unit or '全部单位'}.xlsx",
        mime=XLSX,
        key="ledger_export",
        help="导出当前责任单位范围内的全部工单（含已办结），版式同办公室台账。",
    )
