"""12345 hotline work orders through the two intakes platforms offer: a paginated JSON API and export files.

Both spiders only parse: API records and file rows become :class:`HotlineItem` objects keyed by the
export's Chinese column names; anything unreadable becomes a :class:`FailedPage` for the dead letters.
Moving an imported file aside is :class:`crawlers.inbox.InboxMover`'s job once the crawl has finished.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from core.masking import mask_text
from crawlers.exports import (
    HOTLINE_COLUMNS,
    HOTLINE_REQUIRED,
    HOTLINE_SYNONYMS,
    SUFFIXES,
    ExportError,
    locate_header,
    read_table,
    resolver,
)
from crawlers.exports import (
    cell_text as _cell,
)
from crawlers.feeds import FeedSource
from crawlers.hotline_api import JsonProblem, as_count, default_api, load_json, truthy, value_text
from crawlers.items import FailedPage, HotlineItem
from crawlers.normalise import normalise_text, parse_board_time
from crawlers.normalise_feeds import HOTLINE_TIME_FORMATS
from crawlers.spiders.common import failed_page

Parsed = HotlineItem | FailedPage | Request
# Request meta: an API page request, which a signed-query source's requests carry their signature on.
API_PAGE_META = "yuqing_api_page"


class HotlineApiSpider(Spider):
    """Pages through a work-order API as its configuration says; ``since`` (the watermark) asks only for
    orders updated after it.

    The configuration (:class:`crawlers.hotline_api.ApiConfig`) is the source's ``api``, or our own
    platform's shape. ``page`` counts the pages fetched (1 first); ``offset`` and ``cursor`` carry the
    offset and cursor paging styles' position.
    """

    name = "hotline-api"

    def __init__(self, source: FeedSource, since: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"hotline-{source.name}", **kwargs)
        self.source = source
        self.since = since
        self.api = source.api if source.api is not None else default_api(source.page_size)

    async def start(self) -> AsyncIterator[Request]:
        """The first API page."""
        yield self.page_request(1, offset=self.api.paging.start, cursor=None)

    def page_request(self, page: int, *, offset: int, cursor: str | None, url: str | None = None) -> Request:
        """The request for the ``page``-th page: the position in the query (GET) or the body (POST), or
        ``url`` as the previous answer gave it (``next_url`` paging)."""
        api, paging = self.api, self.api.paging
        since = api.since_text(self.since)
        number = paging.start + page - 1 if paging.style == "page" else page
        values: dict[str, str | int] = {
            "page": number, "size": paging.size, "offset": offset,
            "cursor": cursor or "", "since": since or "",
        }  # fmt: skip
        if url is None:
            url = self.source.start_url
            if api.method == "GET":
                query: list[tuple[str, str | int]] = []
                position = {"page": number, "offset": offset, "cursor": cursor}.get(paging.style)
                if paging.param and position is not None:
                    query.append((paging.param, position))
                if paging.size_param:
                    query.append((paging.size_param, paging.size))
                if since and api.since_param:
                    query.append((api.since_param, since))
                url = _with_query(url, urlencode(query))
        body = api.render_body(values) if api.method == "POST" else None
        headers = {}
        if body is not None:
            kind = "application/json" if api.body_type == "json" else "application/x-www-form-urlencoded"
            headers["Content-Type"] = f"{kind}; charset=utf-8"
        return Request(
            url,
            method=api.method,
            body=body,
            headers=headers,
            callback=self.parse,
            errback=self.on_error,
            cb_kwargs={"page": page, "offset": offset, "cursor": cursor},
            meta={API_PAGE_META: True},
        )

    def parse(
        self, response: Response, page: int = 1, offset: int | None = None, cursor: str | None = None
    ) -> Iterator[Parsed]:
        """One API page: an item per record (a dead letter per unusable one), then the next page."""
        api = self.api
        try:
            data = load_json(response.body)
        except JsonProblem as exc:
            yield FailedPage(self.source.name, response.url, exc.reason, _excerpt(response))
            return
        error = api.ok.error(data) if api.ok is not None else None
        records = api.records.find(data)
        if error is not None or not isinstance(records, list):
            reason = error or f"unexpected JSON: no list of records at {api.records.text}"
            yield FailedPage(self.source.name, response.url, reason, _excerpt(response))
            return
        for index, record in enumerate(records, 1):
            origin = f"{response.url}#record={index}"
            if not isinstance(record, dict):
                yield FailedPage(self.source.name, origin, "record is not an object", str(record)[:200])
                continue
            fields, extra = api.extract(record)
            problem = _row_problem(fields)
            if problem is not None:
                excerpt = mask_text(" | ".join([*fields.values(), *extra.values()]))[:200]
                yield FailedPage(self.source.name, origin, f"bad record: {problem} (record {index})", excerpt)
                continue
            # The endpoint, not the page URL: a page's query (page, updated_since) changes between crawls.
            yield HotlineItem(self.source.name, self.source.start_url, fields, extra or None)
        within = self.source.max_pages is None or page < self.source.max_pages
        if records and within:
            start = self.api.paging.start if offset is None else offset
            follow = self._next(response, data, page, start, cursor, len(records))
            if follow is not None:
                yield follow

    def _next(
        self, response: Response, data: object, page: int, offset: int, cursor: str | None, count: int
    ) -> Request | None:
        """The next page's request as the paging style reads the answer, or None after the last page."""
        paging = self.api.paging
        if paging.more_path is not None and not truthy(paging.more_path.find(data)):
            return None
        if paging.style in ("page", "offset"):
            consumed = offset + count if paging.style == "offset" else page * paging.size
            if paging.pages_path is not None:
                pages = as_count(paging.pages_path.find(data))
                if pages is None or page >= pages:
                    return None
            if paging.total_path is not None:
                total = as_count(paging.total_path.find(data))
                if total is None or consumed - (paging.start if paging.style == "offset" else 0) >= total:
                    return None
            signals = (paging.pages_path, paging.total_path, paging.more_path)
            if all(signal is None for signal in signals) and count < paging.size:
                return None  # a short page is the last one
            return self.page_request(page + 1, offset=offset + count, cursor=None)
        if paging.style == "cursor":
            assert paging.cursor_path is not None
            found = paging.cursor_path.find(data)
            token = value_text(found) if isinstance(found, str | int) and not isinstance(found, bool) else ""
            if not token or token == cursor:
                return None
            return self.page_request(page + 1, offset=offset + count, cursor=token)
        assert paging.next_path is not None
        link = paging.next_path.find(data)
        if not isinstance(link, str) or not link.strip():
            return None
        url = response.urljoin(link.strip())
        if url == response.url:
            return None
        return self.page_request(page + 1, offset=offset + count, cursor=None, url=url)

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A page that failed for good (after retries) goes to the dead letters."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item


class HotlineInboxSpider(Spider):
    """Reads every CSV, XLSX and XLS export in the inbox; ``outcomes`` tells the mover what became of each.

    Headers are matched by name (:data:`crawlers.exports.HOTLINE_SYNONYMS`, then the source's
    ``columns:``) in whichever of the first rows holds them; columns no field claims stay in raw.extra.
    A file that cannot be read, or is over the source's limits, is one dead letter and is rejected
    whole; a row that cannot be an order is one dead letter and the file's other rows still arrive.
    """

    name = "hotline-inbox"

    def __init__(self, source: FeedSource, **kwargs: Any) -> None:
        super().__init__(name=f"inbox-{source.name}", **kwargs)
        self.source = source
        self.outcomes: dict[Path, str] = {}  # file -> "imported" | "rejected"
        self.resolve = resolver(HOTLINE_COLUMNS, HOTLINE_SYNONYMS, source.columns)

    async def start(self) -> AsyncIterator[Request | FailedPage]:
        """A file:// request per export file waiting in the inbox (hidden and partial files are not ready)."""
        inbox = self.source.inbox
        if inbox is None or not inbox.is_dir():
            self.logger.warning(
                "stage=crawl source=hotline channel=%s event=no-inbox path=%s", self.source.name, inbox
            )
            return
        for path in sorted(inbox.iterdir()):
            if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith("."):
                size_mb = path.stat().st_size / 1024 / 1024
                if size_mb > self.source.max_file_mb:  # not read at all: the limit protects the memory
                    self.outcomes[path] = "rejected"
                    yield FailedPage(
                        self.source.name,
                        path.resolve().as_uri(),
                        f"file too large: {size_mb:.1f} MB, over the limit of {self.source.max_file_mb} MB"
                        " (max_file_mb)",
                    )
                    continue
                yield Request(
                    path.resolve().as_uri(),
                    callback=self.parse,
                    errback=self.on_error,
                    cb_kwargs={"path": path},
                )

    def parse(self, response: Response, path: Path | None = None) -> Iterator[HotlineItem | FailedPage]:
        """One export file: an item per data row, a failed page per unusable row, or one for the file."""
        assert path is not None
        source = self.source
        try:
            rows = read_table(response.body, path.suffix, max_rows=source.max_rows, max_mb=source.max_file_mb)
        except ExportError as exc:
            yield from self._reject(path, response.url, exc.reason)
            return
        header = locate_header(rows, self.resolve, HOTLINE_REQUIRED)
        if header is None:
            yield from self._reject(path, response.url, "empty file: no header row")
            return
        missing = [name for name in HOTLINE_REQUIRED if name not in header.fields]
        if missing:
            yield from self._reject(path, response.url, f"missing columns: {'、'.join(missing)}")
            return
        extra_columns = [name for name in header.names if name and name not in header.fields]
        if extra_columns:
            self.logger.info(
                "stage=crawl source=hotline channel=%s event=extra-columns file=%s columns=%s kept=raw.extra",
                source.name, path.name, "、".join(extra_columns),
            )  # fmt: skip
        for number, row in rows:
            if number <= header.row:
                continue  # the title and the header
            fields: dict[str, str] = {}
            extra: dict[str, str] = {}
            for column, value in enumerate(row):
                text = _cell(value)
                name = header.names[column] if column < len(header.names) else ""
                if not text:
                    continue
                if name in header.fields:
                    fields[name] = text
                else:
                    extra[name or f"列{column + 1}"] = text
            origin = f"{response.url}#row={number}"
            problem = _row_problem(fields)
            if problem is not None:
                excerpt = mask_text(" | ".join([*fields.values(), *extra.values()]))[:200]
                yield FailedPage(source.name, origin, f"bad row: {problem} (row {number})", excerpt)
                continue
            yield HotlineItem(source.name, origin, fields, extra or None)
        self.outcomes[path] = "imported"

    def _reject(self, path: Path, url: str, reason: str) -> Iterator[FailedPage]:
        self.outcomes[path] = "rejected"
        yield FailedPage(self.source.name, url, reason)

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A file that could not be read at all."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item


def _row_problem(fields: dict[str, str]) -> str | None:
    """Why a row cannot be a work order (a required field missing, 受理时间 not a time), or None."""
    for name in HOTLINE_REQUIRED:
        if not fields.get(name, "").strip():
            return f"missing {name}"
    if parse_board_time(normalise_text(fields["受理时间"]), HOTLINE_TIME_FORMATS) is None:
        return "unparseable 受理时间"
    return None


def _with_query(url: str, query: str) -> str:
    """``url`` with ``query`` first and its own query after (``?page=2&page_size=50&k=v``)."""
    parts = urlsplit(url)
    joined = "&".join(part for part in (query, parts.query) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))


def _excerpt(response: Response) -> str:
    # Masked: an answer's first bytes may well be a caller's phone number.
    return mask_text(response.body[:200].decode("utf-8", errors="replace"))
