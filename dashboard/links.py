"""Links between pages: an alert on 值班监测 opens its ticket on 回应台账 or its saved search on 舆情检索,
and a ticket just opened or escalated there links to it.

A page is switched to by its address (the router's ``url_path``) with a query parameter naming what
to open; the page opened follows the parameter once (``follow``), and afterwards its own choices
decide. ``open_*`` are called from a button in the script, never from a callback (``st.switch_page``
reruns); ``ticket_link`` draws a link.
"""

from __future__ import annotations

import streamlit as st

TICKET_PARAM = "ticket"
SAVED_PARAM = "saved"
# The ticket open on 回应台账, by id (the list's row, its picker and a link all set it).
OPEN_TICKET_KEY = "ledger_open_ticket"


def _never_run() -> None:  # pragma: no cover - switch_page runs the router's page, not this
    pass


def open_ticket(ticket_id: str) -> None:
    """Switch to 回应台账 with ``ticket_id`` open."""
    st.session_state[OPEN_TICKET_KEY] = ticket_id
    # Pages are told apart by their url_path: this stands for the router's 回应台账 page.
    st.switch_page(
        st.Page(_never_run, title="回应台账", url_path="ledger"), query_params={TICKET_PARAM: ticket_id}
    )


def ticket_link(ticket_id: str, label: str = "在回应台账中打开") -> None:
    """A link (not a button: it may be opened in a new tab) to 回应台账 with ``ticket_id`` open."""
    st.page_link(
        st.Page(_never_run, title="回应台账", url_path="ledger"),
        label=label,
        icon=":material/assignment:",
        query_params={TICKET_PARAM: ticket_id},
    )


def open_saved_search(name: str) -> None:
    """Switch to 舆情检索 with the saved search ``name`` loaded and run."""
    st.switch_page(st.Page(_never_run, title="舆情检索", url_path="search"), query_params={SAVED_PARAM: name})


def follow(param: str) -> str | None:
    """The value of ``param`` the first time this session sees it (None afterwards, or without one)."""
    wanted = st.query_params.get(param)
    seen = f"followed_{param}"
    if not wanted or st.session_state.get(seen) == wanted:
        return None
    st.session_state[seen] = wanted
    return wanted
