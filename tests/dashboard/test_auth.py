"""Roles, password hashing, lockout and accounts on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event

from core.china_time import CHINA_TZ
from dashboard.accounts import AccountError, Accounts, SignInRefused
from dashboard.auth import (
    LockoutPolicy,
    Page,
    PasswordPolicyError,
    Role,
    User,
    check_password_policy,
    hash_password,
    may_open,
    pages_for,
    session_expired,
    verify_password,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
GOOD = "yuqing-2026-ok"


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password(GOOD)
    assert stored.startswith("$argon2id$") and GOOD not in stored
    assert verify_password(GOOD, stored)
    assert not verify_password("yuqing-2026-no", stored)
    assert not verify_password(GOOD, "md5$abc")
    assert hash_password(GOOD) != stored  # a fresh salt every time


@pytest.mark.parametrize("weak", ["short1!", "onlyletterslong", "12345678901"])
def test_weak_passwords_are_refused_with_a_reason(weak: str) -> None:
    with pytest.raises(PasswordPolicyError):
        check_password_policy(weak)


def test_only_admins_manage_and_staff_see_only_the_ledger() -> None:
    assert pages_for(Role.STAFF) == [Page.LEDGER]
    assert [r for r in Role if may_open(r, Page.ADMIN)] == [Role.ADMIN]
    assert may_open(Role.DUTY, Page.MONITOR) and not may_open(Role.ANALYST, Page.LEDGER)
    assert may_open(Role.LEADER, Page.BRIEFING)


def test_five_failures_in_fifteen_minutes_lock_the_account_for_fifteen_minutes() -> None:
    policy = LockoutPolicy()
    failures = [NOW + timedelta(minutes=i) for i in range(5)]
    assert policy.locked_until(failures[:4], NOW + timedelta(minutes=5)) is None
    assert policy.locked_until(failures, NOW + timedelta(minutes=5)) == NOW + timedelta(minutes=19)
    assert policy.locked_until(failures, NOW + timedelta(minutes=20)) is None


def test_a_session_expires_after_the_idle_limit() -> None:
    assert not session_expired(NOW, NOW + timedelta(minutes=29), timedelta(minutes=30))
    assert session_expired(NOW, NOW + timedelta(minutes=31), timedelta(minutes=30))


@pytest.fixture
def accounts(ledger_engine: Engine) -> Accounts:
    """The accounts on a migrated ledger database (SQLite, and a fresh PostgreSQL schema)."""
    return Accounts(ledger_engine)


def name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def test_a_user_signs_in_with_the_right_password_and_gets_the_role_and_unit(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "张三", Role.STAFF, GOOD, NOW, unit="区交通运输局")
    signed_in = accounts.sign_in(user, GOOD, NOW)
    assert (signed_in.role, signed_in.unit, signed_in.display_name) == (Role.STAFF, "区交通运输局", "张三")


def test_wrong_passwords_unknown_users_and_disabled_accounts_are_refused_alike(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "李四", Role.DUTY, GOOD, NOW)
    messages = set()
    for who, password in ((user, "wrong-password-1"), (name(), GOOD)):
        with pytest.raises(SignInRefused) as refused:
            accounts.sign_in(who, password, NOW)
        messages.add(str(refused.value))
    accounts.disable(user, NOW)
    with pytest.raises(SignInRefused) as refused:
        accounts.sign_in(user, GOOD, NOW)
    messages.add(str(refused.value))
    assert len(messages) == 1  # the message does not tell whether the account exists


def test_repeated_failures_lock_even_the_right_password_until_the_lock_ends(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "王五", Role.ANALYST, GOOD, NOW)
    for i in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(user, f"wrong-password-{i}", NOW + timedelta(seconds=i))
    with pytest.raises(SignInRefused, match="失败次数过多"):
        accounts.sign_in(user, GOOD, NOW + timedelta(minutes=1))
    assert accounts.sign_in(user, GOOD, NOW + timedelta(minutes=16)).username == user


def test_staff_need_a_unit_and_usernames_are_unique(accounts: Accounts) -> None:
    user = name()
    with pytest.raises(AccountError, match="单位"):
        accounts.add(user, "赵六", Role.STAFF, GOOD, NOW)
    accounts.add(user, "赵六", Role.LEADER, GOOD, NOW)
    with pytest.raises(AccountError, match="已存在"):
        accounts.add(user, "赵六", Role.LEADER, GOOD, NOW)


def test_a_changed_password_replaces_the_old_one(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "钱七", Role.ADMIN, GOOD, NOW)
    accounts.set_password(user, "another-pass-2", NOW)
    with pytest.raises(SignInRefused):
        accounts.sign_in(user, GOOD, NOW)
    assert accounts.sign_in(user, "another-pass-2", NOW).role is Role.ADMIN


def test_the_last_active_administrator_cannot_be_disabled(accounts: Accounts) -> None:
    first, second = name(), name()
    accounts.add(first, "管理员甲", Role.ADMIN, GOOD, NOW)
    accounts.add(second, "管理员乙", Role.ADMIN, GOOD, NOW)
    # A shared test database may hold other tests' administrators: leave these two alone active.
    for account in accounts.all():
        if (
            account.active
            and account.user.role is Role.ADMIN
            and account.user.username not in {first, second}
        ):
            accounts.disable(account.user.username, NOW)
    accounts.disable(first, NOW)
    with pytest.raises(AccountError, match="最后一名"):
        accounts.disable(second, NOW)
    assert accounts.active(second) is not None and accounts.active(first) is None
    with pytest.raises(AccountError, match="没有用户"):
        accounts.disable(name(), NOW)


def test_the_active_account_is_read_as_it_stands_now(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "孙八", Role.STAFF, GOOD, NOW, unit="区卫生健康局")
    assert accounts.active(user) == User(user, "孙八", Role.STAFF, "区卫生健康局")
    accounts.disable(user, NOW)
    assert accounts.active(user) is None and accounts.active(name()) is None


def test_two_administrators_disabling_each_other_at_once_leave_one(accounts: Accounts) -> None:
    import threading

    first, second = name(), name()
    accounts.add(first, "管理员甲", Role.ADMIN, GOOD, NOW)
    accounts.add(second, "管理员乙", Role.ADMIN, GOOD, NOW)
    for account in accounts.all():  # as above: these two are the only active administrators
        if (
            account.active
            and account.user.role is Role.ADMIN
            and account.user.username not in {first, second}
        ):
            accounts.disable(account.user.username, NOW)
    start = threading.Barrier(2)
    refused: list[str] = []

    def pause_after_counting(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # Widens the race: each one waits after reading the administrators and after its UPDATE,
        # so that without the lock both would count two active administrators.
        if re.match(r"SELECT dashboard_users\.username\s+FROM|UPDATE dashboard_users", statement):
            time.sleep(0.3)

    event.listen(accounts.engine, "after_cursor_execute", pause_after_counting)

    def disable(target: str) -> None:
        start.wait()
        try:
            accounts.disable(target, NOW)
        except AccountError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=disable, args=(target,)) for target in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    event.remove(accounts.engine, "after_cursor_execute", pause_after_counting)
    assert refused == ["不能停用最后一名启用的管理员"]
    assert [accounts.active(first) is None, accounts.active(second) is None].count(True) == 1
