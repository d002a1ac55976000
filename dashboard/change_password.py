"""A user's own password change: a small form in the sidebar, open to every role.

The form runs in the script after ``current_user`` has checked the session and the account, so an
idle or disabled session never reaches it. The current password is checked like a sign-in (and
counts towards the lock); on success every other session of the account is signed out.
"""

from __future__ import annotations

import logging
from datetime import datetime

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard.accounts import AccountError
from dashboard.auth import MIN_PASSWORD_LENGTH, PasswordPolicyError, User
from dashboard.services import Services
from dashboard.session import SESSION_KEY, accounts, session_store, this_client

log = logging.getLogger(__name__)
RULE = f"至少 {MIN_PASSWORD_LENGTH} 个字符，并包含字母、数字或符号中的至少两类。"


def render_change_password(services: Services, user: User) -> None:
    """The 修改密码 form: current password, the new one twice; the outcome in Chinese below it."""
    with st.sidebar.expander("修改密码"), st.form("change_password", clear_on_submit=True):
        current = st.text_input("当前密码", type="password", key="password_current")
        new = st.text_input("新密码", type="password", key="password_new", help=RULE)
        again = st.text_input("再次输入新密码", type="password", key="password_again")
        if not st.form_submit_button("确认修改"):
            return
        error = change_password(services, user, current, new, again)
        if error:
            st.error(error)
        else:
            st.success("密码已修改，您在其他地方的登录已退出。")


def change_password(services: Services, user: User, current: str, new: str, again: str) -> str | None:
    """Change ``user``'s password and end their other sessions; the reason in Chinese when refused."""
    if not current or not new:
        return "请填写当前密码和新密码。"
    if new != again:
        return "两次输入的新密码不一致。"
    now = datetime.now(CHINA_TZ)
    try:
        accounts(services).change_password(user.username, current, new, now, client=this_client(services))
        this_session = st.session_state.get(SESSION_KEY)
        keep = this_session if isinstance(this_session, int) else None
        session_store(services).revoke_others(user.username, now, keep=keep)
    except (AccountError, PasswordPolicyError) as exc:
        return str(exc)
    except SQLAlchemyError:
        log.warning("event=password-change-failed username=%s", user.username, exc_info=True)
        return "暂时无法修改密码，请稍后再试。"
    return None
