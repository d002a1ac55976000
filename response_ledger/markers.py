"""A ticket's flag as staff see it — 已超期, 签收/答复/办结超时, 即将到期, 暂停计时, 已办结 — from ``now``.

One definition for every place that flags tickets: the 回应台账 page (row colours and the 标记
column) and the exported 台账 workbook (red and amber fills). The rules behind the flags (overdue,
the current stage, due soon) are :mod:`response_ledger.timeliness`'; a row is a mapping with the
``tickets`` table's columns plus ``sign_started_at`` (:data:`response_ledger.timeliness.CLOCK_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from response_ledger.timeliness import (
    CLOSE,
    DUE_SOON_FRACTION,
    RESPOND,
    SIGN,
    Clock,
    current_stage,
    is_overdue,
    stage_due_soon,
    stage_late,
)
from response_ledger.workflow import TicketStatus

# Words, not emoji: the Kylin/UOS desktops many offices use often lack an emoji font, and a marker
# that shows as a box says nothing. Overdue rows are also painted red, and rows late for their
# current stage (the ticket itself not overdue) amber.
OVERDUE, DUE_SOON_MARK, PAUSED, CLOSED = "【已超期】", "【即将到期】", "【暂停计时】", "【已办结】"
STAGE_LATE = {SIGN: "【签收超时】", RESPOND: "【答复超时】", CLOSE: "【办结超时】"}


def marker(row: Mapping[str, Any], now: datetime, due_soon_fraction: float = DUE_SOON_FRACTION) -> str:
    """The row's flag: closed, overdue, paused, late for its stage, due soon, or nothing.

    A ticket not signed (or not answered) by its 签收 (答复) limit is late for that stage even while
    its 办理时限 is days away; one answered in time but not closed by its 办理时限 is late to close
    (【办结超时】), not overdue. ``due_soon_fraction`` is the policy's.
    """
    if row["status"] == TicketStatus.CLOSED.value:
        return CLOSED
    clock = Clock.of_row(row)
    if is_overdue(clock, now):
        return OVERDUE
    stage = current_stage(clock)
    if clock.due_at is None or stage is None:
        return PAUSED
    if stage_late(stage, now):
        return STAGE_LATE[stage.name]
    if stage_due_soon(stage, now, due_soon_fraction):
        return DUE_SOON_MARK
    return ""
