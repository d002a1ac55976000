"""Who is signed in: the sign-in form, the server-side session and the role check every page makes first.

The session lives in the ledger's database (``dashboard/sessions.py``) and the browser holds its token
in an HttpOnly cookie set by ``dashboard/server.py``; ``st.context.cookies`` hands it to every run, so
F5 and a second tab stay signed in. The tab that signed in also keeps its session id in
``st.session_state`` (its WebSocket was opened before the cookie existed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Concatenate, ParamSpec

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard.accounts import Accounts, SignInRefused
from dashboard.auth import Page, User, client_address, may_open, session_expired
from dashboard.services import Services
from dashboard.sessions import COOKIE, Ended, Live, SessionStore

log = logging.getLogger(__name__)
USER_KEY = "user"
SEEN_KEY = "last_seen"
SESSION_KEY = "session_id"
HANDOFF_KEY = "session_handoff"
SIGNED_OUT_KEY = "signed_out"


def accounts(services: Services) -> Accounts:
    """The accounts in the ledger's database (raises ``SQLAlchemyError`` while it is down)."""
    return Accounts(services.ledger())


def session_store(services: Services) -> SessionStore:
    """The server-side sessions in the ledger's database, with the settings' idle limit and lifetime."""
    settings = services.settings
    return SessionStore(
        services.ledger(),
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )


def _cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):  # no browser connection (AppTest)
        return None
    return token if isinstance(token, str) and token else None


def this_client(services: Services) -> str | None:
    """This browser's address for throttling sign-ins (X-Forwarded-For only behind trusted proxies)."""
    try:
        remote_ip = st.context.ip_address
        forwarded = st.context.headers.get_all("X-Forwarded-For")
    except (AttributeError, RuntimeError):  # no browser connection (AppTest)
        return None
    # AppTest's context hands back mocks: only real strings count.
    return client_address(
        remote_ip if isinstance(remote_ip, str) else None,
        [value for value in forwarded if isinstance(value, str)] if isinstance(forwarded, list) else [],
        services.settings.dashboard_trusted_proxies,
    )


def check_session(services: Services, now: datetime, *, touch: bool = True) -> Live | Ended | None:
    """This browser's server-side session: live, ended (why), or None when it never had one.

    The cookie is tried first, then this tab's own session id: after a sign-out and a new sign-in
    in the same tab, the WebSocket still carries the old (revoked) cookie.
    """
    token, session_id = _cookie_token(), st.session_state.get(SESSION_KEY)
    if token is None and not isinstance(session_id, int):
        return None
    store = session_store(services)
    result: Live | Ended = Ended.UNKNOWN
    if token is not None:
        result = store.check(now, token=token, touch=touch)
    if not isinstance(result, Live) and isinstance(session_id, int):
        result = store.check(now, session_id=session_id, touch=touch)
    return result


def current_user(services: Services, now: datetime | None = None) -> User | None:
    """The signed-in user, or None when nobody is or the session has ended (idle, expired, revoked)."""
    now = now or datetime.now(CHINA_TZ)
    try:
        session = check_session(services, now)
    except SQLAlchemyError:
        # The ledger's database is down: the tab that signed in keeps its user (the archive pages
        # still work), a new tab cannot sign in until the database is back.
        log.warning("event=session-check-failed", exc_info=True)
        user = st.session_state.get(USER_KEY)
        return user if isinstance(user, User) else None
    if isinstance(session, Ended):
        had_user = isinstance(st.session_state.get(USER_KEY), User)
        _forget()
        if session in (Ended.IDLE, Ended.EXPIRED):
            st.session_state["expired"] = True
        elif had_user:
            st.session_state[SIGNED_OUT_KEY] = True
        return None
    if isinstance(session, Live):
        st.session_state[SESSION_KEY] = session.session_id
        user = st.session_state.get(USER_KEY)
        if not isinstance(user, User) or user.username != session.username:
            # A new tab or F5: the account named by the session, as it stands now.
            user = accounts(services).active(session.username)
            if user is None:
                sign_out(services)
                st.session_state["disabled"] = True
                return None
    else:
        # No server-side session at all: only a user placed in this tab's state (tests) counts.
        user = st.session_state.get(USER_KEY)
        seen = st.session_state.get(SEEN_KEY)
        if not isinstance(user, User) or not isinstance(seen, datetime):
            return None
        if session_expired(seen, now, timedelta(minutes=services.settings.session_idle_minutes)):
            _forget()
            st.session_state["expired"] = True
            return None
    # The account as it stands now: one disabled since sign-in is signed out at its next click, and
    # a changed role or unit takes effect at once instead of at the next sign-in.
    fresh = account_now(services, user, check=False)
    if fresh is None:
        sign_out(services)
        st.session_state["disabled"] = True
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[SEEN_KEY] = now
    return fresh


def _forget() -> None:
    for key in (USER_KEY, SEEN_KEY, SESSION_KEY):
        st.session_state.pop(key, None)


def sign_out(services: Services | None = None) -> None:
    """Revoke this browser's session on the server and forget the user; the cookie is deleted too."""
    if services is not None:
        session_id = st.session_state.get(SESSION_KEY)
        try:
            session_store(services).revoke(
                datetime.now(CHINA_TZ),
                token=_cookie_token(),
                session_id=session_id if isinstance(session_id, int) else None,
            )
        except SQLAlchemyError:
            log.warning("event=session-revoke-failed", exc_info=True)
        # The cookie's session is revoked already; this deletes the cookie itself.
        st.session_state[HANDOFF_KEY] = None
    _forget()


def cookie_script() -> None:
    """Run the pending cookie step of this tab: redeem a sign-in's hand-off code, or delete the cookie.

    The server sets or deletes the HttpOnly cookie in its answer (``dashboard/server.py``); this
    script only posts to it, once, from the page itself so that the browser stores the answer.
    """
    if HANDOFF_KEY not in st.session_state:
        return
    code = st.session_state.pop(HANDOFF_KEY)
    if code is None:
        call = "fetch('/auth/signout', {method: 'POST', credentials: 'same-origin'})"
    else:
        body = json.dumps(str(code))
        call = f"fetch('/auth/session', {{method: 'POST', body: {body}, credentials: 'same-origin'}})"
    st.html(f"<script>{call};</script>", unsafe_allow_javascript=True)


def render_sign_in(services: Services) -> None:
    """The sign-in page: username and password; failures are rate-limited and logged by the repository."""
    cookie_script()
    st.title("舆情监测与回应系统")
    if st.session_state.pop("expired", False):
        st.warning("长时间未操作，已自动退出，请重新登录。")
    if st.session_state.pop("disabled", False):
        st.warning("您的账号已停用，已自动退出；如有疑问请联系管理员。")
    if st.session_state.pop(SIGNED_OUT_KEY, False):
        st.info("您已退出登录，请重新登录。")
    with st.form("sign_in"):
        username = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        submitted = st.form_submit_button("登录", type="primary")
    if not submitted:
        return
    now = datetime.now(CHINA_TZ)
    try:
        user = accounts(services).sign_in(username.strip(), password, now, client=this_client(services))
    except SignInRefused as exc:
        st.error(str(exc))
        return
    handoff = session_store(services).start(user.username, now)
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = now
    st.session_state[SESSION_KEY] = handoff.session_id
    st.session_state[HANDOFF_KEY] = handoff.code
    st.rerun()


def require(user: User | None, page: Page) -> User:
    """Stop the page unless ``user`` may open it (every page calls this before reading anything)."""
    if user is None or not may_open(user.role, page):
        st.error("无权访问此页面。")
        st.stop()
    return user


def account_now(services: Services, user: User, *, check: bool = True) -> User | None:
    """``user``'s account as it stands now, None when disabled or signed out since the page was drawn.

    Read at every run, every write callback and every refresh of the monitor; with ``check`` the
    tab's server-side session is checked too (ended by idle time, expiry or a sign-out in another
    tab), without counting as activity. When the ledger's database cannot be read, ``user`` as
    signed in: the pages that read only the archive keep working, and a write needs that same
    database and reports its own failure.
    """
    try:
        if check and isinstance(check_session(services, datetime.now(CHINA_TZ), touch=False), Ended):
            return None
        return accounts(services).active(user.username)
    except SQLAlchemyError:
        # The monitor keeps reading the archive through an outage of the ledger's database.
        log.warning("event=account-check-failed username=%s", user.username, exc_info=True)
        return user


P = ParamSpec("P")


def as_account_now(
    callback: Callable[Concatenate[Services, User, P], None],
) -> Callable[Concatenate[Services, User, P], None]:
    """Run a widget callback ``(services, user, …)`` as the account and its session stand at the click.

    Callbacks run before the script, so before ``current_user`` could sign a disabled account or an
    ended session out: without this, a page left open would still act for an account disabled (or a
    session revoked, or idle past its limit) meanwhile. Such a click does nothing; the rerun it
    starts then signs the account out.
    """

    @wraps(callback)
    def checked(services: Services, user: User, /, *args: P.args, **kwargs: P.kwargs) -> None:
        fresh = account_now(services, user)
        if fresh is not None:
            callback(services, fresh, *args, **kwargs)

    return checked
