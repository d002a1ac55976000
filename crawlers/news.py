"""News (``kind: news``): RSS/Atom feeds and site list pages, each article's main text by an extractor.

Configuration (one entry of sources.yaml)::

    - kind: news
      name: city-daily
      display_name: 某市日报
      feed_url: https://news.example.cn/rss.xml    # RSS 2.0, RSS 1.0 or Atom; or, for a site without one:
      # list_url: https://news.example.cn/local/list.html
      # list:
      #   links: "ul.news-list a::attr(href)"       # every article link on the list page
      #   next_page: "a.next::attr(href)"           # optional
      outlet: 某市日报                    # optional: the outlet's name (else the feed's title, the page's)
      fields:                             # optional selectors on the article page; they win over the rest
        published_at: "span.pubtime::text"
        author: {xpath: "//span[@class='info']", re: "作者：(\\S+)"}
      time_format: "%Y-%m-%d %H:%M:%S"    # optional: the page's time form (common forms are read anyway)
      id_pattern: "/(\\d+)\\.html"         # optional: the article's id in its URL (else a hash of the URL)
      allowed_hosts: [www.example.cn]     # optional: hosts besides the feed's the articles may be on

An article's main text comes from trafilatura (Apache-2.0), which drops the navigation, related links and
footers around it; its title, time, author and outlet from the configured selectors first, then the feed
entry, then the extractor's metadata. Each value says where it came from (:class:`Found`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from parsel import Selector

from crawlers.errors import CrawlerError
from crawlers.extract import Found, describe, extract_text, html_fragment_text
from crawlers.normalise import normalise_line, parse_loose_time
from crawlers.scope import parse_allowed_hosts, secure_for_secrets
from crawlers.sources import FieldSelector, _Board

KIND = "news"
FIELD_NAMES = ("title", "text", "published_at", "author", "outlet")
REQUIRED = ("title", "text", "published_at")
EXTRACTOR = "trafilatura"
_KEYS = frozenset(
    {"kind", "name", "display_name", "feed_url", "list_url", "list", "outlet", "fields", "time_format"}
    | {
        "id_pattern",
        "obey_robots",
        "polite",
        "max_pages",
        "region",
        "every",
        "cookie_secret",
        "allowed_hosts",
    }
)
_LIST_KEYS = frozenset({"links", "next_page"})
_SECRET = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


@dataclass(frozen=True)
class NewsSource:
    """One news source as configured: a feed, or a list page with article links."""

    name: str
    display_name: str
    feed_url: str | None = None
    list_url: str | None = None
    links: FieldSelector | None = None
    next_page: FieldSelector | None = None
    fields: tuple[tuple[str, FieldSelector], ...] = ()
    outlet: str | None = None
    time_format: tuple[str, ...] = ()
    id_pattern: str | None = None
    obey_robots: bool | None = None
    polite: bool = True
    max_pages: int | None = None
    region: str | None = None
    every: int | None = None
    cookie_secret: str | None = None  # the NAME of the secret sent as the Cookie header
    allowed_hosts: tuple[str, ...] = ()  # hosts besides the feed's or list page's (articles elsewhere)
    kind: str = KIND

    @property
    def start_url(self) -> str:
        """The feed or the first list page."""
        return self.feed_url or self.list_url or ""

    def selector(self, name: str) -> FieldSelector | None:
        """The configured selector of ``name`` on the article page, or None."""
        return dict(self.fields).get(name)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed as written there (times unparsed); ``number`` is its place in the feed."""

    number: int
    link: str | None
    title: str | None = None
    published: str | None = None
    published_tag: str | None = None
    author: str | None = None
    author_tag: str | None = None
    summary: str | None = None

    @property
    def signature(self) -> str:
        """A fingerprint of what the feed says of the article: a change makes the page fetched again."""
        data = json.dumps([self.link, self.title, self.published], ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its title and its entries."""

    title: str | None
    entries: tuple[FeedEntry, ...] = field(default_factory=tuple)


class FeedError(CrawlerError):
    """A feed that cannot be read (not XML, not RSS or Atom)."""


def parse_news(path: Path, entry: Mapping[str, Any], index: int) -> NewsSource:
    """Check one ``kind: news`` entry; raise :class:`SourceConfigError` naming the field at fault."""
    return _NewsEntry(path, entry, index).parse_news()


class _NewsEntry(_Board):
    """The board reader's checks plus the news source's own keys."""

    def parse_news(self) -> NewsSource:
        self._unknown_keys(self.entry, _KEYS, "")
        name = self._text("name")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
            raise self.fail("name", "use 1-64 of a-z, 0-9, '-' and '_' (it is part of post ids)")
        feed_url = self._url("feed_url")
        list_url = self._url("list_url")
        if (feed_url is None) == (list_url is None):
            raise self.fail("feed_url", "give exactly one of feed_url (RSS/Atom) or list_url (a list page)")
        links = next_page = None
        listing = self.entry.get("list")
        if list_url is not None:
            if not isinstance(listing, Mapping):
                raise self.fail("list", "missing: a mapping with links (and next_page) selectors")
            self._unknown_keys(listing, _LIST_KEYS, "list.")
            links = self._selector(listing.get("links"), "list.links")
            next_page = self._optional_selector(listing.get("next_page"), "list.next_page")
        elif listing is not None:
            raise self.fail("list", "only with list_url: a feed lists its articles itself")
        fields = self.entry.get("fields") or {}
        if not isinstance(fields, Mapping):
            raise self.fail("fields", "expected a mapping of article-page selectors")
        self._unknown_keys(fields, frozenset(FIELD_NAMES), "fields.")
        cookie = self.entry.get("cookie_secret")
        if cookie is not None and (not isinstance(cookie, str) or not _SECRET.fullmatch(cookie)):
            raise self.fail("cookie_secret", "name a secret in A-Z, 0-9 and _ (from YUQING_SECRET_<NAME>)")
        start = feed_url or list_url or ""
        if cookie is not None and not secure_for_secrets(start):
            key = "feed_url" if feed_url else "list_url"
            raise self.fail(key, "a source with a secret must use https (http only for loopback hosts)")
        allowed = self.entry.get("allowed_hosts")
        return NewsSource(
            name=name,
            display_name=self._text("display_name"),
            feed_url=feed_url,
            list_url=list_url,
            links=links,
            next_page=next_page,
            fields=tuple(
                (key, self._selector(fields[key], f"fields.{key}")) for key in FIELD_NAMES if key in fields
            ),
            outlet=self._optional_text("outlet"),
            time_format=self._time_formats() if self.entry.get("time_format") is not None else (),
            id_pattern=self._optional_regex("id_pattern", groups=1),
            obey_robots=self._optional_bool("obey_robots"),
            polite=self._optional_bool("polite") is not False,
            max_pages=self._optional_positive_int("max_pages"),
            region=self._optional_text("region"),
            every=self._optional_positive_int("every"),
            cookie_secret=cookie,
            allowed_hosts=() if allowed is None else parse_allowed_hosts(allowed, self.fail),
        )

    def _url(self, key: str) -> str | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not re.match(r"https?://[^/\s]+", value.strip()):
            raise self.fail(key, f"not an http(s) URL: {value!r}")
        return value.strip()


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str | bytes | etree.QName) else ""


def _children(element: etree._Element, *names: str) -> list[etree._Element]:
    return [child for child in element if _local(child.tag) in names]


def _text_of(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = normalise_line("".join(element.itertext()))
    return text or None


def _first(element: etree._Element, *names: str) -> tuple[str | None, str | None]:
    """The first non-empty child among ``names`` (in that order): its text and its tag."""
    for name in names:
        for child in _children(element, name):
            text = _text_of(child)
            if text:
                return text, name
    return None, None


def parse_feed(body: bytes) -> Feed:
    """An RSS 2.0, RSS 1.0 or Atom feed's entries; raise :class:`FeedError` for anything else.

    Entities are never resolved and nothing is fetched (no XXE); a feed with a stray ``&`` is read as far
    as it goes, as feed readers do.
    """
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"invalid feed: {exc}") from exc
    if root is None:
        raise FeedError("invalid feed: not XML")
    kind = _local(root.tag)
    if kind not in ("rss", "feed", "RDF"):
        raise FeedError(f"not an RSS or Atom feed (its root is <{kind or '?'}>)")
    channel = next(iter(_children(root, "channel")), root)
    title = _first(channel, "title")[0]
    entries = [
        _entry(number, element)
        for number, element in enumerate((e for e in root.iter() if _local(e.tag) in ("item", "entry")), 1)
    ]
    return Feed(title, tuple(entries))


def _entry(number: int, element: etree._Element) -> FeedEntry:
    link = _first(element, "origLink")[0]
    if link is None:
        for child in _children(element, "link"):
            href = child.get("href")
            if href is not None and child.get("rel", "alternate") == "alternate":
                link = href.strip() or None
                break
            if href is None and _text_of(child):
                link = _text_of(child)
                break
    if link is None:
        for guid in _children(element, "guid"):
            value = _text_of(guid)
            if value and guid.get("isPermaLink", "true") != "false" and value.startswith("http"):
                link = value
    published, published_tag = _first(element, "pubDate", "published", "date", "issued", "updated")
    author, author_tag = _first(element, "creator", "author")
    for child in _children(element, "author"):
        name = _first(child, "name")[0]
        if name:
            author, author_tag = name, "author/name"
            break
    summary = None
    for child in _children(element, "description", "summary", "encoded", "content"):
        text = html_fragment_text("".join(child.itertext()))
        if text.strip():
            summary = text
            break
    return FeedEntry(
        number=number,
        link=link,
        title=_first(element, "title")[0],
        published=published,
        published_tag=published_tag,
        author=author,
        author_tag=author_tag,
        summary=summary,
    )


@dataclass
class _Extracted:
    title: str | None = None
    text: str | None = None
    date: str | None = None
    author: str | None = None
    sitename: str | None = None


def extract_main(html: str, url: str) -> _Extracted:
    """The page's main text and metadata by trafilatura (precision first: boilerplate is noise to us)."""
    import trafilatura  # imported on first use: only news sources need it

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        date_extraction_params={"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%d"},
    )
    if document is None:
        return _Extracted()

    def text(name: str) -> str | None:
        value = getattr(document, name, None)
        return value.strip() if isinstance(value, str) and value.strip() else None

    return _Extracted(text("title"), text("text"), text("date"), text("author"), text("sitename"))


def read_article(
    source: NewsSource,
    html: str,
    url: str,
    entry: FeedEntry | None,
    feed_title: str | None,
) -> dict[str, Found]:
    """Every field of an article and where it came from: page selectors, then the feed, then the extractor.

    The outlet falls back to the configured ``outlet``, the feed's title, the page's site name and at
    last the source's display name.
    """
    page = Selector(text=html) if source.fields else None  # parsed only when a selector will read it
    extracted: list[_Extracted] = []

    def extractor() -> _Extracted:
        if not extracted:
            extracted.append(extract_main(html, url))
        return extracted[0]

    out: dict[str, Found] = {}
    for name in FIELD_NAMES:
        tried: list[str] = []
        found: Found | None = None
        unreadable: Found | None = None  # a time that is not one, kept in case nothing better turns up
        for where, value in _candidates(source, name, entry, feed_title):
            if where == "selector":
                selector = source.selector(name)
                assert selector is not None and page is not None
                where = f"页面 {describe(selector)}"
                value = extract_text(page, selector)
            elif where.startswith("正文提取器"):
                value = getattr(extractor(), value or "")
            if value is None or not normalise_line(value):
                tried.append(where)
                continue
            if name == "published_at" and parse_loose_time(value, source.time_format) is None:
                unreadable = unreadable or Found(value, where)
                tried.append(f"{where}（“{normalise_line(value)[:40]}”不是时间）")
                continue
            found = Found(value, where)
            break
        out[name] = found or unreadable or Found(None, "；".join(tried) or "没有可用的来源")
    return out


def article_problem(fields: Mapping[str, Found], source: NewsSource) -> str | None:
    """Why an article cannot be a post (no title, text or time; a time that is not one), or None."""
    for name in REQUIRED:
        found = fields.get(name)
        if found is None or not normalise_line(found.value):
            return f"missing {name}"
    if parse_loose_time(fields["published_at"].value, source.time_format) is None:
        return "unparseable published_at"
    return None


def _candidates(
    source: NewsSource, name: str, entry: FeedEntry | None, feed_title: str | None
) -> list[tuple[str, str | None]]:
    """(where, value) pairs in the order they are tried; the page and the extractor are read on demand."""
    out: list[tuple[str, str | None]] = []
    if source.selector(name) is not None:
        out.append(("selector", None))
    if name == "title":
        if entry is not None:
            out.append(("订阅源 title", entry.title))
        out.append((f"正文提取器 {EXTRACTOR} 标题", "title"))
    elif name == "text":
        out.append((f"正文提取器 {EXTRACTOR} 正文", "text"))
        if entry is not None:
            out.append(("订阅源 摘要", entry.summary))
    elif name == "published_at":
        if entry is not None:
            out.append((f"订阅源 {entry.published_tag or 'pubDate'}", entry.published))
        out.append((f"正文提取器 {EXTRACTOR} 日期", "date"))
    elif name == "author":
        if entry is not None:
            out.append((f"订阅源 {entry.author_tag or 'author'}", entry.author))
        out.append((f"正文提取器 {EXTRACTOR} 作者", "author"))
    else:  # outlet
        out.append(("配置 outlet", source.outlet))
        if feed_title is not None:
            out.append(("订阅源 频道标题", feed_title))
        out.append((f"正文提取器 {EXTRACTOR} 网站名", "sitename"))
        out.append(("配置 display_name", source.display_name))
    return out
