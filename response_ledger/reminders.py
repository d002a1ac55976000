"""Reminders and escalation: due-soon and overdue notices to the assignee, then the unit's leader.

Each stage limit (签收, 答复, 办结: :func:`response_ledger.timeliness.current_stage`) is chased in
turn — due soon, then late (超期提醒), then late long enough to tell the leader — and each level is
sent once per limit: sending is recorded as a ``remind`` event after delivery, so a failed delivery
is tried again on the next run and a delivered one is never repeated. Reaching the leader also
records 督办 on the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from core.china_time import china_time
from response_ledger.model import Ticket
from response_ledger.policy import Policy
from response_ledger.timeliness import Clock, current_stage, stage_due_soon, stage_late
from response_ledger.unit_of_work import UnitOfWork
from response_ledger.workflow import Action

SYSTEM_ACTOR = "系统提醒"


class Level(StrEnum):
    """How urgent a notice is, in the order they escalate."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    LEADER = "leader"


_TITLES = {Level.DUE_SOON: "即将到期提醒", Level.OVERDUE: "超期提醒", Level.LEADER: "超期督办"}


@dataclass(frozen=True)
class Notice:
    """One message to the people of a unit about one ticket."""

    ticket_id: str
    unit: str
    level: Level
    recipients: tuple[str, ...]
    subject: str
    text: str
    # Mobiles a 钉钉 robot @-mentions (the contacts' ``assignee_mobiles``/``leader_mobiles``).
    at_mobiles: tuple[str, ...] = ()
    # A file sent along where the channel can carry one (企业微信 robots, e-mail): the briefing.
    attachment: Path | None = None


class Notifier(Protocol):
    """Delivers a notice to every recipient, or raises :class:`DeliveryError`."""

    def send(self, notice: Notice) -> None:
        """Deliver ``notice``."""
        ...


def reminder_level(ticket: Ticket, now: datetime, policy: Policy) -> tuple[str, Level] | None:
    """The current stage's name and the highest level it has reached at ``now`` (pure); None if none.

    The stage, its lateness and due soon are :mod:`response_ledger.timeliness`'; the leader is told
    once the stage is ``leader_after_hours`` late.
    """
    stage = current_stage(Clock.of(ticket))
    if stage is None or stage.due is None:
        return None
    if now >= stage.due + timedelta(hours=policy.leader_after_hours):
        return stage.name, Level.LEADER
    if stage_late(stage, now):
        return stage.name, Level.OVERDUE
    return (stage.name, Level.DUE_SOON) if stage_due_soon(stage, now, policy.due_soon_fraction) else None


def sent_levels(ticket: Ticket) -> set[str]:
    """``limit:level`` keys already delivered for this ticket."""
    return {
        f"{e.data.get('limit')}:{e.data.get('level')}" for e in ticket.events if e.action is Action.REMIND
    }


def notice_for(ticket: Ticket, level: Level, policy: Policy, limit: str = "办结") -> Notice:
    """The notice text for ``level``; the leader level goes to the leader and the assignee."""
    contacts = policy.contacts.get(ticket.unit)
    assignee = contacts.assignee if contacts else ()
    recipients = (*contacts.leader, *assignee) if contacts and level is Level.LEADER else assignee
    mobiles = contacts.assignee_mobiles if contacts else ()
    if contacts and level is Level.LEADER:
        mobiles = (*contacts.leader_mobiles, *mobiles)
    stage = current_stage(Clock.of(ticket))
    due = china_time(stage.due).strftime("%Y-%m-%d %H:%M") if stage and stage.due else "暂停计时"
    mark = "（暂定，节假日安排未公布）" if ticket.provisional else ""
    text = (
        f"【{_TITLES[level]}】{ticket.unit}：工单 {ticket.id}（{ticket.status.value}）"
        f"{limit}时限 {due}{mark}。摘要：{ticket.summary[:80]}"
    )
    subject = f"舆情回应台账{_TITLES[level]}"
    return Notice(ticket.id, ticket.unit, level, tuple(recipients), subject, text, at_mobiles=tuple(mobiles))


def send_reminders(uow: UnitOfWork, notifier: Notifier, *, now: datetime, policy: Policy) -> list[Notice]:
    """Send every notice that is due at ``now`` and record each; returns what was delivered.

    One ticket at a time, committed after its delivery, so a failure stops without losing the
    record of what already went out.
    """
    delivered: list[Notice] = []
    for ticket_id in uow.tickets.open_ticket_ids():
        ticket = uow.tickets.get(ticket_id)
        reached = reminder_level(ticket, now, policy)
        if reached is None or f"{reached[0]}:{reached[1].value}" in sent_levels(ticket):
            continue
        limit, level = reached
        notice = notice_for(ticket, level, policy, limit)
        if notice.recipients:
            notifier.send(notice)
        data = {"limit": limit, "level": level.value}
        ticket.act(Action.REMIND, actor=SYSTEM_ACTOR, at=now, comment=notice.text, data=data)
        if level is Level.LEADER:
            ticket.act(Action.ESCALATE, actor=SYSTEM_ACTOR, at=now, comment=f"{limit}超期自动督办")
        uow.commit()
        delivered.append(notice)
    return delivered
