"""回应台账's step form: the steps the role may take on the ticket's status, what each needs, 提交.

Every step goes through the ledger's services (:func:`dashboard.ledger_data.step`) with the
version the form was drawn with and, for staff, their unit: a form over a ticket someone else
changed meanwhile, or a ticket of another unit, is refused and nothing is written. The outcome sits
under the button that made it.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.messages import EnrichedPost
from dashboard import ledger_data
from dashboard.auth import Page, User, may_open
from dashboard.labels import CHOOSE, EMPTY
from dashboard.ledger_view import (
    JUDGEMENT_BOXES,
    ROLE_ACTIONS,
    allowed_actions,
    classifier_judgement,
    corrected_judgements,
    corrected_topic,
    kind_word,
    rule_text,
    topic_choices,
    unit_choices,
)
from dashboard.services import Services
from dashboard.session import as_account_now
from response_ledger.errors import ConcurrencyConflict, LedgerError, TicketOutsideUnit, describe
from response_ledger.model import SATISFACTION, Ticket
from response_ledger.queries import ticket_units
from response_ledger.workflow import ACTION_LABELS, Action

log = logging.getLogger(__name__)
CONFLICT = "该工单已被他人修改，请刷新后重试。"
FORBIDDEN_STEP = "无权执行该操作。"
UNAVAILABLE = "台账数据库暂时无法连接，请稍后再试；若持续出现，请联系管理员。"
FLASH_KEY = "ledger_flash"
# The comment box of steps the ledger refuses without one says so.
COMMENT_LABELS = {Action.RESPOND: "答复内容（必填）", Action.ESCALATE: "督办理由（必填）"}


def _flash(ticket_id: str) -> None:
    """The last step's outcome, beside the form it came from (only for the ticket it was about)."""
    flash = st.session_state.get(FLASH_KEY)
    if isinstance(flash, tuple) and len(flash) == 3 and flash[0] == ticket_id:
        st.session_state.pop(FLASH_KEY)
        _, kind, text = flash
        (st.success if kind == "success" else st.error)(text)


def render(services: Services, user: User, ticket: Ticket, post: EnrichedPost | None) -> None:
    """The 办理 form of ``ticket``; ``post`` is the one that opened it (for 更正研判)."""
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
        # The configured units (the remit's, the dispatcher) first, then any other the 台账 holds.
        units = dict.fromkeys([*unit_choices(services.policy()), *ticket_units(services.ledger())])
        others = [u for u in units if u != ticket.unit]
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
        COMMENT_LABELS.get(action, "办理说明") if action is not None else "办理说明",
        key=f"ledger_comment_{key}",
        max_chars=4000,
    )
    st.button(
        "提交",
        type="primary",
        key=f"ledger_submit_{key}",
        # The version drawn with the form travels with the click: a stale form is refused.
        on_click=_submit,
        args=(services, user, ticket.id, ticket.version),
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
def _submit(services: Services, user: User, ticket_id: str, version: int) -> None:
    """The 提交 button's callback: one step through the ledger's services, reported by a flash."""
    state = st.session_state
    action = state.get(f"ledger_action_{ticket_id}")
    if not may_open(user.role, Page.LEDGER) or action not in ROLE_ACTIONS.get(user.role, ()):
        state[FLASH_KEY] = (ticket_id, "error", FORBIDDEN_STEP)
        return
    comment_key = f"ledger_comment_{ticket_id}"
    comment = str(state.get(comment_key) or "").strip()
    try:
        current = ledger_data.ticket(services, user, ticket_id)
        ticket = ledger_data.step(
            services, user, ticket_id, action, version=version, comment=comment,
            data=_step_data(action, current),
        )  # fmt: skip
    except TicketOutsideUnit:
        state[FLASH_KEY] = (ticket_id, "error", FORBIDDEN_STEP)
        return
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
