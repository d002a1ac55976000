"""What 领导简报 reads: the briefing of a date and period, computed from the archive and the ledger by
the same :func:`briefing.compute.compute_briefing` the scheduled file comes from, and its Word file
(in the office's own Word template when ``YUQING_BRIEFING_DOCX_TEMPLATE`` names one); and its one
write, a leader's 批示 on a ticket awaiting a decision, through the ledger's services.

Computed once per date and period for ``TTL`` and shared by every session.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from briefing.errors import SourceUnavailable, TemplateError
from briefing.model import Briefing
from briefing.period import period_of
from briefing.template import Template, load_template
from core.china_time import CHINA_TZ
from dashboard.auth import User
from dashboard.ledger_data import actor
from dashboard.services import HASH_FUNCS, Services
from response_ledger import services as ledger
from response_ledger.model import Ticket
from response_ledger.workflow import Action
from yuqing.settings import Settings

TTL = timedelta(minutes=5)


@st.cache_resource(show_spinner=False)
def template(settings: Settings) -> Template:
    """The briefing template (department, titles, sections), read once per process."""
    return load_template(settings.briefing_template_file)


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def briefing_of(services: Services, day: date, kind: str) -> Briefing:
    """The briefing of ``day``'s period of ``kind``, computed now (cached by date and period).

    Raises :class:`briefing.errors.SourceUnavailable` when the archive or the ledger cannot be read.
    """
    from briefing.compute import compute_briefing

    try:
        ledger = services.ledger()
    except SQLAlchemyError as exc:  # as compute_briefing reports a ledger it cannot read
        raise SourceUnavailable("ledger", str(exc)) from exc
    return compute_briefing(
        services.archive(),
        ledger,
        period_of(day, kind),
        now=datetime.now(CHINA_TZ),
        template=template(services.settings),
    )


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def docx_of(services: Services, day: date, kind: str) -> bytes:
    """The Word file of the same briefing (charts drawn with matplotlib), in the office's Word
    template when the settings name one (raises :class:`TemplateError` for one that cannot be used)."""
    from briefing.render import render

    template_file = services.settings.briefing_docx_template
    return render(briefing_of(services, day, kind), ".docx", docx_template=template_file)


def docx_problem(settings: Settings) -> tuple[str, str] | None:
    """What is wrong with the office's Word template the settings name, as (file, reason in Chinese);
    None when none is named or it is usable. Checked before anyone asks for the file, and again
    when the file changes."""
    path = settings.briefing_docx_template
    if path is None:
        return None
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (0, 0)
    return _docx_problem(path, stamp)


@st.cache_data(ttl=TTL, show_spinner=False)
def _docx_problem(path: Path, stamp: tuple[int, int]) -> tuple[str, str] | None:
    from briefing.docx_template import check_template

    del stamp  # part of the cache key only
    try:
        check_template(path)
    except TemplateError as exc:
        return exc.source, exc.reason
    return None


def instruct(services: Services, user: User, ticket_id: str, text: str) -> Ticket:
    """A leader's 批示 on ``ticket_id``: a step of its history, read on 回应台账 (raises the ledger's
    errors: a closed ticket, an empty note)."""
    with services.unit_of_work() as uow:
        return ledger.act(
            uow, ticket_id, Action.INSTRUCT, actor=actor(user), now=datetime.now(CHINA_TZ), comment=text
        )
