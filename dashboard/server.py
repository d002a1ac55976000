"""The dashboard's ASGI server: Streamlit's ``st.App`` around ``app.py`` plus the sign-in cookie routes.

``streamlit run dashboard/server.py`` finds ``app`` and serves it with uvicorn. Streamlit's pages
talk over a WebSocket and cannot set response headers, so the session cookie is set here, by the
server, as ``HttpOnly; SameSite=Strict`` (and ``Secure`` over https): the page's script cannot read it.

- ``POST /auth/session`` (body: the one-time hand-off code the sign-in gave this tab) answers with
  the cookie holding a fresh session token;
- ``POST /auth/signout`` revokes the cookie's session and deletes the cookie.

This is a process entry point, so it reads ``os.environ`` (like ``app.py``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard.sessions import COOKIE, SessionStore
from response_ledger.db import make_engine
from yuqing.settings import PREFIX, Settings

MAX_CODE = 128


@cache
def store() -> SessionStore:
    """This process's session store (the settings come from the environment once)."""
    settings = Settings.from_env({k: v for k, v in os.environ.items() if k.startswith(PREFIX)})
    return session_store(settings)


def session_store(settings: Settings) -> SessionStore:
    """The session store of ``settings``' ledger database with its idle limit and lifetime."""
    return SessionStore(
        make_engine(settings.ledger_sqlalchemy_url),
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )


def _secure(request: Request) -> bool:
    # Behind a TLS-terminating proxy the scheme arrives as X-Forwarded-Proto.
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


async def redeem(request: Request) -> Response:
    """Exchange a hand-off code for the session cookie."""
    code = (await request.body()).decode("ascii", "replace").strip()
    if not code or len(code) > MAX_CODE:
        return Response(status_code=400)
    sessions = store()
    token = await run_in_threadpool(sessions.redeem, code, datetime.now(UTC))
    if token is None:
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(sessions.lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


async def sign_out(request: Request) -> Response:
    """Revoke the cookie's session and delete the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        await run_in_threadpool(store().revoke, datetime.now(UTC), token=token)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


app = st.App(
    Path(__file__).resolve().parent / "app.py",
    routes=[
        Route("/auth/session", redeem, methods=["POST"]),
        Route("/auth/signout", sign_out, methods=["POST"]),
    ],
)
