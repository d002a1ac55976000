"""The dashboard's Streamlit script: the process's services, then the router (``dashboard.app``).

Streamlit runs this file once per page view and interaction (``st.App`` in
``yuqing/dashboard_server.py`` serves it). It is a process entry point, so it reads ``os.environ``;
the services are built once per process and environment (:mod:`yuqing.dashboard_services`).
"""

from __future__ import annotations

import os

from dashboard.app import main
from yuqing.dashboard_services import services_from_env

if __name__ == "__main__":
    main(lambda: services_from_env(os.environ))
