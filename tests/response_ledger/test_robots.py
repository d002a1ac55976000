"""钉钉 and 企业微信 robots against a local robot server that checks 加签, the payload and the upload."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.redact import redact, redact_url
from response_ledger.delivery_log import JsonlDeliveryLog, read_attempts
from response_ledger.errors import DeliveryError
from response_ledger.notify import Router
from response_ledger.policy import Contacts, load_policy
from response_ledger.reminders import Level, Notice, send_reminders
from response_ledger.robots import DingTalkChannel, WeComChannel, dingtalk_sign, upload_url
from tests.response_ledger.fakes import FakeUnitOfWork
from tests.response_ledger.samples import at, ticket

TOKEN = "0123abcd" * 8
SECRET = "SECf00dfeedbeef0123456789"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
NOTICE = Notice(
    "T1",
    "区生态环境分局",
    Level.OVERDUE,
    (),
    "舆情回应台账超期提醒",
    "【超期提醒】区生态环境分局：工单 T1 已超期\n摘要：小区噪音扰民",
    at_mobiles=("13800000001",),
)


@dataclass
class RobotServer:
    """What the local robots received, and how many times the flaky one still fails."""

    base: str = ""
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    uploads: list[tuple[dict[str, list[str]], bytes, str]] = field(default_factory=list)
    flaky_failures: int = 0


def _expected_sign(timestamp: str) -> str:
    """DingTalk's check, written from its documentation independently of the code under test."""
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture
def robots() -> Iterator[RobotServer]:
    state = RobotServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if url.path == "/robot/send":
                answer = self._dingtalk(query, body)
            elif url.path == "/cgi-bin/webhook/send" and query.get("key") == [WECOM_KEY]:
                state.messages.append(("wecom", json.loads(body)))
                answer = {"errcode": 0, "errmsg": "ok"}
            elif url.path == "/cgi-bin/webhook/upload_media" and query.get("key") == [WECOM_KEY]:
                state.uploads.append((query, body, self.headers["Content-Type"]))
                answer = {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": "M-1", "created_at": "1"}
            elif url.path == "/flaky" and state.flaky_failures > 0:
                state.flaky_failures -= 1
                self.send_error(503)
                return
            elif url.path == "/flaky":
                state.messages.append(("flaky", json.loads(body)))
                answer = {"errcode": 0, "errmsg": "ok"}
            else:
                answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _dingtalk(self, query: dict[str, list[str]], body: bytes) -> dict[str, Any]:
            if query.get("access_token") != [TOKEN]:
                return {"errcode": 300001, "errmsg": "token is not exist"}
            [timestamp], [sign] = query["timestamp"], query["sign"]  # parse_qs URL-decodes the sign
            if abs(int(timestamp) - time.time() * 1000) > 3_600_000:
                return {"errcode": 310000, "errmsg": "timestamp expired"}
            if sign != _expected_sign(timestamp):
                return {"errcode": 310000, "errmsg": "sign not match"}
            state.messages.append(("dingtalk", json.loads(body)))
            return {"errcode": 0, "errmsg": "ok"}

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_the_dingtalk_signature_is_the_documented_hmac_of_timestamp_and_secret() -> None:
    # The example of DingTalk's documentation: sign = base64(HmacSHA256(secret, "timestamp\nsecret")).
    expected = base64.b64encode(
        hmac.new(b"this is secret", b"1577808000000\nthis is secret", hashlib.sha256).digest()
    ).decode()
    assert dingtalk_sign(1577808000000, "this is secret") == expected


def test_a_signed_dingtalk_markdown_message_mentions_the_assignee(robots: RobotServer) -> None:
    channel = DingTalkChannel({TOKEN: SECRET})
    channel.deliver(f"{robots.base}/robot/send?access_token={TOKEN}", NOTICE)
    [(kind, payload)] = robots.messages
    assert kind == "dingtalk" and payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == "舆情回应台账超期提醒"
    assert payload["markdown"]["text"].startswith("#### 舆情回应台账超期提醒\n\n【超期提醒】")
    assert "摘要：小区噪音扰民" in payload["markdown"]["text"]
    assert payload["markdown"]["text"].endswith("@13800000001")
    assert payload["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}


def test_a_wrong_dingtalk_secret_is_refused_and_not_retried(robots: RobotServer) -> None:
    waits: list[float] = []
    router = Router({"dingtalk": DingTalkChannel({TOKEN: "SECwrong"})}, sleep=waits.append)
    notice = dataclasses.replace(
        NOTICE, recipients=(f"dingtalk:{robots.base}/robot/send?access_token={TOKEN}",)
    )
    with pytest.raises(DeliveryError) as caught:
        router.send(notice)
    assert caught.value.channel == "dingtalk" and "sign not match" in caught.value.reason
    assert not caught.value.transient and waits == [] and robots.messages == []


def test_wecom_gets_markdown_then_the_uploaded_briefing_as_a_file(
    robots: RobotServer, tmp_path: Path
) -> None:
    docx = tmp_path / "舆情日报-2026-09-22.docx"
    docx.write_bytes(b"PK\x03\x04 a word file")
    notice = dataclasses.replace(NOTICE, attachment=docx)
    WeComChannel().deliver(f"{robots.base}/cgi-bin/webhook/send?key={WECOM_KEY}", notice)
    [(query, body, content_type)] = robots.uploads
    assert query["type"] == ["file"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert f'name="media"; filename="{docx.name}"; filelength={docx.stat().st_size}'.encode() in body
    assert b"PK\x03\x04 a word file" in body
    content = "#### 舆情回应台账超期提醒\n\n【超期提醒】区生态环境分局：工单 T1 已超期\n\n摘要：小区噪音扰民"
    assert robots.messages == [
        ("wecom", {"msgtype": "markdown", "markdown": {"content": content}}),
        ("wecom", {"msgtype": "file", "file": {"media_id": "M-1"}}),
    ]


def test_the_upload_url_keeps_the_key_and_asks_for_a_file() -> None:
    send = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
    assert upload_url(send) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/upload_media?key=K&type=file"


def test_a_transient_failure_is_retried_with_exponential_backoff_and_logged_redacted(
    robots: RobotServer, tmp_path: Path
) -> None:
    robots.flaky_failures = 2
    waits: list[float] = []
    log = JsonlDeliveryLog(tmp_path / "notifications.jsonl")
    router = Router(
        {"wecom": WeComChannel()}, delivery_log=log, attempts=3, backoff_s=1.5, sleep=waits.append,
        clock=lambda: at("2026-09-23T09:00"),
    )  # fmt: skip
    router.send(dataclasses.replace(NOTICE, recipients=(f"wecom:{robots.base}/flaky?key={WECOM_KEY}",)))
    assert waits == [1.5, 3.0] and len(robots.messages) == 1
    attempts = read_attempts(log.path)
    assert [(a.attempt, a.ok) for a in attempts] == [(3, True), (2, False), (1, False)]
    assert attempts[0].target == f"wecom:{robots.base}/flaky?key=***"
    assert "HTTP 503" in attempts[1].error and attempts[1].at == at("2026-09-23T09:00")
    assert WECOM_KEY not in log.path.read_text(encoding="utf-8")


def test_a_failure_that_persists_is_raised_after_the_last_attempt(robots: RobotServer) -> None:
    robots.flaky_failures = 5
    waits: list[float] = []
    router = Router({"wecom": WeComChannel()}, attempts=3, backoff_s=1, sleep=waits.append)
    with pytest.raises(DeliveryError) as caught:
        router.send(dataclasses.replace(NOTICE, recipients=(f"wecom:{robots.base}/flaky",)))
    assert caught.value.transient and waits == [1, 2]


def test_secrets_are_redacted_from_urls_and_from_messages_that_quote_them() -> None:
    url = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}&timestamp=1&sign=abc%2B"
    assert redact_url(url) == "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"
    assert redact_url("https://user:pw@example.org/hook?key=K") == "https://example.org/hook?key=***"
    assert TOKEN not in redact(f"dingtalk: {url}: timed out")


def test_overdue_reminders_mention_the_units_mobiles_on_a_signed_robot(robots: RobotServer) -> None:
    hook = f"dingtalk:{robots.base}/robot/send?access_token={TOKEN}"
    contacts = Contacts(
        assignee=(hook,), leader=(), assignee_mobiles=("13800000001",), leader_mobiles=("13900000002",)
    )
    policy = dataclasses.replace(load_policy(), contacts={"区生态环境分局": contacts})
    uow = FakeUnitOfWork()
    uow.tickets.add(ticket("2026-09-01T09:00"))
    uow.commit()
    router = Router({"dingtalk": DingTalkChannel({TOKEN: SECRET})})
    [sent] = send_reminders(uow, router, now=at("2026-09-23T09:00"), policy=policy)
    assert sent.level is Level.LEADER
    [(_, payload)] = robots.messages
    assert payload["at"]["atMobiles"] == ["13900000002", "13800000001"]
    assert "超期督办" in payload["markdown"]["text"]
