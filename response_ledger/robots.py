"""Group robots: 钉钉 (with 加签 and @-mentions) and 企业微信 (markdown, and a file such as the briefing).

钉钉 加签, as DingTalk documents it: ``sign`` is the HMAC-SHA256 of ``"{timestamp}\\n{secret}"`` keyed
with the secret (the ``SEC…`` string of the robot's security settings), base64-encoded, then
URL-encoded; ``timestamp`` is in milliseconds and must be within an hour of DingTalk's clock. Both are
appended to the webhook URL as query parameters.

企业微信: a markdown message; a file is first uploaded to ``upload_media`` (same ``key``, ``type=file``,
multipart field ``media``) and then sent as a ``file`` message with the returned ``media_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit, urlunsplit

from core.redact import redact_url
from response_ledger.errors import DeliveryError
from response_ledger.reminders import Notice

# Robot answers that mean "later, not never": 钉钉 sending too fast; 企业微信 frequency limit, busy.
TRANSIENT_ERRCODES = frozenset({130101, 45009, -1})
# 企业微信 refuses files over 20 MB.
WECOM_MAX_FILE_BYTES = 20 * 1024 * 1024


def _millis() -> int:
    return int(time.time() * 1000)


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The base64 HMAC-SHA256 of ``"{timestamp_ms}\\n{secret}"`` keyed by ``secret`` (not yet URL-encoded)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()).decode("ascii")


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` with the ``timestamp`` and URL-encoded ``sign`` parameters of 钉钉 加签."""
    sign = quote_plus(dingtalk_sign(timestamp_ms, secret))
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign}"


def parse_secrets(text: str) -> dict[str, str]:
    """``token=SEC…,token2=SEC…`` (a robot's ``access_token`` and its 加签 secret) as a mapping."""
    pairs = (part.strip().partition("=") for part in text.split(",") if part.strip())
    return {token.strip(): secret.strip() for token, _, secret in pairs if token.strip() and secret.strip()}


def markdown_of(notice: Notice) -> str:
    """The notice as robot markdown: the subject as a heading, each line of the text a paragraph."""
    body = "\n\n".join(line for line in notice.text.splitlines() if line.strip())
    return f"#### {notice.subject}\n\n{body}"


def _check_url(channel: str, address: str) -> None:
    if not address.startswith(("http://", "https://")):
        raise DeliveryError(channel, f"not a webhook URL: {redact_url(address)}")


def _call(channel: str, request: urllib.request.Request, timeout_s: float) -> dict[str, Any]:
    """Send ``request`` and decode the robot's JSON answer; errcode 0 or a :class:`DeliveryError`."""
    where = redact_url(request.full_url)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) checked
            answer: Any = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        transient = exc.code >= 500 or exc.code == 429
        raise DeliveryError(channel, f"{where}: HTTP {exc.code}", transient=transient) from exc
    except OSError as exc:  # refused, reset, timed out: the network, worth another try
        raise DeliveryError(channel, f"{where}: {exc}", transient=True) from exc
    except ValueError as exc:
        raise DeliveryError(channel, f"{where}: not a robot answer: {exc}") from exc
    if not isinstance(answer, dict):
        raise DeliveryError(channel, f"{where}: not a robot answer: {answer!r:.200}")
    code = answer.get("errcode", 0)
    if code != 0:
        message = answer.get("errmsg", answer)
        raise DeliveryError(
            channel, f"robot refused ({code}): {message}", transient=code in TRANSIENT_ERRCODES
        )
    return answer


def _post_json(channel: str, url: str, payload: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    return _call(channel, request, timeout_s)


@dataclass(frozen=True)
class DingTalkChannel:
    """钉钉 group robots: markdown messages, signed when the robot's ``access_token`` has a secret."""

    # access_token → 加签 secret (``YUQING_DINGTALK_SECRETS``); a robot without one is sent unsigned.
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    timeout_s: float = 10.0
    clock_ms: Callable[[], int] = _millis

    def deliver(self, address: str, notice: Notice) -> None:
        """POST ``notice`` as markdown, @-mentioning ``notice.at_mobiles``; the errcode must be 0."""
        _check_url("dingtalk", address)
        token = parse_qs(urlsplit(address).query).get("access_token", [""])[0]
        secret = self.secrets.get(token)
        url = signed_url(address, secret, self.clock_ms()) if secret else address
        # 钉钉 notifies a mobile only when the text also names it as @mobile.
        mentions = " ".join(f"@{mobile}" for mobile in notice.at_mobiles)
        text = markdown_of(notice) + (f"\n\n{mentions}" if mentions else "")
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": notice.subject, "text": text},
            "at": {"atMobiles": list(notice.at_mobiles), "isAtAll": False},
        }
        _post_json("dingtalk", url, payload, self.timeout_s)


@dataclass(frozen=True)
class WeComChannel:
    """企业微信 group robots: a markdown message, then the notice's attachment as a file message."""

    timeout_s: float = 30.0

    def deliver(self, address: str, notice: Notice) -> None:
        """POST ``notice`` as markdown and, when it has an attachment, upload and send the file."""
        _check_url("wecom", address)
        markdown = {"msgtype": "markdown", "markdown": {"content": markdown_of(notice)}}
        _post_json("wecom", address, markdown, self.timeout_s)
        if notice.attachment is not None:
            media_id = self.upload(address, notice.attachment)
            _post_json("wecom", address, {"msgtype": "file", "file": {"media_id": media_id}}, self.timeout_s)

    def upload(self, address: str, path: Path) -> str:
        """Upload ``path`` to the robot's ``upload_media`` and return its ``media_id``."""
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise DeliveryError("wecom", f"cannot read the file to send: {path.name}: {exc}") from exc
        if not 5 < len(content) <= WECOM_MAX_FILE_BYTES:
            raise DeliveryError("wecom", f"{path.name}: 企业微信 takes files of 6 bytes to 20 MB")
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="{path.name}"; '
            f"filelength={len(content)}\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        body = head + content + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(  # noqa: S310 - http(s) checked by deliver
            upload_url(address),
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            method="POST",
        )
        answer = _call("wecom", request, self.timeout_s)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise DeliveryError("wecom", "upload_media answered without a media_id")
        return media_id


def upload_url(address: str) -> str:
    """The ``upload_media`` URL of the robot whose ``send`` URL is ``address`` (same key, ``type=file``)."""
    parts = urlsplit(address)
    path = parts.path.rsplit("/", 1)[0] + "/upload_media"
    query = f"{parts.query}&type=file" if parts.query else "type=file"
    return urlunsplit(parts._replace(path=path, query=query))
