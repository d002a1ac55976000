"""Board configuration: load and check ``sources.yaml``, the one place a message board is described.

A file is a YAML list of boards. Each board names its channel, where its list starts, and how to find
rows, detail links, the next page and every detail field. Adding a board is an entry here, never code.
A selector is CSS (with Parsel's ``::text`` and ``::attr(name)``) when written as a string; a mapping
``{xpath: "..."}`` or ``{css: "..."}`` chooses explicitly and may add ``re`` (first group, or the whole
match, of a regular expression applied to the extracted text). See ``crawlers/sources.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawlers.errors import SourceConfigError
from crawlers.scope import parse_allowed_hosts

PACKAGED_SOURCES = Path(__file__).with_name("sources.yaml")
REQUIRED_FIELDS = ("title", "published_at", "text")
OPTIONAL_FIELDS = ("native_id", "author", "status", "reply_unit", "replied_at", "reply_text")
DEFAULT_REPLIED_LABELS = ("已回复", "已答复", "已办结", "已办理")
# fmt: off
_BOARD_KEYS = frozenset({
    "name", "display_name", "start_url", "list", "fields", "time_format", "id_pattern", "obey_robots",
    "polite", "max_pages", "region", "replied_labels", "kind", "every", "allowed_hosts",
})
# fmt: on
_LIST_KEYS = frozenset({"rows", "detail_link", "next_page"})
# The channel is part of every post id "<source>:<channel>:<native id>", so it must not hold ":".
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_CSS = HTMLTranslator()
# Parsel registers the EXSLT regex namespace, so board XPaths may use re:test() and must compile with it.
_XPATH_NAMESPACES = {"re": "http://exslt.org/regular-expressions"}
_Fail = Callable[[str], SourceConfigError]


@dataclass(frozen=True)
class FieldSelector:
    """Where one value sits on a page: a CSS or XPath query and an optional regular expression."""

    kind: Literal["css", "xpath"]
    query: str
    pattern: str | None = None


@dataclass(frozen=True)
class DetailFields:
    """The selectors of a detail page; only title, time and text are required of every board."""

    title: FieldSelector
    published_at: FieldSelector
    text: FieldSelector
    native_id: FieldSelector | None = None
    author: FieldSelector | None = None
    status: FieldSelector | None = None
    reply_unit: FieldSelector | None = None
    replied_at: FieldSelector | None = None
    reply_text: FieldSelector | None = None


@dataclass(frozen=True)
class BoardSource:
    """One message board (政府网站留言板) as configured: list page → detail pages → next page."""

    name: str
    display_name: str
    start_url: str
    rows: FieldSelector
    detail_link: FieldSelector
    next_page: FieldSelector | None
    fields: DetailFields
    time_format: tuple[str, ...]
    id_pattern: str | None = None
    obey_robots: bool | None = None
    polite: bool = True
    max_pages: int | None = None
    region: str | None = None
    replied_labels: tuple[str, ...] = DEFAULT_REPLIED_LABELS
    every: int | None = None  # the board's own schedule in seconds (crawlers.schedule); None: every cycle
    allowed_hosts: tuple[str, ...] = ()  # hosts besides start_url's it may fetch from (crawlers.scope)


def load_sources(path: Path) -> list[BoardSource]:
    """Read and check a sources file; raise :class:`SourceConfigError` naming the board and field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceConfigError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceConfigError(path, f"not valid YAML: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise SourceConfigError(path, "expected a non-empty YAML list of boards")
    boards: list[BoardSource] = []
    for index, entry in enumerate(data):
        if isinstance(entry, Mapping) and entry.get("kind", "board") != "board":
            continue  # a hotline or Weibo-like source: crawlers.feeds.load_feeds reads those
        board = _Board(path, entry, index)
        source = board.parse()
        if any(existing.name == source.name for existing in boards):
            raise SourceConfigError(path, "another board has this name", board=source.name, field="name")
        boards.append(source)
    return boards


class _Board:
    """Parses one entry of the list, remembering which board it is for the error messages."""

    def __init__(self, path: Path, entry: object, index: int) -> None:
        self.path = path
        self.label = f"#{index + 1}"
        if not isinstance(entry, Mapping):
            raise SourceConfigError(path, "a board must be a mapping of keys", board=self.label)
        self.entry: Mapping[str, Any] = entry
        name = entry.get("name")
        if isinstance(name, str) and name:
            self.label = name

    def fail(self, field: str, reason: str) -> SourceConfigError:
        return SourceConfigError(self.path, reason, board=self.label, field=field)

    def parse(self) -> BoardSource:
        self._unknown_keys(self.entry, _BOARD_KEYS, "")
        name = self._text("name")
        if not _CHANNEL.fullmatch(name):
            raise self.fail("name", "use 1-64 of a-z, 0-9, '-' and '_' (it is part of post ids)")
        start_url = self._text("start_url")
        parts = urlsplit(start_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail("start_url", f"not an http(s) URL: {start_url!r}")
        listing = self.entry.get("list")
        if not isinstance(listing, Mapping):
            raise self.fail("list", "missing: a mapping with rows, detail_link and next_page selectors")
        self._unknown_keys(listing, _LIST_KEYS, "list.")
        fields = self._fields()
        id_pattern = self._optional_regex("id_pattern", groups=1)
        if fields.native_id is None and id_pattern is None:
            raise self.fail("fields.native_id", "give a native_id selector or an id_pattern for detail URLs")
        return BoardSource(
            name=name,
            display_name=self._text("display_name"),
            start_url=start_url,
            rows=self._selector(listing.get("rows"), "list.rows"),
            detail_link=self._selector(listing.get("detail_link"), "list.detail_link"),
            next_page=self._optional_selector(listing.get("next_page"), "list.next_page"),
            fields=fields,
            time_format=self._time_formats(),
            id_pattern=id_pattern,
            obey_robots=self._optional_bool("obey_robots"),
            polite=self._optional_bool("polite") is not False,
            max_pages=self._optional_positive_int("max_pages"),
            region=self._optional_text("region"),
            replied_labels=self._labels(),
            every=self._optional_positive_int("every"),
            allowed_hosts=parse_allowed_hosts(self.entry["allowed_hosts"], self.fail)
            if "allowed_hosts" in self.entry
            else (),
        )

    def _unknown_keys(self, mapping: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", f"unknown key; expected one of {sorted(allowed)}")

    def _text(self, key: str) -> str:
        value = self.entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "missing or not text")
        return value.strip()

    def _optional_text(self, key: str) -> str | None:
        return None if self.entry.get(key) is None else self._text(key)

    def _optional_bool(self, key: str) -> bool | None:
        value = self.entry.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def _optional_positive_int(self, key: str) -> int | None:
        value = self.entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise self.fail(key, f"expected a whole number >= 1, got {value!r}")
        return value

    def _optional_regex(self, key: str, *, groups: int) -> str | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, "expected a regular expression as text")
        return _check_regex(value, lambda reason: self.fail(key, reason), groups=groups)

    def _time_formats(self) -> tuple[str, ...]:
        value = self.entry.get("time_format")
        formats = [value] if isinstance(value, str) else value
        if not isinstance(formats, list) or not formats or not all(isinstance(f, str) for f in formats):
            raise self.fail("time_format", "expected a strptime format such as '%Y-%m-%d %H:%M:%S' or a list")
        sample = datetime(2024, 5, 6, 7, 8, 9)
        for fmt in formats:
            try:
                datetime.strptime(sample.strftime(fmt), fmt)
            except ValueError as exc:
                raise self.fail("time_format", f"{fmt!r} is not a usable strptime format: {exc}") from exc
        return tuple(formats)

    def _labels(self) -> tuple[str, ...]:
        value = self.entry.get("replied_labels")
        if value is None:
            return DEFAULT_REPLIED_LABELS
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail("replied_labels", "expected a non-empty list of status texts, e.g. [已回复]")
        return tuple(value)

    def _fields(self) -> DetailFields:
        fields = self.entry.get("fields")
        if not isinstance(fields, Mapping):
            raise self.fail("fields", "missing: a mapping of detail-page field selectors")
        self._unknown_keys(fields, frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS), "fields.")

        def required(name: str) -> FieldSelector:
            return self._selector(fields.get(name), f"fields.{name}")

        def optional(name: str) -> FieldSelector | None:
            return self._optional_selector(fields.get(name), f"fields.{name}")

        return DetailFields(
            title=required("title"),
            published_at=required("published_at"),
            text=required("text"),
            native_id=optional("native_id"),
            author=optional("author"),
            status=optional("status"),
            reply_unit=optional("reply_unit"),
            replied_at=optional("replied_at"),
            reply_text=optional("reply_text"),
        )

    def _optional_selector(self, value: object, field: str) -> FieldSelector | None:
        return None if value is None else self._selector(value, field)

    def _selector(self, value: object, field: str) -> FieldSelector:
        def fail(reason: str) -> SourceConfigError:
            return self.fail(field, reason)

        if value is None:
            raise fail("missing selector")
        if isinstance(value, str):
            return FieldSelector("css", _check_css(value, fail))
        if not isinstance(value, Mapping):
            raise fail("a selector is a CSS string or a mapping with css or xpath (and optional re)")
        unknown = set(value) - {"css", "xpath", "re"}
        if unknown:
            raise fail(f"unknown selector keys {sorted(unknown)}; use css or xpath, and re")
        if ("css" in value) == ("xpath" in value):
            raise fail("give exactly one of css or xpath")
        pattern = value.get("re")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise fail("re must be a regular expression as text")
            _check_regex(pattern, fail, groups=None)
        if "css" in value:
            return FieldSelector("css", _check_css(value["css"], fail), pattern)
        return FieldSelector("xpath", _check_xpath(value["xpath"], fail), pattern)


def _check_css(query: object, fail: _Fail) -> str:
    if not isinstance(query, str) or not query.strip():
        raise fail("empty CSS selector")
    try:
        _CSS.css_to_xpath(query)
    except SelectorError as exc:
        raise fail(f"invalid CSS selector {query!r}: {exc}") from exc
    return query


def _check_xpath(query: object, fail: _Fail) -> str:
    if not isinstance(query, str) or not query.strip():
        raise fail("empty XPath expression")
    try:
        etree.XPath(query, namespaces=_XPATH_NAMESPACES)
    except etree.XPathSyntaxError as exc:
        raise fail(f"invalid XPath {query!r}: {exc}") from exc
    return query


def _check_regex(pattern: str, fail: _Fail, *, groups: int | None) -> str:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise fail(f"invalid regular expression {pattern!r}: {exc}") from exc
    if groups is not None and compiled.groups < groups:
        raise fail(f"the regular expression {pattern!r} needs a capturing group for the id")
    return pattern
