"""The 台账 exported as XLSX and CSV in the office layout, and an existing 台账 imported."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine

from response_ledger import services
from response_ledger.ledger_book import COLUMNS, export_csv, export_xlsx, import_xlsx, ledger_rows
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
        "1",
        "12345热线",
        "2026-09-01 09:00",
        "夜间施工噪音扰民",
        "区生态环境分局",
        "2026-09-21 23:59",
        "已办结",
        "2026-09-02 15:30",
        "已责令停工",
        "否",
        "2026-09-02 15:30",
    ]
    assert rows[2][1] == "网站留言" and rows[2][5].endswith("（暂定）") and rows[2][9] == "是"


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
