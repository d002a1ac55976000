"""回应台账: tickets by deadline, one ticket's posts and history, the steps it allows, the 台账 export.

Staff see their own unit's tickets only: the unit goes into every query, and the ticket they open
and every step they take are checked against it again. Reads are not cached: after a step the list
and the history must show it at once, and each read is one indexed query (a page of tickets, a
count), so the first render costs the same at 100,000 tickets as at 100. Steps go through the
ledger's services with the version the user saw, so a ticket someone else changed meanwhile is
refused instead of overwritten. Text from the public (summaries, posts, comments, unit names) only
reaches the screen in dataframe cells and ``st.text``, never markdown.
"""

from __future__ import annotations

import logging
import math
import tempfile
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError
from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from dashboard import queries
from dashboard.auth import Page, Role, User, may_open
from dashboard.labels import ALL, CHOOSE, EMPTY
from dashboard.ledger_view import (
    JUDGEMENT_BOXES,
    ROLE_ACTIONS,
    allowed_actions,
    classifier_judgement,
    clock_start,
    corrected_judgements,
    corrected_topic,
    events_table,
    highlight_overdue,
    kind_word,
    masked,
    masked_book_rows,
    may_handle,
    posts_table,
    rule_text,
    scope_unit,
    shown_time,
    shows_personal_data,
    ticket_table,
    time_left,
    topic_choices,
)
from dashboard.session import as_account_now, require
from response_ledger import services
from response_ledger.errors import ConcurrencyConflict, LedgerError, TicketNotFound, describe
from response_ledger.model import SATISFACTION, Ticket
from response_ledger.queries import ticket_count, ticket_page, ticket_post_ids, ticket_units
from response_ledger.timeliness import DUE_SOON_FRACTION, Clock
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import ACTION_LABELS, Action
from yuqing.settings import Settings

log = logging.getLogger(__name__)

PAGE_SIZE = 50
TABLE_HEIGHT = 560  # about 15 rows; the rest of the page of 50 scrolls inside the grid
ROW_PX = 35  # Streamlit's dataframe row (and header) height: a short list gets a short grid
POSTS_SHOWN = 50
EMPTY_MESSAGE = "台账里还没有工单。采集的帖子符合立单规则、或值班员人工立单后，工单会出现在这里。"
NONE_IN_SCOPE = "没有符合条件的工单。"
UNAVAILABLE = "台账数据库暂时无法连接，请稍后再试；若持续出现，请联系管理员。"
CONFLICT = "该工单已被他人修改，请刷新后重试。"
NO_UNIT = "您的账号未设置所属单位，无法查看台账，请联系管理员。"
FORBIDDEN_STEP = "无权执行该操作。"
FLASH_KEY = "ledger_flash"
# The ticket open on the page, by id: it stays open through steps, errors, a closed ticket leaving
# the 未办结 list and a list whose order changed. The list's row selection, the 查看工单 picker and
# a link from another page (``?ticket=…``, e.g. an alert on 值班监测) all set it.
OPEN_KEY = "ledger_open_ticket"
PICKER_KEY = "ledger_ticket"
LIST_KEY = "ledger_list"
SHOWN_KEY = "ledger_shown_ids"
TICKET_PARAM = "ticket"
SCOPES = {"open": "未办结", "all": "全部（含已办结）"}
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


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for a permitted user; an empty or unreachable ledger is a message, never a traceback."""
    user = require(user, Page.LEDGER)
    st.title("回应台账")
    if user.role is Role.STAFF and not user.unit:
        st.error(NO_UNIT)
        st.stop()
    _follow_link()
    try:
        _ledger(settings, user, datetime.now(CHINA_TZ))
    except SQLAlchemyError:
        log.warning("event=ledger-unavailable url=%s", _safe_url(settings), exc_info=True)
        st.error(UNAVAILABLE)


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.ledger_sqlalchemy_url).render_as_string(hide_password=True)


def open_ticket_link(ticket_id: str) -> None:
    """Switch to this page with ``ticket_id`` open (for a button on another page; not in a callback)."""
    st.session_state[OPEN_KEY] = ticket_id
    # Pages are told apart by their url_path: this stands for the router's 回应台账 page.
    st.switch_page(
        st.Page(_never_run, title="回应台账", url_path="ledger"),
        query_params={TICKET_PARAM: ticket_id},
    )


def _never_run() -> None:  # pragma: no cover - switch_page runs the router's page, not this
    pass


def _follow_link() -> None:
    # ``?ticket=…`` opens that ticket once; afterwards the page's own choices decide.
    wanted = st.query_params.get(TICKET_PARAM)
    if wanted and st.session_state.get("ledger_followed") != wanted:
        st.session_state[OPEN_KEY] = wanted
        st.session_state["ledger_followed"] = wanted


def _flash(ticket_id: str) -> None:
    """The last step's outcome, beside the form it came from (only for the ticket it was about)."""
    flash = st.session_state.get(FLASH_KEY)
    if isinstance(flash, tuple) and len(flash) == 3 and flash[0] == ticket_id:
        st.session_state.pop(FLASH_KEY)
        _, kind, text = flash
        (st.success if kind == "success" else st.error)(text)


def _picked() -> None:
    # The 查看工单 picker's on_change: the picked ticket is the open one (None closes it).
    st.session_state[OPEN_KEY] = st.session_state.get(PICKER_KEY)


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


def _ledger(settings: Settings, user: User, now: datetime) -> None:
    engine = queries.ledger_engine(settings)
    if not queries.ledger_ready(settings):
        st.info(EMPTY_MESSAGE)
        return
    unit, include_closed = _filters(engine, user)
    total = ticket_count(engine, unit=unit, include_closed=include_closed)
    opened: str | None = st.session_state.get(OPEN_KEY)
    if total == 0:
        _nothing_in_scope(engine, user, unit, include_closed)
    else:
        _list(settings, engine, user, unit, include_closed, total, now, opened)
    if opened is not None:
        _ticket(settings, engine, user, opened, now)


def _nothing_in_scope(engine: Engine, user: User, unit: str | None, include_closed: bool) -> None:
    if unit is None and include_closed:
        st.info(EMPTY_MESSAGE)
        return
    units = ticket_units(engine)
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
    settings: Settings,
    engine: Engine,
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
        engine, unit=unit, include_closed=include_closed, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    due_soon = queries.ledger_policy(settings).due_soon_fraction
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
        _export(engine, unit, mask, _department(settings), due_soon)
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


def _filters(engine: Engine, user: User) -> tuple[str | None, bool]:
    left, right = st.columns(2)
    picked: str | None = None
    if user.role is Role.STAFF:
        left.text_input("责任单位", value=user.unit or "", disabled=True, key="ledger_own_unit")
    else:
        picked = left.selectbox(
            "责任单位",
            [None, *ticket_units(engine)],
            format_func=lambda u: ALL if u is None else u,
            placeholder=ALL,
            key="ledger_unit",
        )
    scope = right.radio(
        "范围", list(SCOPES), format_func=SCOPES.__getitem__, horizontal=True, key="ledger_scope"
    )
    return scope_unit(user, picked), scope == "all"


@st.cache_resource(show_spinner=False)
def _department(settings: Settings) -> str:
    """The office named in the 台账's title: the briefing template's department ("" if unreadable)."""
    from briefing.errors import TemplateError
    from briefing.template import load_template

    try:
        return load_template(settings.briefing_template_file).department
    except TemplateError:
        return ""


def _export(engine: Engine, unit: str | None, mask: bool, department: str, due_soon: float) -> None:
    st.download_button(
        "导出台账（Excel）",
        # Built only when clicked (on a thread of its own): the whole 台账 may be 100,000 rows.
        data=partial(
            workbook, engine, unit=unit, mask=mask, department=department, due_soon_fraction=due_soon
        ),
        file_name=f"舆情回应台账-{unit or '全部单位'}.xlsx",
        mime=XLSX,
        key="ledger_export",
        help="导出当前责任单位范围内的全部工单（含已办结），版式同办公室台账。",
    )


def workbook(
    engine: Engine,
    *,
    unit: str | None,
    mask: bool,
    department: str = "",
    due_soon_fraction: float = DUE_SOON_FRACTION,
) -> bytes:
    """The 台账 of ``unit`` (``None``: every unit) as XLSX bytes, free text masked when ``mask``."""
    # openpyxl: only when exporting
    from response_ledger.ledger_book import BookTitle, book_metrics, export_xlsx, ledger_rows

    now = datetime.now(CHINA_TZ)
    rows = masked_book_rows(
        ledger_rows(engine, now=now, unit=unit, due_soon_fraction=due_soon_fraction), mask
    )
    title = BookTitle(department=department, exported_at=now, unit=unit)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "台账.xlsx"
        export_xlsx(rows, path, title=title, unit_metrics=book_metrics(engine, now=now, unit=unit))
        return path.read_bytes()


def _ticket(settings: Settings, engine: Engine, user: User, ticket_id: str, now: datetime) -> None:
    with SqlUnitOfWork(engine) as uow:
        try:
            ticket = uow.tickets.get(ticket_id)
        except TicketNotFound as exc:
            st.warning(describe(exc))
            return
    if not may_handle(user, ticket.unit):
        st.error("无权查看其他单位的工单。")
        return
    mask = not shows_personal_data(user.role)
    st.subheader(f"工单 {ticket.id}（{ticket.status.value}）")
    st.dataframe(_facts(ticket, now, mask), hide_index=True, width="stretch", height="content")
    st.markdown("**关联帖子**")
    posts = _posts(settings, engine, ticket, mask)
    st.markdown("**办理过程**")
    st.dataframe(events_table(ticket.events, mask=mask), hide_index=True, width="stretch", height="content")
    # The post that opened the ticket is the one whose judgements a correction is about.
    opening = next((p for p in posts if p["id"] == ticket.post_id), posts[0] if posts else None)
    _steps(settings, engine, user, ticket, opening)


def _facts(ticket: Ticket, now: datetime, mask: bool) -> Any:
    import pandas as pd

    due = shown_time(ticket.due_at) + ("（暂定：该年节假日安排未录入）" if ticket.provisional else "")
    facts = [
        ("摘要", masked(ticket.summary, mask)),
        ("责任单位", ticket.unit),
        ("当前状态", ticket.status.value),
        ("签收时限", shown_time(ticket.sign_due_at)),
        ("答复时限", shown_time(ticket.respond_due_at)),
        ("办理时限", due if ticket.due_at else "暂停计时"),
        ("剩余时间", time_left(Clock.of(ticket), now)),
        ("计时起点", clock_start(ticket)),
        ("发现时间", shown_time(ticket.found_at)),
        ("答复内容", masked(ticket.answer_text, mask)),
        ("督办次数", str(ticket.escalations)),
        ("版本", str(ticket.version)),
    ]
    return pd.DataFrame(facts, columns=["项目", "内容"])


def _posts(settings: Settings, engine: Engine, ticket: Ticket, mask: bool) -> list[EnrichedPost]:
    ids = ticket_post_ids(engine, ticket.id, limit=POSTS_SHOWN)
    found: list[EnrichedPost] = []
    if ids and queries.archive_exists(settings):
        try:
            store = queries.archive(settings)
            found = [post for post in map(store.get, ids) if post is not None]
        except ArchiveError:
            st.warning("舆情库暂时无法连接，帖子原文暂不能显示。")
    if found:
        st.dataframe(posts_table(found, mask=mask), hide_index=True, width="stretch")
    missing = len(ids) - len(found)
    if not found:
        st.caption("没有可显示的帖子原文（人工登记或从旧台账导入的工单没有帖子）。")
    elif missing:
        st.caption(f"另有 {missing} 条关联记录不在舆情库中。")
    return found


def _steps(settings: Settings, engine: Engine, user: User, ticket: Ticket, post: EnrichedPost | None) -> None:
    st.markdown("**办理**")
    actions = allowed_actions(user.role, ticket.status)
    if not actions:
        _flash(ticket.id)
        st.caption(f"工单当前状态为“{ticket.status.value}”，您没有可执行的操作。")
        return
    key = ticket.id
    action = st.selectbox(
        "操作", actions, format_func=ACTION_LABELS.__getitem__, placeholder=CHOOSE, key=f"ledger_action_{key}"
    )
    if action is Action.REASSIGN:
        others = [u for u in ticket_units(engine) if u != ticket.unit]
        st.selectbox(
            "改派至", others, index=None, accept_new_options=True, key=f"ledger_to_{key}",
            placeholder="选择或输入新的责任单位",
        )  # fmt: skip
    elif action is Action.REQUEST_EXTENSION:
        cap = ticket.limits.max_extension
        if cap is None:
            st.caption("该类工单不允许延期。")
        else:
            st.number_input(
                f"延期时长（{kind_word(cap)}，累计最多 {rule_text(cap)}）",
                min_value=1, max_value=cap.amount, step=1, key=f"ledger_amount_{key}",
            )  # fmt: skip
    elif action is Action.APPROVE_EXTENSION:
        asked = [e.data.get("amount") for e in ticket.events if e.action is Action.REQUEST_EXTENSION]
        st.caption(f"按申请的时长批准：{rule_text(asked[-1]) if asked else EMPTY}")
    elif action is Action.FOLLOW_UP:
        st.selectbox("满意度", SATISFACTION, placeholder=CHOOSE, key=f"ledger_satisfaction_{key}")
    elif action is Action.CORRECT_TOPIC:
        _topic_choice(ticket)
    elif action is Action.CORRECT_JUDGEMENT:
        _judgement_choice(ticket, post)
    st.text_area(
        "答复内容（必填）" if action is Action.RESPOND else "办理说明",
        key=f"ledger_comment_{key}",
        max_chars=4000,
    )
    st.button(
        "提交",
        type="primary",
        key=f"ledger_submit_{key}",
        # The version drawn with the form travels with the click: a stale form is refused.
        on_click=_submit,
        args=(settings, user, ticket.id, ticket.version),
    )
    # The outcome of the last click sits under the button that made it, never at the top of the page.
    _flash(ticket.id)


def _topic_choice(ticket: Ticket) -> None:
    from classifiers.errors import TaxonomyError

    try:
        choices = topic_choices()
    except TaxonomyError as exc:
        st.error(f"职责范围配置有误，无法更正主题：{exc}")
        return
    current = corrected_topic(ticket.events)
    st.selectbox(
        "正确的主题", choices, index=None, key=f"ledger_topic_{ticket.id}",
        placeholder="选择该工单实际所属的主题",
        help="更正记录会导出为主题模型的训练数据（yuqing ledger corrections）。"
        + (f"上次更正为：{current}" if current else ""),
    )  # fmt: skip


def _judgement_choice(ticket: Ticket, post: EnrichedPost | None) -> None:
    said, last = classifier_judgement(post), corrected_judgements(ticket.events)
    # Markdown, but every word of ``said`` is ours: labels, the known appeal types and a number.
    shown = "、".join(f"{name}“{said[key]}”" for key, name, _ in JUDGEMENT_BOXES if key in said)
    st.caption(
        (f"自动判定：{shown}。" if shown else "")
        + "只选择判定有误的项，其余保持“不更正”；更正记录会导出为模型的训练数据。"
    )
    for column, (key, name, options) in zip(st.columns(len(JUDGEMENT_BOXES)), JUDGEMENT_BOXES, strict=True):
        notes = [f"自动判定：{said[key]}"] if key in said else []
        notes += [f"上次更正为：{last[key]}"] if key in last else []
        column.selectbox(
            name, list(options), index=None, format_func=options.__getitem__, key=f"ledger_{key}_{ticket.id}",
            placeholder="不更正", help="；".join(notes) or None,
        )  # fmt: skip


@as_account_now
def _submit(settings: Settings, user: User, ticket_id: str, version: int) -> None:
    """The 提交 button's callback: one step through the ledger's services, reported by a flash."""
    state = st.session_state
    action = state.get(f"ledger_action_{ticket_id}")
    if not may_open(user.role, Page.LEDGER) or action not in ROLE_ACTIONS.get(user.role, ()):
        state[FLASH_KEY] = (ticket_id, "error", FORBIDDEN_STEP)
        return
    comment_key = f"ledger_comment_{ticket_id}"
    comment = str(state.get(comment_key) or "").strip()
    try:
        engine = queries.ledger_for_writing(settings)
        with SqlUnitOfWork(engine) as uow:
            current = uow.tickets.get(ticket_id)
            if not may_handle(user, current.unit):
                state[FLASH_KEY] = (ticket_id, "error", FORBIDDEN_STEP)
                return
            ticket = services.act(
                uow, ticket_id, action, actor=f"{user.display_name}（{user.username}）",
                now=datetime.now(CHINA_TZ), comment=comment, data=_step_data(action, current),
                expected_version=version,
            )  # fmt: skip
    except ConcurrencyConflict:
        state[FLASH_KEY] = (ticket_id, "error", CONFLICT)
        return
    except LedgerError as exc:
        state[FLASH_KEY] = (ticket_id, "error", f"操作未完成：{describe(exc)}")
        return
    except ValueError as exc:
        state[FLASH_KEY] = (ticket_id, "error", f"操作未完成：{exc}")
        return
    except SQLAlchemyError:
        log.warning("event=ledger-step-failed ticket=%s", ticket_id, exc_info=True)
        state[FLASH_KEY] = (ticket_id, "error", UNAVAILABLE)
        return
    state[comment_key] = ""
    if action is Action.CORRECT_JUDGEMENT:  # recorded once: the boxes start over at 不更正
        for key, _, _ in JUDGEMENT_BOXES:
            state[f"ledger_{key}_{ticket_id}"] = None
    log.info("event=ledger-step ticket=%s action=%s user=%s", ticket_id, action.value, user.username)
    label = ACTION_LABELS[action]
    state[FLASH_KEY] = (ticket_id, "success", f"已{label}工单 {ticket_id}，当前状态：{ticket.status.value}。")


def _step_data(action: Action, ticket: Ticket) -> dict[str, Any]:
    state = st.session_state
    if action is Action.REASSIGN:
        unit = str(state.get(f"ledger_to_{ticket.id}") or "").strip()
        if not unit:
            raise ValueError("改派须选择或填写新的责任单位")
        if len(unit) > 100:
            raise ValueError("责任单位名称不能超过 100 个字符")
        return {"unit": unit}
    if action is Action.REQUEST_EXTENSION:
        cap, amount = ticket.limits.max_extension, state.get(f"ledger_amount_{ticket.id}")
        # Counted in the class's own kind; the ledger refuses a class without extensions and checks the cap.
        return {} if cap is None or amount is None else {"amount": f"{cap.kind.value}:{int(amount)}"}
    if action is Action.FOLLOW_UP:
        return {"satisfaction": state.get(f"ledger_satisfaction_{ticket.id}")}
    if action is Action.CORRECT_TOPIC:
        from classifiers.errors import TaxonomyError

        topic = state.get(f"ledger_topic_{ticket.id}")
        try:
            choices = topic_choices()
        except TaxonomyError:
            raise ValueError("职责范围配置有误，无法更正主题") from None
        if topic not in choices:
            raise ValueError("更正主题须从职责范围的主题中选择")
        return {"topic": topic}
    if action is Action.CORRECT_JUDGEMENT:
        chosen = {
            key: value
            for key, _, options in JUDGEMENT_BOXES
            if (value := state.get(f"ledger_{key}_{ticket.id}")) in options
        }
        if not chosen:
            raise ValueError("更正研判须至少选择一项")
        return chosen
    return {}
