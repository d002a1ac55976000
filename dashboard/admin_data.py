"""What 系统管理 reads from the ledger and writes to it: the holiday table with its complete years,
and the units tickets are filed under. Reads through :mod:`response_ledger.queries`, every change
through :mod:`response_ledger.services` on a unit of work the services open (each recomputes the
open tickets' deadlines); each change is also a line of the audit file (:mod:`dashboard.config_files`).

No SQL here and none in a page. Not cached: after a change the page must show it at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from core.china_time import CHINA_TZ
from dashboard.auth import User
from dashboard.config_files import audit
from dashboard.ledger_data import actor
from dashboard.services import Services
from response_ledger import services as ledger
from response_ledger.calendar import HolidayEntry
from response_ledger.queries import holiday_entries, holiday_years, ticket_units

HOLIDAY_TABLE = "节假日表（台账数据库）"


@dataclass(frozen=True)
class Holidays:
    """The holiday table and the years marked complete (with who marked each, and when)."""

    entries: list[HolidayEntry]
    complete: dict[int, tuple[str, datetime]]


def holidays(services: Services) -> Holidays:
    """The holiday table as it stands (raises ``SQLAlchemyError`` while the database is down)."""
    engine = services.ledger()
    return Holidays(holiday_entries(engine), holiday_years(engine))


def units_of_tickets(services: Services) -> list[str]:
    """Every unit some ticket is filed under."""
    return ticket_units(services.ledger())


def set_year(
    services: Services, user: User, year: int, entries: Iterable[HolidayEntry], *, complete: bool
) -> int:
    """Replace ``year``'s days with ``entries`` (marked complete or not); how many open deadlines moved."""
    wanted = list(entries)
    with services.unit_of_work() as uow:
        moved = ledger.set_year_schedule(
            uow, year, wanted, complete=complete, by=actor(user), at=datetime.now(CHINA_TZ)
        )
    off = sum(not entry.is_workday for entry in wanted)
    state = "，标记为已录入完整" if complete else "，未标记完整"
    audit(
        services.settings,
        user,
        HOLIDAY_TABLE,
        f"录入 {year} 年节假日安排：放假 {off} 天、调休上班 {len(wanted) - off} 天{state}"
        "（替换该年原有日期）",
    )
    return moved


def mark_year(services: Services, user: User, year: int, *, complete: bool) -> int:
    """Mark ``year`` complete (or not); how many open deadlines moved."""
    with services.unit_of_work() as uow:
        moved = ledger.mark_year_complete(
            uow, year, complete=complete, by=actor(user), at=datetime.now(CHINA_TZ)
        )
    audit(
        services.settings,
        user,
        HOLIDAY_TABLE,
        f"{year} 年节假日安排{'标记为已录入完整' if complete else '取消“已录入完整”标记'}",
    )
    return moved


def change_day(
    services: Services, user: User, day: date, *, remove: bool, is_workday: bool = False, name: str = ""
) -> int:
    """Set or remove one day of the table; how many open deadlines moved."""
    with services.unit_of_work() as uow:
        if remove:
            moved = ledger.remove_holiday(uow, day)
        else:
            moved = ledger.set_holiday(uow, day, is_workday=is_workday, name=name)
    kind = "调休上班" if is_workday else "放假"
    what = (
        f"删除 {day.isoformat()}"
        if remove
        else f"设置 {day.isoformat()} 为{kind}{'（' + name + '）' if name else ''}"
    )
    audit(services.settings, user, HOLIDAY_TABLE, what)
    return moved
