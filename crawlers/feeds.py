"""Configuration of the non-board sources: 12345 hotline APIs and inboxes, and Weibo-like JSON APIs.

They live in the same sources.yaml list as the boards, told apart by ``kind``: ``hotline-api``,
``hotline-inbox`` or ``weibo`` (an entry without ``kind`` is a board). Secrets never appear here: a
source names the secret it needs (``token_secret``, ``cookie_secret``) and the entry point supplies the
value from the environment (``YUQING_SECRET_<NAME>``). A hotline API's shape, paging and authentication
are configuration too (:mod:`crawlers.hotline_api`); a source with a secret must use https (http only
for loopback hosts), and every source stays on its own hosts plus its ``allowed_hosts``
(:mod:`crawlers.scope`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from crawlers.errors import SourceConfigError
from crawlers.exports import HOTLINE_COLUMNS, MAX_FILE_MB, MAX_ROWS, header_key
from crawlers.hotline_api import API_KEYS, ApiConfig, Auth, parse_api, parse_auth
from crawlers.scope import parse_allowed_hosts, secure_for_secrets

FEED_KINDS = ("hotline-api", "hotline-inbox", "weibo")
_COMMON = frozenset(
    {"kind", "name", "display_name", "obey_robots", "polite", "max_pages", "region", "every"}
    | {"token_secret", "cookie_secret"}
)
_KIND_KEYS = {
    "hotline-api": frozenset({"start_url", "page_size", "auth", "allowed_hosts", "detail_url"}) | API_KEYS,
    "hotline-inbox": frozenset({"inbox", "columns", "max_rows", "max_file_mb", "detail_url"}),
    "weibo": frozenset({"api_url", "keywords", "accounts", "allowed_hosts"}),
}
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SECRET = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# Where a hotline's ``detail_url`` puts the order's number: each work order links to its own page.
ORDER_PLACEHOLDER = "{工单编号}"


@dataclass(frozen=True)
class FeedSource:
    """One configured hotline or Weibo-like source; which fields matter depends on ``kind``.

    ``start_url`` is the hotline API's first page; ``inbox`` the folder export files are dropped into;
    ``api_url`` the Weibo-like ``getIndex`` endpoint, searched for each of ``keywords`` and read for the
    timeline of each of ``accounts``. ``every`` is the source's own schedule in seconds (None: every cycle).
    An inbox's ``columns`` are (field, header) pairs for headers the built-in synonyms do not know, and
    ``max_rows`` and ``max_file_mb`` the limits beyond which a file is rejected whole. A hotline API's
    ``api`` is its configured shape (None: our own platform's, :func:`crawlers.hotline_api.default_api`
    with ``page_size``) and ``auth`` how it authenticates (``token_secret`` alone means a bearer token).
    ``allowed_hosts`` are hosts besides the URL's that the source may fetch from. ``detail_url`` is a
    hotline platform's page of one work order, with ``{工单编号}`` where the order's number goes
    ("": the platform has none, and the orders' posts carry no link).
    """

    kind: str
    name: str
    display_name: str
    start_url: str = ""
    page_size: int = 50
    inbox: Path | None = None
    api_url: str = ""
    keywords: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    obey_robots: bool | None = None
    polite: bool = True
    max_pages: int | None = None
    region: str | None = None
    every: int | None = None
    token_secret: str | None = None
    cookie_secret: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    max_rows: int = MAX_ROWS
    max_file_mb: int = MAX_FILE_MB
    api: ApiConfig | None = None
    auth: Auth | None = None
    allowed_hosts: tuple[str, ...] = ()
    detail_url: str = ""

    @property
    def credentials(self) -> Auth | None:
        """How a request proves who sends it: ``auth``, else ``token_secret`` as a bearer token."""
        if self.auth is not None:
            return self.auth
        return Auth("bearer", self.token_secret) if self.token_secret else None


def load_feeds(path: Path) -> list[FeedSource]:
    """The hotline and Weibo-like entries of a sources file (boards are :func:`load_sources`' business)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourceConfigError(path, f"cannot read the sources file: {exc}") from exc
    if not isinstance(data, list):
        raise SourceConfigError(path, "expected a YAML list of sources")
    feeds: list[FeedSource] = []
    for index, entry in enumerate(data):
        if isinstance(entry, Mapping) and entry.get("kind", "board") != "board":
            feed = _parse(path, entry, f"#{index + 1}")
            if any(existing.name == feed.name for existing in feeds):
                raise SourceConfigError(path, "another source has this name", board=feed.name, field="name")
            feeds.append(feed)
    return feeds


def _parse(path: Path, entry: Mapping[str, Any], label: str) -> FeedSource:
    name = entry.get("name")
    label = name if isinstance(name, str) and name else label

    def fail(field: str, reason: str) -> SourceConfigError:
        return SourceConfigError(path, reason, board=label, field=field)

    kind = entry.get("kind")
    if kind not in FEED_KINDS:
        raise fail("kind", f"expected one of board, {', '.join(FEED_KINDS)}; got {kind!r}")
    allowed = _COMMON | _KIND_KEYS[kind]
    for key in entry:
        if key not in allowed:
            raise fail(str(key), f"unknown key for kind {kind}; expected one of {sorted(allowed)}")
    if not isinstance(name, str) or not _CHANNEL.fullmatch(name):
        raise fail("name", "use 1-64 of a-z, 0-9, '-' and '_' (it is part of post ids)")
    display = entry.get("display_name")
    if not isinstance(display, str) or not display.strip():
        raise fail("display_name", "missing or not text")
    values: dict[str, Any] = {"kind": kind, "name": name, "display_name": display.strip()}
    for key in ("obey_robots", "polite"):
        if key in entry:
            if not isinstance(entry[key], bool):
                raise fail(key, f"expected true or false, got {entry[key]!r}")
            values[key] = entry[key]
    for key in ("max_pages", "every", "page_size", "max_rows", "max_file_mb"):
        if key in entry:
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise fail(key, f"expected a whole number >= 1, got {value!r}")
            values[key] = value
    for key in ("token_secret", "cookie_secret"):
        if key in entry:
            if not isinstance(entry[key], str) or not _SECRET.fullmatch(entry[key]):
                raise fail(key, "name a secret in A-Z, 0-9 and _ (its value comes from YUQING_SECRET_<NAME>)")
            values[key] = entry[key]
    if isinstance(entry.get("region"), str):
        values["region"] = entry["region"]
    if kind in ("hotline-api", "weibo") and "allowed_hosts" in entry:
        values["allowed_hosts"] = parse_allowed_hosts(entry["allowed_hosts"], fail)
    if "detail_url" in entry:
        detail = _url(entry["detail_url"], lambda r: fail("detail_url", r))
        if ORDER_PLACEHOLDER not in detail:
            raise fail(
                "detail_url",
                f"须在工单编号的位置写 {ORDER_PLACEHOLDER} / "
                f"put {ORDER_PLACEHOLDER} where the order's number goes",
            )
        values["detail_url"] = detail
    if kind == "hotline-api":
        values["start_url"] = _url(entry.get("start_url"), lambda r: fail("start_url", r))
        given = {key: entry[key] for key in API_KEYS if key in entry}
        if "page_size" in entry and isinstance(given.get("paging"), Mapping) and "size" in given["paging"]:
            raise fail(
                "page_size", "page_size 与 paging.size 只能给一个 / give page_size or paging.size, not both"
            )
        if given:
            values["api"] = parse_api(given, fail, page_size=values.get("page_size", 50))
        if "auth" in entry:
            if "token_secret" in entry:
                raise fail("auth", "auth 与 token_secret 只能给一个 / give auth or token_secret, not both")
            values["auth"] = parse_auth(entry["auth"], fail)
    elif kind == "weibo":
        values["api_url"] = _url(entry.get("api_url"), lambda r: fail("api_url", r))
        for key in ("keywords", "accounts"):
            items = entry.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str | int) and str(i) for i in items):
                raise fail(key, "expected a list of texts")
            values[key] = tuple(str(i) for i in items)
        if not values["keywords"] and not values["accounts"]:
            raise fail("keywords", "give at least one keyword or account")
    else:
        inbox = entry.get("inbox")
        if not isinstance(inbox, str) or not inbox.strip():
            raise fail("inbox", "missing: the folder export files are dropped into")
        folder = Path(inbox)
        values["inbox"] = folder if folder.is_absolute() else (path.parent / folder)
        if "columns" in entry:
            values["columns"] = _columns(entry["columns"], fail)
    secret = next((key for key in ("auth", "token_secret", "cookie_secret") if key in entry), None)
    url_key = {"hotline-api": "start_url", "weibo": "api_url"}.get(kind)
    if secret is not None and url_key is not None and not secure_for_secrets(values[url_key]):
        raise fail(
            url_key,
            f"带密钥（{secret}）的来源必须用 https，http 仅限本机 127.0.0.1/localhost / "
            f"a source with a secret ({secret}) must use https; http is allowed only for loopback hosts",
        )
    return FeedSource(**values)


def _columns(value: object, fail: Any) -> tuple[tuple[str, str], ...]:
    """``columns: {工单编号: 单据号, 受理时间: [来电日期, 登记日期]}`` as (field, header) pairs."""
    if not isinstance(value, Mapping) or not value:
        raise fail("columns", "应为“字段: 列名”的映射 / expected a mapping of field: header")
    pairs: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for field, headers in value.items():
        where = f"columns.{field}"
        if field not in HOTLINE_COLUMNS:
            raise fail(
                where,
                f"未知字段，可用：{'、'.join(HOTLINE_COLUMNS)} / unknown field; expected one of the above",
            )
        names = [headers] if isinstance(headers, str) else headers
        valid = isinstance(names, list) and all(isinstance(n, str) and n.strip() for n in names)
        if not valid or not names:
            raise fail(where, "列名应为文本或文本列表 / expected a header text or a list of them")
        for name in names:
            key = header_key(name)
            if key in owner and owner[key] != field:
                raise fail(where, f"列名“{name}”已映射到 {owner[key]} / header already mapped to a field")
            owner[key] = field
            pairs.append((str(field), name.strip()))
    return tuple(pairs)


def _url(value: object, fail: Any) -> str:
    if not isinstance(value, str):
        raise fail("missing URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(f"not an http(s) URL: {value!r}")
    return value
