"""The dashboard's ASGI server: ``st.App`` around ``dashboard_app.py`` plus the sign-in cookie routes.

``streamlit run yuqing/dashboard_server.py`` (see :mod:`yuqing.dashboard_launch`) finds ``app`` and
serves it with uvicorn. The cookie routes (``dashboard.server``) use the same services as the pages.
This is a process entry point, so it reads ``os.environ``.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard.server import routes
from dashboard.session import session_store
from dashboard.sessions import SessionStore
from yuqing.dashboard_services import services_from_env

SCRIPT = Path(__file__).resolve().with_name("dashboard_app.py")


def sessions() -> SessionStore:
    """The session store of this process's services (the settings come from the environment)."""
    return session_store(services_from_env(os.environ))


app = st.App(SCRIPT, routes=routes(sessions))
