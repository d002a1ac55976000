"""A second 12345 work-order API, shaped like another vendor's platform: the crawler reads it by
configuration alone (docs/crawlers.md, "Hotline APIs by configuration").

``GET /hotline/v2/tickets?appKey=…&ts=…&nonce=…&limit=…&cursor=…&since=…&sign=…`` serves the same work
orders as ``/hotline/api/orders`` in other keys and nesting: ``{"success": true, "result": {"items":
[{"ticket": {"id"}, "created": <epoch seconds>, "category": {"name"}, "subject", "body": {"text"},
"location": {"district"}, "assignee": {"unit"}, "progress": [{"state", "reply"}], "finishedAt",
"feedback": {"rating"}, "contacts": [{"name", "mobile"}], "modified"}], "nextCursor": "…" | null}}``.

Paging is by an opaque cursor. Every request is signed: ``sign`` is the lower-case hex HMAC-SHA256,
keyed with :data:`SIGNED_API_SECRET`, of every other parameter sorted by name as ``k=v&k=v``; ``appKey``
must be :data:`SIGNED_API_APP_KEY` and ``ts`` (epoch seconds) within five minutes of the server's clock.
A failure answers ``{"success": false, "error": {"code", "message"}}`` with HTTP 200, as such platforms do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from demo_site.bad import Answer
from demo_site.feeds import TIME, Feeds

SIGNED_API_PATH = "/hotline/v2/tickets"
SIGNED_API_APP_KEY = "yuqing-demo"
# A demo value, published here on purpose: the crawler gets it as YUQING_SECRET_<NAME> like a real one.
SIGNED_API_SECRET = "yuqing-demo-signing-secret"  # noqa: S105
MAX_SKEW_S = 300
MAX_LIMIT = 100
_CHINA = timezone(timedelta(hours=8))
_JSON = "application/json; charset=utf-8"


def signed_tickets(feeds: Feeds, raw_query: str, *, now: float | None = None) -> Answer:
    """The answer to one request of the signed API (an error object when the signature is wrong)."""
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    given = params.pop("sign", "")
    if params.get("appKey") != SIGNED_API_APP_KEY:
        return _error(401, "appKey 无效")
    stamp = params.get("ts", "")
    moment = time.time() if now is None else now
    if not stamp.isdigit() or abs(moment - int(stamp)) > MAX_SKEW_S:
        return _error(401, "时间戳无效或已过期")
    canonical = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    expected = hmac.new(SIGNED_API_SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        return _error(401, "签名错误")
    limit_text = params.get("limit", "20")
    limit = int(limit_text) if limit_text.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        return _error(400, f"limit 应为 1–{MAX_LIMIT}")
    offset = _offset(params.get("cursor", ""))
    if offset is None:
        return _error(400, "游标无效")
    orders = feeds.orders
    since = params.get("since")
    if since:
        orders = [order for order in orders if order["updateTime"] >= since]
    chunk = orders[offset : offset + limit]
    following = offset + limit if offset + limit < len(orders) else None
    data = {
        "success": True,
        "result": {
            "items": [_ticket(order) for order in chunk],
            "nextCursor": _cursor(following) if following is not None else None,
        },
    }
    return Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type=_JSON)


def _ticket(order: dict[str, Any]) -> dict[str, Any]:
    accepted = datetime.strptime(order["acceptTime"], TIME).replace(tzinfo=_CHINA)
    ticket: dict[str, Any] = {
        "ticket": {"id": order["orderNo"], "channel": "12345"},
        "created": int(accepted.timestamp()),
        "category": {"name": order.get("appealType")},
        "subject": order.get("title"),
        "body": {"text": order.get("content")},
        "location": {"district": order.get("region")},
        "assignee": {"unit": order.get("handleUnit")},
        "progress": [{"state": order.get("status"), "reply": order.get("replyContent")}],
        "finishedAt": order.get("finishTime"),
        "feedback": {"rating": order.get("satisfaction")},
        "contacts": [{"name": order.get("callerName"), "mobile": order.get("callerPhone")}],
        "modified": order["updateTime"],
    }
    if order.get("source"):
        ticket["origin"] = order["source"]  # a key no field claims: the crawler keeps it in raw.extra
    return ticket


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode("ascii")


def _offset(cursor: str) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    number = text.removeprefix("o:")
    return int(number) if text.startswith("o:") and number.isdigit() else None


def _error(code: int, message: str) -> Answer:
    data = {"success": False, "error": {"code": code, "message": message}}
    return Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type=_JSON)
