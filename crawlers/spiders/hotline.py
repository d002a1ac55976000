"""12345 hotline work orders through the two intakes platforms offer: a paginated JSON API and export files.

Both spiders only parse: API records and file rows become :class:`HotlineItem` objects keyed by the
export's Chinese column names; anything unreadable becomes a :class:`FailedPage` for the dead letters.
Moving an imported file aside is :class:`crawlers.inbox.InboxMover`'s job once the crawl has finished.
"""

from __future__ import annotations

import json
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
from crawlers.items import FailedPage, HotlineItem
from crawlers.normalise import normalise_text, parse_board_time
from crawlers.normalise_feeds import HOTLINE_TIME_FORMATS
from crawlers.spiders.common import failed_page

# The platform API's keys and the export columns they are.
API_FIELDS = {
    "orderNo": "工单编号", "acceptTime": "受理时间", "appealType": "诉求类型", "title": "诉求标题",
    "content": "诉求内容", "region": "所属区域", "handleUnit": "承办单位", "status": "办理状态",
    "finishTime": "办结时间", "satisfaction": "回访满意度", "callerName": "来电人",
    "callerPhone": "来电号码", "replyContent": "答复内容", "updateTime": "更新时间",
}  # fmt: skip

Parsed = HotlineItem | FailedPage | Request


class HotlineApiSpider(Spider):
    """Pages through a work-order API; ``since`` (the watermark) asks only for orders updated after it."""

    name = "hotline-api"

    def __init__(self, source: FeedSource, since: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"hotline-{source.name}", **kwargs)
        self.source = source
        self.since = since

    async def start(self) -> AsyncIterator[Request]:
        """The first API page."""
        yield self._page(1)

    def _page(self, number: int) -> Request:
        query: dict[str, str | int] = {"page": number, "page_size": self.source.page_size}
        if self.since:
            query["updated_since"] = self.since
        parts = urlsplit(self.source.start_url)
        extra = f"&{parts.query}" if parts.query else ""
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query) + extra, ""))
        return Request(url, callback=self.parse, errback=self.on_error, cb_kwargs={"page": number})

    def parse(self, response: Response, page: int = 1) -> Iterator[Parsed]:
        """One API page: an item per record, then the next page while there is one."""
        try:
            body = json.loads(response.body)
            data = body["data"] if body.get("code", 0) == 0 else None
            records = data["records"] if data is not None else None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            yield FailedPage(self.source.name, response.url, f"invalid JSON: {exc}"[:200], _excerpt(response))
            return
        if data is None or not isinstance(records, list):
            yield FailedPage(
                self.source.name, response.url, f"api error {body.get('code')}: {body.get('msg')}"
            )
            return
        for record in records:
            if not isinstance(record, dict):
                yield FailedPage(self.source.name, response.url, "record is not an object", str(record)[:200])
                continue
            fields = {API_FIELDS[k]: _cell(v) for k, v in record.items() if k in API_FIELDS and v is not None}
            extra = {k: _cell(v) for k, v in record.items() if k not in API_FIELDS and v is not None}
            # The endpoint, not the page URL: a page's query (page, updated_since) changes between crawls.
            yield HotlineItem(self.source.name, self.source.start_url, fields, extra or None)
        pages = data.get("pages", page)
        within = self.source.max_pages is None or page < self.source.max_pages
        if isinstance(pages, int) and page < pages and within and records:
            yield self._page(page + 1)

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


def _excerpt(response: Response) -> str:
    return response.body[:200].decode("utf-8", errors="replace")
