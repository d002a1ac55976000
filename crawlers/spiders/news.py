"""The news spider: a feed (or list pages) → article pages → one :class:`NewsItem` per article.

It parses and nothing more. A feed entry without a link, a page that failed, an article without a
title, main text or readable time is a :class:`FailedPage` with its reason; the feed's other entries go
on. Each article request carries its post id and the entry's signature (the feed's title, link and
time; for a list page, the link), so the incremental middleware skips an article already published
and not changed since, as for board detail pages.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from core.masking import mask_text
from crawlers.extract import extract_each, extract_first
from crawlers.items import FailedPage, NewsItem
from crawlers.news import FeedEntry, FeedError, NewsSource, article_problem, parse_feed, read_article
from crawlers.normalise_news import news_native_id, news_post_id
from crawlers.spiders.board import NATIVE_ID_META, POST_ID_META, SIGNATURE_META
from crawlers.spiders.common import failed_page

Parsed = NewsItem | FailedPage | Request


class NewsSpider(Spider):
    """Crawls one configured news source once; the crawler's name is ``news-<channel>``."""

    name = "news"

    def __init__(self, source: NewsSource, **kwargs: Any) -> None:
        super().__init__(name=f"news-{source.name}", **kwargs)
        self.source = source

    async def start(self) -> AsyncIterator[Request]:
        """The feed, or the first list page."""
        if self.source.feed_url is not None:
            yield Request(self.source.feed_url, callback=self.parse_feed, errback=self.on_error)
        elif self.source.list_url is not None:
            yield Request(
                self.source.list_url, callback=self.parse_list, errback=self.on_error, cb_kwargs={"page": 1}
            )

    def parse_feed(self, response: Response) -> Iterator[Parsed]:
        """A feed: an article request per entry with a link, a failed page per entry without one."""
        try:
            feed = parse_feed(response.body)
        except FeedError as exc:
            excerpt = mask_text(response.body[:200].decode("utf-8", errors="replace"))
            yield FailedPage(self.source.name, response.url, str(exc)[:200], excerpt)
            return
        for entry in feed.entries:
            if entry.link is None:
                reason = f"bad entry: missing link (entry {entry.number})"
                excerpt = mask_text(entry.title or "")[:200]
                yield FailedPage(self.source.name, f"{response.url}#entry={entry.number}", reason, excerpt)
                continue
            yield self._article(response.urljoin(entry.link), response.url, entry, feed.title)

    def parse_list(self, response: Response, page: int = 1) -> Iterator[Parsed]:
        """A list page: an article request per link, then the next list page."""
        if not isinstance(response, TextResponse) or self.source.links is None:
            return
        for link in extract_each(response.selector, self.source.links):
            yield self._article(response.urljoin(link), response.url, None, None)
        within = self.source.max_pages is None or page < self.source.max_pages
        if self.source.next_page is not None and within:
            following = extract_first(response.selector, self.source.next_page)
            if following is not None:
                yield response.follow(
                    following, callback=self.parse_list, errback=self.on_error, cb_kwargs={"page": page + 1}
                )

    def _article(self, url: str, origin: str, entry: FeedEntry | None, feed_title: str | None) -> Request:
        native = news_native_id(url, self.source.id_pattern)
        signature = (
            entry.signature if entry is not None else hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
        )
        meta = {NATIVE_ID_META: native, SIGNATURE_META: signature}
        identity = news_post_id(self.source.name, native)
        if identity is not None:
            meta[POST_ID_META] = identity
        return Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta=meta,
            cb_kwargs={"entry": entry, "feed_title": feed_title, "origin": origin},
        )

    def parse_article(
        self,
        response: Response,
        entry: FeedEntry | None = None,
        feed_title: str | None = None,
        origin: str | None = None,
    ) -> Iterator[NewsItem | FailedPage]:
        """An article page: its fields by selector, feed or extractor; a failed page if it is not one."""
        source = self.source
        if not isinstance(response, TextResponse):
            yield FailedPage(source.name, response.url, "bad article: not a text page")
            return
        meta = response.request.meta if response.request is not None else {}
        fields = read_article(source, response.text, response.url, entry, feed_title)
        problem = article_problem(fields, source)
        if problem is not None:
            excerpt = mask_text(fields["title"].value or "")[:200]
            yield FailedPage(source.name, response.url, f"bad article: {problem}", excerpt)
            return
        trace = {name: found.where for name, found in fields.items()}
        by_pattern = source.id_pattern is not None and re.search(source.id_pattern, response.url)
        trace["native_id"] = f"网址 id_pattern {source.id_pattern}" if by_pattern else "网址的哈希值"
        yield NewsItem(
            channel=source.name,
            url=response.url,
            native_id=meta.get(NATIVE_ID_META) or news_native_id(response.url, source.id_pattern),
            title=fields["title"].value,
            text=fields["text"].value,
            published_at=fields["published_at"].value,
            author=fields["author"].value,
            outlet=fields["outlet"].value,
            origin=origin,
            signature=meta.get(SIGNATURE_META),
            trace=trace,
        )

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A feed, list or article page that failed for good (404, 500 after retries, robots.txt, ...)."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item
