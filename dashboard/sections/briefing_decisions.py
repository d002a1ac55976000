"""领导简报's 待领导决策事项, acted on: each ticket opens on 回应台账 (to approve an extension or 督办
there), and a leader writes a 批示 on it here, recorded as a step of the ticket's history.

The list is the briefing's (computed at most a few minutes ago): a ticket closed since is refused by
the ledger with its own sentence. The 批示 runs in a button callback as the account stands at the
click (:func:`dashboard.session.as_account_now`) and only for 领导; what it reports waits in the
session (:mod:`dashboard.flash`), and the note stays in its box when it is refused.
"""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from briefing.model import Decision
from dashboard import flash, links
from dashboard.auth import Page, Role, User, may_open
from dashboard.briefing_data import instruct
from dashboard.labels import CHOOSE
from dashboard.services import Services
from dashboard.session import as_account_now
from response_ledger.errors import LedgerError, describe
from response_ledger.model import INSTRUCTION_MAX

log = logging.getLogger(__name__)
FLASH_KEY = "briefing_decision_flash"
PICK_KEY = "briefing_decision"
NOTE_KEY = "briefing_instruction"
# Who writes a 批示: the leaders the appendix is for.
INSTRUCTORS = frozenset({Role.LEADER})


def render(services: Services, user: User, decisions: tuple[Decision, ...]) -> None:
    """Under the appendix's table: pick a ticket, open it on 回应台账, and (领导) write a 批示."""
    if not decisions:
        return
    with st.container(border=True, key="briefing_decisions"):
        st.markdown("**处理待决事项**")
        flash.show(FLASH_KEY)
        by_id = {d.ticket_id: d for d in decisions}
        # Nothing picked at first: an action always names the ticket someone chose.
        picked = st.selectbox(
            "选择工单",
            list(by_id),
            index=None,
            format_func=lambda i: f"{i}（{by_id[i].unit}，{by_id[i].reason or by_id[i].status}）",
            placeholder=CHOOSE,
            key=PICK_KEY,
        )
        if picked is None:
            st.caption(
                "选择一件工单后，可在回应台账中打开它审批延期或督办"
                + ("，或在此写下批示。" if user.role in INSTRUCTORS else "。")
            )
            return
        if may_open(user.role, Page.LEDGER):
            links.ticket_link(picked, "在回应台账中打开（审批延期、督办）")
        if user.role not in INSTRUCTORS:
            return
        st.text_area(
            "批示",
            key=NOTE_KEY,
            max_chars=INSTRUCTION_MAX,
            placeholder="如：请区住建局今日内联系当事人，明天上午报送办理情况。",
            help="批示记入该工单的办理记录，承办单位和值班员在回应台账中可见。",
        )
        st.button(
            "提交批示",
            type="primary",
            key="briefing_instruct",
            on_click=_instruct,
            args=(services, user, picked),
        )


@as_account_now
def _instruct(services: Services, user: User, ticket_id: str) -> None:
    if user.role not in INSTRUCTORS:
        flash.leave(FLASH_KEY, "error", "只有领导可以批示。")
        return
    text = str(st.session_state.get(NOTE_KEY) or "").strip()
    if not text:
        flash.leave(FLASH_KEY, "error", "请先填写批示内容。")
        return
    try:
        instruct(services, user, ticket_id, text)
    except LedgerError as exc:
        flash.leave(FLASH_KEY, "error", f"批示未能记录：{describe(exc)}")
        return
    except SQLAlchemyError:
        log.warning("event=instruction-failed ticket=%s", ticket_id, exc_info=True)
        flash.leave(FLASH_KEY, "error", "回应台账暂时无法写入，批示未记录，请稍后再试。")
        return
    log.info("event=instruction ticket=%s user=%s", ticket_id, user.username)
    st.session_state[NOTE_KEY] = ""
    flash.leave(FLASH_KEY, "success", f"已在工单 {ticket_id} 记录批示，承办单位可在回应台账中查看。")
