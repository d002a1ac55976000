"""回应台账's open ticket: its facts, its posts (from the archive), its history, then its steps.

The ticket is read as the user may see it: staff get their own unit's tickets only (the ledger
refuses another unit's). Summaries, posts and comments are the public's: dataframe cells only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from archive.errors import ArchiveError
from core.messages import EnrichedPost
from dashboard import ledger_data
from dashboard.auth import User
from dashboard.ledger_view import (
    clock_start,
    events_table,
    masked,
    posts_table,
    shown_time,
    shows_personal_data,
    time_left,
)
from dashboard.sections import ledger_steps
from dashboard.services import Services
from response_ledger.errors import TicketNotFound, TicketOutsideUnit, describe
from response_ledger.model import Ticket
from response_ledger.queries import ticket_post_ids
from response_ledger.timeliness import Clock

POSTS_SHOWN = 50


def render(services: Services, user: User, ticket_id: str, now: datetime) -> None:
    """The ticket ``ticket_id`` as ``user`` may see it, with the steps their role may take."""
    try:
        ticket = ledger_data.ticket(services, user, ticket_id)
    except TicketNotFound as exc:
        st.warning(describe(exc))
        return
    except TicketOutsideUnit:
        st.error("无权查看其他单位的工单。")
        return
    mask = not shows_personal_data(user.role)
    st.subheader(f"工单 {ticket.id}（{ticket.status.value}）")
    st.dataframe(_facts(ticket, now, mask), hide_index=True, width="stretch", height="content")
    st.markdown("**关联帖子**")
    posts = _posts(services, ticket, mask)
    st.markdown("**办理过程**")
    st.dataframe(events_table(ticket.events, mask=mask), hide_index=True, width="stretch", height="content")
    # The post that opened the ticket is the one whose judgements a correction is about.
    opening = next((p for p in posts if p["id"] == ticket.post_id), posts[0] if posts else None)
    ledger_steps.render(services, user, ticket, opening)


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


def _posts(services: Services, ticket: Ticket, mask: bool) -> list[EnrichedPost]:
    ids = ticket_post_ids(services.ledger(), ticket.id, limit=POSTS_SHOWN)
    found: list[EnrichedPost] = []
    if ids and services.has_archive():
        try:
            store = services.archive()
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
