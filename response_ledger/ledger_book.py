"""The 台账 as offices keep it: XLSX and CSV export in their column layout, and XLSX import.

The workbook is one an office prints and filters: a title (单位、范围、导出时间) above a frozen header
with a filter, real date and number cells, widths that fit, wrapped 摘要/答复内容, 已超期 rows red
and 即将到期/签收超时/答复超时/办结超时 rows amber (the flags of :mod:`response_ledger.markers`, the
page's own), a drop-down on 当前状态, A4 landscape with the header on every page, and a second sheet
with each unit's rates (:func:`response_ledger.queries.metrics`). Every text cell goes through
:func:`core.spreadsheet.safe_cell`, so a post starting with "=" stays text.

Import starts the ledger from an existing 台账 (or reads an exported one back: the header row is
found below any title rows). Rows it cannot read are reported by row number and reason, never
guessed; a row imported before (same source, 发现时间, unit and summary) is skipped.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select

from core.china_time import china_time
from core.labels import TICKET_SOURCE_LABELS, source_label
from core.masking import mask_text
from core.spreadsheet import restore_cell, safe_cell
from response_ledger import tables as t
from response_ledger.markers import DUE_SOON_MARK, OVERDUE, STAGE_LATE, marker
from response_ledger.model import Limits, Ticket
from response_ledger.queries import UnitMetrics, metrics
from response_ledger.timeliness import DUE_SOON_FRACTION, Clock, is_overdue, sign_started_sql
from response_ledger.unit_of_work import UnitOfWork
from response_ledger.workflow import TicketStatus

COLUMNS = (
    "序号", "来源", "发现时间", "舆情/诉求摘要", "责任单位", "办理时限", "当前状态",
    "答复时间", "答复内容", "是否超期", "办结时间", "标记",
)  # fmt: skip
# Old 台账 files said 网站留言 and 新闻媒体 for 留言板 and 新闻: they are read back too.
_SOURCE_CODES = {label: code for code, label in TICKET_SOURCE_LABELS.items()} | {
    "网站留言": "board",
    "新闻媒体": "news",
}
_TIME = "%Y-%m-%d %H:%M"
PROVISIONAL_MARK = "（暂定）"
NO_LIMIT = "暂停计时"
SHEET, METRICS_SHEET = "舆情回应台账", "各单位办理情况"
METRIC_COLUMNS = (
    "责任单位",
    "工单数",
    "签收率",
    "响应率",
    "按时办结率",
    "超期数",
    "平均办理时长（小时）",
    "满意率",
)
# Widths in Excel's character units (a Chinese character is about two); 摘要 and 答复内容 wrap.
_WIDTHS = (6, 11, 17, 44, 18, 21, 11, 17, 34, 9, 17, 13)
_WRAPPED = frozenset({"舆情/诉求摘要", "责任单位", "答复内容"})
_DATE_FORMAT = "yyyy-mm-dd hh:mm"
_RED, _RED_TEXT, _AMBER, _AMBER_TEXT = "FDE2E1", "A61B1B", "FFF3D6", "7A4A00"  # the page's colours
_HEADER_FILL = "D9E1F2"
_LINE_HEIGHT = 15  # points per line of 11-point text
_VALIDATED_ROWS = 1000  # the 当前状态 drop-down also covers rows an office adds below the export


@dataclass(frozen=True)
class BookRow:
    """One ticket as the 台账 shows it; times in China time."""

    number: int
    source: str
    found_at: datetime
    summary: str
    unit: str
    due_at: datetime | None  # None: the clock is paused (暂停计时)
    provisional: bool
    status: str
    answered_at: datetime | None
    answer_text: str
    late: bool  # 是否超期: response_ledger.timeliness.is_overdue at export time (as 超期数 counts)
    closed_at: datetime | None
    mark: str  # response_ledger.markers.marker at export time

    def cells(self) -> list[object]:
        """The row's cells in :data:`COLUMNS` order: numbers and times as such, text as text."""
        return [
            self.number, self.source, _naive(self.found_at), self.summary, self.unit,
            NO_LIMIT if self.due_at is None else _naive(self.due_at), self.status,
            _naive(self.answered_at), self.answer_text, "是" if self.late else "否",
            _naive(self.closed_at), self.mark,
        ]  # fmt: skip

    def texts(self) -> list[str]:
        """The row as text (the CSV)."""
        limit = NO_LIMIT if self.due_at is None else _fmt(self.due_at)
        if self.due_at is not None and self.provisional:
            limit += PROVISIONAL_MARK
        cells = self.cells()
        cells[2], cells[5], cells[7], cells[10] = (
            _fmt(self.found_at), limit, _fmt(self.answered_at), _fmt(self.closed_at),
        )  # fmt: skip
        return [str(c) for c in cells]


@dataclass(frozen=True)
class BookTitle:
    """What the title rows say: who exported which tickets when."""

    department: str
    exported_at: datetime
    unit: str | None = None  # None: every unit

    def line(self, first: datetime | None, last: datetime | None) -> str:
        """单位、范围、导出时间 as one line; ``first``/``last`` are the rows' earliest and latest 发现时间."""
        scope = self.unit or "全部责任单位"
        if first is not None and last is not None:
            scope += f"，发现时间 {first:%Y-%m-%d} 至 {last:%Y-%m-%d}"
        return f"单位：{self.department}　　范围：{scope}　　导出时间：{_fmt(self.exported_at)}"


def _fmt(moment: datetime | None) -> str:
    return "" if moment is None else china_time(moment).strftime(_TIME)


def _naive(moment: datetime | None) -> datetime | None:
    # Excel has no time zones: a cell holds the China wall-clock time.
    return None if moment is None else china_time(moment).replace(tzinfo=None, microsecond=0)


def masked_rows(rows: Iterable[BookRow]) -> Iterator[BookRow]:
    """The 台账 rows with their free-text columns (摘要, 答复内容) masked: phone, ID and card numbers."""
    for row in rows:
        yield dataclasses.replace(row, summary=mask_text(row.summary), answer_text=mask_text(row.answer_text))


def ledger_rows(
    engine: Engine, *, now: datetime, unit: str | None = None, due_soon_fraction: float = DUE_SOON_FRACTION
) -> Iterator[BookRow]:
    """The 台账 rows (without the header), oldest first, flagged as at ``now``.

    ``due_soon_fraction`` is the policy's (:mod:`response_ledger.timeliness`).
    """
    c = t.tickets.c
    query = select(t.tickets, sign_started_sql().label("sign_started_at")).order_by(c.found_at, c.id)
    if unit is not None:
        query = query.where(c.unit == unit)
    with engine.connect() as connection:
        for index, found in enumerate(connection.execute(query).mappings(), start=1):
            row, due = dict(found), found["due_at"]
            yield BookRow(
                number=index, source=source_label(row["source"]),
                found_at=china_time(row["found_at"]), summary=row["summary"], unit=row["unit"],
                due_at=due and china_time(due), provisional=bool(row["provisional"]), status=row["status"],
                answered_at=row["answered_at"] and china_time(row["answered_at"]),
                answer_text=row["answer_text"], late=is_overdue(Clock.of_row(row), now),
                closed_at=row["closed_at"] and china_time(row["closed_at"]),
                mark=marker(row, now, due_soon_fraction),
            )  # fmt: skip


def book_metrics(engine: Engine, *, now: datetime, unit: str | None = None) -> list[UnitMetrics]:
    """Each unit's rates over every ticket in the 台账 (opened up to ``now``), from ``queries.metrics``."""
    with engine.connect() as connection:
        first = connection.execute(select(func.min(t.tickets.c.opened_at))).scalar()
    if first is None:
        return []
    return metrics(engine, start=first, end=max(now, first) + timedelta(seconds=1), now=now, unit=unit)


def export_xlsx(
    rows: Iterable[BookRow],
    path: Path,
    *,
    title: BookTitle | None = None,
    unit_metrics: Sequence[UnitMetrics] = (),
) -> int:
    """Write the 台账 workbook (and, with ``unit_metrics``, its per-unit sheet); returns the data rows."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    last_column = get_column_letter(len(COLUMNS))
    header_row = 3 if title is not None else 1
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    fills = {OVERDUE: (_RED, _RED_TEXT), DUE_SOON_MARK: (_AMBER, _AMBER_TEXT)}
    fills.update({mark: (_AMBER, _AMBER_TEXT) for mark in STAGE_LATE.values()})
    styles = {
        mark: (PatternFill("solid", fgColor=fill), Font(color=colour))
        for mark, (fill, colour) in fills.items()
    }
    # Everything above the rows is written with the first row (write-only mode): widths, panes, print.
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    _print_setup(sheet, header_row, landscape=True)

    from openpyxl.cell import WriteOnlyCell

    cell = functools.partial(_cell, WriteOnlyCell, sheet)

    rows = list(rows)  # the title states the rows' date range; a 台账 fits in memory as dataclasses
    if title is not None:
        found = [row.found_at for row in rows]
        sheet.row_dimensions[1].height = 30
        sheet.append([cell("舆情回应台账", font=Font(name="黑体", size=16, bold=True),
                           alignment=Alignment(horizontal="center", vertical="center"))])  # fmt: skip
        sheet.append([cell(title.line(min(found, default=None), max(found, default=None)), alignment=top)])
        sheet.merged_cells.add(f"A1:{last_column}1")
        sheet.merged_cells.add(f"A2:{last_column}2")
    header_style = {
        "font": Font(bold=True),
        "fill": PatternFill("solid", fgColor=_HEADER_FILL),
        "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "border": border,
    }
    sheet.append([cell(name, **header_style) for name in COLUMNS])
    count = 0
    for row in rows:
        # Spreadsheet programs do not all grow a row to its wrapped text on opening: set its height.
        lines = max(
            _lines(row.summary, _WIDTHS[3]), _lines(row.unit, _WIDTHS[4]), _lines(row.answer_text, _WIDTHS[8])
        )
        if lines > 1:
            sheet.row_dimensions[header_row + count + 1].height = _LINE_HEIGHT * lines + 2
        fill, font = styles.get(row.mark, (None, None))
        out = []
        for name, value in zip(COLUMNS, row.cells(), strict=True):
            style: dict[str, Any] = {"border": border, "alignment": wrapped if name in _WRAPPED else top}
            if isinstance(value, datetime):
                provisional = name == "办理时限" and row.provisional
                style["number_format"] = _DATE_FORMAT + (f'"{PROVISIONAL_MARK}"' if provisional else "")
            if fill is not None:
                style["fill"], style["font"] = fill, font
            out.append(cell(value, **style))
        sheet.append(out)
        count += 1
    last_row = header_row + count
    sheet.auto_filter.ref = f"A{header_row}:{last_column}{max(last_row, header_row + 1)}"
    status_column = get_column_letter(COLUMNS.index("当前状态") + 1)
    choices = DataValidation(
        type="list",
        formula1='"' + ",".join(s.value for s in TicketStatus) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="当前状态",
        error="请从下拉列表中选择状态",
    )
    choices.add(f"{status_column}{header_row + 1}:{status_column}{last_row + _VALIDATED_ROWS}")
    sheet.data_validations.append(choices)
    if unit_metrics:
        _metrics_sheet(book, unit_metrics, title, header_style, border)
    book.save(path)
    return count


def _lines(text: str, width: int) -> int:
    """About how many lines ``text`` takes wrapped in a column ``width`` wide (a CJK character is two)."""
    usable = max(width - 1, 1)
    return sum(
        max(1, -(-sum(2 if ord(ch) > 0x2E7F else 1 for ch in part) // usable)) for part in text.split("\n")
    )


def _print_setup(sheet: Any, header_row: int, *, landscape: bool) -> None:
    """A4, fit to the page width, the header row on every page, page numbers in the footer."""
    sheet.page_setup.paperSize = "9"  # A4 (openpyxl Worksheet.PAPERSIZE_A4)
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def _metrics_sheet(
    book: Workbook,
    rows: Sequence[UnitMetrics],
    title: BookTitle | None,
    header_style: dict[str, Any],
    border: Any,
) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(METRICS_SHEET)
    for letter, width in zip("ABCDEFGH", (24, 9, 11, 11, 12, 9, 20, 11), strict=True):
        sheet.column_dimensions[letter].width = width
    header_row = 2 if title is not None else 1
    sheet.freeze_panes = f"A{header_row + 1}"
    _print_setup(sheet, header_row, landscape=False)

    from openpyxl.cell import WriteOnlyCell

    cell = functools.partial(_cell, WriteOnlyCell, sheet)

    if title is not None:
        text = f"各单位办理情况（{title.unit or '全部责任单位'}，截至 {_fmt(title.exported_at)}）"
        sheet.append([cell(text, font=Font(name="黑体", size=14, bold=True))])
        sheet.merged_cells.add("A1:H1")
    sheet.append([cell(name, **header_style) for name in METRIC_COLUMNS])
    for row in rows:
        values: list[tuple[object, str]] = [
            (row.unit, "General"), (row.tickets, "0"), (row.sign_rate, "0.0%"), (row.response_rate, "0.0%"),
            (row.on_time_close_rate, "0.0%"), (row.overdue, "0"),
            (None if row.avg_handling_hours is None else round(row.avg_handling_hours, 1), "0.0"),
            (row.satisfaction_rate, "0.0%"),
        ]  # fmt: skip
        sheet.append([
            cell("—" if value is None else value, number_format=number_format, border=border,
                 alignment=Alignment(horizontal="left" if index == 0 else "right"))
            for index, (value, number_format) in enumerate(values)
        ])  # fmt: skip


def export_csv(rows: Iterable[BookRow], path: Path) -> int:
    """Write the 台账 as CSV with a BOM, so Excel opens the Chinese text correctly."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([safe_cell(value) for value in row.texts()])
            count += 1
    return count


@dataclass
class ImportReport:
    """What an import did; ``errors`` holds (spreadsheet row number, reason in Chinese)."""

    imported: list[str] = field(default_factory=list)
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


_REQUIRED = ("发现时间", "舆情/诉求摘要", "责任单位")


def import_xlsx(uow: UnitOfWork, path: Path, *, actor: str, now: datetime) -> ImportReport:
    """Load an existing 台账 workbook (first sheet; the header row within its first rows) into the ledger.

    Commits once. An exported 台账 reads back as it was written: its title rows are skipped, and the
    apostrophe :func:`~core.spreadsheet.safe_cell` put before formula-like text is taken off.
    """
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        report = _import_rows(uow, book.worksheets[0].iter_rows(values_only=True), actor=actor, now=now)
    finally:
        book.close()  # read-only workbooks keep the file open until closed
    uow.commit()
    return report


_HEADER_SEARCH = 10  # rows above the header (an exported 台账 has two title rows)


def _import_rows(
    uow: UnitOfWork, rows: Iterator[tuple[Any, ...]], *, actor: str, now: datetime
) -> ImportReport:
    report = ImportReport()
    header: list[str] = []
    header_number = 0
    for header_number, values in enumerate(rows, start=1):
        header = [str(v).strip() if v is not None else "" for v in values]
        if all(name in header for name in _REQUIRED) or header_number == _HEADER_SEARCH:
            break
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        report.errors.append((1, f"缺少必需的列：{'、'.join(missing)}"))
        return report
    for number, values in enumerate(rows, start=header_number + 1):
        record = {
            name: restore_cell(values[i]) if i < len(values) else None
            for i, name in enumerate(header)
            if name
        }
        if all(v in (None, "") for v in record.values()):
            continue
        try:
            ticket, key = _ticket_from_row(record, actor=actor, now=now)
        except ValueError as exc:
            report.errors.append((number, str(exc)))
            continue
        if uow.tickets.ticket_id_for_post(key) is not None:
            report.duplicates += 1
            continue
        ticket.schedule(uow.holidays.calendar())
        uow.tickets.add(ticket)
        uow.tickets.link_post(key, ticket.id)
        report.imported.append(ticket.id)
    return report


def _time(value: Any, column: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return china_time(value)
    text = str(value).strip().replace("/", "-").removesuffix(PROVISIONAL_MARK)
    if text == NO_LIMIT:
        return None
    try:
        return china_time(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"“{column}”无法识别为时间：{value}") from None


def _ticket_from_row(record: dict[str, Any], *, actor: str, now: datetime) -> tuple[Ticket, str]:
    found = _time(record.get("发现时间"), "发现时间")
    if found is None:
        raise ValueError("“发现时间”为空")
    summary, unit = str(record.get("舆情/诉求摘要") or "").strip(), str(record.get("责任单位") or "").strip()
    if not summary or not unit:
        raise ValueError("“舆情/诉求摘要”或“责任单位”为空")
    source = _SOURCE_CODES.get(str(record.get("来源") or "").strip(), "import")
    status_label = str(record.get("当前状态") or TicketStatus.PENDING_SIGN.value).strip()
    try:
        status = TicketStatus(status_label)
    except ValueError:
        raise ValueError(f"“当前状态”无法识别：{status_label}") from None
    due = _time(record.get("办理时限"), "办理时限")
    answered, closed = _time(record.get("答复时间"), "答复时间"), _time(record.get("办结时间"), "办结时间")
    key = hashlib.sha256(f"{source}|{found.isoformat()}|{unit}|{summary}".encode()).hexdigest()[:24]
    ticket = Ticket.open(
        actor=actor, at=found, comment="从既有台账导入",
        data={"due_at": due.isoformat() if due else None, "imported_at": china_time(now).isoformat()},
        id=f"IM-{key[:16]}", ticket_class="imported", source=source, summary=summary, unit=unit,
        found_at=found, limits=Limits(), post_id=None,
    )  # fmt: skip
    # The imported row is history the ledger did not witness: it is taken as it stands.
    ticket.status, ticket.answered_at, ticket.closed_at = status, answered, closed
    ticket.answer_text = str(record.get("答复内容") or "")
    if closed is not None:
        ticket.handling_s = int((closed - found).total_seconds())
    return ticket, f"import:{key}"


def _cell(cell_type: Any, sheet: Any, value: object, **style: Any) -> Any:
    """A write-only cell (``cell_type``: openpyxl's, imported where a sheet is written) of ``sheet``
    holding ``value`` made safe (no live formula), styled."""
    out = cell_type(sheet, value=safe_cell(value))
    for name, item in style.items():
        setattr(out, name, item)
    return out
