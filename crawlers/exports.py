"""Spreadsheets as people export them: CSV (UTF-8, GBK, GB18030), XLSX and old XLS, headers found by name.

Pure functions shared by the hotline inbox (:mod:`crawlers.spiders.hotline`) and ``yuqing ingest``
(:mod:`crawlers.ingest`). :func:`read_table` turns a file's bytes into numbered non-blank rows, or raises
:class:`ExportError` naming why it cannot (unreadable, too many rows). :func:`locate_header` finds the
header row below a title row and fills a header cell left blank by a vertical merge from the row above,
mapping each header text to a field through a resolver (built-in synonyms, a source's ``columns:``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crawlers.errors import CrawlerError

# The columns of a 12345 export (and the canonical names the API spider maps its keys to).
# fmt: off
HOTLINE_COLUMNS = (
    "工单编号", "受理时间", "诉求类型", "诉求标题", "诉求内容", "所属区域", "承办单位", "办理状态",
    "办结时间", "回访满意度", "来电人", "来电号码", "答复内容", "更新时间",
)
# Other platforms' names for the same columns; a source's ``columns:`` maps anything else.
HOTLINE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "工单编号": ("工单号", "受理编号", "编号", "工单编码", "受理号"),
    "受理时间": ("来电时间", "登记时间", "创建时间", "受理日期", "来电日期"),
    "诉求内容": ("问题描述", "来电内容", "反映内容", "诉求描述", "工单内容"),
    "来电号码": ("联系电话", "手机号码", "来电电话", "联系方式"),
    "诉求类型": ("来电类别", "业务类型", "诉求类别", "工单类型"),
    "诉求标题": ("标题", "事项名称", "工单标题"),
    "承办单位": ("主办单位", "处理部门", "办理单位", "责任单位"),
    "办理状态": ("工单状态", "处理状态"),
    "办结时间": ("完成时间", "办结日期"),
    "回访满意度": ("满意度", "回访结果"),
    "所属区域": ("区域", "所属地区", "行政区划"),
    "来电人": ("来电人姓名", "联系人", "姓名"),
    "答复内容": ("办理结果", "回复内容", "处理结果", "办理意见"),
    "更新时间": ("最后更新时间", "修改时间"),
}
# fmt: on
HOTLINE_REQUIRED = ("工单编号", "受理时间", "诉求内容")
SUFFIXES = (".csv", ".xlsx", ".xls")
MAX_FILE_MB = 50  # an export of a whole year of a large city's orders is ~30 MB
MAX_ROWS = 200_000
# An .xlsx is a zip of XML: a small file can unpack to gigabytes (one shared-strings part did 600 MB
# from 779 KB). Real exports unpack to 5–20 times their size; these limits leave room and stop bombs.
MAX_UNPACKED_MB = 512
MAX_PACK_RATIO = 200
# Blank rows are skipped but still cost time to read: a sheet may have this many rows in all.
MAX_SHEET_ROWS_FACTOR = 2
MAX_COLUMNS = 1_000  # an export has a few dozen columns
HEADER_SCAN_ROWS = 20  # a header further down than this is not a header
_HEADER_NOISE = re.compile(r"[\s*＊:：]+")

Row = tuple[int, list[Any]]  # (1-based row number in the sheet or file, cells)


class ExportError(CrawlerError):
    """A file that cannot be read as a table; ``reason`` is short, starts with its kind, and is English."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Header:
    """The header row found: its row number and, per column, the field it holds (or its own text)."""

    row: int
    names: list[str]  # a field, or the header's text when no field matches, or "" for no header
    fields: frozenset[str]  # the fields recognised among ``names``


def header_key(text: object) -> str:
    """A header cell as compared: whitespace, line breaks, ``*`` and colons dropped."""
    return _HEADER_NOISE.sub("", "" if text is None else str(text))


def resolver(
    fields: Iterable[str],
    synonyms: Mapping[str, Iterable[str]],
    columns: Iterable[tuple[str, str]] = (),
) -> Callable[[str], str | None]:
    """A header text → field function: ``columns`` (field, header) pairs first, then names, then synonyms."""
    table: dict[str, str] = {}
    for field, names in synonyms.items():
        for name in names:
            table.setdefault(header_key(name), field)
    for field in fields:
        table[header_key(field)] = field
    for field, name in columns:
        table[header_key(name)] = field
    return lambda text: table.get(header_key(text))


def locate_header(
    rows: Sequence[Row], resolve: Callable[[str], str | None], required: Sequence[str] = ()
) -> Header | None:
    """The header among the first rows: the one (with its row above) naming most fields, all of ``required``.

    A title row above the header names no field and is passed over. A header cell left blank, as a
    vertical merge leaves every cell but the top one, takes the header of the row above. Without a
    row naming every required field, the one naming most fields is returned (its ``fields`` tell what is
    missing); None when no row names any field.
    """
    best: Header | None = None
    best_key = (False, 0)
    for index in range(min(len(rows), HEADER_SCAN_ROWS)):
        number, cells = rows[index]
        above = rows[index - 1][1] if index > 0 else []
        names: list[str] = []
        taken: list[str] = []
        for column, cell in enumerate(cells):
            text = _text(cell)
            field = resolve(text) if text else None
            if not text and column < len(above):  # merged down from the row above
                text = _text(above[column])
                field = resolve(text) if text else None
            names.append(field or text)
            taken += [field] if field else []
        fields = frozenset(taken)
        if len(taken) != len(fields):
            names = _first_wins(names, fields)
        key = (all(name in fields for name in required), len(fields))
        if fields and key > best_key:
            best, best_key = Header(number, names, fields), key
    return best


def _first_wins(names: list[str], fields: frozenset[str]) -> list[str]:
    # Two columns naming one field (编号 and 工单编号): the first keeps it, the other is kept as 列N.
    seen: set[str] = set()
    out = []
    for column, name in enumerate(names):
        if name in fields and name in seen:
            name = f"列{column + 1}"
        seen.add(name)
        out.append(name)
    return out


def read_table(body: bytes, suffix: str, *, max_rows: int = MAX_ROWS, max_mb: int = MAX_FILE_MB) -> list[Row]:
    """The non-blank rows of a ``.csv``, ``.xlsx`` or ``.xls`` file's bytes, numbered as in the file.

    Raise :class:`ExportError` for a file over ``max_mb`` megabytes or ``max_rows`` rows, or unreadable.
    """
    suffix = suffix.lower()
    if len(body) > max_mb * 1024 * 1024:
        raise ExportError(f"file too large: {len(body) / 1024 / 1024:.1f} MB, over the limit of {max_mb} MB")
    readers = {".csv": _csv_rows, ".xlsx": _xlsx_rows, ".xls": _xls_rows}
    if suffix not in readers:
        raise ExportError(f"unsupported file type: {suffix or 'none'}")
    rows: list[Row] = []
    try:
        if suffix == ".xlsx":
            _check_unpacked(body, max_mb)
        for number, cells in readers[suffix](body):
            if number > max_rows * MAX_SHEET_ROWS_FACTOR + HEADER_SCAN_ROWS:
                raise ExportError(
                    f"too many rows: the sheet goes on past row {number - 1} (the max_rows limit)"
                )
            if any(cell is not None and str(cell).strip() for cell in cells):
                if len(rows) >= max_rows:
                    raise ExportError(f"too many rows: more than {max_rows} (the max_rows limit)")
                rows.append((number, list(cells)))
    except ExportError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError, TypeError, csv.Error) as exc:
        raise ExportError(f"unreadable {suffix[1:]} file: {type(exc).__name__}") from exc
    except Exception as exc:  # xlrd's XLRDError and CompDocError derive from Exception only
        if type(exc).__module__.startswith("xlrd"):
            raise ExportError(f"unreadable xls file: {exc}"[:200]) from exc
        raise
    return rows


def _check_unpacked(body: bytes, max_mb: int) -> None:
    """Refuse a zip whose parts would unpack past :data:`MAX_UNPACKED_MB` or unpack suspiciously far."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        total = 0
        for member in archive.infolist():
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > 1024 * 1024 and ratio > MAX_PACK_RATIO:
                raise ExportError(
                    f"suspicious xlsx file: part {member.filename} unpacks {ratio:.0f} times its size "
                    f"(the limit is {MAX_PACK_RATIO})"
                )
    limit = max(MAX_UNPACKED_MB, max_mb * 10)
    if total > limit * 1024 * 1024:
        raise ExportError(
            f"xlsx file too large unpacked: {total / 1024 / 1024:.0f} MB, over the limit of {limit} MB"
        )


def decode_text(body: bytes) -> str:
    """A text file's bytes: UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (a superset of GBK)."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ExportError("unreadable csv file: neither UTF-8 nor GBK/GB18030 text") from exc


def _csv_rows(body: bytes) -> Iterable[Row]:
    text = decode_text(body)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        yield number, list(row)


def _xlsx_rows(body: bytes) -> Iterable[Row]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # A declared dimension past any real export (A1:XFD1048576 in a crafted file) would make
        # openpyxl pad every row and walk to the declared end: forget it and read the rows the file
        # holds. An honest dimension stays, so merged header cells keep their columns.
        if (sheet.max_row or 0) > MAX_ROWS * MAX_SHEET_ROWS_FACTOR or (sheet.max_column or 0) > MAX_COLUMNS:
            sheet.reset_dimensions()
        # Rows missing from the file come as empty tuples, so the numbering stays the sheet's.
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _xls_rows(body: bytes) -> Iterable[Row]:
    import xlrd

    book = xlrd.open_workbook(file_contents=body, on_demand=True)
    try:
        if book.nsheets == 0:
            return
        sheet = book.sheet_by_index(0)
        for index in range(sheet.nrows):
            cells: list[Any] = []
            for cell in sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    cells.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    cells.append(None)
                else:
                    cells.append(cell.value)
            yield index + 1, cells
    finally:
        book.release_resources()


def cell_text(value: object) -> str:
    """A cell as text: times as ``YYYY-MM-DD HH:MM:SS``, whole floats (typed into Excel) as integers."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores an order number or phone typed as a number as a float
    return "" if value is None else str(value).strip()


def _text(value: object) -> str:
    return cell_text(value)
