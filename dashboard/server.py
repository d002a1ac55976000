"""The sign-in cookie's routes, served beside the pages by ``st.App`` (``yuqing/dashboard_server.py``).

Streamlit's pages talk over a WebSocket and cannot set response headers, so the session cookie is
set here, by the server, as ``HttpOnly; SameSite=Strict`` (and ``Secure`` over https): the page's
script cannot read it.

- ``POST /auth/session`` (body: the one-time hand-off code the sign-in gave this tab) answers with
  the cookie holding a fresh session token;
- ``POST /auth/signout`` revokes the cookie's session and deletes the cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard.sessions import COOKIE, SessionStore

MAX_CODE = 128


def _secure(request: Request) -> bool:
    # Behind a TLS-terminating proxy the scheme arrives as X-Forwarded-Proto.
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def routes(sessions: Callable[[], SessionStore]) -> list[Route]:
    """The two cookie routes, on the session store ``sessions`` gives (asked once per request)."""

    async def redeem(request: Request) -> Response:
        """Exchange a hand-off code for the session cookie."""
        code = (await request.body()).decode("ascii", "replace").strip()
        if not code or len(code) > MAX_CODE:
            return Response(status_code=400)
        store = await run_in_threadpool(sessions)
        token = await run_in_threadpool(store.redeem, code, datetime.now(UTC))
        if token is None:
            return Response(status_code=403)
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(store.lifetime.total_seconds()),
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
            store = await run_in_threadpool(sessions)
            await run_in_threadpool(store.revoke, datetime.now(UTC), token=token)
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
        return response

    return [
        Route("/auth/session", redeem, methods=["POST"]),
        Route("/auth/signout", sign_out, methods=["POST"]),
    ]
