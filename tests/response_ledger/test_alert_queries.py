"""The duty monitor's ledger reads on SQLite and PostgreSQL, and the unit a step is taken for."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from response_ledger import services
from response_ledger.alert_queries import TICKET_FIELDS, stage_limits, ticket_clocks, tickets_of_posts
from response_ledger.errors import TicketOutsideUnit, describe
from response_ledger.queries import holiday_entries
from response_ledger.timeliness import Clock, current_stage, stage_due_soon, stage_late
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action, TicketStatus
from tests.response_ledger.samples import at
from tests.response_ledger.test_queries import UNIT_A, UNIT_B, _seed


def test_each_post_names_its_ticket_merged_posts_included(engine: Engine) -> None:
    ids = _seed(engine)
    found = tickets_of_posts(engine, ["hotline:demo:late", "hotline:demo:repeat", "hotline:demo:none"])
    assert found == {"hotline:demo:late": ids["late"], "hotline:demo:repeat": ids["late"]}
    assert tickets_of_posts(engine, []) == {}


@pytest.mark.parametrize(
    "moment",
    ["2026-09-01T09:30", "2026-09-01T11:00", "2026-09-01T12:00", "2026-09-03T12:00", "2026-10-01T09:00"],
)
def test_the_stage_limits_counted_in_the_database_follow_the_timeliness_rules(
    engine: Engine, moment: str
) -> None:
    ids = _seed(engine)
    now, fraction = at(moment), 0.75
    clocks = ticket_clocks(engine, [*ids.values(), "YQ-gone"])
    assert set(clocks) == set(ids.values()) and all(set(row) == set(TICKET_FIELDS) for row in clocks.values())
    late, soon = set(), set()
    for ticket_id, row in clocks.items():
        stage = current_stage(Clock.of_row(row))
        if row["status"] in (TicketStatus.CLOSED, TicketStatus.PAUSED) or stage is None or stage.due is None:
            continue
        if stage_late(stage, now):
            late.add(ticket_id)
        elif stage_due_soon(stage, now, fraction):
            soon.add(ticket_id)
    limits = stage_limits(engine, now, due_soon_fraction=fraction)
    assert (limits.overdue, limits.due_soon) == (len(late), len(soon))
    assert {row["id"] for row in limits.rows} == late | soon
    assert all({"id", "unit", "status", "summary", "limit", "due"} <= set(row) for row in limits.rows)


def test_staff_read_and_act_only_on_their_units_tickets(engine: Engine) -> None:
    ids = _seed(engine)
    with SqlUnitOfWork(engine) as uow:
        assert services.load_ticket(uow, ids["other"], unit=UNIT_B).unit == UNIT_B
        with pytest.raises(TicketOutsideUnit) as refused:
            services.load_ticket(uow, ids["other"], unit=UNIT_A)
        assert describe(refused.value) == f"工单 {ids['other']} 不属于本单位，无权查看或办理。"
        with pytest.raises(TicketOutsideUnit):
            services.act(
                uow, ids["other"], Action.SIGN, actor="李四", now=at("2026-09-02T09:00"), unit=UNIT_A
            )
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.get(ids["other"])
        assert ticket.status is TicketStatus.PENDING_SIGN and ticket.version == 1  # nothing written
        services.act(uow, ids["other"], Action.SIGN, actor="李四", now=at("2026-09-02T09:00"), unit=UNIT_B)
        assert uow.tickets.get(ids["other"]).status is TicketStatus.IN_PROGRESS


def test_the_holiday_table_reads_by_day(engine: Engine) -> None:
    from datetime import date

    with SqlUnitOfWork(engine) as uow:
        services.set_holiday(uow, date(2027, 2, 20), is_workday=True, name="春节调休")
        services.set_holiday(uow, date(2027, 1, 1), is_workday=False, name="元旦")
    assert [(e.day, e.is_workday, e.name) for e in holiday_entries(engine)] == [
        (date(2027, 1, 1), False, "元旦"),
        (date(2027, 2, 20), True, "春节调休"),
    ]
