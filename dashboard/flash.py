"""One-line outcomes a widget callback leaves for the next drawing of its page.

Callbacks run before the script, so what they report waits in the session under a key of the
section it belongs to, as ``(level, message)``. Messages are built from our own words and ids only,
never from post text (they are drawn as markdown).
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

Level = Literal["success", "info", "warning", "error"]


def leave(key: str, level: Level, message: str) -> None:
    """Leave ``message`` for the next drawing of the section that shows ``key``."""
    st.session_state[key] = (level, message)


def show(key: str) -> None:
    """Draw the message left under ``key``, once."""
    flash = st.session_state.pop(key, None)
    if flash is None:
        return
    level, message = flash
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[level](message)
