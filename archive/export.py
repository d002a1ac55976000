"""Streamed export of a result set to CSV or XLSX, up to :data:`MAX_ROWS` rows.

Posts are written as they come from :meth:`Archive.scan`, so memory stays flat however many rows
are exported: CSV row by row, XLSX through openpyxl's write-only mode. Headers and coded values
(来源, 情感, 回复状态) are in Chinese for the people who open the file, 发布时间 is a real date cell,
and titles and texts are masked again. Every cell goes through :func:`core.spreadsheet.safe_cell`
(the 台账 export uses the same one): text that starts like a formula gets a leading apostrophe, so
a crafted post cannot run a formula in the analyst's spreadsheet.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from archive.documents import lookup
from archive.errors import ArchiveError
from core.china_time import CHINA_TZ, parse_time
from core.errors import MessageError
from core.labels import REPLY_LABELS, SENTIMENT_LABELS, SOURCE_LABELS
from core.masking import mask_text
from core.messages import EnrichedPost
from core.spreadsheet import safe_cell

MAX_ROWS = 1_000_000  # XLSX holds 1,048,576 rows a sheet; one export is one sheet
COLUMNS: list[tuple[str, str]] = [
    ("编号", "id"),
    ("发布时间", "published_at"),
    ("来源", "source"),
    ("渠道", "channel"),
    ("标题", "title"),
    ("正文", "text"),
    ("地区", "region"),
    ("情感", "sentiment.label"),
    ("话题", "topic.label"),
    ("诉求类型", "appeal_type"),
    ("风险分", "risk.score"),
    ("回复状态", "reply.status"),
    ("事件", "event_id"),
    ("链接", "url"),
]


# Free text written by the public: masked again on the way out, so a post archived before masking
# covered a form (or imported from elsewhere) never leaves with a phone or ID number in it.
_FREE_TEXT = frozenset({"title", "text"})


# Codes the reader sees as words; ``yuqing ingest`` reads the words back.
_WORDS: dict[str, Mapping[str, str]] = {
    "source": SOURCE_LABELS,
    "sentiment.label": SENTIMENT_LABELS,
    "reply.status": REPLY_LABELS,
}


def row(post: EnrichedPost) -> list[object]:
    """The export row of one post, in :data:`COLUMNS` order."""
    return [safe_cell(_cell(path, lookup(post, path))) for _, path in COLUMNS]


def _cell(path: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    if path in _FREE_TEXT:
        return mask_text(value)
    if path in _WORDS:
        return _WORDS[path].get(value, value)
    if path == "published_at":
        # A real date cell in China time (naive: spreadsheets have no zones), so it sorts and filters.
        try:
            return parse_time(value).astimezone(CHINA_TZ).replace(tzinfo=None)
        except MessageError:
            return value
    return value


def export(
    posts: Iterable[EnrichedPost],
    path: Path,
    *,
    limit: int = MAX_ROWS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write at most ``limit`` posts to ``path`` (``.csv`` or ``.xlsx``); return how many were written.

    ``progress`` is called with the number of rows written since its last call, every 1,000 rows.
    """
    if limit > MAX_ROWS:
        raise ArchiveError(f"一次最多导出 {MAX_ROWS} 条")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ArchiveError(f"不支持的导出格式“{path.suffix}”；请用 .csv 或 .xlsx")
    rows = (row(post) for post in itertools.islice(posts, limit))
    path.parent.mkdir(parents=True, exist_ok=True)
    return _csv(rows, path, progress) if suffix == ".csv" else _xlsx(rows, path, progress)


def _counted(rows: Iterable[list[object]], progress: Callable[[int], None] | None) -> Iterable[list[object]]:
    written = 0
    for written, item in enumerate(rows, start=1):
        yield item
        if progress is not None and written % 1000 == 0:
            progress(1000)
    if progress is not None and written % 1000:
        progress(written % 1000)


def _csv(rows: Iterable[list[object]], path: Path, progress: Callable[[int], None] | None) -> int:
    written = 0
    # utf-8-sig: Excel opens a CSV with a byte-order mark as UTF-8 instead of the local code page.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([name for name, _ in COLUMNS])
        for item in _counted(rows, progress):
            writer.writerow(item)
            written += 1
    return written


def _xlsx(rows: Iterable[list[object]], path: Path, progress: Callable[[int], None] | None) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("舆情数据")
    sheet.append([name for name, _ in COLUMNS])
    written = 0
    for item in _counted(rows, progress):
        sheet.append(item)
        written += 1
    workbook.save(path)
    return written
