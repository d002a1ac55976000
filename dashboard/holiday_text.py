"""A year's holiday schedule as an administrator enters it in one go: lines of text or a CSV file.

The State Council's notice is copied as lines such as::

    2027-01-01 休 元旦
    2027-02-06..2027-02-12 休 春节
    2027-02-14 班 春节调休

a date or a range (``..``, ``~``, ``至``), a kind (休/放假/假 for a day off, 班/上班/补班/调休上班 for a
working day in lieu) and an optional name; blank lines and lines starting with ``#`` are skipped.
A CSV file (日期, 类型, 名称; a header row is recognised) is read the same way. Every line is checked
and every fault reported with its line number, so the whole schedule is fixed before any of it is
written. Pure functions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from response_ledger.calendar import HolidayEntry

OFF_WORDS = ("休", "放假", "假", "休息", "假日")
WORK_WORDS = ("班", "上班", "补班", "调休上班", "工作日")
MAX_RANGE_DAYS = 31
NAME_MAX = 50  # the holiday table's column
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|～|至|—|–)\s*(\d{4}-\d{1,2}-\d{1,2})$")
_SPLIT = re.compile(r"[\s,，\t]+")
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Parsed:
    """What the lines hold: the days, and the faults found (line number and reason), in order."""

    entries: tuple[HolidayEntry, ...] = ()
    problems: tuple[tuple[int, str], ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether the lines can be written as they are."""
        return not self.problems and bool(self.entries)


def parse_lines(text: str, year: int) -> Parsed:
    """The days of ``year`` the lines of ``text`` name; faults reported per line."""
    return _parse(enumerate(text.splitlines(), start=1), year)


def parse_csv(data: bytes, year: int) -> Parsed:
    """The days of ``year`` a CSV file names (UTF-8 with or without BOM, or GB18030)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    rows = csv.reader(io.StringIO(text))
    lines = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if number == 1 and cells and "日期" in cells[0]:
            continue  # the header row
        lines.append((number, " ".join(cell for cell in cells if cell)))
    return _parse(lines, year)


def _parse(lines: Iterable[tuple[int, str]], year: int) -> Parsed:
    found: dict[date, tuple[HolidayEntry, int]] = {}
    problems: list[tuple[int, str]] = []
    for number, line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            days, is_workday, name = _line(text)
        except ValueError as exc:
            problems.append((number, str(exc)))
            continue
        for day in days:
            if day.year != year:
                problems.append((number, f"{day.isoformat()} 不在 {year} 年"))
                break
            if is_workday and day.weekday() < 5:
                problems.append(
                    (
                        number,
                        f"{day.isoformat()} 是星期{WEEKDAYS[day.weekday()]}，本来就上班：调休上班日应为周末",
                    )
                )
                break
            earlier = found.get(day)
            if earlier is not None and earlier[0].is_workday != is_workday:
                problems.append((number, f"{day.isoformat()} 在第 {earlier[1]} 行已写作另一种类型"))
                break
            if earlier is None or (name and not earlier[0].name):
                found[day] = (HolidayEntry(day, is_workday, name), number)
    if not found and not problems:
        problems.append((0, "没有读到任何日期"))
    entries = tuple(entry for _, (entry, _) in sorted(found.items()))
    return Parsed(entries, tuple(problems))


def _line(text: str) -> tuple[list[date], bool, str]:
    """One line's days, kind and name (a ``ValueError`` in Chinese for a line that is none of these)."""
    # A range written with spaces around its sign is one token: close them up first.
    text = re.sub(r"\s*(\.\.|~|～|至|—|–)\s*(?=\d{4}-)", r"\1", text)
    parts = [part for part in _SPLIT.split(text) if part]
    if len(parts) < 2:
        raise ValueError("每行须写日期和类型（休 或 班），如“2027-01-01 休 元旦”")
    days = _days(parts[0])
    kind = parts[1]
    if kind in OFF_WORDS:
        is_workday = False
    elif kind in WORK_WORDS:
        is_workday = True
    else:
        raise ValueError(f"无法识别的类型“{kind[:10]}”：放假写“休”，调休上班写“班”")
    name = " ".join(parts[2:])[:NAME_MAX]
    return days, is_workday, name


def _days(token: str) -> list[date]:
    match = _RANGE.match(token)
    if match is None:
        return [_day(token)]
    first, last = _day(match.group(1)), _day(match.group(2))
    if last < first:
        raise ValueError(f"日期范围 {token} 的起点晚于终点")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"日期范围 {token} 超过 {MAX_RANGE_DAYS} 天")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _day(token: str) -> date:
    try:
        year, month, day = (int(part) for part in token.split("-"))
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"日期“{token[:20]}”无法识别，请写作 YYYY-MM-DD，如 2027-01-01") from None
