"""值班监测's newest posts: the table, the chosen post, and 立案 or 升级 from it, each in a small form.

The chosen post is carried by id (:data:`~dashboard.sections.monitor_alerts.SELECTED_KEY`): the
refresh can shift rows (a new post on top), and a high-risk alert's 查看帖子 chooses a post that may
not be in the table at all. 立案 shows the ledger's own proposal (:func:`response_ledger.intake.propose`:
the class by the intake rules, the unit by the work order or the remit topic), both changeable from
the configured lists, and a note for the opening event; 升级 (督办) asks for its reason, which the
ledger requires. Each says what happened and where the ticket now is, with a link to it on 回应台账;
a refusal stays beside its form. The role is checked again at every click.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError
from core.china_time import parse_time
from core.errors import MessageError
from core.messages import EnrichedPost
from dashboard import ledger_data, links, monitor_data, scroll
from dashboard.alerts import may_act
from dashboard.auth import Page, User, may_open
from dashboard.labels import CHOOSE, EMPTY, SOURCE_LABELS, label
from dashboard.ledger_view import rule_text, shown_time, unit_choices
from dashboard.monitor_data import MonitorPosts
from dashboard.sections.monitor_alerts import (
    LEDGER_UNAVAILABLE,
    NOT_ALLOWED,
    POST_PANEL,
    POSTS_SECTION,
    SCROLL_KEY,
    SELECTED_KEY,
)
from dashboard.services import Services
from dashboard.session import as_account_now
from dashboard.tables import own_page
from response_ledger.errors import LedgerError, describe
from response_ledger.policy import Policy

TABLE_HEIGHT = 600  # about 16 rows: a duty officer reads the newest posts without scrolling the grid
BODY_CHARS = 500  # of the chosen post's text: enough to decide on a ticket without opening the source
NOTE_CHARS = 500
TABLE_KEY = "monitor_posts"
SHOWN_KEY = "monitor_shown_ids"  # the post ids of the table as last drawn, row by row
ROWS_KEY = "monitor_rows_set"  # the table's selection as this page last set it
FORM_KEY = "monitor_form"  # (FILE or ESCALATE, post id) while that form is open
FILE, ESCALATE = "file", "escalate"
# A form's refusal, kept beside the form until it is submitted again or closed: (form, post id, text).
REFUSAL_KEY = "monitor_form_refusal"
# The last 立案 or 升级 done on the monitor, shown with its post: (post id, level, headline, lines).
OUTCOME_KEY = "monitor_outcome"
FORM_AREA = "monitor_form_area"  # the open form with its refusal, brought into view when it changes


def render(services: Services, user: User, posts: MonitorPosts, total: int) -> None:
    """The table of the newest posts, then the chosen post and what may be done with it."""
    with st.container(key=POSTS_SECTION):
        st.subheader("最新帖子")
        st.caption(
            f"按发布时间倒序，显示最新 {len(posts.ids)} 条，共 {total:,} 条；"
            "选中一行可立案（建台账）或升级工单"
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
    drawn = {POSTS_SECTION, *_chosen(services, user, selected)}
    target = st.session_state.pop(SCROLL_KEY, None)
    if target in drawn:
        scroll.into_view(str(target), block="nearest" if target == FORM_AREA else "start")


def _table_rows() -> list[int]:
    state = st.session_state.get(TABLE_KEY)
    try:
        return list(state["selection"]["rows"]) if state else []
    except (KeyError, TypeError):
        return []


def _keep_selection(ids: tuple[str, ...]) -> str | None:
    """The chosen post's id, with the grid's selection moved onto that post's row in ``ids``.

    A row the officer clicked since the last drawing chooses its post (none: nothing chosen);
    otherwise the chosen post stays, wherever its row moved, or off the table (an alert chose it).
    """
    shown: tuple[str, ...] = st.session_state.get(SHOWN_KEY) or ()
    rows = _table_rows()
    if rows != st.session_state.get(ROWS_KEY, []):  # the officer clicked
        st.session_state[SELECTED_KEY] = shown[rows[0]] if rows and 0 <= rows[0] < len(shown) else None
    selected: str | None = st.session_state.get(SELECTED_KEY)
    wanted = [ids.index(selected)] if selected in ids else []
    if rows != wanted:
        st.session_state[TABLE_KEY] = {"selection": {"rows": wanted, "columns": []}}
    st.session_state[ROWS_KEY] = wanted
    return selected


def _chosen(services: Services, user: User, selected: str | None) -> list[str]:
    """The chosen post with its ticket and forms; the keys of the parts drawn (none without a post)."""
    if selected is None:
        st.caption("在上表中选中一条帖子（或点提醒的“查看帖子”），即可立案（建台账）或升级其工单。")
        return []
    try:
        post = monitor_data.post(services, selected)
    except ArchiveError:
        post = None
    if post is None:
        st.warning("舆情库中暂时读不到所选帖子，请稍后再试或另选一条。")
        return []
    with st.container(border=True, key=POST_PANEL):
        _post_facts(post)
        ticket = monitor_data.ticket_of_post(services, selected)
        told = _outcome(selected)
        if ticket is not None:
            if not told:  # the outcome just shown names the ticket already
                st.info(f"该帖子已有工单 {ticket}。")
            if may_open(user.role, Page.LEDGER):
                links.ticket_link(ticket)
        if not may_act(user.role):
            st.caption(NOT_ALLOWED)
            return [POST_PANEL]
        form = st.session_state.get(FORM_KEY)
        if ticket is None and form == (FILE, selected):
            with st.container(key=FORM_AREA):
                _file_form(services, user, post)
            return [POST_PANEL, FORM_AREA]
        if ticket is not None and form == (ESCALATE, selected):
            with st.container(key=FORM_AREA):
                _escalate_form(services, user, selected, ticket)
            return [POST_PANEL, FORM_AREA]
        if ticket is None:
            st.button(
                "立案（建台账）", key="monitor_open", type="primary", on_click=_show, args=(FILE, selected)
            )
        else:
            st.button("升级（督办）", key="monitor_escalate", on_click=_show, args=(ESCALATE, selected))
    return [POST_PANEL]


def _post_facts(post: EnrichedPost) -> None:
    st.markdown("**已选帖子**")
    # Post fields are untrusted: st.text shows them as they are, never as markdown or HTML.
    body = " ".join((post.get("text") or "").split())
    where = f"{label(SOURCE_LABELS, post.get('source'))}·{post.get('channel') or EMPTY}"
    st.text(f"标题：{(post.get('title') or '').strip() or EMPTY}")
    st.text(f"来源：{where}；发布时间：{shown_time(_published(post))}")
    st.text(f"正文：{body[:BODY_CHARS]}{'…' if len(body) > BODY_CHARS else ''}")
    st.text(f"链接：{own_page(post) or '（无原帖页面）'}")
    topic = post.get("topic") or {}
    if topic.get("label"):
        st.text(f"自动判定主题：{topic['label']}")


def _published(post: EnrichedPost) -> datetime | None:
    try:
        return parse_time(post["published_at"])
    except (KeyError, MessageError):
        return None


def _show(form: str, post_id: str) -> None:
    # A callback: open ``form`` for the post (one form at a time) and bring it into view, forgetting
    # an old refusal and the last outcome.
    st.session_state[FORM_KEY] = (form, post_id)
    st.session_state[SCROLL_KEY] = FORM_AREA
    st.session_state.pop(REFUSAL_KEY, None)
    st.session_state.pop(OUTCOME_KEY, None)


def _close() -> None:
    st.session_state.pop(FORM_KEY, None)
    st.session_state.pop(REFUSAL_KEY, None)


def _refusal(form: str, post_id: str) -> None:
    """The form's last refusal, under its buttons."""
    kept = st.session_state.get(REFUSAL_KEY)
    if isinstance(kept, tuple) and kept[:2] == (form, post_id):
        st.error(kept[2])


def _refuse(form: str, post_id: str, text: str) -> None:
    st.session_state[REFUSAL_KEY] = (form, post_id, text)
    st.session_state[SCROLL_KEY] = FORM_AREA  # the refusal under the buttons comes into view


def _outcome(post_id: str) -> bool:
    """What the last 立案 or 升级 of this post did and where its ticket is (until another form opens);
    whether there was one to show."""
    kept = st.session_state.get(OUTCOME_KEY)
    if not (isinstance(kept, tuple) and kept[0] == post_id):
        return False
    _, level, headline, details = kept
    # Our words, ids and times only: it is drawn as markdown.
    (st.success if level == "success" else st.info)(headline)
    for line in details:  # may name a unit that came with the post: plain text
        st.text(line)
    return True


def _class_choice(policy: Policy, name: str) -> str:
    item = policy.classes[name]
    stages = (("签收", item.limits.sign), ("答复", item.limits.respond), ("办结", item.limits.close))
    limits = [f"{word} {rule_text(rule)}" for word, rule in stages if rule is not None]
    return f"{item.title}（{'，'.join(limits)}）" if limits else item.title


def _file_form(services: Services, user: User, post: EnrichedPost) -> None:
    """立案's form: the proposed unit and class, changeable; a note; 确认立案 or 取消."""
    post_id = post["id"]
    policy = services.policy()
    proposed = ledger_data.proposal(services, post)
    units = unit_choices(policy, proposed.unit)
    classes = list(policy.classes)
    with st.form(key="monitor_file_form", border=False):
        st.markdown("**立案（建台账）**")
        st.caption("已按职责范围和立单规则预填责任单位和工单类别；如不妥，可改选后再确认。")
        left, right = st.columns(2)
        left.selectbox("责任单位", units, index=0, placeholder=CHOOSE, key=f"monitor_unit_{post_id}")
        left.text(f"建议依据：{proposed.unit_basis}")
        right.selectbox(
            "工单类别",
            classes,
            index=classes.index(proposed.ticket_class) if proposed.ticket_class in classes else 0,
            format_func=lambda name: _class_choice(policy, name),
            placeholder=CHOOSE,
            key=f"monitor_class_{post_id}",
        )
        right.text(f"建议依据：{proposed.class_basis}")
        st.text_area(
            "备注（可选，记入工单的立单记录）", key=f"monitor_note_{post_id}", max_chars=NOTE_CHARS, height=80
        )
        submit, cancel, _ = st.columns([1, 1, 4])
        submit.form_submit_button(
            "确认立案", type="primary", key="monitor_file_submit", on_click=_open,
            args=(services, user, post_id),
        )  # fmt: skip
        cancel.form_submit_button("取消", key="monitor_file_cancel", on_click=_close)
    _refusal(FILE, post_id)


def _escalate_form(services: Services, user: User, post_id: str, ticket_id: str) -> None:
    """升级's form: the reason (required by the ledger); 确认升级 or 取消."""
    with st.form(key="monitor_escalate_form", border=False):
        st.markdown(f"**升级（督办）工单 {ticket_id}**")
        st.caption("督办记入工单的办理过程并计入督办次数，责任单位和领导都会看到，请写明理由。")
        st.text_area("督办理由（必填）", key=f"monitor_reason_{post_id}", max_chars=NOTE_CHARS, height=80)
        submit, cancel, _ = st.columns([1, 1, 4])
        submit.form_submit_button(
            "确认升级", type="primary", key="monitor_escalate_submit", on_click=_escalate,
            args=(services, user, post_id),
        )  # fmt: skip
        cancel.form_submit_button("取消", key="monitor_escalate_cancel", on_click=_close)
    _refusal(ESCALATE, post_id)


@as_account_now
def _open(services: Services, user: User, post_id: str) -> None:
    """确认立案's callback: open the ticket with the chosen unit, class and note."""
    state = st.session_state
    if not may_act(user.role):
        _refuse(FILE, post_id, NOT_ALLOWED)
        return
    try:
        post = services.archive().get(post_id)
        if post is None:
            _refuse(FILE, post_id, "舆情库中找不到该帖子，未立案。")
            return
        policy = services.policy()
        proposed = ledger_data.proposal(services, post)
        unit = state.get(f"monitor_unit_{post_id}") or proposed.unit
        ticket_class = state.get(f"monitor_class_{post_id}") or proposed.ticket_class
        if unit not in unit_choices(policy, proposed.unit):
            _refuse(FILE, post_id, "立案失败：责任单位须从列表中选择。")
            return
        if ticket_class not in policy.classes:
            _refuse(FILE, post_id, "立案失败：工单类别须从列表中选择。")
            return
        note = str(state.get(f"monitor_note_{post_id}") or "")
        done = ledger_data.open_from_post(
            services, user, post, unit=str(unit), ticket_class=str(ticket_class), note=note
        )
    except LedgerError as exc:
        _refuse(FILE, post_id, f"立案失败：{describe(exc)}")
        return
    except (SQLAlchemyError, ArchiveError):
        _refuse(FILE, post_id, f"立案失败：{LEDGER_UNAVAILABLE}")
        return
    _close()
    # The 台账 column shows the new ticket now, not when the cache expires.
    monitor_data.monitor_posts.clear()
    if not done.opened or done.ticket is None:
        state[OUTCOME_KEY] = (post_id, "info", f"该帖子已有工单 {done.ticket_id}，未重复立案。", ())
        return
    ticket = done.ticket
    title = policy.classes[ticket.ticket_class].title
    due = shown_time(ticket.due_at) + ("（暂定）" if ticket.provisional else "")
    headline = (
        f"已立案：工单 {ticket.id}（{title}），办理时限 {due}；已进入回应台账，状态“{ticket.status.value}”。"
    )
    details = [f"责任单位：{ticket.unit}"]
    if ticket.sign_due_at is not None:
        details.append(f"签收时限：{shown_time(ticket.sign_due_at)}")
    state[OUTCOME_KEY] = (post_id, "success", headline, tuple(details))


@as_account_now
def _escalate(services: Services, user: User, post_id: str) -> None:
    """确认升级's callback: 督办 the post's ticket for the reason given (the ledger refuses none)."""
    if not may_act(user.role):
        _refuse(ESCALATE, post_id, NOT_ALLOWED)
        return
    reason = str(st.session_state.get(f"monitor_reason_{post_id}") or "")
    try:
        ticket = ledger_data.escalate_post(services, user, post_id, reason=reason)
    except LedgerError as exc:
        _refuse(ESCALATE, post_id, f"升级失败：{describe(exc)}")
        return
    except SQLAlchemyError:
        _refuse(ESCALATE, post_id, f"升级失败：{LEDGER_UNAVAILABLE}")
        return
    if ticket is None:
        _refuse(ESCALATE, post_id, "该帖子尚未立案，请先立案（建台账）再升级。")
        return
    _close()
    st.session_state[f"monitor_reason_{post_id}"] = ""
    due = "暂停计时" if ticket.due_at is None else shown_time(ticket.due_at)
    headline = (
        f"已升级（督办）工单 {ticket.id}，累计督办 {ticket.escalations} 次；"
        f"工单在回应台账，状态“{ticket.status.value}”，办理时限 {due}。"
    )
    st.session_state[OUTCOME_KEY] = (post_id, "success", headline, (f"责任单位：{ticket.unit}",))
