"""Weibo-like keyword search and account timelines through the mobile site's ``getIndex`` JSON.

A page is ``{"ok": 1, "data": {"cards": [...]}}``; a card of type 9 holds an ``mblog`` and a type-11
card groups more cards. Paging stops at an empty page, ``ok: 0``, ``max_pages``, or a page whose posts
are all older than ``since`` (the watermark). The spider yields the decoded mblog; the pipelines decide.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from core.china_time import CHINA_TZ
from crawlers.feeds import FeedSource
from crawlers.items import FailedPage, WeiboItem
from crawlers.normalise_feeds import parse_weibo_time
from crawlers.spiders.common import failed_page

SEARCH_CONTAINER = "100103type=1&q={}"
TIMELINE_CONTAINER = "107603{}"


class WeiboSpider(Spider):
    """Searches each configured keyword and reads each configured account's timeline."""

    name = "weibo"

    def __init__(self, source: FeedSource, since: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"weibo-{source.name}", **kwargs)
        self.source = source
        self.since = datetime.fromisoformat(since) if since else None

    async def start(self) -> AsyncIterator[Request]:
        """Page 1 of every keyword search and every account timeline."""
        for keyword in self.source.keywords:
            yield self._page(SEARCH_CONTAINER.format(keyword), f"search:{keyword}", 1)
        for account in self.source.accounts:
            yield self._page(TIMELINE_CONTAINER.format(account), f"timeline:{account}", 1)

    def _page(self, container: str, query: str, page: int) -> Request:
        params = {"containerid": container, "page": page}
        url = f"{self.source.api_url}?{urlencode(params)}"
        kwargs = {"container": container, "query": query, "page": page}
        return Request(url, callback=self.parse, errback=self.on_error, cb_kwargs=kwargs)

    def parse(
        self, response: Response, container: str = "", query: str = "", page: int = 1
    ) -> Iterator[WeiboItem | FailedPage | Request]:
        """One page of cards: an item per mblog, then the next page while it may hold new posts."""
        try:
            body = json.loads(response.body)
            ok = body.get("ok")
            cards = body["data"]["cards"] if ok == 1 else []
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            excerpt = response.body[:200].decode("utf-8", errors="replace")
            yield FailedPage(self.source.name, response.url, f"invalid JSON: {exc}"[:200], excerpt)
            return
        mblogs = list(_mblogs(cards if isinstance(cards, list) else []))
        for mblog in mblogs:
            yield WeiboItem(self.source.name, response.url, query, mblog)
        within = self.source.max_pages is None or page < self.source.max_pages
        if mblogs and within and not self._all_older_than_watermark(mblogs):
            yield self._page(container, query, page + 1)

    def _all_older_than_watermark(self, mblogs: list[dict[str, Any]]) -> bool:
        if self.since is None:
            return False
        now = datetime.now(CHINA_TZ)
        times = [parse_weibo_time(str(m.get("created_at") or ""), now=now) for m in mblogs]
        return all(t is not None and t < self.since for t in times)

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A page that failed for good goes to the dead letters."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item


def _mblogs(cards: list[Any]) -> Iterator[dict[str, Any]]:
    for card in cards:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        group = card.get("card_group")
        if isinstance(group, list):
            yield from _mblogs(group)
