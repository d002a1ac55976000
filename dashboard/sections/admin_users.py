"""系统管理 → 用户: the accounts; add one, change a user's name, role and unit, reset a password,
disable (after a confirmation) and enable.

Units are chosen from the unit directory (:mod:`dashboard.units`: the remit taxonomy's, the ledger
policy's and the tickets'), never typed, so a staff member's unit is one the tickets use; a unit the
directory lacks is added on 职责范围 → 单位名录. A form keeps what was typed when it is refused and
is emptied once it succeeds. No user is picked until the administrator picks one. An administrator
cannot disable or demote their own account here, and the last active administrator stays one
(:class:`dashboard.accounts.Accounts`). A reset password signs the user out everywhere.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.china_time import CHINA_TZ
from dashboard import admin_data, flash, units
from dashboard.accounts import Account, AccountError
from dashboard.auth import ROLE_LABELS, PasswordPolicyError, Role, User
from dashboard.change_password import RULE
from dashboard.config_files import audit
from dashboard.labels import CHOOSE
from dashboard.sections.admin_common import LEDGER_UNAVAILABLE, admin_action, ask, confirmation, forget
from dashboard.services import Services
from dashboard.session import accounts, session_store

log = logging.getLogger(__name__)
# Each form's outcome is shown in the form itself, beside what was typed.
FLASH = "admin_users_flash"
FLASH_ADD, FLASH_EDIT, FLASH_STATE = (
    "admin_users_add_flash",
    "admin_users_edit_flash",
    "admin_users_state_flash",
)
DISABLE_KEY = "admin_disable_pending"
EDIT_PICK = "edit_target"
ACCOUNTS_TABLE = "看板账号（台账数据库）"
NO_UNIT = "（不设单位）"
UNKNOWN = "（不在单位名录中）"


def render(services: Services, admin: User) -> None:
    """The tab: the accounts, then the forms."""
    flash.show(FLASH)
    try:
        everyone = accounts(services).all()
        known = known_units(services)
    except SQLAlchemyError:
        st.error(LEDGER_UNAVAILABLE)
        return
    rows = [
        {
            "用户名": a.user.username,
            "姓名": a.user.display_name,
            "角色": a.user.role.label,
            "单位": (a.user.unit or "—") + ("" if not a.user.unit or a.user.unit in known else UNKNOWN),
            "状态": "启用" if a.active else "停用",
        }
        for a in everyone
    ]
    columns = ["用户名", "姓名", "角色", "单位", "状态"]
    st.dataframe(pd.DataFrame(rows, columns=columns), hide_index=True, height="content")
    strays = [a.user.username for a in everyone if a.user.unit and a.user.unit not in known]
    if strays:
        st.warning(
            f"{len(strays)} 个账号的单位不在单位名录中（见上表），办理人员将看不到任何工单。"
            "请在下方“修改用户”中改为名录中的单位，或在“职责范围 → 单位名录”中新增该单位。"
        )
    add_box, edit_box = st.columns(2)
    with add_box:
        _add_form(services, admin, known)
    with edit_box:
        _edit(services, admin, everyone, known)
    _disable_enable(services, admin, everyone)


def known_units(services: Services) -> list[str]:
    """The unit directory's names; while the taxonomy or the policy cannot be read, the tickets' units
    (the tabs of those files say what is wrong)."""
    from classifiers.errors import ClassifierError
    from response_ledger.errors import LedgerError

    tickets = admin_data.units_of_tickets(services)
    try:
        return [unit.name for unit in units.directory(services.taxonomy(), services.policy(), tickets)]
    except (ClassifierError, LedgerError, ValueError):
        st.warning("职责范围或办理时限的配置文件有误（见相应标签页），单位名录暂只含已有工单的单位。")
        return sorted(tickets)


def _unit_choices(known: list[str], current: str | None = None) -> list[str]:
    extra = [current] if current and current not in known else []
    return [NO_UNIT, *known, *extra]


def _add_form(services: Services, admin: User, known: list[str]) -> None:
    with st.form("add_user", border=True):
        st.subheader("添加用户")
        flash.show(FLASH_ADD)
        st.text_input("用户名", key="new_username", help="字母、数字、- 和 _，不超过 64 个字符")
        st.text_input("姓名", key="new_name")
        st.selectbox(
            "角色",
            list(Role),
            index=None,
            format_func=ROLE_LABELS.__getitem__,
            placeholder=CHOOSE,
            key="new_role",
        )
        st.selectbox(
            "单位（办理人员必填）",
            _unit_choices(known),
            index=None,
            placeholder=CHOOSE,
            key="new_unit",
            help="从单位名录中选择；名录中没有的单位，请先在“职责范围 → 单位名录”中新增。",
        )
        st.text_input("初始密码", type="password", key="new_password", help=RULE)
        st.form_submit_button("添加", type="primary", on_click=_add, args=(services, admin))


@admin_action(FLASH_ADD)
def _add(services: Services, admin: User) -> None:
    state = st.session_state
    username = str(state.get("new_username") or "").strip()
    role = state.get("new_role")
    unit = state.get("new_unit")
    if not username or role is None:
        flash.leave(FLASH_ADD, "error", "添加失败：请填写用户名并选择角色。")
        return
    try:
        accounts(services).add(
            username,
            str(state.get("new_name") or "").strip(),
            Role(role),
            str(state.get("new_password") or ""),
            datetime.now(CHINA_TZ),
            unit=None if unit in (None, NO_UNIT) else str(unit),
        )
    except (AccountError, PasswordPolicyError, ValueError) as exc:
        flash.leave(FLASH_ADD, "error", f"添加失败：{exc}")  # the form keeps what was typed
        return
    audit(services.settings, admin, ACCOUNTS_TABLE, f"添加用户 {username}（{Role(role).label}）")
    for key in ("new_username", "new_name", "new_password"):
        state[key] = ""
    state["new_role"] = state["new_unit"] = None
    flash.leave(FLASH_ADD, "success", f"已添加用户 {username}。")


def _picked(everyone: dict[str, Account]) -> None:
    # The picker's on_change: the form below starts from the picked user's values.
    account = everyone.get(str(st.session_state.get(EDIT_PICK) or ""))
    if account is not None:
        st.session_state["edit_name"] = account.user.display_name
        st.session_state["edit_role"] = account.user.role
        st.session_state["edit_unit"] = account.user.unit or NO_UNIT
    for key in ("reset_password", "reset_again"):
        st.session_state[key] = ""


def _edit(services: Services, admin: User, everyone: list[Account], known: list[str]) -> None:
    by_name = {a.user.username: a for a in everyone}
    with st.container(border=True):
        st.subheader("修改用户")
        flash.show(FLASH_EDIT)
        picked = st.selectbox(
            "选择用户",
            list(by_name),
            index=None,
            placeholder=CHOOSE,
            key=EDIT_PICK,
            on_change=_picked,
            args=(by_name,),
            format_func=lambda n: f"{n}（{by_name[n].user.display_name}，{by_name[n].user.role.label}）",
        )
        if picked is None:
            st.caption("选择一个用户后，可修改其姓名、角色和单位，或重置密码。")
            return
        own = picked == admin.username
        current = by_name[picked].user.unit
        choices = _unit_choices(known, current)
        if st.session_state.get("edit_unit") not in choices or st.session_state.get("edit_role") not in list(
            Role
        ):
            _picked(by_name)  # drawn before the picker's callback ran (a link, a refresh): start afresh
        with st.form("edit_user", border=False):
            st.text_input("姓名", key="edit_name")
            st.selectbox(
                "角色",
                list(Role),
                format_func=ROLE_LABELS.__getitem__,
                placeholder=CHOOSE,
                key="edit_role",
                disabled=own,
                help="不能更改自己账号的角色。" if own else None,
            )
            st.selectbox(
                "单位（办理人员必填）",
                choices,
                placeholder=CHOOSE,
                key="edit_unit",
                format_func=lambda u: u + (UNKNOWN if u not in known and u != NO_UNIT else ""),
            )
            st.form_submit_button(
                "保存修改", type="primary", on_click=_update, args=(services, admin, picked)
            )
        with st.form("reset_password_form", border=False):
            st.markdown("**重置密码**")
            st.text_input("新密码", type="password", key="reset_password", help=RULE)
            st.text_input("再次输入新密码", type="password", key="reset_again")
            st.form_submit_button("重置密码", on_click=_reset, args=(services, admin, picked))


@admin_action(FLASH_EDIT)
def _update(services: Services, admin: User, username: str) -> None:
    state = st.session_state
    unit = state.get("edit_unit")
    role = None if username == admin.username else state.get("edit_role")
    try:
        changed = accounts(services).update(
            username,
            datetime.now(CHINA_TZ),
            display_name=str(state.get("edit_name") or ""),
            role=Role(role) if role is not None else None,
            unit=None if unit in (None, NO_UNIT) else str(unit),
        )
    except AccountError as exc:
        flash.leave(FLASH_EDIT, "error", f"修改失败：{exc}")
        return
    audit(
        services.settings,
        admin,
        ACCOUNTS_TABLE,
        f"修改用户 {username}：角色 {changed.role.label}，单位 {changed.unit or '不设'}，"
        f"姓名 {changed.display_name}",
    )
    flash.leave(FLASH_EDIT, "success", f"已修改用户 {username}（立即生效）。")


@admin_action(FLASH_EDIT)
def _reset(services: Services, admin: User, username: str) -> None:
    state = st.session_state
    new, again = str(state.get("reset_password") or ""), str(state.get("reset_again") or "")
    if new != again:
        flash.leave(FLASH_EDIT, "error", "重置失败：两次输入的新密码不一致。")
        return
    now = datetime.now(CHINA_TZ)
    try:
        accounts(services).set_password(username, new, now)
        ended = session_store(services).revoke_others(username, now)
    except (AccountError, PasswordPolicyError, ValueError) as exc:
        flash.leave(FLASH_EDIT, "error", f"重置失败：{exc}")
        return
    audit(services.settings, admin, ACCOUNTS_TABLE, f"重置用户 {username} 的密码")
    state["reset_password"] = state["reset_again"] = ""
    flash.leave(FLASH_EDIT, "success", f"已重置用户 {username} 的密码，其 {ended} 个登录会话已退出。")


def _disable_enable(services: Services, admin: User, everyone: list[Account]) -> None:
    flash.show(FLASH_STATE)
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.subheader("停用用户")
        # Not oneself: an administrator who disabled their own account would be signed out mid-task.
        target = st.selectbox(
            "用户",
            [a.user.username for a in everyone if a.active and a.user.username != admin.username],
            index=None,
            placeholder=CHOOSE,
            key="disable_target",
            help="不能停用当前登录的账号，也不能停用最后一名启用的管理员。停用后该账号立即退出，历史记录保留。",
        )
        st.button(
            "停用…", key="disable_ask", disabled=target is None, on_click=ask, args=(DISABLE_KEY, target)
        )
        doomed = st.session_state.get(DISABLE_KEY)
        if doomed is not None:
            confirmation(
                DISABLE_KEY,
                "确定停用该账号吗？停用后该用户立即退出、不能再登录（可再启用）。",
                f"用户：{doomed}",
                "确认停用",
                lambda: _disable(services, admin, str(doomed)),
            )
    disabled = [a.user.username for a in everyone if not a.active]
    with right, st.container(border=True):
        st.subheader("启用用户")
        if not disabled:
            st.caption("没有已停用的账号。")
            return
        again = st.selectbox("用户", disabled, index=None, placeholder=CHOOSE, key="enable_target")
        st.button(
            "启用", key="enable_user", disabled=again is None, on_click=_enable, args=(services, admin, again)
        )


@admin_action(FLASH_STATE)
def _disable(services: Services, admin: User, username: str) -> None:
    forget(DISABLE_KEY)
    if username == admin.username:
        flash.leave(FLASH_STATE, "error", "不能停用当前登录的账号。")
        return
    try:
        accounts(services).disable(username, datetime.now(CHINA_TZ))
    except AccountError as exc:
        flash.leave(FLASH_STATE, "error", f"停用失败：{exc}")
        return
    audit(services.settings, admin, ACCOUNTS_TABLE, f"停用用户 {username}")
    st.session_state["disable_target"] = None
    flash.leave(FLASH_STATE, "success", f"已停用用户 {username}。")


@admin_action(FLASH_STATE)
def _enable(services: Services, admin: User, username: str | None) -> None:
    if not username:
        return
    try:
        accounts(services).enable(username, datetime.now(CHINA_TZ))
    except AccountError as exc:
        flash.leave(FLASH_STATE, "error", f"启用失败：{exc}")
        return
    audit(services.settings, admin, ACCOUNTS_TABLE, f"启用用户 {username}")
    st.session_state["enable_target"] = None
    flash.leave(FLASH_STATE, "success", f"已启用用户 {username}。")
