"""What 领导简报 reads: the briefing of a date and period, computed from the archive and the ledger by
the same :func:`briefing.compute.compute_briefing` the scheduled file comes from, and its Word file.

Computed once per date and period for ``TTL`` and shared by every session.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from briefing.errors import SourceUnavailable
from briefing.model import Briefing
from briefing.period import period_of
from briefing.template import Template, load_template
from core.china_time import CHINA_TZ
from dashboard.services import HASH_FUNCS, Services
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
    """The Word file of the same briefing (charts drawn with matplotlib)."""
    from briefing.render import render

    return render(briefing_of(services, day, kind), ".docx")
