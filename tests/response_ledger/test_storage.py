"""The SQLAlchemy adapters on SQLite and PostgreSQL: round trips, migrations, concurrency, holidays."""

from __future__ import annotations

import multiprocessing
import sys
import types
from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from response_ledger import services
from response_ledger import tables as t
from response_ledger.calendar import HolidayEntry
from response_ledger.db import alembic_config, applied_revisions, migrate
from response_ledger.errors import ConcurrencyConflict, TicketNotFound
from response_ledger.migrations import HEAD_REVISION
from response_ledger.policy import load_policy
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action, TicketStatus
from tests.response_ledger.concurrent_staff import sign_after_barrier
from tests.response_ledger.conftest import LedgerDb
from tests.response_ledger.samples import at

POLICY = load_policy()


def _open(engine: Engine, start: str = "2026-09-01T09:00", post_id: str = "hotline:demo:1") -> str:
    with SqlUnitOfWork(engine) as uow:
        ticket = services.new_ticket(
            uow,
            POLICY,
            ticket_class="12345-complaint",
            source="hotline",
            summary="夜间施工噪音",
            unit="区生态环境分局",
            found_at=at(start),
            start=at(start),
            actor="值班员",
            post_id=post_id,
            event_key="ev-1",
        )
        uow.commit()
        return ticket.id


def test_a_ticket_and_its_events_survive_a_round_trip(engine: Engine) -> None:
    ticket_id = _open(engine)
    with SqlUnitOfWork(engine) as uow:
        services.act(uow, ticket_id, Action.SIGN, actor="李四", now=at("2026-09-01T10:00"), comment="收到")
    with SqlUnitOfWork(engine) as uow:
        loaded = uow.tickets.get(ticket_id)
        assert uow.tickets.ticket_id_for_post("hotline:demo:1") == ticket_id
        assert uow.tickets.open_ticket_id_for_event("ev-1") == ticket_id
    assert (loaded.status, loaded.version, loaded.unit) == (TicketStatus.IN_PROGRESS, 2, "区生态环境分局")
    assert loaded.due_at == at("2026-09-21T23:59:59") and loaded.signed_at == at("2026-09-01T10:00")
    assert [(e.seq, e.action, e.actor, e.comment) for e in loaded.events] == [
        (1, Action.OPEN, "值班员", ""),
        (2, Action.SIGN, "李四", "收到"),
    ]


def test_an_unknown_ticket_is_reported_by_id(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow, pytest.raises(TicketNotFound):
        uow.tickets.get("YQ-none")


def test_leaving_without_commit_writes_nothing(engine: Engine) -> None:
    ticket_id = _open(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.tickets.get(ticket_id).act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
        uow.tickets.save()
    with SqlUnitOfWork(engine) as uow:
        assert uow.tickets.get(ticket_id).status is TicketStatus.PENDING_SIGN


def test_a_form_submitted_over_a_newer_version_is_a_conflict_and_writes_nothing(engine: Engine) -> None:
    ticket_id = _open(engine)
    with SqlUnitOfWork(engine) as uow:
        services.act(
            uow, ticket_id, Action.SIGN, actor="李四", now=at("2026-09-01T10:00"), expected_version=1
        )
    with SqlUnitOfWork(engine) as uow, pytest.raises(ConcurrencyConflict):
        services.act(
            uow, ticket_id, Action.ESCALATE, actor="王主任", now=at("2026-09-01T11:00"), expected_version=1
        )
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.events)).scalar() == 2


def test_two_interleaved_units_of_work_one_wins_and_the_other_conflicts(engine: Engine) -> None:
    ticket_id = _open(engine)
    with SqlUnitOfWork(engine) as first, SqlUnitOfWork(engine) as second:
        mine, theirs = first.tickets.get(ticket_id), second.tickets.get(ticket_id)
        mine.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
        first.commit()
        theirs.act(Action.RETURN, actor="赵六", at=at("2026-09-01T10:01"), comment="非本单位")
        with pytest.raises(ConcurrencyConflict):
            second.commit()
    with SqlUnitOfWork(engine) as uow:
        stored = uow.tickets.get(ticket_id)
    assert stored.status is TicketStatus.IN_PROGRESS and [e.actor for e in stored.events] == [
        "值班员",
        "李四",
    ]


@pytest.mark.slow
def test_two_staff_in_two_processes_signing_at_once_one_succeeds_the_other_conflicts(
    ledger_db: LedgerDb, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id = _open(engine)
    # A spawned child re-runs the parent's __main__; after an AppTest in this process that is
    # AppTest's throwaway script, which dies outside AppTest. The children need nothing from it.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=sign_after_barrier, args=(ledger_db, ticket_id, actor, barrier, results))
        for actor in ("李四", "赵六")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    outcomes = sorted(results.get(timeout=5)[1] for _ in workers)
    assert outcomes == ["conflict", "ok"]
    with SqlUnitOfWork(engine) as uow:
        stored = uow.tickets.get(ticket_id)
    assert stored.version == 2 and [e.action for e in stored.events] == [Action.OPEN, Action.SIGN]


def test_changing_the_holiday_table_recomputes_open_provisional_deadlines(engine: Engine) -> None:
    ticket_id = _open(engine, start="2026-12-20T09:00")
    with SqlUnitOfWork(engine) as uow:
        before = uow.tickets.get(ticket_id)
    assert before.provisional and before.due_at == at("2027-01-08T23:59:59")
    with SqlUnitOfWork(engine) as uow:
        moved = services.set_holiday(uow, date(2027, 1, 1), is_workday=False, name="元旦")
    with SqlUnitOfWork(engine) as uow:
        after = uow.tickets.get(ticket_id)
        assert [e.name for e in uow.holidays.entries()] == ["元旦"]
    # The day counts at once, but one date does not make 2027 known: still provisional.
    assert moved == 1 and after.provisional and after.due_at == at("2027-01-11T23:59:59")
    assert after.version == before.version  # a recomputation is not a staff step
    with SqlUnitOfWork(engine) as uow:
        assert (
            services.mark_year_complete(uow, 2027, complete=True, by="管理员甲", at=at("2026-12-01T09:00"))
            == 1
        )
    with SqlUnitOfWork(engine) as uow:
        assert not uow.tickets.get(ticket_id).provisional
        assert uow.holidays.complete_years() == {2027: ("管理员甲", at("2026-12-01T09:00"))}
        services.remove_holiday(uow, date(2027, 1, 1))
        assert uow.tickets.get(ticket_id).due_at == at("2027-01-08T23:59:59")
    with SqlUnitOfWork(engine) as uow:
        services.mark_year_complete(uow, 2027, complete=False, by="管理员甲", at=at("2026-12-02T09:00"))
        assert uow.tickets.get(ticket_id).provisional and uow.holidays.complete_years() == {}


def test_a_years_schedule_replaces_that_years_days_in_one_go(engine: Engine) -> None:
    ticket_id = _open(engine, start="2026-12-20T09:00")
    with SqlUnitOfWork(engine) as uow:
        services.set_holiday(uow, date(2026, 10, 1), is_workday=False, name="国庆节")
        services.set_holiday(uow, date(2027, 3, 1), is_workday=False, name="录错的")
    schedule = [
        HolidayEntry(date(2027, 1, 1), False, "元旦"),
        HolidayEntry(date(2027, 2, 14), True, "春节调休"),
    ]
    with SqlUnitOfWork(engine) as uow:
        moved = services.set_year_schedule(
            uow, 2027, schedule, complete=True, by="管理员甲", at=at("2026-12-01T09:00")
        )
    with SqlUnitOfWork(engine) as uow:
        assert [(e.day, e.name) for e in uow.holidays.entries()] == [
            (date(2026, 10, 1), "国庆节"),  # another year's days stay
            (date(2027, 1, 1), "元旦"),
            (date(2027, 2, 14), "春节调休"),
        ]
        ticket = uow.tickets.get(ticket_id)
    assert moved == 1 and not ticket.provisional and ticket.due_at == at("2027-01-11T23:59:59")
    with SqlUnitOfWork(engine) as uow, pytest.raises(ValueError, match="outside 2027"):
        services.set_year_schedule(
            uow,
            2027,
            [HolidayEntry(date(2028, 1, 1), False)],
            complete=True,
            by="x",
            at=at("2026-12-01T09:00"),
        )


def test_migrations_are_current_and_idempotent(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]
    migrate(engine)
    assert applied_revisions(engine) == [HEAD_REVISION]


def test_intake_on_a_real_database_merges_repeats_and_ignores_replays(engine: Engine) -> None:
    from response_ledger.intake import open_tickets
    from tests.response_ledger.samples import post

    batch = [post("1", event_id="ev-x"), post("2", event_id="ev-x"), post("1", event_id="ev-x")]
    with SqlUnitOfWork(engine) as uow:
        first = open_tickets(uow, batch, at("2026-09-01T10:00"), policy=POLICY)
    with SqlUnitOfWork(engine) as uow:
        again = open_tickets(uow, batch, at("2026-09-01T10:05"), policy=POLICY)
        merged = uow.tickets.get(first.opened[0])
    assert len(first.opened) == 1 and len(first.merged) == 1 and first.duplicates == ["hotline:demo:1"]
    assert again.opened == [] and len(again.duplicates) == 3
    assert [e.action for e in merged.events] == [Action.OPEN, Action.MERGE] and merged.version == 1


def test_the_schema_downgrades_to_nothing_and_upgrades_again(engine: Engine) -> None:
    from alembic import command
    from sqlalchemy import inspect

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not {"ledger_tickets", "ledger_events"} & set(inspect(engine).get_table_names())
    migrate(engine)
    assert {"ledger_tickets", "ledger_events", "ledger_ticket_posts", "ledger_holidays"} <= set(
        inspect(engine).get_table_names()
    )
