"""Per-unit metrics over a period, computed by the database on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from response_ledger import services
from response_ledger.policy import load_policy
from response_ledger.queries import metrics, unit_worklist
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action
from tests.response_ledger.samples import at

POLICY = load_policy()
UNIT = "区生态环境分局"


def _ticket(uow: SqlUnitOfWork, name: str, opened: str, unit: str = UNIT) -> str:
    return services.new_ticket(
        uow,
        POLICY,
        ticket_class="12345-complaint",
        source="hotline",
        summary=f"诉求{name}",
        unit=unit,
        found_at=at(opened),
        start=at(opened),
        actor="值班员",
        post_id=f"hotline:demo:{name}",
    ).id


def _steps(uow: SqlUnitOfWork, ticket_id: str, *steps: tuple[Action, str]) -> None:
    for action, when in steps:
        data = {"satisfaction": "满意"} if action is Action.FOLLOW_UP else None
        services.act(uow, ticket_id, action, actor="李四", now=at(when), comment="已办理", data=data)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with SqlUnitOfWork(engine) as uow:
        prompt, late, _silent = (_ticket(uow, n, "2026-09-01T09:00") for n in ("a", "b", "c"))
        _ticket(uow, "d", "2026-09-01T09:00", unit="区教育局")
        _ticket(uow, "e", "2026-08-01T09:00")  # before the period
        uow.commit()
        _steps(
            uow,
            prompt,
            (Action.SIGN, "2026-09-01T10:00"),
            (Action.RESPOND, "2026-09-02T09:00"),
            (Action.FOLLOW_UP, "2026-09-03T08:00"),
            (Action.CLOSE, "2026-09-03T09:00"),
        )
        _steps(
            uow,
            late,
            (Action.SIGN, "2026-09-03T10:00"),
            (Action.RESPOND, "2026-09-30T09:00"),
            (Action.CLOSE, "2026-10-09T09:00"),
        )
    return engine


def test_metrics_count_signing_response_closing_overdue_duration_and_satisfaction(seeded: Engine) -> None:
    rows = metrics(
        seeded, start=at("2026-09-01T00:00"), end=at("2026-10-01T00:00"), now=at("2026-10-31T00:00")
    )
    assert [r.unit for r in rows] == ["区教育局", UNIT]
    unit = rows[1]
    assert unit.tickets == 3
    assert unit.sign_rate == pytest.approx(1 / 3)
    assert unit.response_rate == pytest.approx(1 / 3)
    assert unit.on_time_close_rate == pytest.approx(1 / 3)
    assert unit.overdue == 2  # one closed late, one never answered
    assert unit.avg_handling_hours == pytest.approx((48 + 38 * 24) / 2)
    assert unit.satisfaction_rate == 1.0
    assert rows[0].satisfaction_rate is None and rows[0].avg_handling_hours is None


def test_metrics_for_one_unit_only(seeded: Engine) -> None:
    rows = metrics(
        seeded,
        start=at("2026-08-01T00:00"),
        end=at("2026-10-01T00:00"),
        now=at("2026-08-02T00:00"),
        unit=UNIT,
    )
    assert [(r.unit, r.tickets) for r in rows] == [(UNIT, 4)]


def test_a_units_worklist_shows_unclosed_tickets_most_urgent_first(seeded: Engine) -> None:
    rows = unit_worklist(seeded, UNIT)
    assert [r["summary"] for r in rows] == ["诉求e", "诉求c"]
    assert rows[0]["due_at"] < rows[1]["due_at"]


def test_a_signed_ticket_without_a_signing_limit_counts_in_neither_side_of_the_signing_rate(
    engine: Engine,
) -> None:
    # 签收率 is over tickets with a signing limit: one signed in time, one signed with no limit at all.
    with SqlUnitOfWork(engine) as uow:
        limited = _ticket(uow, "f", "2026-09-01T09:00")
        opened = at("2026-09-01T09:00")
        unlimited = services.new_ticket(
            uow, POLICY, ticket_class="government-opinion", source="weibo", summary="舆情", unit=UNIT,
            found_at=opened, start=opened, actor="值班员", post_id="weibo:demo:g",
        ).id  # fmt: skip
        uow.commit()
        _steps(uow, limited, (Action.SIGN, "2026-09-01T10:00"))
        _steps(uow, unlimited, (Action.SIGN, "2026-09-01T10:00"))
    [row] = metrics(
        engine, start=at("2026-09-01T00:00"), end=at("2026-10-01T00:00"), now=at("2026-09-02T00:00")
    )
    assert row.sign_rate == 1.0  # 1 of the 1 ticket with a limit (it was 2 of 1 before)
