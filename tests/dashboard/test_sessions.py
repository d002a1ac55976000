"""The server-side session store on real SQLite and PostgreSQL: hashing, hand-off, expiry, idle, revoke."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from core.china_time import CHINA_TZ
from dashboard.sessions import Ended, Live, SessionStore, sessions, token_hash

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=CHINA_TZ)
IDLE, LIFETIME = timedelta(minutes=30), timedelta(hours=12)


@pytest.fixture
def store(ledger_engine: Engine) -> SessionStore:
    """Sessions on a migrated ledger database (SQLite, and a fresh PostgreSQL schema)."""
    return SessionStore(ledger_engine, idle=IDLE, lifetime=LIFETIME)


def user() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def signed_in(store: SessionStore, username: str) -> tuple[int, str]:
    handoff = store.start(username, NOW)
    token = store.redeem(handoff.code, NOW + timedelta(seconds=2))
    assert token is not None
    return handoff.session_id, token


def test_only_the_hash_of_a_token_is_stored_and_the_code_works_once(store: SessionStore) -> None:
    username = user()
    handoff = store.start(username, NOW)
    assert store.check(NOW, token=handoff.code) is Ended.UNKNOWN  # a hand-off code is not a cookie
    token = store.redeem(handoff.code, NOW)
    assert token is not None and len(token) >= 43
    assert store.redeem(handoff.code, NOW) is None  # used up
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(sessions.c.token_hash).where(sessions.c.id == handoff.session_id)
        ).scalar_one()
    assert stored == token_hash(token) and token not in stored
    assert store.check(NOW, token=token) == Live(handoff.session_id, username)
    assert store.check(NOW, token=token + "x") is Ended.UNKNOWN


def test_a_stale_hand_off_code_is_refused(store: SessionStore) -> None:
    handoff = store.start(user(), NOW)
    assert store.redeem(handoff.code, NOW + timedelta(minutes=2)) is None


def test_activity_keeps_a_session_and_idleness_ends_it_for_good(store: SessionStore) -> None:
    session_id, token = signed_in(store, user())
    later = NOW + timedelta(minutes=25)
    assert isinstance(store.check(later, token=token), Live)
    assert isinstance(store.check(later + timedelta(minutes=25), token=token), Live)  # touched at 25
    # Looking without touching (the monitor's refresh) does not keep it alive.
    assert isinstance(store.check(later + timedelta(minutes=50), token=token, touch=False), Live)
    assert store.check(later + timedelta(minutes=56), token=token) is Ended.IDLE
    assert store.check(later + timedelta(minutes=56), session_id=session_id) is Ended.IDLE


def test_a_session_ends_at_its_lifetime_however_busy(store: SessionStore) -> None:
    _, token = signed_in(store, user())
    moment = NOW
    while moment + timedelta(minutes=20) < NOW + LIFETIME:
        moment += timedelta(minutes=20)
        assert isinstance(store.check(moment, token=token), Live)
    assert store.check(NOW + LIFETIME, token=token) is Ended.EXPIRED


def test_a_revoked_session_never_works_again_and_others_keep_working(store: SessionStore) -> None:
    username = user()
    first_id, first = signed_in(store, username)
    second_id, second = signed_in(store, username)
    store.revoke(NOW, token=first)
    assert store.check(NOW, token=first) is Ended.REVOKED
    assert store.check(NOW, session_id=first_id) is Ended.REVOKED
    assert store.check(NOW, token=second) == Live(second_id, username)
    store.revoke(NOW, session_id=second_id)
    assert store.check(NOW, token=second) is Ended.REVOKED
