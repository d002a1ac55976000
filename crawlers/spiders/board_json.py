"""The JSON board spider: list endpoint (GET or POST, page by page) → detail endpoint → one item each.

It parses and nothing more. A record that cannot be read (not an object, no id, a required field missing,
a time that is not a time, a detail that is not JSON) is a :class:`FailedPage` with its reason, and the
page's other records go on. A detail request carries the post id and the list record's signature, so
the incremental middleware skips a letter whose list record has not changed, exactly as for HTML boards
(:mod:`crawlers.spiders.board`); a new reply or status shows on the list record and is fetched again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy import Request, Spider
from scrapy.http import JsonRequest, Response
from twisted.python.failure import Failure

from core.masking import mask_text
from crawlers.board_json import (
    ID,
    PAGE,
    Endpoint,
    JsonBoardSource,
    fill,
    fill_body,
    list_signature,
    read_fields,
    record_id,
    record_problem,
    resolve,
)
from crawlers.hotline_api import JsonProblem, load_json
from crawlers.items import BoardItem, FailedPage
from crawlers.normalise import board_post_id
from crawlers.spiders.board import NATIVE_ID_META, POST_ID_META, SIGNATURE_META
from crawlers.spiders.common import failed_page

Parsed = BoardItem | FailedPage | Request


class JsonBoardSpider(Spider):
    """Crawls one configured JSON board once; the crawler's name is ``board-json-<channel>``."""

    name = "board-json"

    def __init__(self, source: JsonBoardSource, **kwargs: Any) -> None:
        super().__init__(name=f"board-json-{source.name}", **kwargs)
        self.source = source

    async def start(self) -> AsyncIterator[Request]:
        """The first list page."""
        yield self._list_request(self.source.first_page, 1)

    def _list_request(self, page: int, count: int) -> Request:
        endpoint = self.source.list_endpoint
        url = fill(endpoint.url, PAGE, str(page))
        if self.source.page_param is not None:
            url = _with_query(url, {self.source.page_param: str(page)})
        body = fill_body(endpoint.body, PAGE, page)
        return self._request(endpoint, url, body, self.parse, {"page": page, "count": count}, {})

    def _request(
        self,
        endpoint: Endpoint,
        url: str,
        body: dict[str, Any] | None,
        callback: Any,
        cb_kwargs: dict[str, Any],
        meta: dict[str, str],
    ) -> Request:
        if endpoint.method == "POST":
            return JsonRequest(
                url,
                data=body if body is not None else {},
                method="POST",
                callback=callback,
                errback=self.on_error,
                cb_kwargs=cb_kwargs,
                meta=meta,
            )
        return Request(url, callback=callback, errback=self.on_error, cb_kwargs=cb_kwargs, meta=meta)

    def parse(self, response: Response, page: int = 1, count: int = 1) -> Iterator[Parsed]:
        """A list page: a detail request (or an item) per record, then the next page while there is one."""
        source = self.source
        body, failed = _decode(source.name, response)
        if failed is not None:
            yield failed
            return
        found = resolve(body, source.records)
        records = found[0] if len(found) == 1 and isinstance(found[0], list) else None
        if records is None:
            yield FailedPage(source.name, response.url, f"no records at {source.records}", _excerpt(response))
            return
        for number, record in enumerate(records, 1):
            where = f"{response.url}#record={number}"
            if not isinstance(record, dict):
                reason = f"bad record: not an object (record {number})"
                yield FailedPage(source.name, where, reason, mask_text(str(record))[:200])
                continue
            native = record_id(record, source)
            if native is None:
                reason = f"bad record: missing id at {source.id_path} (record {number})"
                yield FailedPage(source.name, where, reason, _record_excerpt(record))
                continue
            signature = list_signature(record, source)
            detail = source.detail_endpoint
            if detail is None:
                yield self._item(record, None, native, signature, where)
                continue
            identity = board_post_id(source.name, native)
            meta = {NATIVE_ID_META: native, SIGNATURE_META: signature}
            if identity is not None:
                meta[POST_ID_META] = identity
            url = fill(detail.url, ID, native, quote_url=True)
            yield self._request(
                detail,
                url,
                fill_body(detail.body, ID, native),
                self.parse_detail,
                {"record": record, "native_id": native, "signature": signature},
                meta,
            )
        if records and source.paged and self._more(body, count):
            yield self._list_request(page + 1, count + 1)

    def _more(self, body: object, count: int) -> bool:
        if self.source.max_pages is not None and count >= self.source.max_pages:
            return False
        if self.source.pages_path is None:
            return True
        pages = resolve(body, self.source.pages_path)
        try:
            return count < int(str(pages[0]))
        except (IndexError, ValueError):
            return True  # the count is missing or not a number: page on until a page is empty

    def parse_detail(
        self, response: Response, record: Mapping[str, Any], native_id: str, signature: str
    ) -> Iterator[BoardItem | FailedPage]:
        """A detail answer: the message read from its record (and the list record for what it lacks)."""
        source = self.source
        body, failed = _decode(source.name, response)
        if failed is not None:
            yield failed
            return
        detail: object = body
        if source.detail_record is not None:
            found = resolve(body, source.detail_record)
            detail = found[0] if found else None
        if not isinstance(detail, dict):
            message = body.get("msg") or body.get("message") if isinstance(body, dict) else None
            reason = f"no record at {source.detail_record or '.'}" + (f": {message}" if message else "")
            yield FailedPage(source.name, response.url, reason[:200], _excerpt(response))
            return
        yield self._item(record, detail, native_id, signature, response.url)

    def _item(
        self,
        record: Mapping[str, Any],
        detail: Mapping[str, Any] | None,
        native_id: str,
        signature: str,
        url: str,
    ) -> BoardItem | FailedPage:
        source = self.source
        fields = read_fields(source, record, detail)
        problem = record_problem(fields, source)
        if problem is not None:
            return FailedPage(source.name, url, f"bad record: {problem}", _record_excerpt(detail or record))

        def value(name: str) -> str | None:
            found = fields.get(name)
            return None if found is None else found.value

        trace = {name: found.where for name, found in fields.items()}
        trace["native_id"] = f"列表 {source.id_path}"
        page = fill(source.page_url, ID, native_id, quote_url=True) if source.page_url else url
        return BoardItem(
            channel=source.name,
            url=page,
            native_id=native_id,
            title=value("title"),
            published_at=value("published_at"),
            author=value("author"),
            text=value("text"),
            status=value("status"),
            reply_unit=value("reply_unit"),
            replied_at=value("replied_at"),
            reply_text=value("reply_text"),
            signature=signature,
            trace=trace,
        )

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A list or detail request that failed for good (404, 500 after retries, robots.txt, ...)."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item


def _decode(channel: str, response: Response) -> tuple[object, FailedPage | None]:
    """The decoded answer, or the failed page of one that cannot be read (not JSON, too large or deep):
    the hotline API's reader, so every JSON source states these reasons alike."""
    try:
        return load_json(response.body), None
    except JsonProblem as exc:
        return None, FailedPage(channel, response.url, exc.reason, _excerpt(response))


def _excerpt(response: Response) -> str:
    return mask_text(response.body[:200].decode("utf-8", errors="replace"))


def _record_excerpt(record: Mapping[str, Any]) -> str:
    return mask_text(json.dumps(record, ensure_ascii=False, default=str))[:200]


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [
        (key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in params
    ]
    query += list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
