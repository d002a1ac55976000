"""Overdue, the current stage and due soon: the one set of rules, and its SQL mirror agreeing with it."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from response_ledger import services
from response_ledger import tables as t
from response_ledger.calendar import WorkCalendar
from response_ledger.markers import CLOSED, DUE_SOON_MARK, OVERDUE, STAGE_LATE, marker
from response_ledger.policy import load_policy
from response_ledger.queries import metrics
from response_ledger.timeliness import (
    CLOCK_FIELDS,
    CLOSE,
    RESPOND,
    SIGN,
    Clock,
    closed_on_time,
    closed_on_time_sql,
    current_stage,
    is_overdue,
    overdue_by,
    overdue_sql,
    sign_started_sql,
    stage_due_soon,
    stage_due_soon_sql,
    stage_late,
    stage_late_by,
    stage_late_sql,
    stage_sql,
)
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action, TicketStatus
from tests.response_ledger.samples import at, ticket

POLICY = load_policy()
DUE = at("2026-09-21T23:59:59")  # the sample complaint's 办理时限 (15 working days from 2026-09-01)


def answered(when: str) -> Any:
    """The sample complaint, signed at once and first answered at ``when``."""
    subject = ticket()
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    subject.act(Action.RESPOND, actor="李四", at=at(when), comment="已处理")
    return subject


# The decision (issue 23): the obligation is to answer by the 办理时限.


def test_a_ticket_answered_in_time_is_not_overdue_while_it_waits_to_be_closed() -> None:
    subject = answered("2026-09-10T09:00")
    assert subject.due_at == DUE and subject.status is TicketStatus.ANSWERED
    later = at("2026-10-08T09:00")
    assert not subject.is_overdue(later) and overdue_by(Clock.of(subject), later) == timedelta(0)
    # Its 办结 limit has passed: it is late to close, and chased for that, but not 超期.
    stage = current_stage(Clock.of(subject))
    assert stage is not None and (stage.name, stage.due) == (CLOSE, DUE) and stage_late(stage, later)
    subject.act(Action.CLOSE, actor="李四", at=later)
    assert not subject.is_overdue(later + timedelta(days=30)) and closed_on_time(Clock.of(subject))


def test_a_ticket_answered_late_is_overdue_for_good_and_not_on_time_when_closed() -> None:
    subject = answered("2026-09-23T09:00")
    assert subject.is_overdue(at("2026-09-23T09:00"))
    assert overdue_by(Clock.of(subject), at("2026-10-30T09:00")) == at("2026-09-23T09:00") - DUE
    subject.act(Action.CLOSE, actor="李四", at=at("2026-09-23T10:00"))
    assert subject.is_overdue(at("2026-10-30T09:00")) and not closed_on_time(Clock.of(subject))


def test_an_unanswered_ticket_is_overdue_once_past_its_limit_and_answering_at_the_limit_is_in_time() -> None:
    subject = ticket()
    assert not subject.is_overdue(DUE) and subject.is_overdue(DUE + timedelta(seconds=1))
    assert overdue_by(Clock.of(subject), DUE + timedelta(hours=5)) == timedelta(hours=5)
    on_the_dot = answered("2026-09-21T23:59:59")
    assert not on_the_dot.is_overdue(at("2026-10-30T09:00"))


def test_a_reopened_ticket_keeps_its_first_answer_and_a_paused_one_is_never_overdue() -> None:
    subject = answered("2026-09-10T09:00")
    subject.act(Action.REOPEN, actor="值班员", at=at("2026-09-15T09:00"), comment="群众不满意")
    assert subject.status is TicketStatus.IN_PROGRESS and not subject.is_overdue(at("2026-10-08T09:00"))
    paused = ticket()
    paused.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    paused.act(Action.PAUSE, actor="李四", at=at("2026-09-02T10:00"), comment="等待补正")
    paused.schedule(WorkCalendar())
    assert paused.due_at is None and not paused.is_overdue(at("2027-01-01T00:00"))


def test_the_stage_is_signing_then_answering_then_closing_and_signing_restarts_at_reassignment() -> None:
    subject = ticket()
    stage = current_stage(Clock.of(subject))
    assert stage is not None and (stage.name, stage.started) == (SIGN, at("2026-09-01T09:00"))
    subject.act(Action.RETURN, actor="李四", at=at("2026-09-02T09:00"), comment="非本单位职责")
    subject.act(Action.REASSIGN, actor="值班员", at=at("2026-09-03T09:00"), data={"unit": "区城管执法局"})
    stage = current_stage(Clock.of(subject))
    assert stage is not None and (stage.name, stage.started) == (SIGN, at("2026-09-03T09:00"))
    subject.act(Action.SIGN, actor="王五", at=at("2026-09-03T10:00"))
    stage = current_stage(Clock.of(subject))
    assert stage is not None and (stage.name, stage.started) == (RESPOND, at("2026-09-01T09:00"))
    subject.act(Action.RESPOND, actor="王五", at=at("2026-09-04T10:00"), comment="已处理")
    stage = current_stage(Clock.of(subject))
    assert stage is not None and stage.name == CLOSE
    subject.act(Action.CLOSE, actor="王五", at=at("2026-09-05T10:00"))
    assert current_stage(Clock.of(subject)) is None


def test_due_soon_is_the_policys_share_of_the_stage_used_and_ends_when_the_stage_is_late() -> None:
    subject = ticket()  # 签收 from 2026-09-01 09:00 to 2026-09-02 23:59:59: 39 hours
    stage = current_stage(Clock.of(subject))
    assert stage is not None and stage.due == at("2026-09-02T23:59:59")
    three_quarters = stage.started + (stage.due - stage.started) * 0.75
    assert not stage_due_soon(stage, three_quarters - timedelta(seconds=1), POLICY.due_soon_fraction)
    assert stage_due_soon(stage, three_quarters, POLICY.due_soon_fraction)
    assert stage_due_soon(stage, stage.due) and not stage_late(stage, stage.due)
    assert not stage_due_soon(stage, stage.due + timedelta(seconds=1))
    assert stage_late_by(stage, stage.due + timedelta(hours=2)) == timedelta(hours=2)
    assert stage_due_soon(stage, at("2026-09-01T19:00"), 0.25)  # another policy's share


def _row(subject: Any, **changes: Any) -> dict[str, Any]:
    row = {name: getattr(subject, name) for name in CLOCK_FIELDS}
    return row | {"status": subject.status.value} | changes


def test_the_flags_follow_the_rules() -> None:
    late_to_close = answered("2026-09-10T09:00")
    assert marker(_row(late_to_close), at("2026-09-25T09:00")) == STAGE_LATE[CLOSE] == "【办结超时】"
    assert marker(_row(answered("2026-09-23T09:00")), at("2026-09-25T09:00")) == OVERDUE
    assert marker(_row(ticket()), at("2026-09-02T20:00")) == DUE_SOON_MARK  # 签收: 28 of 39 hours used
    assert marker(_row(ticket()), at("2026-09-02T20:00"), 0.9) == ""
    assert marker(_row(ticket(), status=TicketStatus.CLOSED.value), at("2026-12-01T00:00")) == CLOSED


@pytest.fixture
def decided(engine: Engine) -> Engine:
    """Three complaints opened on 2026-09-01: answered in time and closed late, answered in time
    and still open, answered late."""
    with SqlUnitOfWork(engine) as uow:
        ids = [
            services.new_ticket(
                uow, POLICY, ticket_class="12345-complaint", source="hotline", summary=f"诉求{n}",
                unit="区生态环境分局", found_at=at("2026-09-01T09:00"), start=at("2026-09-01T09:00"),
                actor="值班员", post_id=f"hotline:demo:{n}",
            ).id
            for n in ("a", "b", "c")
        ]  # fmt: skip
        uow.commit()
        steps = {
            ids[0]: [(Action.RESPOND, "2026-09-10T09:00"), (Action.CLOSE, "2026-09-25T09:00")],
            ids[1]: [(Action.RESPOND, "2026-09-10T09:00")],
            ids[2]: [(Action.RESPOND, "2026-09-25T09:00")],
        }
        for ticket_id, more in steps.items():
            for action, when in [(Action.SIGN, "2026-09-01T10:00"), *more]:
                services.act(uow, ticket_id, action, actor="李四", now=at(when), comment="已办理")
    return engine


def test_the_metrics_count_only_late_answers_as_overdue(decided: Engine) -> None:
    [row] = metrics(
        decided, start=at("2026-09-01T00:00"), end=at("2026-10-01T00:00"), now=at("2026-10-31T00:00")
    )
    assert row.tickets == 3
    assert row.overdue == 1  # answered late; the two answered in time are not, closed or not
    assert row.on_time_close_rate == pytest.approx(1 / 3)  # answered in time, closed after the limit


# The SQL mirror: every rule, on a grid of tickets and moments, on SQLite and PostgreSQL.

T0 = at("2026-09-01T09:00")


def _moment(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _grid_row(tid: str, status: TicketStatus, **moments: float | None) -> dict[str, Any]:
    """A ``tickets`` row opened at T0; ``moments`` are hours after T0 (None: not set)."""
    row: dict[str, Any] = {
        "id": tid, "ticket_class": "12345-complaint", "source": "hotline", "post_id": None,
        "event_key": None, "summary": tid, "url": "", "unit": "区生态环境分局", "status": status.value,
        "found_at": T0, "opened_at": T0, "sign_rule": None, "respond_rule": None, "close_rule": None,
        "max_extension": None, "provisional": False, "answer_text": "", "satisfaction": None,
        "escalations": 0, "handling_s": None, "version": 1,
    }  # fmt: skip
    defaults = {"sign_due_at": 24, "respond_due_at": 48, "due_at": 120}
    for name in ("sign_due_at", "respond_due_at", "due_at", "signed_at", "answered_at", "closed_at"):
        hours = moments.get(name, defaults.get(name))
        row[name] = None if hours is None else _moment(hours)
    return row


S = TicketStatus
GRID = [
    _grid_row("to-sign", S.PENDING_SIGN),
    _grid_row("to-sign-reassigned", S.PENDING_SIGN, sign_due_at=72),  # 改派 at T0+48h
    _grid_row("to-answer", S.IN_PROGRESS, signed_at=1),
    _grid_row("no-answer-limit", S.IN_PROGRESS, signed_at=1, respond_due_at=None),
    _grid_row("no-sign-limit", S.PENDING_SIGN, sign_due_at=None),
    _grid_row("answered-in-time", S.ANSWERED, signed_at=1, answered_at=24),
    _grid_row("answered-on-the-dot", S.ANSWERED, signed_at=1, answered_at=120),
    _grid_row("answered-late", S.ANSWERED, signed_at=1, answered_at=144),
    _grid_row("reopened", S.IN_PROGRESS, signed_at=1, answered_at=24),
    _grid_row("closed-in-time", S.CLOSED, signed_at=1, answered_at=24, closed_at=48),
    _grid_row("closed-late-answered-in-time", S.CLOSED, signed_at=1, answered_at=24, closed_at=168),
    _grid_row("closed-answered-late", S.CLOSED, signed_at=1, answered_at=144, closed_at=145),
    _grid_row("imported-closed", S.CLOSED, sign_due_at=None, respond_due_at=None, closed_at=96),
    _grid_row("imported-closed-late", S.CLOSED, sign_due_at=None, respond_due_at=None, closed_at=150),
    _grid_row("imported-no-limit", S.CLOSED, sign_due_at=None, respond_due_at=None, due_at=None, closed_at=9),
    _grid_row("paused", S.PAUSED, signed_at=1, respond_due_at=None, due_at=None),
    _grid_row("extension-requested", S.EXTENSION_REQUESTED, signed_at=1, respond_due_at=None, due_at=200),
]
REASSIGNED_AT = {"to-sign-reassigned": _moment(48)}
# Around each limit, its three-quarter and half points, and far before and after.
NOWS = [
    _moment(h)
    for h in (0.5, 12, 18 - 1 / 60, 18, 24, 24 + 1 / 3600, 36, 48, 60, 66, 72, 90, 119.99, 120, 121, 150, 400)
]
FRACTIONS = (0.75, 0.5, 0.9)


@pytest.fixture
def grid(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(insert(t.tickets), GRID)
        for seq, (tid, when) in enumerate(REASSIGNED_AT.items(), start=1):
            connection.execute(
                insert(t.events),
                [
                    {"ticket_id": tid, "seq": seq, "action": "open", "actor": "值班员", "at": T0,
                     "comment": "", "data": {}},
                    {"ticket_id": tid, "seq": seq + 1, "action": "reassign", "actor": "值班员", "at": when,
                     "comment": "", "data": {"unit": "区城管执法局"}},
                ],
            )  # fmt: skip
    return engine


def _clock(row: dict[str, Any]) -> Clock:
    return Clock.of_row(row | {"sign_started_at": REASSIGNED_AT.get(row["id"], T0)})


def test_the_sql_and_the_python_rules_agree_on_every_ticket_and_moment(grid: Engine) -> None:
    c = t.tickets.c
    clocks = {row["id"]: _clock(row) for row in GRID}
    checked = 0
    with grid.connect() as connection:
        started = dict(connection.execute(select(c.id, sign_started_sql())).all())
        assert started == {tid: clock.sign_started_at for tid, clock in clocks.items()}
        stage = stage_sql()
        stages = {tid: (name, begun, due) for tid, name, begun, due in connection.execute(
            select(c.id, stage.name, stage.started, stage.due)
        )}  # fmt: skip
        on_time = dict(connection.execute(select(c.id, closed_on_time_sql())).all())
        for now, fraction in itertools.product(NOWS, FRACTIONS):
            query = select(
                c.id, overdue_sql(now), stage_late_sql(now, stage), stage_due_soon_sql(now, fraction, stage)
            )
            for tid, overdue, late, soon in connection.execute(query):
                clock = clocks[tid]
                python = current_stage(clock)
                expected = (None, None, None) if python is None else (python.name, python.started, python.due)
                assert stages[tid] == expected, tid
                assert bool(overdue) == is_overdue(clock, now), (tid, now)
                assert bool(late) == (python is not None and stage_late(python, now)), (tid, now)
                assert bool(soon) == (python is not None and stage_due_soon(python, now, fraction)), (
                    tid,
                    now,
                    fraction,
                )
                assert bool(on_time[tid]) == closed_on_time(clock), tid
                checked += 1
    assert checked == len(GRID) * len(NOWS) * len(FRACTIONS)


def test_the_grid_covers_each_outcome() -> None:
    """The grid is worth its name: every rule is both true and false somewhere on it."""
    outcomes: dict[str, set[bool]] = {"overdue": set(), "late": set(), "soon": set(), "on_time": set()}
    stages = set()
    for row, now in itertools.product(GRID, NOWS):
        clock = _clock(row)
        stage = current_stage(clock)
        stages.add(None if stage is None else stage.name)
        outcomes["overdue"].add(is_overdue(clock, now))
        outcomes["late"].add(stage is not None and stage_late(stage, now))
        outcomes["soon"].add(stage is not None and stage_due_soon(stage, now))
        outcomes["on_time"].add(closed_on_time(clock))
    assert all(seen == {True, False} for seen in outcomes.values()) and stages == {None, SIGN, RESPOND, CLOSE}
