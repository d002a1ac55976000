"""Channels deliver to real local servers: SMTP (aiosmtpd, with login over STARTTLS and SSL) and a webhook."""

from __future__ import annotations

import dataclasses
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from response_ledger.errors import DeliveryError
from response_ledger.notify import Router, SmtpChannel, default_router
from response_ledger.policy import Contacts, load_policy
from response_ledger.reminders import Level, Notice, send_reminders
from response_ledger.robots import DingTalkChannel, WeComChannel, markdown_of
from tests.response_ledger.fakes import FakeUnitOfWork
from tests.response_ledger.samples import at, ticket


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.original_content)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    # aiosmtpd's start() checks its own port by connecting to it, so it needs a real number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Robot(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body)
            answer = {"errcode": 0 if "refuse" not in self.path else 93000, "errmsg": "ok"}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


NOTICE = Notice(
    "T1",
    "区生态环境分局",
    Level.OVERDUE,
    (),
    "舆情回应台账超期提醒",
    "【超期提醒】区生态环境分局：工单 T1 已超期",
)


def test_an_email_reminder_reaches_a_local_smtp_server(smtp: tuple[int, _Inbox]) -> None:
    port, inbox = smtp
    SmtpChannel("127.0.0.1", port, sender="yuqing@example.org").deliver("staff@example.org", NOTICE)
    [(recipients, message)] = inbox.messages
    assert recipients == ["staff@example.org"]
    assert message["Subject"] == "舆情回应台账超期提醒"
    assert "已超期" in message.get_content()


def test_wecom_and_dingtalk_robots_receive_markdown(webhook: tuple[str, list[dict[str, Any]]]) -> None:
    base, received = webhook
    WeComChannel().deliver(f"{base}/cgi-bin/webhook/send?key=k", NOTICE)
    DingTalkChannel().deliver(f"{base}/robot/send?access_token=t", NOTICE)
    text = markdown_of(NOTICE)
    assert received == [
        {"msgtype": "markdown", "markdown": {"content": text}},
        {"msgtype": "markdown", "markdown": {"title": NOTICE.subject, "text": text},
         "at": {"atMobiles": [], "isAtAll": False}},
    ]  # fmt: skip


def test_a_robot_that_answers_with_an_error_code_is_a_delivery_error(webhook: tuple[str, Any]) -> None:
    with pytest.raises(DeliveryError) as caught:
        DingTalkChannel().deliver(f"{webhook[0]}/refuse", NOTICE)
    assert caught.value.channel == "dingtalk"


def test_an_unreachable_smtp_server_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError):
        SmtpChannel("127.0.0.1", 1, timeout_s=2).deliver("staff@example.org", NOTICE)


def test_an_address_with_no_channel_is_reported_after_the_others_are_tried(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    base, received = webhook
    notice = dataclasses.replace(NOTICE, recipients=("fax:123", f"wecom:{base}/hook"))
    with pytest.raises(DeliveryError):
        Router({"wecom": WeComChannel()}).send(notice)
    assert len(received) == 1


def test_overdue_reminders_are_delivered_by_mail_and_webhook_end_to_end(
    smtp: tuple[int, _Inbox], webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    port, inbox = smtp
    base, received = webhook
    contacts = Contacts(assignee=("mailto:staff@example.org",), leader=(f"dingtalk:{base}/robot/send",))
    policy = dataclasses.replace(load_policy(), contacts={"区生态环境分局": contacts})
    uow = FakeUnitOfWork()
    uow.tickets.add(ticket("2026-09-01T09:00"))
    uow.commit()
    router = default_router(smtp_host="127.0.0.1", smtp_port=port)
    sent = send_reminders(uow, router, now=at("2026-09-23T09:00"), policy=policy)
    assert [n.level for n in sent] == [Level.LEADER]
    assert len(inbox.messages) == 1 and "超期督办" in received[0]["markdown"]["text"]
