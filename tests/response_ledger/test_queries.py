"""The dashboard's ticket list queries on SQLite and PostgreSQL: scope, order, paging, posts."""

from __future__ import annotations

from sqlalchemy import Engine

from response_ledger import services
from response_ledger.policy import load_policy
from response_ledger.queries import (
    classifier_corrections,
    ticket_count,
    ticket_page,
    ticket_post_ids,
    ticket_units,
    topic_corrections,
)
from response_ledger.unit_of_work import SqlUnitOfWork
from response_ledger.workflow import Action
from tests.response_ledger.samples import at

POLICY = load_policy()
UNIT_A, UNIT_B = "区住房和城乡建设局", "区交通运输局"


def _open(
    uow: SqlUnitOfWork, name: str, unit: str, opened: str, ticket_class: str = "12345-complaint"
) -> str:
    return services.new_ticket(
        uow, POLICY, ticket_class=ticket_class, source="hotline", summary=f"诉求{name}", unit=unit,
        found_at=at(opened), start=at(opened), actor="值班员", post_id=f"hotline:demo:{name}",
    ).id  # fmt: skip


def _seed(engine: Engine) -> dict[str, str]:
    with SqlUnitOfWork(engine) as uow:
        ids = {
            "late": _open(uow, "late", UNIT_A, "2026-09-01T09:00"),
            "soon": _open(uow, "soon", UNIT_A, "2026-09-01T10:00", "12345-emergency"),
            "paused": _open(uow, "paused", UNIT_A, "2026-09-01T08:00"),
            "closed": _open(uow, "closed", UNIT_A, "2026-08-01T09:00"),
            "other": _open(uow, "other", UNIT_B, "2026-09-01T09:00"),
        }
        uow.commit()
        for action in (Action.SIGN, Action.PAUSE):
            services.act(uow, ids["paused"], action, actor="李四", now=at("2026-09-02T09:00"))
        for action, comment in ((Action.SIGN, ""), (Action.RESPOND, "已处理"), (Action.CLOSE, "")):
            services.act(
                uow, ids["closed"], action, actor="李四", now=at("2026-08-03T09:00"), comment=comment
            )
        # A repeat request merged into the late ticket (并单) is one of its posts.
        uow.tickets.link_post("hotline:demo:repeat", ids["late"])
        services.act(uow, ids["late"], Action.MERGE, actor="系统", now=at("2026-09-02T09:00"),
                     data={"post_id": "hotline:demo:repeat"})  # fmt: skip
    return ids


def test_a_units_page_lists_its_unclosed_tickets_by_deadline_paused_last(engine: Engine) -> None:
    ids = _seed(engine)
    rows = ticket_page(engine, unit=UNIT_A)
    assert [r["id"] for r in rows] == [ids["soon"], ids["late"], ids["paused"]]
    assert {r["unit"] for r in rows} == {UNIT_A} and rows[2]["due_at"] is None
    assert ticket_count(engine, unit=UNIT_A) == 3


def test_every_unit_and_closed_tickets_when_asked_closed_last(engine: Engine) -> None:
    ids = _seed(engine)
    rows = ticket_page(engine, unit=None, include_closed=True)
    assert [r["id"] for r in rows][-2:] == [ids["paused"], ids["closed"]]
    assert ticket_count(engine, unit=None) == 4 and ticket_count(engine, unit=None, include_closed=True) == 5


def test_pages_are_cut_by_the_database(engine: Engine) -> None:
    _seed(engine)
    first = ticket_page(engine, unit=None, limit=2)
    second = ticket_page(engine, unit=None, limit=2, offset=2)
    assert len(first) == len(second) == 2
    assert not {r["id"] for r in first} & {r["id"] for r in second}
    assert ticket_page(engine, unit=None, limit=2, offset=4) == []


def test_units_and_a_tickets_posts(engine: Engine) -> None:
    ids = _seed(engine)
    assert ticket_units(engine) == sorted([UNIT_A, UNIT_B])
    assert ticket_post_ids(engine, ids["late"]) == ["hotline:demo:late", "hotline:demo:repeat"]
    assert ticket_post_ids(engine, "YQ-none") == []


def test_topic_corrections_are_the_latest_per_ticket_with_every_post_of_the_ticket(engine: Engine) -> None:
    ids = _seed(engine)
    assert topic_corrections(engine) == []
    with SqlUnitOfWork(engine) as uow:
        for ticket, topic, when in (
            ("late", "城乡建设", "2026-09-03T09:00"),
            ("closed", "环境保护", "2026-09-03T10:00"),  # a closed ticket may still be corrected
            ("late", "交通运输", "2026-09-04T09:00"),
        ):
            services.act(
                uow, ids[ticket], Action.CORRECT_TOPIC, actor="李四", now=at(when), data={"topic": topic}
            )
    marks = {m.ticket_id: m for m in topic_corrections(engine)}
    assert set(marks) == {ids["late"], ids["closed"]}
    late = marks[ids["late"]]
    assert (late.topic, late.actor, late.at) == ("交通运输", "李四", at("2026-09-04T09:00"))
    assert late.post_ids == ("hotline:demo:late", "hotline:demo:repeat")  # the merged repeat too
    assert marks[ids["closed"]].post_ids == ("hotline:demo:closed",)


def test_classifier_corrections_are_the_latest_per_ticket_and_task(engine: Engine) -> None:
    ids = _seed(engine)
    assert classifier_corrections(engine) == []
    with SqlUnitOfWork(engine) as uow:
        for ticket, action, data, when in (
            (
                "late",
                Action.CORRECT_JUDGEMENT,
                {"sentiment": "neutral", "appeal": "举报"},
                "2026-09-03T09:00",
            ),
            ("late", Action.CORRECT_TOPIC, {"topic": "交通运输"}, "2026-09-03T10:00"),
            ("late", Action.CORRECT_JUDGEMENT, {"appeal": "建议", "urgency": "yes"}, "2026-09-04T09:00"),
            ("closed", Action.CORRECT_JUDGEMENT, {"urgency": "no"}, "2026-09-04T10:00"),
        ):
            services.act(uow, ids[ticket], action, actor="李四", now=at(when), data=data)
    marks = classifier_corrections(engine)
    by_ticket = {(m.ticket_id, m.task): (m.label, m.at) for m in marks}
    assert by_ticket == {
        (ids["late"], "topic"): ("交通运输", at("2026-09-03T10:00")),
        (ids["late"], "sentiment"): ("neutral", at("2026-09-03T09:00")),  # not undone by the later one
        (ids["late"], "appeal"): ("建议", at("2026-09-04T09:00")),  # the latest wins
        (ids["late"], "urgency"): ("yes", at("2026-09-04T09:00")),
        (ids["closed"], "urgency"): ("no", at("2026-09-04T10:00")),
    }
    # By ticket id, then in task order; each mark carries every post of its ticket.
    assert [(m.ticket_id, m.task) for m in marks] == sorted(
        by_ticket, key=lambda k: (k[0], ["topic", "sentiment", "appeal", "urgency"].index(k[1]))
    )
    assert {m.post_ids for m in marks if m.ticket_id == ids["late"]} == {
        ("hotline:demo:late", "hotline:demo:repeat")
    }
    urgency = classifier_corrections(engine, ("urgency",))
    assert {(m.ticket_id, m.label) for m in urgency} == {(ids["late"], "yes"), (ids["closed"], "no")}
    assert [m.topic for m in topic_corrections(engine)] == ["交通运输"]  # judgements are not topics
