"""The 台账 exported as XLSX and CSV in the office layout, and an existing 台账 imported."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine

from response_ledger import services
from response_ledger.db import make_engine, migrate
from response_ledger.ledger_book import (
    COLUMNS,
    METRIC_COLUMNS,
    METRICS_SHEET,
    SHEET,
    BookTitle,
    book_metrics,
    export_csv,
    export_xlsx,
    import_xlsx,
    ledger_rows,
)
from response_ledger.policy import load_policy
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action, TicketStatus
from tests.response_ledger.samples import at

POLICY = load_policy()


def _seed(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        first = services.new_ticket(
            uow,
            POLICY,
            ticket_class="12345-complaint",
            source="hotline",
            summary="夜间施工噪音扰民",
            unit="区生态环境分局",
            found_at=at("2026-09-01T09:00"),
            start=at("2026-09-01T09:00"),
            actor="值班员",
            post_id="hotline:demo:1",
        )
        services.new_ticket(
            uow,
            POLICY,
            ticket_class="board-message",
            source="board",
            summary="学位咨询",
            unit="区教育局",
            found_at=at("2026-12-25T09:00"),
            start=at("2026-12-25T09:00"),
            actor="值班员",
            post_id="board:demo:2",
        )
        uow.commit()
        for action in (Action.SIGN, Action.RESPOND, Action.CLOSE):
            services.act(
                uow, first.id, action, actor="李四", now=at("2026-09-02T15:30"), comment="已责令停工"
            )


def test_the_exported_workbook_reads_back_with_the_office_columns(engine: Engine, tmp_path: Path) -> None:
    _seed(engine)
    path = tmp_path / "台账.xlsx"
    assert export_xlsx(ledger_rows(engine, now=at("2027-02-01T00:00")), path) == 2
    sheet = load_workbook(path, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == COLUMNS
    assert rows[1] == [
        1,
        "12345热线",
        datetime(2026, 9, 1, 9, 0),
        "夜间施工噪音扰民",
        "区生态环境分局",
        datetime(2026, 9, 21, 23, 59, 59),
        "已办结",
        datetime(2026, 9, 2, 15, 30),
        "已责令停工",
        "否",
        datetime(2026, 9, 2, 15, 30),
        "【已办结】",
    ]
    assert rows[2][1] == "留言板" and isinstance(rows[2][5], datetime) and rows[2][9] == "是"
    assert rows[2][11] == "【已超期】"


def _office_book(engine: Engine, path: Path, now: datetime) -> None:
    export_xlsx(
        ledger_rows(engine, now=now),
        path,
        title=BookTitle(department="示范区人民政府办公室", exported_at=now),
        unit_metrics=book_metrics(engine, now=now),
    )


def test_the_office_workbook_prints_filters_and_flags(engine: Engine, tmp_path: Path) -> None:
    _seed(engine)
    now = at("2027-02-01T00:00")
    path = tmp_path / "台账.xlsx"
    _office_book(engine, path, now)
    book = load_workbook(path)
    sheet = book[SHEET]
    assert "示范区人民政府办公室" in str(sheet["A2"].value) and "导出时间：2027-02-01 00:00" in str(
        sheet["A2"].value
    )
    assert [c.value for c in sheet[3]] == list(COLUMNS)
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:L5"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr is not None and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["C4"].is_date and sheet["C4"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["F5"].number_format.endswith('"（暂定）"')  # the provisional limit is still a date
    assert sheet["A4"].value == 1 and sheet["D4"].alignment.wrap_text
    assert sheet["A5"].fill.fgColor.rgb.endswith("FDE2E1")  # 已超期: red
    assert sheet["A4"].fill.fill_type is None  # 已办结: no fill
    (validation,) = sheet.data_validations.dataValidation
    assert "G4" in validation.sqref and all(s.value in validation.formula1 for s in TicketStatus)
    assert (sheet.column_dimensions["D"].width or 0) > 30
    metrics_sheet = book[METRICS_SHEET]
    assert [c.value for c in metrics_sheet[2]][:8] == list(METRIC_COLUMNS)
    units = {row[0]: row for row in metrics_sheet.iter_rows(min_row=3, values_only=True)}
    assert set(units) == {"区生态环境分局", "区教育局"}
    assert units["区生态环境分局"][4] == 1.0 and units["区教育局"][5] == 1  # 按时办结率, 超期数


def test_an_exported_workbook_imports_back(engine: Engine, tmp_path: Path) -> None:
    _seed(engine)
    path = tmp_path / "台账.xlsx"
    _office_book(engine, path, at("2027-02-01T00:00"))
    target = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(target)
    try:
        with SqlUnitOfWork(target) as uow:
            report = import_xlsx(uow, path, actor="管理员", now=at("2027-02-02T09:00"))
        assert report.errors == [] and len(report.imported) == 2
        again = list(ledger_rows(target, now=at("2027-02-01T00:00")))
    finally:
        target.dispose()
    before = list(ledger_rows(engine, now=at("2027-02-01T00:00")))
    for old, new in zip(before, again, strict=True):
        assert (new.summary, new.unit, new.found_at, new.status, new.closed_at, new.due_at) == (
            old.summary, old.unit, old.found_at, old.status, old.closed_at, old.due_at,
        )  # fmt: skip


def test_formula_text_is_neutralised_and_reads_back_as_written(engine: Engine, tmp_path: Path) -> None:
    crafted = ['=HYPERLINK("http://evil.example","点此")', "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
    with SqlUnitOfWork(engine) as uow:
        for number, summary in enumerate(crafted):
            services.new_ticket(
                uow, POLICY, ticket_class="board-message", source="board", summary=summary, unit="区教育局",
                found_at=at(f"2026-12-0{number + 1}T09:00"), start=at(f"2026-12-0{number + 1}T09:00"),
                actor="值班员", post_id=f"board:demo:{number}",
            )  # fmt: skip
        uow.commit()
    path = tmp_path / "台账.xlsx"
    _office_book(engine, path, at("2027-02-01T00:00"))
    sheet = load_workbook(path)[SHEET]
    cells = [sheet.cell(row=row, column=4) for row in range(4, 4 + len(crafted))]
    assert all(c.data_type == "s" and str(c.value).startswith("'") for c in cells)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    csv_path = tmp_path / "台账.csv"
    export_csv(ledger_rows(engine, now=at("2027-02-01T00:00")), csv_path)
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        assert all(row[3].startswith("'") for row in list(csv.reader(handle))[1:])
    target = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(target)
    try:
        with SqlUnitOfWork(target) as uow:
            report = import_xlsx(uow, path, actor="管理员", now=at("2027-02-02T09:00"))
        assert report.errors == []
        summaries = sorted(row.summary for row in ledger_rows(target, now=at("2027-02-01T00:00")))
        assert summaries == sorted(text.strip() for text in crafted)  # the import strips blanks
    finally:
        target.dispose()


def test_the_csv_opens_in_excel_with_chinese_headers(engine: Engine, tmp_path: Path) -> None:
    _seed(engine)
    path = tmp_path / "台账.csv"
    export_csv(ledger_rows(engine, now=at("2026-10-01T00:00"), unit="区教育局"), path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS) and len(rows) == 2 and rows[1][4] == "区教育局"


def _workbook(path: Path, rows: list[list[object]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "序号",
            "来源",
            "发现时间",
            "舆情/诉求摘要",
            "责任单位",
            "办理时限",
            "当前状态",
            "答复时间",
            "答复内容",
        ]
    )
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_an_existing_ledger_is_imported_and_unreadable_rows_are_reported(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "旧台账.xlsx"
    _workbook(
        path,
        [
            [
                1,
                "12345热线",
                "2026-08-01 09:00",
                "路灯不亮",
                "区交通运输局",
                "2026-08-10 23:59",
                "已答复",
                "2026-08-05 10:00",
                "已维修",
            ],
            [2, "微博", "八月初", "网传停水", "区住房和城乡建设局", None, "办理中", None, None],
            [3, "网站留言", "2026-08-02 10:00", "", "区教育局", None, None, None, None],
            [4, "网站留言", "2026-08-03 10:00", "学位不足", "区教育局", None, "处理完了", None, None],
            [None, None, None, None, None, None, None, None, None],
            [6, "网站留言", "2026-08-04 10:00", "校车安全", "区教育局", "2026-08-20 23:59", None, None, None],
        ],
    )
    with SqlUnitOfWork(engine) as uow:
        report = import_xlsx(uow, path, actor="管理员", now=at("2026-09-01T09:00"))
    assert len(report.imported) == 2
    assert [n for n, _ in report.errors] == [3, 4, 5]
    assert "发现时间" in report.errors[0][1] and "当前状态" in report.errors[2][1]
    with SqlUnitOfWork(engine) as uow:
        lamp = uow.tickets.get(report.imported[0])
        bus = uow.tickets.get(report.imported[1])
    assert (lamp.status, lamp.answer_text, lamp.due_at) == (
        TicketStatus.ANSWERED,
        "已维修",
        at("2026-08-10T23:59"),
    )
    assert bus.status is TicketStatus.PENDING_SIGN and bus.source == "board"
    with SqlUnitOfWork(engine) as uow:
        again = import_xlsx(uow, path, actor="管理员", now=at("2026-09-02T09:00"))
    assert again.imported == [] and again.duplicates == 2


def test_a_workbook_without_the_required_columns_is_refused_whole(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "别的表.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "电话"])
    book.save(path)
    with SqlUnitOfWork(engine) as uow:
        report = import_xlsx(uow, path, actor="管理员", now=at("2026-09-01T09:00"))
    assert report.imported == [] and report.errors[0][0] == 1 and "发现时间" in report.errors[0][1]
