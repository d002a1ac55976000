"""Sign-in hardening on real SQLite and PostgreSQL: one hash per attempt whoever asks, throttling by
username and by client, locks that attempts cannot extend, argon2id with scrypt rehashed, own password
changes that sign the other sessions out."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from core.china_time import CHINA_TZ
from dashboard import accounts as accounts_module
from dashboard.accounts import AccountError, Accounts, SignInLocked, SignInRefused, signins, users
from dashboard.auth import (
    PasswordPolicyError,
    Role,
    client_address,
    hash_password_scrypt,
    needs_rehash,
    verify_password,
)
from dashboard.sessions import Ended, Live, SessionStore

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=CHINA_TZ)
GOOD = "yuqing-2026-ok"
CLIENT, OTHER_CLIENT = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def accounts(ledger_engine: Engine) -> Accounts:
    """The accounts on a migrated ledger database (SQLite, and a fresh PostgreSQL schema)."""
    return Accounts(ledger_engine)


def name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def client() -> str:
    """A documentation address of its own for each test (a shared PostgreSQL keeps other tests' rows)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


def test_every_refused_and_accepted_sign_in_verifies_exactly_one_argon2id_hash(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Time must not tell whether an account exists: each case runs the same hash function once."""
    known, disabled, locked = name(), name(), name()
    for username in (known, disabled, locked):
        accounts.add(username, "甲", Role.DUTY, GOOD, NOW)
    accounts.disable(disabled, NOW)
    for i in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(locked, f"wrong-pass-{i}", NOW)
    calls: list[str] = []

    def spy(password: str, stored: str) -> bool:
        calls.append(stored.split("$")[1])
        return verify_password(password, stored)

    monkeypatch.setattr(accounts_module, "verify_password", spy)
    cases = [(known, GOOD), (known, "wrong-pass-x"), (name(), GOOD), (disabled, GOOD), (locked, GOOD)]
    for username, password in cases:
        calls.clear()
        with contextlib.suppress(SignInRefused):
            accounts.sign_in(username, password, NOW + timedelta(minutes=1))
        assert calls == ["argon2id"], (username, calls)


def test_attempts_during_a_lock_do_not_extend_it(accounts: Accounts) -> None:
    """One wrong guess every three minutes must not keep a duty officer locked out for hours."""
    user = name()
    accounts.add(user, "值班员", Role.DUTY, GOOD, NOW)
    for i in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(user, f"wrong-pass-{i}", NOW + timedelta(seconds=i))
    for minutes in (3, 6, 9, 12, 15):  # the lock ends at 09:15:04
        with pytest.raises(SignInLocked, match="09:15"):
            accounts.sign_in(user, "wrong-pass-again", NOW + timedelta(minutes=minutes))
    assert accounts.sign_in(user, GOOD, NOW + timedelta(minutes=15, seconds=5)).username == user
    with accounts.engine.connect() as conn:
        flags = conn.execute(
            select(signins.c.locked).where(signins.c.username == user).order_by(signins.c.id)
        ).scalars()
        assert list(flags) == [False] * 5 + [True] * 5 + [False]


def test_one_client_guessing_many_accounts_is_locked_and_others_are_not(accounts: Accounts) -> None:
    guesser, colleague = client(), client()
    victim = name()
    accounts.add(victim, "领导", Role.LEADER, GOOD, NOW)
    for i in range(20):  # one guess per username never locks a username, only the client
        with pytest.raises(SignInRefused) as refused:
            accounts.sign_in(name(), GOOD, NOW + timedelta(seconds=i), client=guesser)
        assert not isinstance(refused.value, SignInLocked)
    with pytest.raises(SignInLocked):
        accounts.sign_in(victim, GOOD, NOW + timedelta(minutes=1), client=guesser)
    assert accounts.sign_in(victim, GOOD, NOW + timedelta(minutes=1), client=colleague).username == victim
    assert accounts.sign_in(victim, GOOD, NOW + timedelta(minutes=16), client=guesser).username == victim


def test_a_username_lock_holds_from_every_client(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "分析员", Role.ANALYST, GOOD, NOW)
    for i in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(user, f"wrong-pass-{i}", NOW, client=client())
    with pytest.raises(SignInLocked):
        accounts.sign_in(user, GOOD, NOW + timedelta(minutes=1), client=client())


def test_a_scrypt_hash_still_signs_in_and_is_replaced_by_argon2id(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "办理员", Role.STAFF, GOOD, NOW, unit="区信访局")
    with accounts.engine.begin() as conn:  # as the first releases stored it
        conn.execute(
            update(users).where(users.c.username == user).values(password_hash=hash_password_scrypt(GOOD))
        )

    def stored() -> str:
        with accounts.engine.connect() as conn:
            return str(
                conn.execute(select(users.c.password_hash).where(users.c.username == user)).scalar_one()
            )

    with pytest.raises(SignInRefused):
        accounts.sign_in(user, "wrong-pass-1", NOW)
    assert stored().startswith("scrypt$")  # a wrong password rehashes nothing
    assert accounts.sign_in(user, GOOD, NOW).username == user
    assert stored().startswith("$argon2id$") and not needs_rehash(stored())
    assert accounts.sign_in(user, GOOD, NOW).unit == "区信访局"


def test_a_user_changes_their_own_password(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "值班员", Role.DUTY, GOOD, NOW)
    with pytest.raises(AccountError, match="当前密码不正确"):
        accounts.change_password(user, "not-my-pass-1", "brand-new-pass-1", NOW)
    with pytest.raises(PasswordPolicyError, match="至少需要 10"):
        accounts.change_password(user, GOOD, "short-1", NOW)
    with pytest.raises(AccountError, match="不能与当前密码相同"):
        accounts.change_password(user, GOOD, GOOD, NOW)
    accounts.change_password(user, GOOD, "brand-new-pass-1", NOW)
    with pytest.raises(SignInRefused):
        accounts.sign_in(user, GOOD, NOW)
    assert accounts.sign_in(user, "brand-new-pass-1", NOW).username == user


def test_wrong_current_passwords_count_towards_the_lock(accounts: Accounts) -> None:
    user = name()
    accounts.add(user, "值班员", Role.DUTY, GOOD, NOW)
    for i in range(5):
        with pytest.raises(AccountError):
            accounts.change_password(user, f"wrong-pass-{i}", "brand-new-pass-1", NOW)
    with pytest.raises(SignInLocked):
        accounts.change_password(user, GOOD, "brand-new-pass-1", NOW)


def test_revoking_a_users_other_sessions_keeps_this_one_and_other_users(accounts: Accounts) -> None:
    store = SessionStore(accounts.engine, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    user, colleague = name(), name()
    here, elsewhere, theirs = (store.start(u, NOW).session_id for u in (user, user, colleague))
    assert store.revoke_others(user, NOW, keep=here) == 1
    assert store.check(NOW, session_id=here) == Live(here, user)
    assert store.check(NOW, session_id=elsewhere) is Ended.REVOKED
    assert store.check(NOW, session_id=theirs) == Live(theirs, colleague)


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "expected"),
    [
        ("10.0.0.2", ["6.6.6.6"], 0, "10.0.0.2"),  # not behind a proxy: the header is ignored
        (None, ["6.6.6.6"], 0, None),  # local: unknown
        ("10.0.0.2", ["6.6.6.6, 203.0.113.7"], 1, "203.0.113.7"),  # the proxy's entry, not the forged one
        ("10.0.0.2", ["6.6.6.6", "203.0.113.7, 10.0.0.3"], 2, "203.0.113.7"),
        ("10.0.0.2", ["not-an-address"], 1, "10.0.0.2"),
        ("10.0.0.2", [], 1, "10.0.0.2"),
    ],
)
def test_the_client_address_trusts_forwarded_for_only_behind_our_proxies(
    remote: str | None, forwarded: list[str], proxies: int, expected: str | None
) -> None:
    assert client_address(remote, forwarded, proxies) == expected
