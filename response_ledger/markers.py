"""A ticket's flag as staff see it — 已超期, 签收超时/答复超时, 即将到期, 暂停计时, 已办结 — from ``now``.

One definition for every place that flags tickets: the 回应台账 page (row colours and the 标记
column) and the exported 台账 workbook (red and amber fills). A row is a mapping with the
``tickets`` table's columns (``status``, ``due_at``, ``signed_at``, ``sign_due_at``, ``answered_at``,
``respond_due_at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from response_ledger.workflow import TicketStatus

# A ticket whose limit ends within a day is due soon (the duty monitor warns at the same point).
DUE_SOON = timedelta(hours=24)
# Words, not emoji: the Kylin/UOS desktops many offices use often lack an emoji font, and a marker
# that shows as a box says nothing. Overdue rows are also painted red, and rows late for signing or
# answering (办理时限 still ahead) amber.
OVERDUE, DUE_SOON_MARK, PAUSED, CLOSED = "【已超期】", "【即将到期】", "【暂停计时】", "【已办结】"
STAGE_LATE = {"签收": "【签收超时】", "答复": "【答复超时】"}


def is_overdue(row: Mapping[str, Any], now: datetime) -> bool:
    """Past its 办理时限 and not closed (as the 超期数 metric counts open tickets)."""
    due = row["due_at"]
    return due is not None and row["status"] != TicketStatus.CLOSED.value and now > due


def pending_limit(row: Mapping[str, Any]) -> tuple[str, datetime | None]:
    """The limit the ticket is working towards: 签收 until signed, then 答复, then 办结."""
    if row["signed_at"] is None and row["sign_due_at"] is not None:
        return "签收", row["sign_due_at"]
    if row["answered_at"] is None and row["respond_due_at"] is not None:
        return "答复", row["respond_due_at"]
    return "办结", row["due_at"]


def marker(row: Mapping[str, Any], now: datetime) -> str:
    """The row's flag: overdue, late for its stage, due soon (its pending limit), paused, closed or nothing.

    A ticket not signed (or not answered) by its 签收 (答复) limit is late for that stage even while
    its 办理时限 is days away: it is flagged as such, not as 即将到期.
    """
    if row["status"] == TicketStatus.CLOSED.value:
        return CLOSED
    if is_overdue(row, now):
        return OVERDUE
    if row["due_at"] is None:
        return PAUSED
    stage, pending = pending_limit(row)
    if pending is not None and now > pending and stage in STAGE_LATE:
        return STAGE_LATE[stage]
    if pending is not None and pending - now < DUE_SOON:
        return DUE_SOON_MARK
    return ""
