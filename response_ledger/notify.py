"""Notification channels as plug-ins: e-mail over SMTP, 企业微信 and 钉钉 group robots.

A recipient address names its channel: ``mailto:a@b``, ``wecom:https://…``, ``dingtalk:https://…``.
:class:`Router` hands each address to the channel registered for its scheme, tries a transient
failure again with exponential backoff, and records every attempt in the delivery log (secrets
redacted). The robots live in :mod:`response_ledger.robots`.
"""

from __future__ import annotations

import logging
import mimetypes
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from core.china_time import CHINA_TZ
from core.redact import redact
from response_ledger.delivery_log import (
    Attempt,
    DeliveryLog,
    JsonlDeliveryLog,
    NullDeliveryLog,
    delivery_log_path,
)
from response_ledger.errors import DeliveryError
from response_ledger.reminders import Notice
from response_ledger.robots import DingTalkChannel, WeComChannel, parse_secrets

log = logging.getLogger(__name__)
SECURITY_MODES = ("none", "starttls", "ssl")
_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
MAX_BACKOFF_S = 60.0


class Channel(Protocol):
    """Delivers one notice to one address of its scheme."""

    def deliver(self, address: str, notice: Notice) -> None:
        """Deliver or raise :class:`DeliveryError` (``transient`` when another try may succeed)."""
        ...


@dataclass(frozen=True)
class SmtpChannel:
    """E-mail through an SMTP server: plain, STARTTLS or SSL, with login when a username is set."""

    host: str
    port: int = 25
    sender: str = "yuqing@localhost"
    username: str = ""
    password: str = field(default="", repr=False)
    security: str = "none"  # one of SECURITY_MODES
    timeout_s: float = 10.0
    # The TLS context (certificate checks); the system's default when None.
    tls_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def deliver(self, address: str, notice: Notice) -> None:
        """Send ``notice`` (and its attachment) to the mailbox in ``address``."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, notice.subject
        message.set_content(notice.text)
        if notice.attachment is not None:
            _attach(message, notice.attachment)
        context = self.tls_context or ssl.create_default_context()
        try:
            smtp = (
                smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
                if self.security == "ssl"
                else smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            )
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            # 4xx is the server's "try later"; 5xx (a refused login, a refused mailbox) is final.
            said = exc.smtp_error
            said = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
            reason = f"{address}: {exc.smtp_code} {said}"
            raise DeliveryError("smtp", reason, transient=400 <= exc.smtp_code < 500) from exc
        except ssl.SSLError as exc:  # a certificate that does not check out will not on a retry
            raise DeliveryError("smtp", f"{address}: TLS: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            transient = isinstance(exc, OSError | smtplib.SMTPServerDisconnected)
            raise DeliveryError("smtp", f"{address}: {exc}", transient=transient) from exc


def _attach(message: EmailMessage, path: Path) -> None:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise DeliveryError("smtp", f"cannot read the file to send: {path.name}: {exc}") from exc
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    maintype, _, subtype = kind.partition("/")
    message.add_attachment(content, maintype=maintype, subtype=subtype, filename=path.name)


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


class Router:
    """A :class:`~response_ledger.reminders.Notifier` that routes each recipient by its scheme.

    A transient failure is tried again up to ``attempts`` times in all, waiting ``backoff_s``, then
    twice that, and so on (at most a minute); every attempt goes to ``delivery_log``.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        *,
        delivery_log: DeliveryLog | None = None,
        attempts: int = 3,
        backoff_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.channels = dict(channels)
        self.delivery_log = delivery_log or NullDeliveryLog()
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.clock = clock

    def send(self, notice: Notice) -> None:
        """Deliver to every recipient; the first failure is raised after trying the rest."""
        failures: list[DeliveryError] = []
        for recipient in notice.recipients:
            try:
                self._deliver(recipient, notice)
            except DeliveryError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def _deliver(self, recipient: str, notice: Notice) -> None:
        scheme, _, address = recipient.partition(":")
        target = redact(recipient)
        channel = self.channels.get(scheme)
        for attempt in range(1, self.attempts + 1):
            try:
                if channel is None:
                    raise DeliveryError(scheme, f"no channel configured for {target}")
                channel.deliver(address, notice)
            except DeliveryError as exc:
                self._record(scheme, target, notice, attempt, error=redact(exc.reason))
                log.warning(
                    "event=delivery-failed channel=%s target=%s attempt=%d transient=%s reason=%s",
                    scheme, target, attempt, exc.transient, redact(exc.reason),
                )  # fmt: skip
                if not exc.transient or attempt == self.attempts:
                    raise
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S))
            else:
                self._record(scheme, target, notice, attempt, error=None)
                log.info("event=delivered channel=%s target=%s attempt=%d", scheme, target, attempt)
                return

    def _record(self, channel: str, target: str, notice: Notice, attempt: int, *, error: str | None) -> None:
        entry = Attempt(self.clock(), channel, target, notice.subject, attempt, error is None, error or "")
        try:
            self.delivery_log.record(entry)
        except OSError:  # a full disk must not stop a reminder from going out
            log.warning("event=delivery-log-unwritable channel=%s", channel, exc_info=True)


class NotifySettings(Protocol):
    """The part of :class:`yuqing.settings.Settings` the channels read (no import of the root)."""

    # Read-only properties, as the frozen settings dataclass provides them.
    @property
    def home(self) -> Path: ...
    @property
    def smtp_host(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_sender(self) -> str: ...
    @property
    def smtp_username(self) -> str: ...
    @property
    def smtp_password(self) -> str: ...
    @property
    def smtp_security(self) -> str: ...
    @property
    def dingtalk_secrets(self) -> str: ...
    @property
    def notify_attempts(self) -> int: ...
    @property
    def notify_backoff_s(self) -> float: ...


def smtp_port(security: str, port: int) -> int:
    """``port``, or the usual one for ``security`` (25, 587 for STARTTLS, 465 for SSL) when 0."""
    return port or _DEFAULT_PORTS.get(security, 25)


def router_from_settings(settings: NotifySettings, *, delivery_log: DeliveryLog | None = None) -> Router:
    """E-mail, 企业微信 and 钉钉 channels from ``YUQING_SMTP_*`` and ``YUQING_DINGTALK_SECRETS``.

    Attempts are logged to ``<home>/notifications.jsonl`` unless another log is given.
    """
    smtp = SmtpChannel(
        settings.smtp_host,
        smtp_port(settings.smtp_security, settings.smtp_port),
        settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password,
        security=settings.smtp_security,
    )
    return Router(
        {
            "mailto": smtp,
            "wecom": WeComChannel(),
            "dingtalk": DingTalkChannel(parse_secrets(settings.dingtalk_secrets)),
        },
        delivery_log=delivery_log or JsonlDeliveryLog(delivery_log_path(settings.home)),
        attempts=settings.notify_attempts,
        backoff_s=settings.notify_backoff_s,
    )


def default_router(
    *, smtp_host: str = "localhost", smtp_port: int = 25, sender: str = "yuqing@localhost"
) -> Router:
    """Plain SMTP (no login), 企业微信 and 钉钉 channels; no retries, no log: for tests and demos."""
    return Router(
        {
            "mailto": SmtpChannel(smtp_host, smtp_port, sender),
            "wecom": WeComChannel(),
            "dingtalk": DingTalkChannel(),
        },
        attempts=1,
    )
