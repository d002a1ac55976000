"""领导简报: placeholder until its page lands (being built in this session)."""

from __future__ import annotations

import streamlit as st

from dashboard.auth import Page, User
from dashboard.session import require
from yuqing.settings import Settings


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for a permitted user."""
    require(user, Page.BRIEFING)
    st.title("领导简报")
