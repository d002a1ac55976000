"""Due-soon and overdue notices go to the assignee, then the unit's leader with 督办, each once."""

from __future__ import annotations

import dataclasses

from response_ledger.model import Ticket
from response_ledger.policy import Contacts, load_policy
from response_ledger.reminders import Level, notice_for, reminder_level, send_reminders
from response_ledger.workflow import Action
from tests.response_ledger.fakes import FakeNotifier, FakeUnitOfWork
from tests.response_ledger.samples import at, ticket

POLICY = dataclasses.replace(
    load_policy(),
    contacts={
        "区生态环境分局": Contacts(assignee=("mailto:staff@example.org",), leader=("wecom:http://x/hook",))
    },
)


def answered_ticket() -> Ticket:
    """Signed and answered at once: only the close limit (2026-09-21 23:59:59) is left to chase."""
    subject = ticket("2026-09-01T09:00")
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-01T10:00"))
    subject.act(Action.RESPOND, actor="李四", at=at("2026-09-01T11:00"), comment="已联系施工方")
    return subject


def _uow(subject: Ticket) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.tickets.add(subject)
    uow.commit()
    return uow


def test_a_ticket_is_due_soon_once_three_quarters_of_its_time_is_used() -> None:
    subject = answered_ticket()
    assert reminder_level(subject, at("2026-09-10T09:00"), POLICY) is None
    assert reminder_level(subject, at("2026-09-17T09:00"), POLICY) == ("办结", Level.DUE_SOON)
    assert reminder_level(subject, at("2026-09-22T09:00"), POLICY) == ("办结", Level.OVERDUE)
    assert reminder_level(subject, at("2026-09-23T00:00"), POLICY) == ("办结", Level.LEADER)


def test_the_signing_limit_is_chased_before_the_others() -> None:
    subject = ticket("2026-09-01T09:00")  # 1 working day to sign: 2026-09-02 23:59:59
    assert reminder_level(subject, at("2026-09-02T20:00"), POLICY) == ("签收", Level.DUE_SOON)
    assert reminder_level(subject, at("2026-09-03T08:00"), POLICY) == ("签收", Level.OVERDUE)
    subject.act(Action.SIGN, actor="李四", at=at("2026-09-03T08:30"))
    assert reminder_level(subject, at("2026-09-03T09:00"), POLICY) is None  # 答复 due 2026-09-08


def test_due_soon_notice_goes_to_the_assignee_once() -> None:
    uow, notifier = _uow(answered_ticket()), FakeNotifier()
    send_reminders(uow, notifier, now=at("2026-09-17T09:00"), policy=POLICY)
    send_reminders(uow, notifier, now=at("2026-09-17T10:00"), policy=POLICY)
    assert [(n.level, n.recipients) for n in notifier.sent] == [
        (Level.DUE_SOON, ("mailto:staff@example.org",))
    ]
    assert "即将到期" in notifier.sent[0].text and "办结时限 2026-09-21 23:59" in notifier.sent[0].text


def test_overdue_ticket_is_escalated_to_the_unit_leader() -> None:
    uow, notifier = _uow(answered_ticket()), FakeNotifier()
    send_reminders(uow, notifier, now=at("2026-09-22T09:00"), policy=POLICY)
    send_reminders(uow, notifier, now=at("2026-09-23T09:00"), policy=POLICY)
    send_reminders(uow, notifier, now=at("2026-09-24T09:00"), policy=POLICY)
    assert [n.level for n in notifier.sent] == [Level.OVERDUE, Level.LEADER]
    assert notifier.sent[1].recipients == ("wecom:http://x/hook", "mailto:staff@example.org")
    escalated = uow.tickets.get("T1")
    assert escalated.escalations == 1
    assert [e.action for e in escalated.events][-3:] == [Action.REMIND, Action.REMIND, Action.ESCALATE]


def test_each_limit_gets_its_own_overdue_notice() -> None:
    uow, notifier = _uow(ticket("2026-09-01T09:00")), FakeNotifier()
    send_reminders(uow, notifier, now=at("2026-09-03T08:00"), policy=POLICY)
    signed = uow.tickets.get("T1")
    signed.act(Action.SIGN, actor="李四", at=at("2026-09-03T08:30"))
    uow.commit()
    send_reminders(uow, notifier, now=at("2026-09-08T23:59:59"), policy=POLICY)
    send_reminders(uow, notifier, now=at("2026-09-09T08:00"), policy=POLICY)
    assert [n.level for n in notifier.sent] == [Level.OVERDUE, Level.DUE_SOON, Level.OVERDUE]
    assert "签收时限" in notifier.sent[0].text and "答复时限" in notifier.sent[2].text


def test_a_closed_ticket_gets_no_reminder() -> None:
    subject = answered_ticket()
    subject.act(Action.CLOSE, actor="李四", at=at("2026-09-02T09:00"))
    uow, notifier = _uow(subject), FakeNotifier()
    assert send_reminders(uow, notifier, now=at("2026-10-30T09:00"), policy=POLICY) == []


def test_a_provisional_deadline_says_so_in_the_notice() -> None:
    subject = ticket("2026-12-20T09:00")
    assert subject.provisional
    assert "暂定" in notice_for(subject, Level.DUE_SOON, POLICY).text
