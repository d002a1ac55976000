"""Secrets out of every line the service writes about itself (logs, delivery records, error pages).

A webhook URL carries its robot's key in the query (DingTalk ``access_token``, WeCom ``key``), a
database or broker URL may carry a password, and an API error may echo a bearer token. Each is
replaced by ``***`` while the rest of the line (host, path, which parameter) stays readable.
"""

from __future__ import annotations

import re

MASK = "***"
# Query or form parameters whose value is a secret, by name (case-insensitive).
_SECRET_PARAMETERS = (
    "access_token", "token", "key", "secret", "sign", "signature", "password", "passwd", "pwd",
    "apikey", "api_key", "appsecret", "app_secret", "client_secret", "auth", "ticket",
)  # fmt: skip
_PARAMETER = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(" + "|".join(_SECRET_PARAMETERS) + r")(=|%3D)([^&\s'\"<>#,;)]+)"
)
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
# ``scheme://user:password@host``: the whole user part goes (a user name can be a key too).
_USERINFO = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://)[^/?#@]*@")
# ``Authorization: Bearer …`` and similar headers printed by a client library.
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+([A-Za-z0-9._~+/=-]{8,})")
# ``"password": "…"`` in a JSON body or a repr.
_JSON_SECRET = re.compile(
    r"(?i)([\"'](?:" + "|".join(_SECRET_PARAMETERS) + r")[\"']\s*:\s*[\"'])([^\"']+)([\"'])"
)


def redact_url(url: str) -> str:
    """``url`` without its user part and with the value of every secret parameter replaced."""
    return _PARAMETER.sub(rf"\1\2{MASK}", _USERINFO.sub(r"\1", url))


def redact(text: str) -> str:
    """``text`` with every secret it recognisably carries replaced by ``***``."""
    text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    text = _PARAMETER.sub(rf"\1\2{MASK}", text)
    text = _BEARER.sub(rf"\1 {MASK}", text)
    return _JSON_SECRET.sub(rf"\1{MASK}\3", text)
