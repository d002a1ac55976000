"""Hostile spreadsheets are refused fast, saying which limit they broke, before they cost memory."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from openpyxl import Workbook

from crawlers.exports import ExportError, read_table


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewrite(body: bytes, name: str, edit: object) -> bytes:
    """``body`` with zip member ``name`` replaced by ``edit(old_text)``."""
    source = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == name:
                data = edit(data.decode("utf-8")).encode("utf-8")  # type: ignore[operator]
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


GOOD = [["工单编号", "受理时间", "诉求内容"], ["A1", "2026-12-01 10:00", "路灯不亮"]]


def test_a_part_that_unpacks_a_thousandfold_is_refused_before_it_is_unpacked() -> None:
    # The shape of the 779 KB file that took 600 MB: one part of text that compresses to nothing.
    bomb = _rewrite(
        _xlsx(GOOD),
        "xl/worksheets/sheet1.xml",
        lambda text: text.replace("<t>A1</t>", "<t>" + "停" * 3_000_000 + "</t>"),
    )
    assert len(bomb) < 200_000
    with pytest.raises(ExportError, match=r"unpacks \d+ times its size"):
        read_table(bomb, ".xlsx")


def test_an_inflated_dimension_costs_nothing_and_rows_keep_their_numbers() -> None:
    body = _rewrite(
        _xlsx(GOOD),
        "xl/worksheets/sheet1.xml",
        lambda text: text.replace('ref="A1:C2"', 'ref="A1:XFD1048576"'),
    )
    started = time.perf_counter()
    rows = read_table(body, ".xlsx")
    assert time.perf_counter() - started < 5  # walking to row 1,048,576 took minutes
    assert rows == [(1, GOOD[0]), (2, GOOD[1])]


def test_a_sheet_that_runs_on_past_the_row_limit_is_refused_naming_the_limit() -> None:
    body = _rewrite(
        _xlsx(GOOD),
        "xl/worksheets/sheet1.xml",
        lambda text: text.replace('ref="A1:C2"', 'ref="A1:C900000"').replace(
            "</sheetData>", '<row r="900000"><c r="A900000" t="n"><v>1</v></c></row></sheetData>'
        ),
    )
    with pytest.raises(ExportError, match="max_rows"):
        read_table(body, ".xlsx", max_rows=1000)
