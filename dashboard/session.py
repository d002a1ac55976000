"""Who is signed in: the sign-in form, session expiry and the role check every page makes first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Concatenate, ParamSpec

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.accounts import Accounts, SignInRefused
from dashboard.auth import Page, User, may_open, session_expired
from stream.messages import CHINA_TZ
from yuqing.settings import Settings

log = logging.getLogger(__name__)
USER_KEY = "user"
SEEN_KEY = "last_seen"


@st.cache_resource(show_spinner=False)
def accounts(settings: Settings) -> Accounts:
    """The accounts repository of this settings' database, one per process."""
    return Accounts(settings.ledger_sqlalchemy_url)


def current_user(settings: Settings, now: datetime | None = None) -> User | None:
    """The signed-in user, or None when nobody is or the session has been idle too long."""
    now = now or datetime.now(CHINA_TZ)
    user = st.session_state.get(USER_KEY)
    seen = st.session_state.get(SEEN_KEY)
    if not isinstance(user, User) or not isinstance(seen, datetime):
        return None
    if session_expired(seen, now, timedelta(minutes=settings.session_idle_minutes)):
        sign_out()
        st.session_state["expired"] = True
        return None
    # The account as it stands now: one disabled since sign-in is signed out at its next click, and
    # a changed role or unit takes effect at once instead of at the next sign-in.
    fresh = account_now(settings, user)
    if fresh is None:
        sign_out()
        st.session_state["disabled"] = True
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[SEEN_KEY] = now
    return fresh


def sign_out() -> None:
    """Forget the signed-in user."""
    for key in (USER_KEY, SEEN_KEY):
        st.session_state.pop(key, None)


def render_sign_in(settings: Settings) -> None:
    """The sign-in page: username and password; failures are rate-limited and logged by the repository."""
    st.title("舆情监测与回应系统")
    if st.session_state.pop("expired", False):
        st.warning("长时间未操作，已自动退出，请重新登录。")
    if st.session_state.pop("disabled", False):
        st.warning("您的账号已停用，已自动退出；如有疑问请联系管理员。")
    with st.form("sign_in"):
        username = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        submitted = st.form_submit_button("登录", type="primary")
    if not submitted:
        return
    now = datetime.now(CHINA_TZ)
    try:
        user = accounts(settings).sign_in(username.strip(), password, now)
    except SignInRefused as exc:
        st.error(str(exc))
        return
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = now
    st.rerun()


def require(user: User | None, page: Page) -> User:
    """Stop the page unless ``user`` may open it (every page calls this before reading anything)."""
    if user is None or not may_open(user.role, page):
        st.error("无权访问此页面。")
        st.stop()
    return user


def account_now(settings: Settings, user: User) -> User | None:
    """``user``'s account as it stands now, None when disabled since the page was drawn.

    Read at every run, every write callback and every refresh of the monitor. When the accounts
    (in the ledger's database) cannot be read, ``user`` as signed in: the pages that read only the
    archive keep working, and a write needs that same database and reports its own failure.
    """
    try:
        return accounts(settings).active(user.username)
    except SQLAlchemyError:
        # The monitor keeps reading the archive through an outage of the ledger's database.
        log.warning("event=account-check-failed username=%s", user.username, exc_info=True)
        return user


P = ParamSpec("P")


def as_account_now(
    callback: Callable[Concatenate[Settings, User, P], None],
) -> Callable[Concatenate[Settings, User, P], None]:
    """Run a widget callback ``(settings, user, …)`` as the account stands at the click.

    Callbacks run before the script, so before ``current_user`` could sign a disabled account out:
    without this, a page left open would still act for an account disabled meanwhile. Such a click
    does nothing; the rerun it starts then signs the account out.
    """

    @wraps(callback)
    def checked(settings: Settings, user: User, /, *args: P.args, **kwargs: P.kwargs) -> None:
        fresh = account_now(settings, user)
        if fresh is not None:
            callback(settings, fresh, *args, **kwargs)

    return checked
