"""The transition table, walked exhaustively: every allowed move works, every other one is refused."""

from __future__ import annotations

from typing import Any

import pytest

from response_ledger.errors import ExtensionNotAllowed, InvalidActionData, TransitionNotAllowed
from response_ledger.workflow import TRANSITIONS, Action, TicketStatus, target_of
from tests.response_ledger.samples import at, ticket

DATA: dict[Action, dict[str, Any]] = {
    Action.REASSIGN: {"unit": "区交通运输局"},
    Action.REQUEST_EXTENSION: {"amount": "workdays:5"},
    Action.APPROVE_EXTENSION: {"amount": "workdays:5"},
    Action.FOLLOW_UP: {"satisfaction": "满意"},
    Action.MERGE: {"post_id": "hotline:demo:2"},
    Action.REMIND: {"level": "due_soon"},
    Action.CORRECT_TOPIC: {"topic": "交通运输"},
    Action.CORRECT_JUDGEMENT: {"sentiment": "negative"},
}
MOVES = [(status, action) for status in TicketStatus for action in Action if action is not Action.OPEN]


@pytest.mark.parametrize(("status", "action"), MOVES, ids=[f"{s.name}-{a.name}" for s, a in MOVES])
def test_every_action_is_allowed_exactly_where_the_table_says(status: TicketStatus, action: Action) -> None:
    subject = ticket()
    subject.status = status
    expected = target_of(action, status)
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as caught:
            subject.act(
                action, actor="张三", at=at("2026-09-02T10:00"), comment="意见", data=DATA.get(action)
            )
        assert (caught.value.status, caught.value.action) == (status.value, action.value)
        assert len(subject.events) == 1  # nothing recorded
    else:
        subject.act(action, actor="张三", at=at("2026-09-02T10:00"), comment="意见", data=DATA.get(action))
        assert subject.status is expected
        assert subject.events[-1].action is action


def test_the_table_declares_every_action_but_open_once() -> None:
    assert set(TRANSITIONS) == set(Action) - {Action.OPEN}


def test_the_happy_path_is_sign_respond_follow_up_close() -> None:
    subject = ticket()
    for action, data in [
        (Action.SIGN, None),
        (Action.RESPOND, None),
        (Action.FOLLOW_UP, {"satisfaction": "基本满意"}),
        (Action.CLOSE, None),
    ]:
        subject.act(action, actor="李四", at=at("2026-09-03T10:00"), comment="已处理", data=data)
    assert subject.status is TicketStatus.CLOSED
    assert subject.satisfaction == "基本满意" and subject.answer_text == "已处理"
    assert subject.handling_s == 2 * 86400 + 3600


def test_every_step_is_an_event_with_actor_time_and_comment() -> None:
    subject = ticket()
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"), comment="收到")
    subject.act(Action.ESCALATE, actor="王主任", at=at("2026-09-02T10:00"), comment="请加快办理")
    assert [(e.seq, e.action, e.actor, e.comment) for e in subject.events] == [
        (1, Action.OPEN, "值班员", ""),
        (2, Action.SIGN, "李四", "收到"),
        (3, Action.ESCALATE, "王主任", "请加快办理"),
    ]
    assert subject.events[2].at == at("2026-09-02T10:00") and subject.escalations == 1
    assert subject.status is TicketStatus.IN_PROGRESS


def test_a_escalation_without_a_reason_is_refused_and_records_nothing() -> None:
    subject = ticket()
    for reason in ("", "  \n "):
        with pytest.raises(InvalidActionData, match="督办须写明理由"):
            subject.act(Action.ESCALATE, actor="王主任", at=at("2026-09-02T10:00"), comment=reason)
    assert subject.escalations == 0 and len(subject.events) == 1


def test_a_returned_ticket_is_reassigned_and_must_be_signed_again_by_the_new_unit() -> None:
    subject = ticket()
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    subject.act(Action.RETURN, actor="李四", at=at("2026-09-01T11:00"), comment="不属于本单位职责")
    subject.act(Action.REASSIGN, actor="值班员", at=at("2026-09-01T12:00"), data={"unit": "区交通运输局"})
    assert (subject.status, subject.unit, subject.signed_at) == (
        TicketStatus.PENDING_SIGN,
        "区交通运输局",
        None,
    )
    assert subject.events[-1].data["from_unit"] == "区生态环境分局"


def test_reassigning_without_a_unit_is_refused() -> None:
    subject = ticket()
    with pytest.raises(InvalidActionData):
        subject.act(Action.REASSIGN, actor="值班员", at=at("2026-09-01T12:00"))


def test_a_response_needs_its_text_and_a_follow_up_its_satisfaction() -> None:
    subject = ticket()
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    with pytest.raises(InvalidActionData):
        subject.act(Action.RESPOND, actor="李四", at=at("2026-09-01T11:00"), comment="  ")
    subject.act(Action.RESPOND, actor="李四", at=at("2026-09-01T11:00"), comment="已协调施工方停工")
    with pytest.raises(InvalidActionData):
        subject.act(
            Action.FOLLOW_UP, actor="回访员", at=at("2026-09-02T11:00"), data={"satisfaction": "还行"}
        )


def test_an_unsatisfied_follow_up_can_reopen_the_ticket() -> None:
    subject = ticket()
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    subject.act(Action.RESPOND, actor="李四", at=at("2026-09-01T11:00"), comment="已处理")
    subject.act(Action.FOLLOW_UP, actor="回访员", at=at("2026-09-02T11:00"), data={"satisfaction": "不满意"})
    subject.act(Action.REOPEN, actor="回访员", at=at("2026-09-02T11:05"), comment="群众不满意，重办")
    assert subject.status is TicketStatus.IN_PROGRESS and subject.satisfaction == "不满意"


def test_an_extension_beyond_the_class_maximum_is_refused() -> None:
    subject = ticket()
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    subject.act(
        Action.REQUEST_EXTENSION, actor="李四", at=at("2026-09-02T10:00"), data={"amount": "workdays:6"}
    )
    subject.act(Action.APPROVE_EXTENSION, actor="王主任", at=at("2026-09-02T11:00"))
    subject.act(
        Action.REQUEST_EXTENSION, actor="李四", at=at("2026-09-03T10:00"), data={"amount": "workdays:4"}
    )
    with pytest.raises(ExtensionNotAllowed):
        subject.act(
            Action.APPROVE_EXTENSION, actor="王主任", at=at("2026-09-03T11:00"), data={"amount": "workdays:5"}
        )
    subject.act(Action.REJECT_EXTENSION, actor="王主任", at=at("2026-09-03T11:00"), comment="不予延期")
    with pytest.raises(ExtensionNotAllowed):
        subject.act(
            Action.REQUEST_EXTENSION, actor="李四", at=at("2026-09-04T10:00"), data={"amount": "months:1"}
        )
    assert [str(rule) for rule in subject.extensions] == ["workdays:6"]


def test_an_open_ticket_past_its_due_moment_is_overdue_and_a_closed_one_stays_late() -> None:
    subject = ticket()  # 15 working days, Sunday 2026-09-20 being a 调休 working day
    assert subject.due_at == at("2026-09-21T23:59:59")
    assert not subject.is_overdue(at("2026-09-21T23:59"))
    assert subject.is_overdue(at("2026-09-22T00:00"))
    for action in (Action.SIGN, Action.RESPOND, Action.CLOSE):
        subject.act(action, actor="李四", at=at("2026-09-24T10:00"), comment="已处理")
    assert subject.is_overdue(at("2026-09-24T10:00")) and not subject.is_open


@pytest.mark.parametrize("data", [None, {"topic": ""}, {"topic": "  "}, {"topic": 7}, {"topic": "长" * 51}])
def test_a_topic_correction_needs_a_topic(data: dict[str, Any] | None) -> None:
    subject = ticket()
    with pytest.raises(InvalidActionData, match="更正主题"):
        subject.act(Action.CORRECT_TOPIC, actor="李四", at=at("2026-09-01T10:00"), data=data)
    assert len(subject.events) == 1


def test_a_topic_correction_is_recorded_on_a_closed_ticket_without_changing_its_status() -> None:
    subject = ticket()
    subject.status = TicketStatus.CLOSED
    event = subject.act(
        Action.CORRECT_TOPIC, actor="李四", at=at("2026-09-10T10:00"), data={"topic": " 交通运输 "}
    )
    assert subject.status is TicketStatus.CLOSED and event.data == {"topic": "交通运输"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "更正研判须至少选择一项：情感、诉求类型或紧急程度"),
        ({"sentiment": None, "appeal": " ", "topic": "交通运输"}, "更正研判须至少选择一项"),
        ({"sentiment": "负面"}, "情感须为negative、neutral、positive之一"),
        ({"appeal": "投诉", "urgency": "maybe"}, "紧急程度须为yes、no之一"),
        ({"appeal": "抱怨"}, "诉求类型须为投诉、举报、求助、咨询、建议、表扬之一"),
        ({"urgency": True}, "紧急程度须为"),
    ],
)
def test_a_judgement_correction_needs_at_least_one_known_judgement(
    data: dict[str, Any] | None, reason: str
) -> None:
    subject = ticket()
    with pytest.raises(InvalidActionData) as caught:
        subject.act(Action.CORRECT_JUDGEMENT, actor="李四", at=at("2026-09-01T10:00"), data=data)
    assert caught.value.reason.startswith(reason) and caught.value.action == "correct_judgement"
    assert len(subject.events) == 1


def test_a_judgement_correction_keeps_only_what_was_chosen_and_leaves_the_status() -> None:
    subject = ticket()
    subject.status = TicketStatus.CLOSED
    event = subject.act(
        Action.CORRECT_JUDGEMENT,
        actor="李四",
        at=at("2026-09-10T10:00"),
        data={"sentiment": " neutral ", "appeal": "", "urgency": "yes"},
    )
    assert subject.status is TicketStatus.CLOSED
    assert event.data == {"sentiment": "neutral", "urgency": "yes"}


def test_the_ledgers_judgement_values_are_the_classifiers_labels() -> None:
    from classifiers.appeal import APPEAL_TYPES
    from classifiers.sentiment import NEGATIVE, NEUTRAL, POSITIVE
    from classifiers.tasks import TASKS
    from classifiers.training import NOT_URGENT, URGENT
    from response_ledger.model import APPEALS, JUDGEMENTS, SENTIMENTS, URGENCIES

    assert set(SENTIMENTS) == {NEGATIVE, NEUTRAL, POSITIVE}
    assert set(APPEALS) == set(APPEAL_TYPES) and set(URGENCIES) == {URGENT, NOT_URGENT}
    assert set(JUDGEMENTS) | {"topic"} == set(TASKS)  # each key is the task it trains


def test_a_leaders_instruction_is_a_step_with_its_text_and_needs_one() -> None:
    from response_ledger.model import INSTRUCTION_MAX

    subject = ticket()
    subject.act(Action.INSTRUCT, actor="王局长（leader1）", at=at("2026-09-02T10:00"), comment="请今日内答复")
    assert (subject.events[-1].action, subject.events[-1].comment) == (Action.INSTRUCT, "请今日内答复")
    assert subject.status is TicketStatus.PENDING_SIGN and subject.escalations == 0
    for empty in ("", "   ", "批" * (INSTRUCTION_MAX + 1)):
        with pytest.raises(InvalidActionData, match="批示须填写"):
            subject.act(Action.INSTRUCT, actor="王局长", at=at("2026-09-02T11:00"), comment=empty)
