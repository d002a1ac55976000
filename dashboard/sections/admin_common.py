"""What every tab of 系统管理 shares: the check each change makes again, and the confirmation step.

Changes run in button callbacks (before the page is drawn again, so a form that succeeded can be
emptied and one that failed keeps what was typed); each acts as the account stands at the click
(:func:`dashboard.session.as_account_now`) and only for an administrator. What they report waits in
the session (:mod:`dashboard.flash`); a ledger database that cannot be reached is reported here, once,
for every change. A change that cannot be undone with one click (停用, 删除,
取消完整标记) is asked for first and done only after 确认.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import flash
from dashboard.auth import Page, User, may_open
from dashboard.services import Services
from dashboard.session import as_account_now

P = ParamSpec("P")
LEDGER_UNAVAILABLE = "台账数据库暂时无法连接，请稍后再试。"
NOT_ALLOWED = "无权访问此页面。"


def admin_action(
    flash_key: str,
) -> Callable[
    [Callable[Concatenate[Services, User, P], None]], Callable[Concatenate[Services, User, P], None]
]:
    """Run a callback ``(services, user, …)`` only for an administrator, as the account stands now."""

    def wrap(
        callback: Callable[Concatenate[Services, User, P], None],
    ) -> Callable[Concatenate[Services, User, P], None]:
        @wraps(callback)
        def checked(services: Services, user: User, /, *args: P.args, **kwargs: P.kwargs) -> None:
            if not may_open(user.role, Page.ADMIN):  # the page checked already; a change checks again
                flash.leave(flash_key, "error", NOT_ALLOWED)
                return
            try:
                callback(services, user, *args, **kwargs)
            except SQLAlchemyError:
                flash.leave(flash_key, "error", LEDGER_UNAVAILABLE)

        return as_account_now(checked)

    return wrap


def ask(key: str, value: object) -> None:
    """Ask for confirmation of ``value`` (drawn by :func:`confirmation` under ``key``)."""
    st.session_state[key] = value


def forget(key: str) -> None:
    """Drop the question under ``key`` (取消, or once it was answered)."""
    st.session_state.pop(key, None)


def confirmation(key: str, question: str, detail: str, yes: str, on_yes: Callable[[], None]) -> bool:
    """Draw the question waiting under ``key``, if any: ``detail`` as plain text, then ``yes`` and 取消.

    ``on_yes`` runs as the callback of ``yes``. Returns whether a question was drawn.
    """
    if key not in st.session_state:
        return False
    with st.container(border=True, key=f"{key}_box"):
        st.warning(question)
        if detail:
            st.text(detail)  # names typed by people: plain text
        left, right = st.columns(2)
        left.button(yes, type="primary", key=f"{key}_yes", on_click=on_yes)
        right.button("取消", key=f"{key}_no", on_click=forget, args=(key,))
    return True
