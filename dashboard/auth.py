"""Roles, what each may open and do, password hashing and the sign-in lockout — pure functions.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended setting);
the stored form carries its parameters, so raising them later makes old hashes due for a rehash.
Hashes of the first releases (``scrypt$…``) still verify and are replaced at the next sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Role(StrEnum):
    """The dashboard's users, by job."""

    DUTY = "duty"
    LEADER = "leader"
    STAFF = "staff"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role's name as users know it."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.DUTY: "值班员",
    Role.LEADER: "领导",
    Role.STAFF: "办理人员",
    Role.ANALYST: "分析员",
    Role.ADMIN: "管理员",
}


class Page(StrEnum):
    """The dashboard's pages."""

    MONITOR = "monitor"
    BRIEFING = "briefing"
    LEDGER = "ledger"
    SEARCH = "search"
    ADMIN = "admin"


# Who may open which page. Staff see only the ledger (their unit's tickets); nobody but an admin
# manages users, sources or rules.
PAGE_ACCESS: dict[Page, frozenset[Role]] = {
    Page.MONITOR: frozenset({Role.DUTY, Role.LEADER, Role.ANALYST, Role.ADMIN}),
    Page.BRIEFING: frozenset({Role.LEADER, Role.DUTY, Role.ADMIN}),
    Page.LEDGER: frozenset({Role.STAFF, Role.DUTY, Role.LEADER, Role.ADMIN}),
    Page.SEARCH: frozenset({Role.ANALYST, Role.DUTY, Role.LEADER, Role.ADMIN}),
    Page.ADMIN: frozenset({Role.ADMIN}),
}
# Where each role lands after signing in (or opening the dashboard's bare address): its daily work.
LANDING: dict[Role, Page] = {
    Role.DUTY: Page.MONITOR,
    Role.LEADER: Page.BRIEFING,
    Role.STAFF: Page.LEDGER,
    Role.ANALYST: Page.SEARCH,
    Role.ADMIN: Page.ADMIN,
}
# Roles whose work needs a caller's full phone number (calling back); everyone else sees it masked.
SEES_PERSONAL_DATA = frozenset({Role.STAFF})


@dataclass(frozen=True)
class User:
    """A signed-in user as the pages see it (never with the password hash)."""

    username: str
    display_name: str
    role: Role
    unit: str | None = None


def may_open(role: Role, page: Page) -> bool:
    """Whether ``role`` may open ``page``."""
    return role in PAGE_ACCESS[page]


def pages_for(role: Role) -> list[Page]:
    """The pages ``role`` may open, in menu order."""
    return [page for page in Page if may_open(role, page)]


SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10


class PasswordPolicyError(ValueError):
    """A new password is too weak; the message is for the user."""


def check_password_policy(password: str) -> None:
    """Refuse passwords shorter than 10 characters or made of one kind of character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    kinds = sum(
        (
            any(c.isdigit() for c in password),
            any(c.isalpha() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2:
        raise PasswordPolicyError("密码须同时包含字母、数字或符号中的至少两类")


_HASHER = PasswordHasher()  # argon2id; time 3, memory 64 MiB, 4 lanes


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``$argon2id$v=19$m=…,t=…,p=…$salt$hash`` with a fresh 16-byte salt unless one is given."""
    return _HASHER.hash(password, salt=salt)


def hash_password_scrypt(password: str, *, salt: bytes | None = None) -> str:
    """The first releases' form, ``scrypt$N$r$p$salt$hash``: still verified, never written by accounts."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2id, or a legacy scrypt hash), in constant time."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` should be replaced at the next sign-in (scrypt, or weaker argon2 settings)."""
    try:
        return not stored.startswith("$argon2id$") or _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash of a random password, verified when an account is missing or disabled so that the
    answer takes as long as for a real one (sign-in time must not tell who has an account)."""
    return hash_password(secrets.token_urlsafe(24))


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def client_address(remote_ip: str | None, forwarded_for: Sequence[str], trusted_proxies: int) -> str | None:
    """The address a sign-in comes from, for throttling by client; None when unknown (local).

    ``X-Forwarded-For`` is read only behind ``trusted_proxies`` proxies of our own, and then only the
    entry the outermost of them appended (``trusted_proxies`` from the right): entries further left
    are whatever the browser sent, so anyone could forge them.
    """
    if trusted_proxies > 0:
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
        if len(hops) >= trusted_proxies:
            try:
                return str(ipaddress.ip_address(hops[-trusted_proxies]))
            except ValueError:
                pass
    return remote_ip or None


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed sign-ins within ``window``, refuse the account for ``lock_for``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)

    def locked_until(self, failures: list[datetime], now: datetime) -> datetime | None:
        """When the lock ends, given the times of recent failures, or None if not locked."""
        recent = sorted(t for t in failures if now - t <= self.window + self.lock_for)
        for i in range(len(recent) - self.max_failures + 1):
            first, last = recent[i], recent[i + self.max_failures - 1]
            if last - first <= self.window and now < last + self.lock_for:
                return last + self.lock_for
        return None


def session_expired(last_seen: datetime, now: datetime, idle_limit: timedelta) -> bool:
    """Whether a session idle since ``last_seen`` has expired."""
    return now - last_seen > idle_limit
