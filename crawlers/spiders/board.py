"""The message-board spider: list page → detail pages → next page, driven entirely by a BoardSource.

It parses and nothing more: it yields requests and :class:`~crawlers.items.BoardItem` objects with the
page's text. Validation, normalisation, masking, dedup and publishing are the pipelines' business.

A message's native id is chosen once (:meth:`BoardSpider.native_id`): from its detail URL when the board
has an ``id_pattern``, read off the list page before the detail page is fetched and carried with the
request; from the page's own number otherwise. Its post id is made by
:func:`crawlers.normalise.board_post_id` alone, so the id the incremental skip looks up is the id the
post is published under.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from parsel import Selector
from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers.extract import describe, extract_first, extract_text, select
from crawlers.items import BoardItem, FailedPage
from crawlers.normalise import board_post_id, normalise_line
from crawlers.sources import BoardSource, FieldSelector
from crawlers.spiders.common import failed_page

# Request meta the incremental middleware reads: the post a detail page is, and its list row's signature;
# and the native id read off the list page, which the detail page's item carries.
POST_ID_META = "yuqing_post_id"
SIGNATURE_META = "yuqing_signature"
NATIVE_ID_META = "yuqing_native_id"


class BoardSpider(Spider):
    """Crawls one configured board once; the crawler's name is ``board-<channel>``."""

    name = "board"

    def __init__(self, source: BoardSource, **kwargs: Any) -> None:
        super().__init__(name=f"board-{source.name}", **kwargs)
        self.source = source

    async def start(self) -> AsyncIterator[Request]:
        """The board's first list page."""
        yield Request(
            self.source.start_url, callback=self.parse, errback=self.on_error, cb_kwargs={"page": 1}
        )

    def parse(self, response: Response, page: int = 1) -> Iterator[Request]:
        """A list page: a request per row's detail link, then one for the next list page."""
        if not isinstance(response, TextResponse):
            return
        for row in select(response.selector, self.source.rows):
            link = extract_first(row, self.source.detail_link)
            if link is not None:
                yield self._detail_request(response, row.xpath("string(.)").get() or "", link)
        next_page = self.source.next_page
        within_limit = self.source.max_pages is None or page < self.source.max_pages
        if next_page is not None and within_limit:
            link = extract_first(response.selector, next_page)
            if link is not None:
                yield response.follow(
                    link, callback=self.parse, errback=self.on_error, cb_kwargs={"page": page + 1}
                )

    def _detail_request(self, response: TextResponse, row_text: str, link: str) -> Request:
        # The list row shows what changes when a message is answered or edited (状态, 时间): its
        # signature lets the incremental middleware skip a detail page that cannot have changed.
        url = response.urljoin(link)
        meta: dict[str, str] = {}
        native_id = self.native_id(url)
        identity = board_post_id(self.source.name, native_id)
        if native_id is not None and identity is not None:
            signature = hashlib.sha256(normalise_line(row_text).encode("utf-8")).hexdigest()[:32]
            meta = {NATIVE_ID_META: native_id, POST_ID_META: identity, SIGNATURE_META: signature}
        return Request(url, callback=self.parse_detail, errback=self.on_error, meta=meta)

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A list or detail page that failed for good (404, 500 after retries, a redirect loop, ...)."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item

    def parse_detail(self, response: Response) -> Iterator[BoardItem]:
        """A detail page: one item with every configured field's text."""
        if not isinstance(response, TextResponse):
            return
        page = response.selector
        fields = self.source.fields
        meta = response.request.meta if response.request is not None else {}

        def text(selector: FieldSelector | None) -> str | None:
            return None if selector is None else extract_text(page, selector)

        # Where each field is read: the selector (whether it matched shows in the value); not decided on.
        trace = {
            name: describe(selector)
            for name in (
                "title",
                "published_at",
                "author",
                "text",
                "status",
                "reply_unit",
                "replied_at",
                "reply_text",
            )
            if (selector := getattr(fields, name)) is not None
        }
        if meta.get(NATIVE_ID_META):
            trace["native_id"] = f"网址 id_pattern {self.source.id_pattern}"
        elif fields.native_id is not None:
            trace["native_id"] = describe(fields.native_id)
        yield BoardItem(
            channel=self.source.name,
            url=response.url,
            signature=meta.get(SIGNATURE_META),
            # Chosen on the list page when the URL carries it (even if the page was redirected since).
            native_id=meta.get(NATIVE_ID_META) or self.native_id(response.url, page),
            title=text(fields.title),
            published_at=text(fields.published_at),
            author=text(fields.author),
            text=text(fields.text),
            status=text(fields.status),
            reply_unit=text(fields.reply_unit),
            replied_at=text(fields.replied_at),
            reply_text=text(fields.reply_text),
            trace=trace,
        )

    def native_id(self, url: str, page: Selector | None = None) -> str | None:
        """A message's id on its board: the ``id_pattern`` group of its detail URL, else the page's number.

        The URL comes first because it is known on the list page: the incremental skip can then look
        the post up before fetching its detail page, under the id the post is published with. The
        page's ``fields.native_id`` serves boards whose URLs carry no number (``page`` is the detail
        page; None on the list page).
        """
        if self.source.id_pattern is not None:
            match = re.search(self.source.id_pattern, url)
            if match is not None and match.group(1).strip():
                return match.group(1).strip()
        selector = self.source.fields.native_id
        if page is not None and selector is not None:
            found = extract_text(page, selector)
            if found is not None and found.strip():
                return found.strip()
        return None
