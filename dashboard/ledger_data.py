"""The ledger as the pages use it: reads through :mod:`response_ledger.queries`, every change through
:mod:`response_ledger.services` (or the intake) on a unit of work the services open.

No SQL here and none in a page. Not cached: after a step the list and the history must show it at
once, and each read is one indexed query. Staff see and act on their own unit's tickets only: the
unit travels with every read of a ticket and every step, and the ledger refuses another unit's
ticket (:class:`response_ledger.errors.TicketOutsideUnit`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st
from sqlalchemy import Engine

from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from dashboard.auth import Role, User
from dashboard.services import Services
from response_ledger import services as ledger
from response_ledger.alert_queries import tickets_of_posts
from response_ledger.intake import Decision, HandOpened, open_by_hand, propose
from response_ledger.model import Ticket
from response_ledger.queries import ticket_count
from response_ledger.timeliness import DUE_SOON_FRACTION
from response_ledger.workflow import Action
from yuqing.settings import Settings

if TYPE_CHECKING:
    from response_ledger.ledger_book import BookRow  # openpyxl: imported only when exporting


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


OPENED_BY_HAND = "值班监测人工立案"  # the opening event's comment, before the officer's note


def proposal(services: Services, post: EnrichedPost) -> Decision:
    """What 立案 proposes for ``post``: the ledger's own proposal (class, unit and why)."""
    return propose(post, datetime.now(CHINA_TZ), services.policy())


def open_from_post(
    services: Services,
    user: User,
    post: EnrichedPost,
    *,
    unit: str | None = None,
    ticket_class: str | None = None,
    note: str = "",
) -> HandOpened:
    """立案 from the monitor: the post's ticket, opened now (for ``unit``, of ``ticket_class``, the
    proposal's where None) unless it has one already; ``note`` goes on the opening event."""
    with services.unit_of_work() as uow:
        return open_by_hand(
            uow, post, datetime.now(CHINA_TZ), actor=actor(user), ticket_class=ticket_class, unit=unit,
            comment=f"{OPENED_BY_HAND}：{note.strip()}" if note.strip() else OPENED_BY_HAND,
            policy=services.policy(),
        )  # fmt: skip


def escalate_post(services: Services, user: User, post_id: str, *, reason: str) -> Ticket | None:
    """升级 (督办) the ticket a post is on, for ``reason`` (the ledger refuses an empty one); None when
    the post has no ticket."""
    ticket_id = tickets_of_posts(services.ledger(), [post_id]).get(post_id)
    if ticket_id is None:
        return None
    with services.unit_of_work() as uow:
        return ledger.act(
            uow, ticket_id, Action.ESCALATE, actor=actor(user), now=datetime.now(CHINA_TZ),
            comment=reason.strip(),
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
    from response_ledger.ledger_book import BookTitle, book_metrics, export_xlsx, ledger_rows, masked_rows

    now = datetime.now(CHINA_TZ)
    rows: Iterable[BookRow] = ledger_rows(engine, now=now, unit=unit, due_soon_fraction=due_soon_fraction)
    if mask:  # the 台账's one masking (response_ledger.ledger_book), as `yuqing ledger export` uses
        rows = masked_rows(rows)
    title = BookTitle(department=department, exported_at=now, unit=unit)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "台账.xlsx"
        export_xlsx(rows, path, title=title, unit_metrics=book_metrics(engine, now=now, unit=unit))
        return path.read_bytes()
