"""The ledger as the pages use it: reads through :mod:`response_ledger.queries`, every change through
:mod:`response_ledger.services` (or the intake) on a unit of work the services open.

No SQL here and none in a page. Not cached: after a step the list and the history must show it at
once, and each read is one indexed query. Staff see and act on their own unit's tickets only: the
unit travels with every read of a ticket and every step, and the ledger refuses another unit's
ticket (:class:`response_ledger.errors.TicketOutsideUnit`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from dashboard.auth import Role, User
from dashboard.ledger_view import masked_book_rows
from dashboard.services import Services
from response_ledger import services as ledger
from response_ledger.alert_queries import tickets_of_posts
from response_ledger.intake import HandOpened, open_by_hand
from response_ledger.model import Ticket
from response_ledger.queries import ticket_count
from response_ledger.timeliness import DUE_SOON_FRACTION
from response_ledger.workflow import Action
from yuqing.settings import Settings


def actor(user: User) -> str:
    """How a user is named in a ticket's history: ``姓名（用户名）``."""
    return f"{user.display_name}（{user.username}）"[:100]


def unit_scope(user: User) -> str | None:
    """The unit whose tickets ``user`` may see and act on: staff their own (none: no ticket), others any."""
    return (user.unit or "") if user.role is Role.STAFF else None


def has_tickets(services: Services) -> bool:
    """Whether the ledger holds any ticket at all (a system whose intake never filed one holds none)."""
    return ticket_count(services.ledger(), unit=None, include_closed=True) > 0


def ticket(services: Services, user: User, ticket_id: str) -> Ticket:
    """The ticket as ``user`` may see it; raises ``TicketNotFound`` or ``TicketOutsideUnit``."""
    with services.unit_of_work() as uow:
        return ledger.load_ticket(uow, ticket_id, unit=unit_scope(user))


def step(
    services: Services,
    user: User,
    ticket_id: str,
    action: Action,
    *,
    version: int,
    comment: str,
    data: Mapping[str, Any],
) -> Ticket:
    """One workflow step by ``user`` on the version they saw; the ledger refuses a stale form."""
    with services.unit_of_work() as uow:
        return ledger.act(
            uow, ticket_id, action, actor=actor(user), now=datetime.now(CHINA_TZ), comment=comment,
            data=data, expected_version=version, unit=unit_scope(user),
        )  # fmt: skip


def open_from_post(services: Services, user: User, post: EnrichedPost) -> HandOpened:
    """立案 from the monitor: the post's ticket, opened now unless it has one already."""
    with services.unit_of_work() as uow:
        return open_by_hand(
            uow, post, datetime.now(CHINA_TZ), actor=actor(user), comment="值班监测人工立案",
            policy=services.policy(),
        )  # fmt: skip


def escalate_post(services: Services, user: User, post_id: str) -> Ticket | None:
    """升级 (督办) the ticket a post is on; None when the post has none."""
    ticket_id = tickets_of_posts(services.ledger(), [post_id]).get(post_id)
    if ticket_id is None:
        return None
    with services.unit_of_work() as uow:
        return ledger.act(
            uow, ticket_id, Action.ESCALATE, actor=actor(user), now=datetime.now(CHINA_TZ),
            comment="值班监测升级督办",
        )  # fmt: skip


def change_holiday(services: Services, day: date, *, remove: bool, is_workday: bool, name: str) -> int:
    """Set or remove a day of the holiday table; returns how many open tickets' deadlines moved."""
    with services.unit_of_work() as uow:
        if remove:
            return ledger.remove_holiday(uow, day)
        return ledger.set_holiday(uow, day, is_workday=is_workday, name=name)


@st.cache_resource(show_spinner=False)
def department(settings: Settings) -> str:
    """The office named in the 台账's title: the briefing template's department ("" if unreadable)."""
    from briefing.errors import TemplateError
    from briefing.template import load_template

    try:
        return load_template(settings.briefing_template_file).department
    except TemplateError:
        return ""


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
