"""Intake rules open tickets from enriched posts; repeats merge (并单) and replays change nothing."""

from __future__ import annotations

from response_ledger.intake import decide, open_tickets
from response_ledger.policy import load_policy
from response_ledger.workflow import Action, TicketStatus
from tests.response_ledger.fakes import FakeUnitOfWork
from tests.response_ledger.samples import at, post

POLICY = load_policy()
NOW = at("2026-09-01T10:00")


def test_every_hotline_work_order_opens_a_ticket_of_its_appeal_class_for_its_unit() -> None:
    uow = FakeUnitOfWork()
    consult = post("2", hotline={"order_no": "2", "appeal_type": "咨询", "unit": "区教育局"}, event_id="ev-x")
    report = open_tickets(uow, [post("1"), consult], NOW, policy=POLICY)
    assert len(report.opened) == 2 and uow.commits == 1
    first, second = (uow.tickets.get(i) for i in report.opened)
    assert (first.ticket_class, first.unit, first.status) == (
        "12345-complaint",
        "区生态环境分局",
        TicketStatus.PENDING_SIGN,
    )
    assert (second.ticket_class, second.unit) == ("12345-consult", "区教育局")
    # The clock of a work order starts at its receipt, not when the stream got to it.
    assert first.opened_at == at("2026-09-01T09:00") and first.sign_due_at == at("2026-09-02T23:59:59")


def test_only_unanswered_board_messages_open_tickets() -> None:
    uow = FakeUnitOfWork()
    answered = post("2", source="board", reply={"status": "replied"})
    report = open_tickets(uow, [post("1", source="board"), answered], NOW, policy=POLICY)
    assert [uow.tickets.get(i).ticket_class for i in report.opened] == ["board-message"]
    assert report.skipped == {"board:demo:2": "board message already answered"}


def test_weibo_posts_open_tickets_only_in_remit_and_above_the_risk_threshold() -> None:
    uow = FakeUnitOfWork()
    out_of_remit = {"label": "其他", "score": 0.1, "in_remit": False, "unit": None}
    posts = [
        post("low", source="weibo", risk={"score": 59, "reasons": []}),
        post("high", source="weibo", risk={"score": 75, "reasons": ["负面"]}),
        post("major", source="weibo", risk={"score": 95, "reasons": ["突发"]}),
        post("elsewhere", source="weibo", risk={"score": 99, "reasons": []}, topic=out_of_remit),
    ]
    report = open_tickets(uow, posts, NOW, policy=POLICY)
    classes = [uow.tickets.get(i).ticket_class for i in report.opened]
    assert classes == ["government-opinion", "major-incident"]
    assert set(report.skipped) == {"weibo:demo:low", "weibo:demo:elsewhere"}
    major = uow.tickets.get(report.opened[1])
    # 5 hours from discovery (the crawl), nights included.
    assert major.respond_due_at == at("2026-09-01T14:05")


def test_a_repeat_request_of_the_same_event_merges_into_the_open_ticket() -> None:
    uow = FakeUnitOfWork()
    first = open_tickets(uow, [post("1", event_id="ev-noise")], NOW, policy=POLICY)
    second = open_tickets(
        uow, [post("2", event_id="ev-noise"), post("3", event_id="ev-noise")], NOW, policy=POLICY
    )
    ticket_id = first.opened[0]
    assert second.opened == [] and second.merged == [
        ("hotline:demo:2", ticket_id),
        ("hotline:demo:3", ticket_id),
    ]
    merged = [e.data["post_id"] for e in uow.tickets.get(ticket_id).events if e.action is Action.MERGE]
    assert merged == ["hotline:demo:2", "hotline:demo:3"]


def test_a_closed_ticket_does_not_absorb_a_new_request_of_its_event() -> None:
    uow = FakeUnitOfWork()
    ticket_id = open_tickets(uow, [post("1", event_id="ev-noise")], NOW, policy=POLICY).opened[0]
    ticket = uow.tickets.get(ticket_id)
    for action in (Action.SIGN, Action.RESPOND, Action.CLOSE):
        ticket.act(action, actor="李四", at=NOW, comment="已处理")
    uow.commit()
    report = open_tickets(uow, [post("2", event_id="ev-noise")], NOW, policy=POLICY)
    assert len(report.opened) == 1 and report.opened[0] != ticket_id


def test_replaying_a_batch_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    batch = [post("1", event_id="ev-a"), post("2", event_id="ev-a"), post("3", source="board")]
    first = open_tickets(uow, batch, NOW, policy=POLICY)
    again = open_tickets(uow, batch, NOW, policy=POLICY)
    assert len(first.opened) == 2 and len(first.merged) == 1
    assert again.opened == [] and again.merged == [] and again.duplicates == [p["id"] for p in batch]
    assert len(uow.tickets.get(first.opened[0]).events) == 2  # open + one merge, not two


def test_the_same_post_twice_in_one_batch_opens_one_ticket() -> None:
    uow = FakeUnitOfWork()
    report = open_tickets(uow, [post("1"), post("1")], NOW, policy=POLICY)
    assert len(report.opened) == 1 and report.duplicates == ["hotline:demo:1"]


def test_a_post_without_a_topic_unit_goes_to_the_dispatcher() -> None:
    decision = decide(
        post("1", source="board", topic={"label": "其他", "score": 0.1, "in_remit": False, "unit": None}),
        POLICY,
    )
    assert not isinstance(decision, str) and decision.unit == "区政府办公室"


def test_a_duty_officer_opens_a_ticket_by_hand_from_a_post_no_rule_took() -> None:
    from response_ledger.intake import HandOpened, open_by_hand

    uow = FakeUnitOfWork()
    quiet = post("calm", source="weibo", risk={"score": 10, "reasons": []})
    first = open_by_hand(uow, quiet, NOW, actor="值班员", comment="领导批示关注", policy=POLICY)
    ticket_id = first.ticket_id
    assert first.opened
    opened = uow.tickets.get(ticket_id)
    assert (opened.ticket_class, opened.unit, opened.events[0].actor) == (
        "government-opinion",
        "区生态环境分局",
        "值班员",
    )
    # Opened again: the post keeps its ticket, and the answer says nothing was opened.
    assert open_by_hand(uow, quiet, NOW, actor="值班员", policy=POLICY) == HandOpened(ticket_id, opened=False)
    assert open_tickets(uow, [quiet], NOW, policy=POLICY).duplicates == ["weibo:demo:calm"]


def test_the_proposal_is_the_rules_choice_or_opinion_for_the_remit_unit_and_says_why() -> None:
    from response_ledger.intake import CLOCK_BY_HAND, propose

    order = post("1", hotline={"order_no": "1", "appeal_type": "咨询", "unit": "区教育局"})
    proposed = propose(order, NOW, POLICY)
    assert (proposed.ticket_class, proposed.unit) == ("12345-consult", "区教育局")
    assert (proposed.unit_basis, proposed.class_basis) == ("12345 工单自带的承办单位", "12345 咨询类工单")
    quiet = post("calm", source="weibo", risk={"score": 10, "reasons": []})
    proposed = propose(quiet, NOW, POLICY)  # no rule takes it: 政务舆情 from now, for the topic's unit
    assert (proposed.ticket_class, proposed.unit, proposed.start) == (
        "government-opinion",
        "区生态环境分局",
        NOW,
    )
    assert proposed.clock == CLOCK_BY_HAND and proposed.unit_basis.startswith("按帖子主题“")
    outside = post(
        "x", source="board", topic={"label": "其他", "score": 0.1, "in_remit": False, "unit": None}
    )
    assert propose(outside, NOW, POLICY).unit == "区政府办公室"


def test_a_duty_officer_changes_the_unit_and_class_and_the_opening_event_says_so() -> None:
    import pytest

    from response_ledger.errors import InvalidActionData, RuleError
    from response_ledger.intake import open_by_hand

    uow = FakeUnitOfWork()
    bus = post("bus", source="board", topic={"label": "卫生计生", "score": 0.4, "in_remit": True,
                                             "unit": "区卫生健康局"})  # fmt: skip
    with pytest.raises(RuleError):
        open_by_hand(uow, bus, NOW, actor="值班员", ticket_class="no-such-class", policy=POLICY)
    with pytest.raises(InvalidActionData, match="不能超过 100 个字"):
        open_by_hand(uow, bus, NOW, actor="值班员", unit="局" * 101, policy=POLICY)
    done = open_by_hand(
        uow, bus, NOW, actor="值班员", unit="区交通运输局", ticket_class="government-opinion",
        comment="公交线路问题 ", policy=POLICY,
    )  # fmt: skip
    assert done.opened and done.ticket is not None and uow.commits == 1
    opened = uow.tickets.get(done.ticket_id)
    assert (opened.unit, opened.ticket_class) == ("区交通运输局", "government-opinion")
    first = opened.events[0]
    assert first.comment == "公交线路问题"
    assert (first.data["proposed_unit"], first.data["proposed_class"]) == ("区卫生健康局", "网站留言")
    # Taken as proposed: nothing about a proposal is recorded.
    kept = open_by_hand(uow, post("b2", source="board"), NOW, actor="值班员", policy=POLICY)
    assert kept.ticket is not None and set(kept.ticket.events[0].data) == {"post_id", "clock"}


def test_praise_is_its_own_class_acknowledged_with_no_reply_limit() -> None:
    uow = FakeUnitOfWork()
    praise = post("p", hotline={"order_no": "p", "appeal_type": "表扬", "unit": "区教育局"}, event_id="ev-p")
    board = post("b", source="board", appeal_type="表扬", event_id="ev-b")
    report = open_tickets(uow, [praise, board], NOW, policy=POLICY)
    tickets = [uow.tickets.get(i) for i in report.opened]
    assert [t.ticket_class for t in tickets] == ["praise", "praise"]
    for ticket in tickets:
        assert ticket.sign_due_at is not None  # acknowledged (签收) like any other
        assert ticket.limits.respond is None and ticket.respond_due_at is None  # nobody owes a reply
        assert ticket.limits.max_extension is None


def test_praise_is_treated_like_any_post_when_the_policy_names_no_praise_class() -> None:
    from dataclasses import replace

    policy = replace(POLICY, intake=replace(POLICY.intake, praise_class=""))
    praise = post("p", hotline={"order_no": "p", "appeal_type": "表扬", "unit": "区教育局"})
    decision = decide(praise, policy)
    assert not isinstance(decision, str) and decision.ticket_class == "12345-complaint"


def test_each_ticket_records_why_its_clock_started_when_it_did() -> None:
    uow = FakeUnitOfWork()
    posts = [
        post("h"),
        post("b", source="board"),
        post("w", source="weibo", risk={"score": 75, "reasons": []}),
    ]
    report = open_tickets(uow, posts, NOW, policy=POLICY)
    reasons = [uow.tickets.get(i).events[0].data["clock"] for i in report.opened]
    assert reasons == ["12345 平台受理时间（工单发布时间）", "留言发布时间", "发现时间（采集到帖子的时间）"]
