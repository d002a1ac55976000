"""A year's holiday schedule pasted as lines or uploaded as CSV: every fault found with its line."""

from __future__ import annotations

from datetime import date

from dashboard.holiday_text import parse_csv, parse_lines
from response_ledger.calendar import HolidayEntry

NOTICE = """# 国务院办公厅关于2027年部分节假日安排的通知（摘）
2027-01-01 休 元旦
2027-02-06..2027-02-08 休 春节
2027-02-14 班 春节调休
2027-10-01 至 2027-10-03 放假 国庆节
2027-09-26，补班，国庆节调休
"""


def test_a_notice_becomes_its_days_with_ranges_opened() -> None:
    parsed = parse_lines(NOTICE, 2027)
    assert parsed.ok and not parsed.problems
    assert parsed.entries == (
        HolidayEntry(date(2027, 1, 1), False, "元旦"),
        *(HolidayEntry(date(2027, 2, d), False, "春节") for d in (6, 7, 8)),
        HolidayEntry(date(2027, 2, 14), True, "春节调休"),
        HolidayEntry(date(2027, 9, 26), True, "国庆节调休"),
        *(HolidayEntry(date(2027, 10, d), False, "国庆节") for d in (1, 2, 3)),
    )


def test_every_fault_is_reported_with_its_line_and_nothing_is_taken() -> None:
    text = "\n".join(
        [
            "2027-01-02 休 元旦",
            "2027-02-30 休",  # no such day
            "2026-12-31 休",  # another year
            "2027-02-09 班",  # a Tuesday: already a working day
            "2027-01-02 班",  # the same day as line 1, the other kind
            "2027-03-01",  # no kind
            "2027-04-01 放鸽子",  # an unknown kind
            "2027-05-05..2027-05-01 休",  # backwards
        ]
    )
    parsed = parse_lines(text, 2027)
    assert not parsed.ok
    assert [number for number, _ in parsed.problems] == [2, 3, 4, 5, 6, 7, 8]
    reasons = dict(parsed.problems)
    assert "无法识别" in reasons[2] and "不在 2027 年" in reasons[3] and "星期二" in reasons[4]
    assert (
        "第 1 行" in reasons[5]
        and "类型" in reasons[6]
        and "放鸽子" in reasons[7]
        and "起点晚于终点" in reasons[8]
    )


def test_nothing_at_all_is_a_fault_too() -> None:
    parsed = parse_lines("# 只有注释\n\n", 2027)
    assert not parsed.ok and parsed.problems == ((0, "没有读到任何日期"),)


def test_a_csv_file_in_utf8_or_gbk_is_read_the_same_way() -> None:
    rows = "日期,类型,名称\n2027-01-01,休,元旦\n2027-02-14,班,春节调休\n"
    for data in (rows.encode("utf-8-sig"), rows.encode("gb18030")):
        parsed = parse_csv(data, 2027)
        assert parsed.ok and [(e.day.isoformat(), e.is_workday, e.name) for e in parsed.entries] == [
            ("2027-01-01", False, "元旦"),
            ("2027-02-14", True, "春节调休"),
        ]
    bad = parse_csv("日期,类型\n2027-13-01,休\n".encode(), 2027)
    assert bad.problems[0][0] == 2  # the file's own line number
