"""Dashboard accounts in the ledger's database (SQLite by default, PostgreSQL at scale) via SQLAlchemy.

Every sign-in attempt is recorded; the lockout policy reads those records, so it holds across the
dashboard's processes and restarts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from dashboard.auth import (
    LockoutPolicy,
    Role,
    User,
    check_password_policy,
    hash_password,
    verify_password,
)
from response_ledger.db import make_engine

log = logging.getLogger(__name__)
metadata = MetaData()
users = Table(
    "dashboard_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("unit", String(128)),
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
signins = Table(
    "dashboard_signins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
)


class AccountError(ValueError):
    """An account operation that cannot be done; the message is for the user."""


class SignInRefused(AccountError):
    """A sign-in that failed; the message never says whether the user exists."""


@dataclass(frozen=True)
class Account:
    """A user with whether the account is active, for administration."""

    user: User
    active: bool


class Accounts:
    """The accounts repository and its sign-in service."""

    def __init__(
        self, url: str, *, policy: LockoutPolicy | None = None, engine: Engine | None = None
    ) -> None:
        # The ledger's engine factory: SQLite gets its folder, WAL and a busy timeout like the ledger.
        self.engine = engine or make_engine(url)
        self.policy = policy or LockoutPolicy()
        metadata.create_all(self.engine)

    def add(
        self,
        username: str,
        display_name: str,
        role: Role,
        password: str,
        now: datetime,
        *,
        unit: str | None = None,
    ) -> User:
        """Create an account; staff must belong to a unit."""
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
            raise AccountError("用户名只能包含字母、数字、- 和 _，且不超过 64 个字符")
        if role is Role.STAFF and not unit:
            raise AccountError("办理人员必须指定所属单位")
        check_password_policy(password)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(users).values(
                        username=username,
                        display_name=display_name or username,
                        role=role.value,
                        unit=unit,
                        password_hash=hash_password(password),
                        active=True,
                        updated_at=now,
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"用户 {username} 已存在") from exc
        log.info("event=user-added username=%s role=%s", username, role.value)
        return User(username, display_name or username, role, unit)

    def set_password(self, username: str, password: str, now: datetime) -> None:
        """Replace a user's password."""
        check_password_policy(password)
        self._update(username, now, password_hash=hash_password(password))
        log.info("event=password-changed username=%s", username)

    def disable(self, username: str, now: datetime) -> None:
        """Stop an account from signing in (its history stays); the last active administrator stays."""
        admin = Role.ADMIN.value
        peer = users.alias("peer")
        other_admins = (
            select(func.count())
            .select_from(peer)
            .where(peer.c.role == admin, peer.c.active.is_(True), peer.c.username != users.c.username)
            .scalar_subquery()
        )
        with self.engine.begin() as conn:
            # Two administrators disabling each other at once must not leave none. PostgreSQL: the
            # active administrators' rows are locked first, so the second waits and then counts
            # afresh. SQLite: the guarded UPDATE below is one statement, and SQLite runs one writer
            # at a time on the latest data.
            admins = (
                conn.execute(
                    select(users.c.username)
                    .where(users.c.role == admin, users.c.active.is_(True))
                    .with_for_update()
                )
                .scalars()
                .all()
            )
            done = conn.execute(
                update(users)
                .where(users.c.username == username, or_(users.c.role != admin, other_admins > 0))
                .values(updated_at=now, active=False)
            )
            if done.rowcount != 1:
                raise AccountError(
                    "不能停用最后一名启用的管理员" if username in admins else f"没有用户 {username}"
                )
        log.info("event=user-disabled username=%s", username)

    def enable(self, username: str, now: datetime) -> None:
        """Let a disabled account sign in again (with its old password)."""
        self._update(username, now, active=True)
        log.info("event=user-enabled username=%s", username)

    def active(self, username: str) -> User | None:
        """The account's user as it stands now (role and unit included), None when disabled or missing."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return _user(row) if row is not None and row.active else None

    def _update(self, username: str, now: datetime, **values: object) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(users).where(users.c.username == username).values(updated_at=now, **values)
            )
        if done.rowcount != 1:
            raise AccountError(f"没有用户 {username}")

    def all(self) -> list[Account]:
        """Every account, by username."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [Account(_user(r), bool(r.active)) for r in rows]

    def sign_in(self, username: str, password: str, now: datetime) -> User:
        """Check a password under the lockout policy; record the attempt either way."""
        shown_tz = now.tzinfo
        now = now.astimezone(UTC)  # SQLite drops offsets: store and compare in UTC everywhere
        with self.engine.begin() as conn:
            failures = [
                _utc(row.at)
                for row in conn.execute(
                    select(signins.c.at).where(
                        signins.c.username == username,
                        signins.c.ok.is_(False),
                        signins.c.at >= now - self.policy.window - self.policy.lock_for,
                    )
                )
            ]
            locked = self.policy.locked_until(failures, now)
            row = conn.execute(select(users).where(users.c.username == username)).first()
            ok = (
                locked is None
                and row is not None
                and bool(row.active)
                and verify_password(password, row.password_hash)
            )
            conn.execute(insert(signins).values(username=username, at=now, ok=ok))
        if locked is not None:
            log.warning("event=signin-locked username=%s until=%s", username, locked.isoformat())
            raise SignInRefused(f"登录失败次数过多，请于 {locked.astimezone(shown_tz):%H:%M} 后再试")
        if not ok or row is None:
            log.warning("event=signin-failed username=%s", username)
            raise SignInRefused("用户名或密码错误，或账号已停用")
        log.info("event=signin username=%s", username)
        return _user(row)


def _user(row: Any) -> User:
    return User(row.username, row.display_name, Role(row.role), row.unit)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
