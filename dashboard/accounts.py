"""Dashboard accounts in the ledger's database (SQLite by default, PostgreSQL at scale) via SQLAlchemy.

The tables are the ledger's migrations' (``response_ledger/migrations``, revision 0002): whoever
builds the engine brings its schema up first (:func:`response_ledger.db.migrate`). Every sign-in
attempt is recorded with the client it came from; the lockout policies (one per username, one per
client) read those records, so they hold across the dashboard's processes and restarts. Attempts
refused because of a lock are recorded as such and never count towards a lock.
"""

from __future__ import annotations

import enum
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
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from dashboard.auth import (
    LockoutPolicy,
    Role,
    User,
    check_password_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)

log = logging.getLogger(__name__)
# The tables as the queries below see them; migration 0002 creates them (a literal copy).
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
    # The client's address (None when unknown, a local one included); added after the first release.
    Column("client", String(64), index=True),
    # True for an attempt refused because a lock was in force: it never extends the lock.
    Column("locked", Boolean),
)
# Far more than one person mistypes: meant for one address guessing many accounts' passwords.
CLIENT_POLICY = LockoutPolicy(max_failures=20)
DISPLAY_NAME_MAX, UNIT_MAX = 128, 128  # the columns' lengths


class Unset(enum.Enum):
    """The type of :data:`UNSET`: an argument left out, where None means something."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


class AccountError(ValueError):
    """An account operation that cannot be done; the message is for the user."""


class SignInRefused(AccountError):
    """A sign-in that failed; the message never says whether the user exists."""


class SignInLocked(SignInRefused):
    """A sign-in refused because its username or its client is locked; the message says until when."""


@dataclass(frozen=True)
class Account:
    """A user with whether the account is active, for administration."""

    user: User
    active: bool


class Accounts:
    """The accounts repository and its sign-in service."""

    def __init__(
        self,
        engine: Engine,
        *,
        policy: LockoutPolicy | None = None,
        client_policy: LockoutPolicy = CLIENT_POLICY,
    ) -> None:
        # The ledger's engine, migrated (``response_ledger.db.migrated_engine``).
        self.engine = engine
        self.policy = policy or LockoutPolicy()
        self.client_policy = client_policy
        dummy_hash()  # made now, so that the first unknown username is not the one slower answer

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
        if len(display_name) > DISPLAY_NAME_MAX or (unit is not None and len(unit) > UNIT_MAX):
            raise AccountError(f"姓名和单位名称均不超过 {UNIT_MAX} 个字")
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

    def update(
        self,
        username: str,
        now: datetime,
        *,
        display_name: str | None = None,
        role: Role | None = None,
        unit: str | Unset | None = UNSET,
    ) -> User:
        """Change an account's display name, role and/or unit (``unit`` None clears it); the others stay.

        Staff must keep a unit; the last active administrator stays an administrator (checked with
        the administrators' rows locked, as :meth:`disable` does).
        """
        admin = Role.ADMIN.value
        values: dict[str, object] = {"updated_at": now}
        if display_name is not None:
            name = display_name.strip()
            if not name or len(name) > DISPLAY_NAME_MAX:
                raise AccountError(f"姓名不能为空，且不超过 {DISPLAY_NAME_MAX} 个字")
            values["display_name"] = name
        if role is not None:
            values["role"] = role.value
        if not isinstance(unit, Unset):
            cleaned = (unit or "").strip() or None
            if cleaned is not None and len(cleaned) > UNIT_MAX:
                raise AccountError(f"单位名称不超过 {UNIT_MAX} 个字")
            values["unit"] = cleaned
        with self.engine.begin() as conn:
            admins = (
                conn.execute(
                    select(users.c.username)
                    .where(users.c.role == admin, users.c.active.is_(True))
                    .with_for_update()
                )
                .scalars()
                .all()
            )
            row = conn.execute(select(users).where(users.c.username == username)).first()
            if row is None:
                raise AccountError(f"没有用户 {username}")
            new_role = Role(str(values.get("role", row.role)))
            new_unit = values.get("unit", row.unit)
            if new_role is Role.STAFF and not new_unit:
                raise AccountError("办理人员必须指定所属单位")
            if row.role == admin and new_role is not Role.ADMIN and list(admins) == [username]:
                raise AccountError("不能更改最后一名启用的管理员的角色")
            conn.execute(update(users).where(users.c.username == username).values(**values))
            changed = conn.execute(select(users).where(users.c.username == username)).one()
        log.info(
            "event=user-updated username=%s fields=%s",
            username,
            ",".join(sorted(set(values) - {"updated_at"})),
        )
        return _user(changed)

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

    def sign_in(self, username: str, password: str, now: datetime, *, client: str | None = None) -> User:
        """Check a password under the lockout policies; record the attempt either way.

        Exactly one password hash is verified whatever the case (no account, disabled, locked, wrong
        or right password), so the time taken does not tell whether an account exists. A legacy
        hash is replaced by an argon2id one when its password is right.
        """
        shown_tz = now.tzinfo
        now = now.astimezone(UTC)  # SQLite drops offsets: store and compare in UTC everywhere
        with self.engine.begin() as conn:
            locked = self._locked_until(conn, username, client, now)
            row = conn.execute(select(users).where(users.c.username == username)).first()
            usable = row is not None and bool(row.active)
            stored = row.password_hash if row is not None and usable else dummy_hash()
            ok = verify_password(password, stored) and usable and locked is None
            conn.execute(
                insert(signins).values(
                    username=username, at=now, ok=ok, client=client, locked=locked is not None
                )
            )
            if ok and needs_rehash(stored):
                conn.execute(
                    update(users)
                    .where(users.c.username == username, users.c.password_hash == stored)
                    .values(password_hash=hash_password(password))
                )
                log.info("event=password-rehashed username=%s", username)
        if locked is not None:
            log.warning(
                "event=signin-locked username=%s client=%s until=%s", username, client, locked.isoformat()
            )
            raise SignInLocked(f"登录失败次数过多，请于 {locked.astimezone(shown_tz):%H:%M} 后再试")
        if not ok or row is None:
            log.warning("event=signin-failed username=%s client=%s", username, client)
            raise SignInRefused("用户名或密码错误，或账号已停用")
        log.info("event=signin username=%s client=%s", username, client)
        return _user(row)

    def change_password(
        self, username: str, current: str, new: str, now: datetime, *, client: str | None = None
    ) -> None:
        """A user's own change: the current password is checked like a sign-in (and counts towards
        its lock), then the new one must meet the policy and differ from it."""
        check_password_policy(new)
        try:
            self.sign_in(username, current, now, client=client)
        except SignInLocked:
            raise
        except SignInRefused as exc:
            raise AccountError("当前密码不正确") from exc
        if new == current:
            raise AccountError("新密码不能与当前密码相同")
        self.set_password(username, new, now)

    def _locked_until(
        self, conn: Connection, username: str, client: str | None, now: datetime
    ) -> datetime | None:
        """When the later of the username's and the client's locks ends, None when neither is locked."""
        ends = []
        for policy, where in (
            (self.policy, signins.c.username == username),
            (self.client_policy, signins.c.client == client if client else None),
        ):
            if where is None:  # an unknown client (a local one) is throttled by username only
                continue
            failures = [
                _utc(row.at)
                for row in conn.execute(
                    select(signins.c.at).where(
                        where,
                        signins.c.ok.is_(False),
                        or_(signins.c.locked.is_(None), signins.c.locked.is_(False)),
                        signins.c.at >= now - policy.window - policy.lock_for,
                    )
                )
            ]
            end = policy.locked_until(failures, now)
            if end is not None:
                ends.append(end)
        return max(ends, default=None)


def _user(row: Any) -> User:
    return User(row.username, row.display_name, Role(row.role), row.unit)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
