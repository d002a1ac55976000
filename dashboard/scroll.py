"""Bringing a part of a page into view: the ticket just opened on 回应台账, the post chosen on 值班监测.

A part to scroll to is a container drawn with a ``key`` (Streamlit gives it the class
``st-key-<key>``); :func:`into_view` draws a small script, once, that scrolls the browser to it. The
script is ours alone: it names the container by a key of our own and carries a counter, never an
id or text that came from a link or a post.
"""

from __future__ import annotations

import json
from typing import Literal

import streamlit as st

_COUNT_KEY = "scroll_count"


def into_view(key: str, *, block: Literal["start", "nearest"] = "start") -> None:
    """Scroll the browser to the container drawn with ``key`` (drawn earlier in this run): its top to
    the top of the window, or (``nearest``) as little as shows it whole (a form and its message)."""
    count = int(st.session_state.get(_COUNT_KEY, 0)) + 1
    st.session_state[_COUNT_KEY] = count  # a new script each time, so the browser runs it again
    selector = json.dumps(f".st-key-{key}")
    # The container may still be drawing: try for a moment, then give up quietly. The margin keeps
    # its top clear of Streamlit's header bar.
    script = (
        f"<script>/* {count} */(() => {{ let tries = 0; const go = () => {{"
        f" const el = window.parent.document.querySelector({selector}) || document.querySelector({selector});"
        " if (el) { el.style.scrollMarginTop = '4.5rem';"
        f" el.scrollIntoView({{behavior: 'smooth', block: '{block}'}}); }}"
        " else if (++tries < 20) { setTimeout(go, 100); } }; setTimeout(go, 50); })();</script>"
    )
    st.html(script, unsafe_allow_javascript=True)
