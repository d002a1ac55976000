"""The 台账 as offices keep it: XLSX and CSV export in their column layout, and XLSX import.

Import starts the ledger from an existing 台账. Rows it cannot read are reported by row number and
reason, never guessed; a row imported before (same source, 发现时间, unit and summary) is skipped.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, select

from response_ledger import tables as t
from response_ledger.calendar import china_time
from response_ledger.model import Limits, Ticket
from response_ledger.unit_of_work import UnitOfWork
from response_ledger.workflow import TicketStatus

COLUMNS = (
    "序号", "来源", "发现时间", "舆情/诉求摘要", "责任单位", "办理时限", "当前状态",
    "答复时间", "答复内容", "是否超期", "办结时间",
)  # fmt: skip
SOURCE_LABELS = {"hotline": "12345热线", "board": "网站留言", "weibo": "微博", "news": "新闻媒体",
                 "manual": "人工登记", "import": "导入"}  # fmt: skip
_SOURCE_CODES = {label: code for code, label in SOURCE_LABELS.items()}
_TIME = "%Y-%m-%d %H:%M"
PROVISIONAL_MARK = "（暂定）"


def _fmt(moment: datetime | None) -> str:
    return "" if moment is None else china_time(moment).strftime(_TIME)


def ledger_rows(engine: Engine, *, now: datetime, unit: str | None = None) -> Iterator[list[str]]:
    """The 台账 rows (without the header), oldest first."""
    c = t.tickets.c
    query = select(t.tickets).order_by(c.found_at, c.id)
    if unit is not None:
        query = query.where(c.unit == unit)
    with engine.connect() as connection:
        for index, row in enumerate(connection.execute(query).mappings(), start=1):
            due = row["due_at"]
            late = due is not None and ((row["closed_at"] or now) > due)
            limit = _fmt(due) + (PROVISIONAL_MARK if row["provisional"] and due else "")
            yield [
                str(index), SOURCE_LABELS.get(row["source"], row["source"]), _fmt(row["found_at"]),
                row["summary"], row["unit"], limit or "暂停计时", row["status"], _fmt(row["answered_at"]),
                row["answer_text"], "是" if late else "否", _fmt(row["closed_at"]),
            ]  # fmt: skip


def export_xlsx(rows: Iterable[list[str]], path: Path) -> int:
    """Write the 台账 workbook; returns the number of data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("舆情回应台账")
    sheet.append(list(COLUMNS))
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    book.save(path)
    return count


def export_csv(rows: Iterable[list[str]], path: Path) -> int:
    """Write the 台账 as CSV with a BOM, so Excel opens the Chinese text correctly."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(row)
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
    """Load an existing 台账 workbook (first sheet, header in row 1) into the ledger; commit once."""
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        report = _import_rows(uow, book.worksheets[0].iter_rows(values_only=True), actor=actor, now=now)
    finally:
        book.close()  # read-only workbooks keep the file open until closed
    uow.commit()
    return report


def _import_rows(
    uow: UnitOfWork, rows: Iterator[tuple[Any, ...]], *, actor: str, now: datetime
) -> ImportReport:
    report = ImportReport()
    header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        report.errors.append((1, f"缺少必需的列：{'、'.join(missing)}"))
        return report
    for number, values in enumerate(rows, start=2):
        record = {name: values[i] if i < len(values) else None for i, name in enumerate(header) if name}
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
