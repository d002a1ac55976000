"""12345 work-order APIs described by configuration, not code.

Real platforms differ in where the records sit, what each field is called, how pages follow each other
and how a request proves who sent it. A ``hotline-api`` source in sources.yaml says all of it:

- ``records``: the path to the list of records (``data.list``); ``fields``: 字段 → path inside a record
  (``content.text``, ``contacts[0].phone``; a list of paths takes the first one holding a value);
- ``ok``: where the answer says whether the call worked (``{path: code, equals: 0, message: msg}``);
- ``paging``: ``page``, ``offset``, ``cursor`` or ``next_url`` with its parameters;
- ``method`` and, for POST, a ``body`` template using ``{page}``, ``{size}``, ``{offset}``, ``{cursor}``
  and ``{since}``; ``since_param``/``since_format`` for the watermark;
- ``auth`` (in :mod:`crawlers.feeds`): ``bearer``, ``header`` or ``signed_query`` with the NAME of its
  secret; :class:`crawlers.middlewares.SecretsMiddleware` applies it with :func:`sign_url`.

Our own platform's shape, which the demo site serves, is :data:`DEFAULT_API` (through
:func:`default_api`): the configuration of a source that gives none of these keys; a source that gives
some keeps the default of the others. Paths are dotted keys with ``[n]`` list indexes (``[-1]`` the
last); ``$`` is the whole answer. A key holding a dot cannot be reached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from core.china_time import CHINA_TZ
from crawlers.errors import SourceConfigError
from crawlers.exports import HOTLINE_COLUMNS, HOTLINE_REQUIRED, cell_text

Fail = Callable[[str, str], SourceConfigError]

API_KEYS = frozenset(
    {"records", "fields", "ok", "paging", "method", "body", "body_type", "since_param", "since_format"}
)
PAGING_STYLES = ("page", "offset", "cursor", "next_url")
AUTH_STYLES = ("bearer", "header", "signed_query")
SIGN_ALGORITHMS = ("hmac-sha256", "hmac-sha1", "md5", "sha256")
PLACEHOLDERS = ("page", "size", "offset", "cursor", "since")
TIME_FIELDS = ("受理时间", "办结时间", "更新时间")
# An API page is tens of kilobytes; the download limit (4 MB) stops bigger ones before this does.
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_JSON_DEPTH = 64  # a work-order record is a few levels deep; 64 is far past any real answer
MAX_PATH_PARTS = 32
MAX_VALUE_CHARS = 20_000  # an object or list a field points at is kept as JSON text, up to this

# Our own platform's answer, served by the demo site at /hotline/api/orders:
# {"code": 0, "msg": "ok", "data": {"page", "pages", "total", "records": [{"orderNo", ...}]}}.
DEFAULT_API: dict[str, Any] = {
    "records": "data.records",
    "ok": {"path": "code", "equals": 0, "message": "msg"},
    "fields": {
        "工单编号": "orderNo", "受理时间": "acceptTime", "诉求类型": "appealType", "诉求标题": "title",
        "诉求内容": "content", "所属区域": "region", "承办单位": "handleUnit", "办理状态": "status",
        "办结时间": "finishTime", "回访满意度": "satisfaction", "来电人": "callerName",
        "来电号码": "callerPhone", "答复内容": "replyContent", "更新时间": "updateTime",
    },
    "paging": {"style": "page", "param": "page", "size_param": "page_size", "pages_path": "data.pages"},
    "method": "GET",
    "since_param": "updated_since",
}  # fmt: skip

_PATH = re.compile(r"(?:[^.\[\]\s][^.\[\]]*|\[-?\d+\])(?:\.[^.\[\]\s][^.\[\]]*|\[-?\d+\])*")
_PART = re.compile(r"\[(-?\d+)\]|([^.\[\]]+)")
_PARAM = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_ANY_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_SINCE_SPECIAL = ("iso", "epoch", "epoch_ms")


class JsonProblem(ValueError):
    """An API answer that cannot be read; ``reason`` is the dead letter's (``invalid JSON: …``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class JsonPath:
    """A place in a decoded JSON answer: ``data.list``, ``contacts[0].phone``, ``$`` (the whole answer)."""

    text: str
    parts: tuple[str | int, ...]

    def find(self, data: object) -> object:
        """The value at this path, or None when the path does not lead anywhere."""
        node = data
        for part in self.parts:
            if isinstance(node, dict):
                node = node.get(str(part))
            elif isinstance(node, list):
                index = part if isinstance(part, int) else _index(part)
                if index is None or not -len(node) <= index < len(node):
                    return None
                node = node[index]
            else:
                return None
        return node

    @property
    def head(self) -> str | None:
        """The record key this path starts at (to tell claimed keys from extra ones)."""
        first = self.parts[0] if self.parts else None
        return first if isinstance(first, str) else None


@dataclass(frozen=True)
class Check:
    """The answer says the call worked when ``path`` holds ``equals`` (or nothing at all)."""

    path: JsonPath
    equals: object
    message: JsonPath | None = None

    def error(self, data: object) -> str | None:
        """``api error <code>: <message>`` when the answer reports a failure, else None."""
        value = self.path.find(data)
        if value is None or _same(value, self.equals):
            return None
        message = self.message.find(data) if self.message is not None else None
        return f"api error {_short(value)}: {_short(message)}"


@dataclass(frozen=True)
class Paging:
    """How one page leads to the next (see the module docstring and docs/crawlers.md)."""

    style: str = "page"
    param: str | None = "page"  # page number, offset or cursor parameter (GET); None: not sent
    size_param: str | None = None
    size: int = 50
    start: int = 1  # the first page number (page) or offset (offset)
    pages_path: JsonPath | None = None
    total_path: JsonPath | None = None
    more_path: JsonPath | None = None
    cursor_path: JsonPath | None = None
    next_path: JsonPath | None = None


@dataclass(frozen=True)
class Signing:
    """A signed query: the listed (else all) query parameters, sorted by name as ``k=v&k=v``, signed.

    ``hmac-*`` use the secret as the HMAC key; ``md5`` and ``sha256`` hash ``<string>&key=<secret>``.
    The timestamp, nonce and app key parameters are added before signing; ``case`` is the hex digest's.
    """

    algorithm: str = "hmac-sha256"
    params: tuple[str, ...] | None = None
    sign_param: str = "sign"
    timestamp_param: str | None = "timestamp"
    timestamp_unit: str = "s"
    nonce_param: str | None = None
    app_key_param: str | None = None
    app_key: str | None = None
    case: str = "lower"

    @property
    def own_params(self) -> frozenset[str]:
        """The parameters signing adds (and removes again before signing anew)."""
        names = (self.sign_param, self.timestamp_param, self.nonce_param, self.app_key_param)
        return frozenset(name for name in names if name)


@dataclass(frozen=True)
class Auth:
    """How requests prove who sends them; ``secret`` names ``YUQING_SECRET_<NAME>``."""

    style: str
    secret: str
    header: str = "Authorization"
    prefix: str = ""
    sign: Signing | None = None

    def header_value(self, value: str) -> tuple[str, str] | None:
        """The header that carries the secret (bearer and header styles), or None for a signed query."""
        if self.style == "bearer":
            return "Authorization", f"Bearer {value}"
        if self.style == "header":
            return self.header, f"{self.prefix}{value}"
        return None


@dataclass(frozen=True)
class ApiConfig:
    """One platform's API shape: where records and fields are, paging, method, body and watermark."""

    records: JsonPath
    fields: tuple[tuple[str, tuple[JsonPath, ...]], ...]
    paging: Paging
    ok: Check | None = None
    method: str = "GET"
    body: str | None = None
    body_type: str = "json"
    since_param: str | None = "updated_since"
    since_format: str = "iso"

    def extract(self, record: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        """A record's fields (字段 → text) and the keys no field claims (kept in raw.extra)."""
        fields: dict[str, str] = {}
        claimed: set[str] = set()
        for name, paths in self.fields:
            for path in paths:
                if path.head is not None:
                    claimed.add(path.head)
            for path in paths:
                text = value_text(path.find(record), time=name in TIME_FIELDS)
                if text:
                    fields[name] = text
                    break
        extra = {str(k): value_text(v) for k, v in record.items() if k not in claimed and v is not None}
        return fields, {k: v for k, v in extra.items() if v}

    def render_body(self, values: Mapping[str, str | int]) -> str:
        """The POST body: the template with each placeholder's value escaped for the body's type."""
        assert self.body is not None
        form = self.body_type == "form"

        def fill(match: re.Match[str]) -> str:
            value = values[match.group(1)]
            if form:
                return quote(str(value), safe="")
            return json.dumps(value, ensure_ascii=False)[1:-1] if isinstance(value, str) else str(value)

        return _PLACEHOLDER.sub(fill, self.body)

    def since_text(self, since: str | None) -> str | None:
        """The watermark (ISO time) as the platform wants it: ISO, epoch seconds or ms, or strftime."""
        if not since:
            return None
        if self.since_format == "iso":
            return since
        moment = datetime.fromisoformat(since)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA_TZ)
        if self.since_format == "epoch":
            return str(int(moment.timestamp()))
        if self.since_format == "epoch_ms":
            return str(int(moment.timestamp() * 1000))
        return moment.astimezone(CHINA_TZ).strftime(self.since_format)


# -- reading answers ------------------------------------------------------------------------------------


def load_json(body: bytes) -> object:
    """Decode an API answer, or raise :class:`JsonProblem` with a reason a duty officer can act on.

    Too large (over :data:`MAX_JSON_BYTES`) or too deep (over :data:`MAX_JSON_DEPTH` levels) is said
    so, never a RecursionError; UTF-8 first, then GB18030 (some platforms still answer in GBK).
    """
    if len(body) > MAX_JSON_BYTES:
        raise JsonProblem(
            f"JSON too large: {len(body) / 1024 / 1024:.1f} MB, over the limit of "
            f"{MAX_JSON_BYTES // 1024 // 1024} MB"
        )
    try:
        try:
            data = json.loads(body)
        except UnicodeDecodeError:
            data = json.loads(body.decode("gb18030"))
    except RecursionError:
        raise JsonProblem(f"JSON nested too deeply: more than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonProblem(f"invalid JSON: {exc}"[:200]) from exc
    if _depth_over(data, MAX_JSON_DEPTH):
        raise JsonProblem(f"JSON nested too deeply: more than {MAX_JSON_DEPTH} levels")
    return data


def _depth_over(data: object, limit: int) -> bool:
    # Iterative: a recursive walk is what must not happen on hostile input.
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def value_text(value: object, *, time: bool = False) -> str:
    """A JSON value as a field's text: numbers as written (a time field's epoch seconds or ms as a China
    time), true/false as 是/否, an object or list as compact JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if time and isinstance(value, int | float):
        return epoch_text(value) or cell_text(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))[:MAX_VALUE_CHARS]
    return cell_text(value)


def epoch_text(value: float) -> str | None:
    """Epoch seconds (10 digits) or milliseconds (13 digits) as ``YYYY-MM-DD HH:MM:SS`` China time."""
    seconds = value / 1000 if 1e12 <= value < 1e13 else value if 1e9 <= value < 1e10 else None
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def as_count(value: object) -> int | None:
    """A page count, total or the like as an integer (``5`` or ``"5"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def truthy(value: object) -> bool:
    """A "has more" flag: true, 1, "true", "1", "Y" …; false, 0, "", "false", null are not."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "n", "否")
    return bool(value)


# -- signing --------------------------------------------------------------------------------------------


def sign_url(
    url: str, sign: Signing, secret: str, *, now: float | None = None, nonce: str | None = None
) -> str:
    """``url`` with the app key, timestamp, nonce and signature parameters (any old ones replaced)."""
    parts = urlsplit(url)
    own = sign.own_params
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in own]
    if sign.app_key_param and sign.app_key:
        pairs.append((sign.app_key_param, sign.app_key))
    if sign.timestamp_param:
        moment = time.time() if now is None else now
        stamp = int(moment * 1000) if sign.timestamp_unit == "ms" else int(moment)
        pairs.append((sign.timestamp_param, str(stamp)))
    if sign.nonce_param:
        pairs.append((sign.nonce_param, nonce or secrets.token_hex(8)))
    signed = [(k, v) for k, v in pairs if sign.params is None or k in sign.params]
    canonical = "&".join(f"{k}={v}" for k, v in sorted(signed))
    digest = signature(canonical, secret, sign.algorithm)
    digest = digest.upper() if sign.case == "upper" else digest
    query = urlencode([*pairs, (sign.sign_param, digest)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def strip_signature(url: str, sign: Signing) -> str:
    """``url`` without the parameters signing adds (what a request to another host must not carry)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k not in sign.own_params]
    if len(kept) == len(pairs):
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


def signature(canonical: str, secret: str, algorithm: str) -> str:
    """The hex digest of the canonical query string under ``algorithm`` (see :class:`Signing`)."""
    if algorithm == "hmac-sha256":
        return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    if algorithm == "hmac-sha1":
        return hmac.new(secret.encode(), canonical.encode(), hashlib.sha1).hexdigest()
    salted = f"{canonical}&key={secret}".encode()
    if algorithm == "md5":
        return hashlib.md5(salted, usedforsecurity=False).hexdigest()  # the platform's choice, not ours
    if algorithm == "sha256":
        return hashlib.sha256(salted).hexdigest()
    raise ValueError(f"unknown signing algorithm {algorithm!r}")


# -- configuration --------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def default_api(page_size: int = 50) -> ApiConfig:
    """Our own platform's configuration (:data:`DEFAULT_API`) with ``page_size`` records per page."""

    def fail(field: str, reason: str) -> SourceConfigError:
        return SourceConfigError("<built-in>", reason, field=field)

    return parse_api({}, fail, page_size=page_size)


def parse_api(given: Mapping[str, Any], fail: Fail, *, page_size: int = 50) -> ApiConfig:
    """Check a source's API keys over :data:`DEFAULT_API`; ``fail(field, reason)`` names the key at fault.

    A key left out keeps the default; ``paging``, ``fields`` and ``ok`` are replaced whole when given.
    ``page_size`` is the page size when ``paging.size`` is not given.
    """
    merged = {**DEFAULT_API, **given}
    method = merged.get("method")
    if method not in ("GET", "POST"):
        raise fail("method", f"应为 GET 或 POST / expected GET or POST, got {method!r}")
    body_type = merged.get("body_type", "json")
    if body_type not in ("json", "form"):
        raise fail("body_type", f"应为 json 或 form / expected json or form, got {body_type!r}")
    body = merged.get("body")
    if method == "POST":
        body = _body(body, body_type, fail)
    elif body is not None:
        raise fail("body", "只有 method: POST 才有请求体 / a body needs method: POST")
    ok = merged.get("ok")
    return ApiConfig(
        records=_path(merged.get("records"), "records", fail),
        fields=_fields(merged.get("fields"), fail),
        paging=_paging(merged.get("paging"), fail, page_size=page_size),
        ok=None if ok is None else _check(ok, fail),
        method=method,
        body=body,
        body_type=body_type,
        since_param=_optional_param(merged.get("since_param"), "since_param", fail),
        since_format=_since_format(merged.get("since_format", "iso"), fail),
    )


def parse_auth(value: object, fail: Fail) -> Auth:
    """``auth: {style: bearer|header|signed_query, secret: NAME, header: …, prefix: …, sign: {…}}``."""
    if not isinstance(value, Mapping):
        raise fail("auth", "应为映射，如 {style: bearer, secret: NAME} / expected a mapping")
    style = value.get("style")
    if style not in AUTH_STYLES:
        raise fail(
            "auth.style", f"应为 {'、'.join(AUTH_STYLES)} 之一 / expected one of {', '.join(AUTH_STYLES)}"
        )
    allowed = {"bearer": {"style", "secret"}, "header": {"style", "secret", "header", "prefix"}}.get(
        style, {"style", "secret", "sign"}
    )
    _known(value, allowed, "auth.", fail)
    secret = value.get("secret")
    if not isinstance(secret, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", secret):
        raise fail(
            "auth.secret",
            "应为密钥名（A-Z、0-9、_），值取自环境变量 YUQING_SECRET_<NAME> / "
            "name a secret in A-Z, 0-9 and _; its value comes from YUQING_SECRET_<NAME>",
        )
    if style == "bearer":
        return Auth(style, secret)
    if style == "header":
        header = value.get("header")
        if not isinstance(header, str) or not _HEADER.fullmatch(header):
            raise fail(
                "auth.header", "应为请求头名称，如 X-Api-Key / expected a header name such as X-Api-Key"
            )
        prefix = value.get("prefix", "")
        if not isinstance(prefix, str) or any(c in prefix for c in "\r\n"):
            raise fail("auth.prefix", "应为单行文本 / expected text on one line")
        return Auth(style, secret, header=header, prefix=prefix)
    return Auth(style, secret, sign=_signing(value.get("sign"), fail))


def _signing(value: object, fail: Fail) -> Signing:
    if not isinstance(value, Mapping):
        raise fail("auth.sign", "signed_query 需要 sign 映射 / signed_query needs a sign mapping")
    keys = {"algorithm", "params", "sign_param", "timestamp_param", "timestamp_unit", "nonce_param"}
    _known(value, keys | {"app_key_param", "app_key", "case"}, "auth.sign.", fail)
    algorithm = value.get("algorithm", "hmac-sha256")
    if algorithm not in SIGN_ALGORITHMS:
        raise fail(
            "auth.sign.algorithm",
            f"应为 {'、'.join(SIGN_ALGORITHMS)} 之一 / expected one of {', '.join(SIGN_ALGORITHMS)}",
        )
    params = value.get("params")
    if params is not None and (
        not isinstance(params, list)
        or not params
        or not all(isinstance(p, str) and _PARAM.fullmatch(p) for p in params)
    ):
        raise fail("auth.sign.params", "应为参数名列表 / expected a list of parameter names")
    unit = value.get("timestamp_unit", "s")
    if unit not in ("s", "ms"):
        raise fail("auth.sign.timestamp_unit", "应为 s 或 ms / expected s or ms")
    case = value.get("case", "lower")
    if case not in ("lower", "upper"):
        raise fail("auth.sign.case", "应为 lower 或 upper / expected lower or upper")
    app_key = value.get("app_key")
    if app_key is not None and (not isinstance(app_key, str | int) or not str(app_key).strip()):
        raise fail("auth.sign.app_key", "应为文本 / expected text")
    app_key_param = _optional_param(value.get("app_key_param"), "auth.sign.app_key_param", fail)
    if (app_key is None) != (app_key_param is None):
        raise fail(
            "auth.sign.app_key",
            "app_key 与 app_key_param 须同时给出 / give app_key and app_key_param together",
        )
    sign = Signing(
        algorithm=algorithm,
        params=tuple(params) if params is not None else None,
        sign_param=_param(value.get("sign_param", "sign"), "auth.sign.sign_param", fail),
        timestamp_param=_optional_param(
            value.get("timestamp_param", "timestamp"), "auth.sign.timestamp_param", fail
        ),
        timestamp_unit=unit,
        nonce_param=_optional_param(value.get("nonce_param"), "auth.sign.nonce_param", fail),
        app_key_param=app_key_param,
        app_key=None if app_key is None else str(app_key).strip(),
        case=case,
    )
    names = [sign.sign_param, sign.timestamp_param, sign.nonce_param, sign.app_key_param]
    present = [name for name in names if name]
    if len(set(present)) != len(present):
        raise fail(
            "auth.sign",
            "签名、时间戳、随机数、AppKey 参数名不能重复 / the added parameters need distinct names",
        )
    return sign


def _fields(value: object, fail: Fail) -> tuple[tuple[str, tuple[JsonPath, ...]], ...]:
    if not isinstance(value, Mapping) or not value:
        raise fail("fields", "应为“字段: 路径”的映射 / expected a mapping of field: path")
    pairs: list[tuple[str, tuple[JsonPath, ...]]] = []
    for field, paths in value.items():
        where = f"fields.{field}"
        if field not in HOTLINE_COLUMNS:
            raise fail(
                where,
                f"未知字段，可用：{'、'.join(HOTLINE_COLUMNS)} / unknown field; expected one of the above",
            )
        texts = [paths] if isinstance(paths, str) else paths
        if not isinstance(texts, list) or not texts:
            raise fail(where, "应为路径或路径列表，如 content.text / expected a path or a list of paths")
        compiled = tuple(_path(text, where, fail, root=False) for text in texts)
        pairs.append((str(field), compiled))
    missing = [name for name in HOTLINE_REQUIRED if name not in value]
    if missing:
        raise fail(
            f"fields.{missing[0]}",
            f"缺少必需字段：{'、'.join(missing)} / required fields missing (工单编号, 受理时间, 诉求内容)",
        )
    return tuple(pairs)


def _paging(value: object, fail: Fail, *, page_size: int) -> Paging:
    if not isinstance(value, Mapping):
        raise fail("paging", "应为映射，如 {style: page, param: pageNo} / expected a mapping")
    style = value.get("style")
    if style not in PAGING_STYLES:
        raise fail(
            "paging.style",
            f"应为 {'、'.join(PAGING_STYLES)} 之一 / expected one of {', '.join(PAGING_STYLES)}",
        )
    common = {"style", "size", "size_param", "more_path"}
    allowed = {
        "page": common | {"param", "start", "pages_path", "total_path"},
        "offset": common | {"param", "start", "total_path"},
        "cursor": common | {"param", "cursor_path"},
        "next_url": common | {"next_path"},
    }[style]
    _known(value, allowed, "paging.", fail)
    size = value.get("size", page_size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10_000:
        raise fail(
            "paging.size", f"应为 1–10000 的整数 / expected a whole number from 1 to 10000, got {size!r}"
        )
    start_default = {"page": 1, "offset": 0}.get(style, 0)
    start = value.get("start", start_default)
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise fail("paging.start", f"应为不小于 0 的整数 / expected a whole number >= 0, got {start!r}")
    param_default = {"page": "page", "offset": "offset", "cursor": "cursor"}.get(style)
    required = {"cursor": "cursor_path", "next_url": "next_path"}.get(style)
    if required is not None and required not in value:
        raise fail(f"paging.{required}", f"{style} 分页需要 {required} / {style} paging needs {required}")

    def path(key: str) -> JsonPath | None:
        return _path(value[key], f"paging.{key}", fail) if key in value else None

    return Paging(
        style=style,
        param=_optional_param(value.get("param", param_default), "paging.param", fail),
        size_param=_optional_param(value.get("size_param"), "paging.size_param", fail),
        size=size,
        start=start,
        pages_path=path("pages_path"),
        total_path=path("total_path"),
        more_path=path("more_path"),
        cursor_path=path("cursor_path"),
        next_path=path("next_path"),
    )


def _check(value: object, fail: Fail) -> Check:
    if not isinstance(value, Mapping) or "path" not in value or "equals" not in value:
        raise fail(
            "ok", "应为 {path: code, equals: 0, message: msg}，或 null 表示不检查 / expected path and equals"
        )
    _known(value, {"path", "equals", "message"}, "ok.", fail)
    equals = value["equals"]
    if not isinstance(equals, str | int | float | bool) and equals is not None:
        raise fail("ok.equals", "应为数字、文本或 true/false / expected a number, text or true/false")
    message = value.get("message")
    return Check(
        path=_path(value["path"], "ok.path", fail),
        equals=equals,
        message=None if message is None else _path(message, "ok.message", fail),
    )


def compile_path(text: str, *, root: bool = True) -> JsonPath:
    """``data.list`` / ``contacts[0].phone`` / ``$`` as a :class:`JsonPath`; ValueError when not one."""
    body = text.strip()
    if body == "$" and root:
        return JsonPath(body, ())
    body = body.removeprefix("$.")
    if not _PATH.fullmatch(body):
        raise ValueError("not a path")
    parts: list[str | int] = []
    for index, name in _PART.findall(body):
        parts.append(int(index) if index else name.strip())
    if len(parts) > MAX_PATH_PARTS:
        raise ValueError("too deep")
    return JsonPath(text.strip(), tuple(parts))


def _path(value: object, field: str, fail: Fail, *, root: bool = True) -> JsonPath:
    if not isinstance(value, str) or not value.strip():
        raise fail(field, "应为路径文本，如 data.list / expected a path such as data.list")
    try:
        return compile_path(value, root=root)
    except ValueError:
        raise fail(
            field,
            f"“{value}”不是有效路径：用点分隔键名、[n] 取列表元素，最多 {MAX_PATH_PARTS} 段 / not a path: "
            f"dotted keys with [n] list indexes, at most {MAX_PATH_PARTS} parts",
        ) from None


def _body(value: object, body_type: str, fail: Fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("body", "POST 需要请求体模板 / method POST needs a body template")
    unknown = sorted({name for name in _ANY_PLACEHOLDER.findall(value) if name not in PLACEHOLDERS})
    if unknown:
        raise fail(
            "body",
            f"未知占位符 {{{unknown[0]}}}，可用：{', '.join('{' + p + '}' for p in PLACEHOLDERS)} / "
            "unknown placeholder",
        )
    if body_type == "json":
        sample = ApiConfig(JsonPath("$", ()), (), Paging(), body=value)
        rendered = sample.render_body({"page": 1, "size": 50, "offset": 0, "cursor": "c", "since": "s"})
        try:
            json.loads(rendered)
        except ValueError as exc:
            raise fail(
                "body",
                f"填入占位符后不是有效 JSON（文本占位符 {{cursor}}、{{since}} 需加引号） / "
                f"not valid JSON once filled in (quote text placeholders): {exc}",
            ) from None
    return value


def _since_format(value: object, fail: Fail) -> str:
    if value in _SINCE_SPECIAL:
        return str(value)
    if not isinstance(value, str) or "%" not in value:
        raise fail(
            "since_format",
            "应为 iso、epoch、epoch_ms 或 strftime 格式如 '%Y-%m-%d %H:%M:%S' / expected iso, epoch, "
            "epoch_ms or a strftime format",
        )
    try:
        datetime(2024, 5, 6, 7, 8, 9).strftime(value)
    except ValueError as exc:
        raise fail("since_format", f"无效的时间格式 / not a usable strftime format: {exc}") from None
    return value


def _param(value: object, field: str, fail: Fail) -> str:
    if not isinstance(value, str) or not _PARAM.fullmatch(value):
        raise fail(field, "应为参数名（字母、数字、_ . - []）/ expected a parameter name")
    return value


def _optional_param(value: object, field: str, fail: Fail) -> str | None:
    return None if value is None else _param(value, field, fail)


def _known(value: Mapping[str, Any], allowed: set[str], prefix: str, fail: Fail) -> None:
    for key in value:
        if key not in allowed:
            raise fail(f"{prefix}{key}", f"未知的键，可用：{', '.join(sorted(allowed))} / unknown key")


def _index(part: str) -> int | None:
    text = part.strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _same(value: object, expected: object) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected or str(value).lower() == str(expected).lower()
    return value == expected or str(value) == str(expected)


def _short(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value_text(value)[:100] if value is not None else "None"
