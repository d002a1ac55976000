"""How to start the dashboard: the argv the service runner executes (``yuqing dashboard``).

Streamlit reads ``.streamlit/config.toml`` from the working directory, which differs between a
checkout, a service and a container, so every server and theme option is a command-line flag here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from yuqing.settings import Settings

# The ASGI server (st.App around dashboard_app.py) that also sets the sign-in cookie.
APP = Path(__file__).resolve().with_name("dashboard_server.py")
# A calm light theme with the red commonly used for government portals as the accent colour.
THEME_FLAGS = (
    "--theme.base=light",
    "--theme.primaryColor=#c0392b",
)


def streamlit_argv(settings: Settings, *, address: str = "127.0.0.1") -> list[str]:
    """The command that serves the dashboard on ``settings.dashboard_port``.

    ``address`` is loopback unless the caller says otherwise: a container must pass ``0.0.0.0`` for
    its published port to reach the server. The environment (``YUQING_*``) is inherited by the child,
    whose entry point builds its own settings from it.
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.port={settings.dashboard_port}",
        f"--server.address={address}",
        "--browser.gatherUsageStats=false",
        # A service does not edit its own source: no file watcher threads, no reload on change.
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        # Users get a viewer's menu (no clear-cache or rerun options) and no tracebacks, only error types.
        "--client.toolbarMode=viewer",
        "--client.showErrorDetails=type",
        *THEME_FLAGS,
    ]
