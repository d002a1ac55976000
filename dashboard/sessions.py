"""Server-side dashboard sessions in the ledger's database, so a sign-in survives F5 and new tabs.

A session is a row keyed by the SHA-256 of a random token (``secrets.token_urlsafe(32)``, 256 bits):
the browser holds the token in a cookie, the database only its hash, so a copy of the table signs
nobody in. Expiry (``lifetime`` after sign-in) and the idle limit are checked here on every run of the
dashboard; an ended session is marked revoked and never comes back.

The cookie is set by the server (``dashboard/server.py``), not by the page: at sign-in the page gets
a one-time hand-off code for a pending row, the browser posts it to ``/auth/session`` and the answer
sets the HttpOnly cookie with a fresh token, so the token itself never passes through the page.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

log = logging.getLogger(__name__)
metadata = MetaData()
sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("username", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # True until the browser has redeemed the hand-off code for its cookie.
    Column("pending", Boolean, nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("ended_why", String(16)),
)
COOKIE = "yuqing_session"
HANDOFF_WINDOW = timedelta(seconds=60)
# Rows that ended this long ago are deleted when the next session starts.
KEEP_ENDED = timedelta(days=30)


class Ended(StrEnum):
    """Why a token or session id no longer signs anyone in."""

    UNKNOWN = "unknown"
    IDLE = "idle"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Live:
    """A session that is still good, and whose account it is."""

    session_id: int
    username: str


@dataclass(frozen=True)
class Handoff:
    """A new (pending) session and the one-time code that turns it into a cookie."""

    session_id: int
    code: str


def token_hash(token: str) -> str:
    """The stored form of a token or hand-off code: hex SHA-256 (the token is 256 random bits)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    """Start, check, redeem and revoke sessions; every time is passed in and stored in UTC."""

    def __init__(self, engine: Engine, *, idle: timedelta, lifetime: timedelta) -> None:
        self.engine = engine  # the ledger's, migrated: its revision 0002 holds this table
        self.idle = idle
        self.lifetime = lifetime

    def start(self, username: str, now: datetime) -> Handoff:
        """A pending session for ``username`` (just signed in) and its hand-off code."""
        now = _utc(now)
        code = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now - KEEP_ENDED))
            inserted = conn.execute(
                insert(sessions).values(
                    token_hash=token_hash(code),
                    username=username,
                    created_at=now,
                    last_seen=now,
                    expires_at=now + self.lifetime,
                    pending=True,
                )
            )
            session_id = inserted.inserted_primary_key[0]  # type: ignore[index]
        log.info("event=session-started username=%s session=%s", username, session_id)
        return Handoff(int(session_id), code)

    def redeem(self, code: str, now: datetime) -> str | None:
        """The session's cookie token for a fresh, unused hand-off code; None for any other code."""
        now = _utc(now)
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(sessions).where(
                    sessions.c.token_hash == token_hash(code), sessions.c.pending.is_(True)
                )
            ).first()
            if row is None or row.revoked_at is not None or now - _utc(row.created_at) > HANDOFF_WINDOW:
                return None
            done = conn.execute(
                update(sessions)
                .where(sessions.c.id == row.id, sessions.c.pending.is_(True))
                .values(token_hash=token_hash(token), pending=False, last_seen=now)
            )
        if done.rowcount != 1:  # redeemed by a concurrent request first
            return None
        return token

    def check(
        self,
        now: datetime,
        *,
        token: str | None = None,
        session_id: int | None = None,
        touch: bool = True,
    ) -> Live | Ended:
        """The live session of ``token`` (a redeemed cookie) or ``session_id`` (this tab's own sign-in).

        A session past its expiry or idle limit is revoked here, so it cannot come back even if the
        limits are raised later. ``touch`` records the activity (every run and every click).
        """
        now = _utc(now)
        where: ColumnElement[bool]
        if token is not None:
            where = (sessions.c.token_hash == token_hash(token)) & sessions.c.pending.is_(False)
        elif session_id is not None:
            where = sessions.c.id == session_id
        else:
            return Ended.UNKNOWN
        with self.engine.begin() as conn:
            row = conn.execute(select(sessions).where(where)).first()
            if row is None:
                return Ended.UNKNOWN
            if row.revoked_at is not None:
                return Ended(row.ended_why or Ended.REVOKED)
            ended = (
                Ended.EXPIRED
                if now >= _utc(row.expires_at)
                else Ended.IDLE
                if now - _utc(row.last_seen) > self.idle
                else None
            )
            if ended is not None:
                conn.execute(
                    update(sessions)
                    .where(sessions.c.id == row.id)
                    .values(revoked_at=now, ended_why=ended.value)
                )
                log.info("event=session-ended username=%s session=%s why=%s", row.username, row.id, ended)
                return ended
            if touch:
                conn.execute(update(sessions).where(sessions.c.id == row.id).values(last_seen=now))
        return Live(int(row.id), str(row.username))

    def revoke(self, now: datetime, *, token: str | None = None, session_id: int | None = None) -> None:
        """End a session at sign-out (by its cookie token or id); its token never works again."""
        now = _utc(now)
        wheres = []
        if token is not None:
            wheres.append(sessions.c.token_hash == token_hash(token))
        if session_id is not None:
            wheres.append(sessions.c.id == session_id)
        with self.engine.begin() as conn:
            for where in wheres:
                conn.execute(
                    update(sessions)
                    .where(where, sessions.c.revoked_at.is_(None))
                    .values(revoked_at=now, ended_why=Ended.REVOKED.value)
                )
        log.info("event=session-revoked session=%s", session_id)

    def revoke_others(self, username: str, now: datetime, *, keep: int | None = None) -> int:
        """End every live session of ``username`` but ``keep`` (after a password change); how many."""
        now = _utc(now)
        where = [sessions.c.username == username, sessions.c.revoked_at.is_(None)]
        if keep is not None:
            where.append(sessions.c.id != keep)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(sessions).where(*where).values(revoked_at=now, ended_why=Ended.REVOKED.value)
            )
        log.info("event=sessions-revoked username=%s kept=%s count=%s", username, keep, done.rowcount)
        return int(done.rowcount)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
