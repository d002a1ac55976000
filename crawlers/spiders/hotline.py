"""12345 hotline work orders through the two intakes platforms offer: a paginated JSON API and export files.

Both spiders only parse: API records and file rows become :class:`HotlineItem` objects keyed by the
export's Chinese column names; anything unreadable becomes a :class:`FailedPage` for the dead letters.
Moving an imported file aside is :class:`crawlers.inbox.InboxMover`'s job once the crawl has finished.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from openpyxl import load_workbook
from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.feeds import FeedSource
from crawlers.items import FailedPage, HotlineItem
from crawlers.normalise_feeds import HOTLINE_COLUMNS, HOTLINE_REQUIRED
from crawlers.spiders.common import failed_page

# The platform API's keys and the export columns they are.
API_FIELDS = {
    "orderNo": "工单编号", "acceptTime": "受理时间", "appealType": "诉求类型", "title": "诉求标题",
    "content": "诉求内容", "region": "所属区域", "handleUnit": "承办单位", "status": "办理状态",
    "finishTime": "办结时间", "satisfaction": "回访满意度", "callerName": "来电人",
    "callerPhone": "来电号码", "replyContent": "答复内容", "updateTime": "更新时间",
}  # fmt: skip
INBOX_SUFFIXES = (".csv", ".xlsx")

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
    """Reads every CSV and XLSX export in the inbox; ``outcomes`` tells the mover what became of each file."""

    name = "hotline-inbox"

    def __init__(self, source: FeedSource, **kwargs: Any) -> None:
        super().__init__(name=f"inbox-{source.name}", **kwargs)
        self.source = source
        self.outcomes: dict[Path, str] = {}  # file -> "imported" | "rejected"

    async def start(self) -> AsyncIterator[Request]:
        """A file:// request per export file waiting in the inbox (hidden and partial files are not ready)."""
        inbox = self.source.inbox
        if inbox is None or not inbox.is_dir():
            self.logger.warning(
                "stage=crawl source=hotline channel=%s event=no-inbox path=%s", self.source.name, inbox
            )
            return
        for path in sorted(inbox.iterdir()):
            if path.is_file() and path.suffix.lower() in INBOX_SUFFIXES and not path.name.startswith("."):
                yield Request(
                    path.resolve().as_uri(),
                    callback=self.parse,
                    errback=self.on_error,
                    cb_kwargs={"path": path},
                )

    def parse(self, response: Response, path: Path | None = None) -> Iterator[HotlineItem | FailedPage]:
        """One export file: an item per data row, or one failed page naming why the file is unusable."""
        assert path is not None
        problem: str | None = None
        rows: list[list[Any]] = []
        try:
            rows = _read_xlsx(response.body) if path.suffix.lower() == ".xlsx" else _read_csv(response.body)
        except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
            problem = f"unreadable {path.suffix.lower()[1:]} file: {type(exc).__name__}"
        else:
            problem = None if rows else "empty file: no header row"
        header = [str(cell or "").strip() for cell in rows[0]] if rows else []
        missing = [name for name in HOTLINE_REQUIRED if name not in header]
        if problem is None and missing:
            problem = f"missing columns: {'、'.join(missing)}"
        if problem is not None:
            self.outcomes[path] = "rejected"
            yield FailedPage(self.source.name, response.url, problem)
            return
        extra_columns = [name for name in header if name and name not in HOTLINE_COLUMNS]
        if extra_columns:
            self.logger.info(
                "stage=crawl source=hotline channel=%s event=extra-columns file=%s columns=%s kept=raw.extra",
                self.source.name, path.name, "、".join(extra_columns),
            )  # fmt: skip
        for number, row in enumerate(rows[1:], start=2):
            cells = {name: _cell(value) for name, value in zip(header, row, strict=False) if name}
            if not any(cells.values()):
                continue  # a blank line at the end of an export
            fields = {k: v for k, v in cells.items() if k in HOTLINE_COLUMNS and v}
            extra = {k: v for k, v in cells.items() if k not in HOTLINE_COLUMNS and v}
            yield HotlineItem(self.source.name, f"{response.url}#row={number}", fields, extra or None)
        self.outcomes[path] = "imported"

    def on_error(self, failure: Failure) -> Iterator[FailedPage]:
        """A file that could not be read at all."""
        item = failed_page(self.source.name, failure)
        if item is not None:
            yield item


def _read_csv(body: bytes) -> list[list[str]]:
    # Exports from Excel on Chinese Windows are GB18030 (a superset of GBK); others UTF-8, maybe with a BOM.
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("gb18030")
    return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]


def _read_xlsx(body: bytes) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return []
        return [
            list(row) for row in sheet.iter_rows(values_only=True) if any(c not in (None, "") for c in row)
        ]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores an order number or phone typed as a number as a float
    return "" if value is None else str(value).strip()


def _excerpt(response: Response) -> str:
    return response.body[:200].decode("utf-8", errors="replace")
