"""JSON boards (``kind: board-json``): 留言板 that are single-page apps fed by a list and a detail endpoint.

Configuration (one entry of sources.yaml)::

    - kind: board-json
      name: city-wenzheng
      display_name: 某市问政平台
      list:
        url: https://wz.example.gov.cn/api/letters
        method: POST                     # GET (default) or POST
        body: {pageNo: "{page}", pageSize: 20}   # POST: the JSON body; "{page}" becomes the page number
        # page_param: pageNo             # or: the query parameter carrying the page number (GET or POST)
        records: data.list               # where the page's records are ($: the answer is the list)
        id: letterId                     # a record's id (in the list record)
        pages: data.pages                # optional: the number of pages, to stop paging early
      page_url: https://wz.example.gov.cn/#/letter/{id}   # optional: the page people read (the post's url)
      detail:                            # optional: without it, a list record is the whole message
        url: https://wz.example.gov.cn/api/letter?id={id}
        record: data                     # optional: where the message is in the detail answer
      fields:                            # paths into the record; title, published_at, text required
        title: title
        published_at: createTime
        text: content
        author: userName
        status: statusName
        reply_text: replies.replyContent  # a list on the way is read element by element
        replied_at: replies[0].replyTime  # [n] picks one element ([-1]: the last)
        reply_unit: replies[0].orgName

A field is read from the detail record first, then from the list record, and each value says where it
came from (:class:`Found`), which ``yuqing sources try`` prints. A time may be text (``time_format``,
or the common forms without it) or epoch seconds or milliseconds; HTML in a text keeps its paragraphs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.china_time import CHINA_TZ
from crawlers.errors import SourceConfigError
from crawlers.extract import Found, html_fragment_text
from crawlers.normalise import normalise_line, parse_board_time
from crawlers.scope import parse_allowed_hosts, secure_for_secrets
from crawlers.sources import DEFAULT_REPLIED_LABELS, _Board

KIND = "board-json"
FIELD_NAMES = (
    "title", "published_at", "text", "author", "status", "reply_text", "replied_at", "reply_unit",
)  # fmt: skip
REQUIRED = ("title", "published_at", "text")
TIME_FIELDS = frozenset({"published_at", "replied_at"})
# Forms a JSON API writes times in, tried after the source's own time_format.
JSON_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日",
)  # fmt: skip
PAGE = "{page}"
ID = "{id}"
_KEYS = frozenset(
    {"kind", "name", "display_name", "list", "detail", "fields", "time_format", "obey_robots", "polite"}
    | {"page_url"}
    | {"max_pages", "region", "replied_labels", "every", "cookie_secret", "allowed_hosts"}
)
_LIST_KEYS = frozenset({"url", "method", "body", "page_param", "first_page", "records", "id", "pages"})
_DETAIL_KEYS = frozenset({"url", "method", "body", "record"})
# The path syntax of the hotline API's configuration (crawlers.hotline_api): dotted keys, [n] indexes.
_PATH = re.compile(r"(?:[^.\[\]\s]+|\[-?\d+\])(?:\.[^.\[\]\s]+|\[-?\d+\])*")
_PART = re.compile(r"\[(-?\d+)\]|([^.\[\]]+)")
ROOT_PATHS = ("$", ".")
_SECRET = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_HTML = re.compile(r"<(p|br|div|span|a|strong|b|em|font|img|table|li|h\d)\b", re.IGNORECASE)
_EPOCH = re.compile(r"\d{10}(\d{3})?")


@dataclass(frozen=True)
class Endpoint:
    """An endpoint: its URL (``{page}`` or ``{id}`` may appear), method and JSON body template (text)."""

    url: str
    method: str = "GET"
    body: str | None = None  # canonical JSON of the template; None: no body


@dataclass(frozen=True)
class JsonBoardSource:
    """One JSON board as configured; every path is dotted (``data.list``, ``replies[0].replyTime``)."""

    name: str
    display_name: str
    list_endpoint: Endpoint
    records: str
    id_path: str
    fields: tuple[tuple[str, str], ...]  # (field name, path) for each configured field
    page_param: str | None = None
    first_page: int = 1
    pages_path: str | None = None
    detail_endpoint: Endpoint | None = None
    detail_record: str | None = None
    page_url: str | None = None  # the page people read, with {id}; the post's url (else the API's)
    time_format: tuple[str, ...] = JSON_TIME_FORMATS
    obey_robots: bool | None = None
    polite: bool = True
    max_pages: int | None = None
    region: str | None = None
    replied_labels: tuple[str, ...] = DEFAULT_REPLIED_LABELS
    every: int | None = None
    cookie_secret: str | None = None  # the NAME of the secret sent as the Cookie header
    allowed_hosts: tuple[str, ...] = ()  # hosts besides the list endpoint's (crawlers.scope)
    kind: str = KIND

    @property
    def start_url(self) -> str:
        """The list endpoint (what the catalog shows as the source's address)."""
        return self.list_endpoint.url

    @property
    def paged(self) -> bool:
        """Whether the list is paged (a page parameter, or ``{page}`` in the URL or the body)."""
        endpoint = self.list_endpoint
        return self.page_param is not None or PAGE in endpoint.url or PAGE in (endpoint.body or "")

    def path_of(self, field: str) -> str | None:
        """The configured path of ``field``, or None."""
        return dict(self.fields).get(field)


def parse_json_board(path: Path, entry: Mapping[str, Any], index: int) -> JsonBoardSource:
    """Check one ``kind: board-json`` entry; raise :class:`SourceConfigError` naming the field at fault."""
    return _JsonBoardEntry(path, entry, index).parse_json_board()


class _JsonBoardEntry(_Board):
    """The board reader's checks (names, flags, times, labels) plus the JSON board's own keys."""

    def parse_json_board(self) -> JsonBoardSource:
        self._unknown_keys(self.entry, _KEYS, "")
        name = self._text("name")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
            raise self.fail("name", "use 1-64 of a-z, 0-9, '-' and '_' (it is part of post ids)")
        listing = self._mapping("list", _LIST_KEYS)
        detail = self.entry.get("detail")
        fields = self._mapping("fields", frozenset(FIELD_NAMES))
        for required in REQUIRED:
            if required not in fields:
                raise self.fail(f"fields.{required}", "missing: a dotted path into the record")
        page_param = listing.get("page_param")
        if page_param is not None and (not isinstance(page_param, str) or not page_param.strip()):
            raise self.fail("list.page_param", "expected the name of a query parameter")
        first_page = listing.get("first_page", 1)
        if isinstance(first_page, bool) or not isinstance(first_page, int) or first_page < 0:
            raise self.fail("list.first_page", f"expected a whole number >= 0, got {first_page!r}")
        detail_endpoint = None
        detail_record = None
        if detail is not None:
            if not isinstance(detail, Mapping):
                raise self.fail("detail", "expected a mapping with url (and method, body, record)")
            self._unknown_keys(detail, _DETAIL_KEYS, "detail.")
            detail_endpoint = self._endpoint(detail, "detail")
            if ID not in detail_endpoint.url and ID not in (detail_endpoint.body or ""):
                raise self.fail("detail.url", "put {id} in the URL (or the body) where the record's id goes")
            detail_record = self._optional_path(detail.get("record"), "detail.record")
        list_endpoint = self._endpoint(listing, "list")
        cookie = self.entry.get("cookie_secret")
        if cookie is not None and (not isinstance(cookie, str) or not _SECRET.fullmatch(cookie)):
            raise self.fail("cookie_secret", "name a secret in A-Z, 0-9 and _ (from YUQING_SECRET_<NAME>)")
        if cookie is not None and not secure_for_secrets(list_endpoint.url):
            raise self.fail(
                "list.url", "a source with a secret must use https (http only for loopback hosts)"
            )
        allowed = self.entry.get("allowed_hosts")
        formats = self._time_formats() if self.entry.get("time_format") is not None else ()
        page_url = self._optional_text("page_url")
        if page_url is not None and (ID not in page_url or not re.match(r"https?://", page_url)):
            raise self.fail("page_url", "expected an http(s) URL with {id} where the record's id goes")
        return JsonBoardSource(
            name=name,
            display_name=self._text("display_name"),
            list_endpoint=list_endpoint,
            records=self._path(listing.get("records"), "list.records"),
            id_path=self._path(listing.get("id"), "list.id"),
            fields=tuple(
                (key, self._path(fields[key], f"fields.{key}")) for key in FIELD_NAMES if key in fields
            ),
            page_param=page_param.strip() if isinstance(page_param, str) else None,
            first_page=first_page,
            pages_path=self._optional_path(listing.get("pages"), "list.pages"),
            detail_endpoint=detail_endpoint,
            detail_record=detail_record,
            page_url=page_url,
            time_format=tuple(dict.fromkeys((*formats, *JSON_TIME_FORMATS))),
            obey_robots=self._optional_bool("obey_robots"),
            polite=self._optional_bool("polite") is not False,
            max_pages=self._optional_positive_int("max_pages"),
            region=self._optional_text("region"),
            replied_labels=self._labels(),
            every=self._optional_positive_int("every"),
            cookie_secret=cookie,
            allowed_hosts=() if allowed is None else parse_allowed_hosts(allowed, self.fail),
        )

    def _mapping(self, key: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        value = self.entry.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(key, "missing: a mapping (see docs/crawlers.md, kind board-json)")
        self._unknown_keys(value, allowed, f"{key}.")
        return value

    def _endpoint(self, mapping: Mapping[str, Any], where: str) -> Endpoint:
        url = mapping.get("url")
        if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url.strip()):
            raise self.fail(f"{where}.url", f"not an http(s) URL: {url!r}")
        method = str(mapping.get("method", "GET")).upper()
        if method not in ("GET", "POST"):
            raise self.fail(f"{where}.method", f"expected GET or POST, got {mapping.get('method')!r}")
        body = mapping.get("body")
        if body is not None and method != "POST":
            raise self.fail(f"{where}.body", "a body is sent with method: POST only")
        if body is not None and not isinstance(body, Mapping):
            raise self.fail(f"{where}.body", "expected a mapping (sent as a JSON object)")
        text = None if body is None else json.dumps(body, ensure_ascii=False, sort_keys=True)
        return Endpoint(url.strip(), method, text)

    def _path(self, value: object, field: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = value.strip() if isinstance(value, str) else ""
        if not (text in ROOT_PATHS or _PATH.fullmatch(text)):
            raise self.fail(
                field, "expected a path such as data.list or replies[0].text ($: the whole answer)"
            )
        return text

    def _optional_path(self, value: object, field: str) -> str | None:
        return None if value is None else self._path(value, field)


def resolve(document: object, path: str) -> list[Any]:
    """Every value at ``path`` in ``document``: a list on the way is read element by element.

    ``$`` is the document itself; ``[n]`` (or a plain number) picks one element of a list. Missing keys
    give nothing.
    """
    values: list[Any] = [document]
    if path in ROOT_PATHS:
        return values
    for match in _PART.finditer(path):
        index_text, segment = match.group(1), match.group(2)
        found: list[Any] = []
        for value in values:
            if isinstance(value, Mapping):
                if segment is not None and segment in value:
                    found.append(value[segment])
            elif isinstance(value, list):
                if index_text is not None or segment.lstrip("-").isdigit():
                    index = int(index_text if index_text is not None else segment)
                    if -len(value) <= index < len(value):
                        found.append(value[index])
                else:
                    found.extend(
                        item[segment] for item in value if isinstance(item, Mapping) and segment in item
                    )
        values = found
    return [value for value in values if value is not None]


def value_text(values: Iterable[Any], *, time: bool = False) -> str | None:
    """The values as text: HTML keeps its paragraphs, epoch numbers become times, lists join by line.

    Objects are not text (a path that stops too early): None.
    """
    parts: list[str] = []
    for value in values:
        if isinstance(value, list):
            inner = value_text(value, time=time)
            if inner:
                parts.append(inner)
            continue
        if isinstance(value, Mapping):
            continue
        if isinstance(value, bool):
            parts.append("是" if value else "否")
            continue
        if time and (
            isinstance(value, int | float) or (isinstance(value, str) and _EPOCH.fullmatch(value.strip()))
        ):
            parts.append(_epoch_text(float(value)))
            continue
        text = str(value)
        if _HTML.search(text):
            text = html_fragment_text(text)
        if text.strip():
            parts.append(text)
        if time and parts:
            break  # one time, the first
    return "\n".join(parts) if parts else None


def _epoch_text(number: float) -> str:
    seconds = number / 1000 if number > 10**11 else number
    return datetime.fromtimestamp(seconds, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def record_id(record: Mapping[str, Any], source: JsonBoardSource) -> str | None:
    """A list record's native id (spaces dropped), or None when it has none."""
    text = value_text(resolve(record, source.id_path))
    native = normalise_line(text).replace(" ", "") if text else ""
    return native or None


def read_fields(
    source: JsonBoardSource, record: Mapping[str, Any], detail: Mapping[str, Any] | None
) -> dict[str, Found]:
    """Each configured field from the detail record (when there is one), else from the list record."""
    out: dict[str, Found] = {}
    for name, path in source.fields:
        tried: list[str] = []
        found: Found | None = None
        places = (("详情", detail), ("列表", record)) if detail is not None else (("列表", record),)
        for label, document in places:
            if document is None:
                continue
            where = f"{label} {path}"
            text = value_text(resolve(document, path), time=name in TIME_FIELDS)
            if text is not None and text.strip():
                found = Found(text, where)
                break
            tried.append(where)
        out[name] = found or Found(None, "；".join(tried))
    return out


def record_problem(fields: Mapping[str, Found], source: JsonBoardSource) -> str | None:
    """Why a record cannot be a message (a required field missing, a time not a time), or None."""
    for name in REQUIRED:
        found = fields.get(name)
        if found is None or not normalise_line(found.value):
            return f"missing {name}"
    if parse_board_time(fields["published_at"].value, source.time_format) is None:
        return "unparseable published_at"
    return None


def list_signature(record: Mapping[str, Any], source: JsonBoardSource) -> str:
    """A list record's signature: its configured fields' values (the whole record if it has none).

    A new reply or a status change shows on the list record (办理状态, 回复数): its signature changes and
    the detail is fetched again; a counter the fields do not name (views) does not defeat the skip.
    """
    values = {name: resolve(record, path) for name, path in source.fields}
    shown: dict[str, object] = {name: value for name, value in values.items() if value}
    if not shown:
        shown = {"record": record}
    data = json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def fill(template: str, placeholder: str, value: str, *, quote_url: bool = False) -> str:
    """``template`` with ``placeholder`` replaced (URL-quoted in a URL)."""
    return template.replace(placeholder, quote(value, safe="") if quote_url else value)


def fill_body(template: str | None, placeholder: str, value: int | str) -> dict[str, Any] | None:
    """A request's JSON body: a ``"{page}"`` alone becomes the value itself; inside a text, it is replaced."""
    if template is None:
        return None

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return value if node == placeholder else node.replace(placeholder, str(value))
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        return node

    body = walk(json.loads(template))
    if not isinstance(body, dict):
        raise SourceConfigError("-", "a JSON board's body template must be an object")
    return body
