"""Notification channels as plug-ins: e-mail over SMTP, 企业微信 and 钉钉 group robots.

A recipient address names its channel: ``mailto:a@b``, ``wecom:https://…``, ``dingtalk:https://…``.
:class:`Router` hands each address to the channel registered for its scheme.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from response_ledger.errors import DeliveryError
from response_ledger.reminders import Notice


class Channel(Protocol):
    """Delivers one notice to one address of its scheme."""

    def deliver(self, address: str, notice: Notice) -> None:
        """Deliver or raise :class:`DeliveryError`."""
        ...


@dataclass(frozen=True)
class SmtpChannel:
    """E-mail through an SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int = 25
    sender: str = "yuqing@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = 10.0

    def deliver(self, address: str, notice: Notice) -> None:
        """Send ``notice`` to the mailbox in ``address``."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, notice.subject
        message.set_content(notice.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError("smtp", f"{address}: {exc}") from exc


@dataclass(frozen=True)
class WebhookChannel:
    """A group robot webhook; 企业微信 and 钉钉 both take ``{"msgtype": "text", ...}``."""

    name: str
    timeout_s: float = 10.0

    def deliver(self, address: str, notice: Notice) -> None:
        """POST the notice text to the webhook URL in ``address``; the robot's errcode must be 0."""
        if not address.startswith(("http://", "https://")):
            raise DeliveryError(self.name, f"not a webhook URL: {address}")
        body = json.dumps({"msgtype": "text", "text": {"content": notice.text}}, ensure_ascii=False)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            address, data=body.encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - checked above
                answer = json.loads(response.read() or b"{}")
        except (OSError, ValueError) as exc:
            raise DeliveryError(self.name, f"{address}: {exc}") from exc
        if answer.get("errcode", 0) != 0:
            raise DeliveryError(self.name, f"robot refused: {answer.get('errmsg', answer)}")


class Router:
    """A :class:`~response_ledger.reminders.Notifier` that routes each recipient by its scheme."""

    def __init__(self, channels: Mapping[str, Channel]) -> None:
        self.channels = dict(channels)

    def send(self, notice: Notice) -> None:
        """Deliver to every recipient; the first failure is raised after trying the rest."""
        failures: list[DeliveryError] = []
        for recipient in notice.recipients:
            scheme, _, address = recipient.partition(":")
            channel = self.channels.get(scheme)
            try:
                if channel is None:
                    raise DeliveryError(scheme, f"no channel configured for {recipient}")
                channel.deliver(address, notice)
            except DeliveryError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


def default_router(
    *, smtp_host: str = "localhost", smtp_port: int = 25, sender: str = "yuqing@localhost"
) -> Router:
    """E-mail, 企业微信 and 钉钉 channels with the given SMTP server."""
    return Router(
        {
            "mailto": SmtpChannel(smtp_host, smtp_port, sender),
            "wecom": WebhookChannel("wecom"),
            "dingtalk": WebhookChannel("dingtalk"),
        }
    )
