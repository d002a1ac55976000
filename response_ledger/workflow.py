"""The ticket workflow, declared once: statuses, actions and the one table of allowed transitions.

Modelled on python-statemachine: states come from an Enum and every transition is declared in one
place, so the table is the documentation and the tests walk it exhaustively.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TicketStatus(StrEnum):
    """Where a ticket is; the values are what staff read."""

    PENDING_SIGN = "待签收"
    IN_PROGRESS = "办理中"
    EXTENSION_REQUESTED = "延期审核中"
    PAUSED = "暂停"
    RETURNED = "已退回"
    ANSWERED = "已答复"
    CLOSED = "已办结"


class Action(StrEnum):
    """What someone does to a ticket; each is recorded as an event."""

    OPEN = "open"  # 立单
    SIGN = "sign"  # 签收
    RETURN = "return"  # 退回 (not ours: back to the dispatcher)
    REASSIGN = "reassign"  # 改派 (dispatcher sends it to another unit)
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"  # 批准延期
    REJECT_EXTENSION = "reject_extension"  # 驳回延期
    PAUSE = "pause"  # 暂停 (补正, third-party opinion)
    RESUME = "resume"  # 恢复
    RESPOND = "respond"  # 答复
    FOLLOW_UP = "follow_up"  # 回访 (with satisfaction)
    REOPEN = "reopen"  # 重办 after an unsatisfied follow-up
    CLOSE = "close"  # 办结
    ESCALATE = "escalate"  # 督办
    MERGE = "merge"  # 并单: a repeat request joins this ticket
    REMIND = "remind"  # a reminder was sent (kept so it is sent once)
    CORRECT_TOPIC = "correct_topic"  # 更正主题: the classifier's topic was wrong (training data)
    CORRECT_JUDGEMENT = "correct_judgement"  # 更正研判: its sentiment, appeal type or urgency was wrong
    INSTRUCT = "instruct"  # 批示: a leader's note on how the matter is to be handled


ACTION_LABELS: dict[Action, str] = {
    Action.OPEN: "立单",
    Action.SIGN: "签收",
    Action.RETURN: "退回",
    Action.REASSIGN: "改派",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.APPROVE_EXTENSION: "批准延期",
    Action.REJECT_EXTENSION: "驳回延期",
    Action.PAUSE: "暂停",
    Action.RESUME: "恢复",
    Action.RESPOND: "答复",
    Action.FOLLOW_UP: "回访",
    Action.REOPEN: "重办",
    Action.CLOSE: "办结",
    Action.ESCALATE: "督办",
    Action.MERGE: "并单",
    Action.REMIND: "提醒",
    Action.CORRECT_TOPIC: "更正主题",
    Action.CORRECT_JUDGEMENT: "更正研判",
    Action.INSTRUCT: "批示",
}

S = TicketStatus
OPEN_STATUSES = frozenset({S.PENDING_SIGN, S.IN_PROGRESS, S.EXTENSION_REQUESTED, S.PAUSED, S.RETURNED})
"""Statuses whose ticket still waits for an answer: what a unit's work list shows."""


@dataclass(frozen=True)
class Transition:
    """``action`` is allowed from ``sources``; ``target`` None keeps the status (a recorded step)."""

    action: Action
    sources: frozenset[TicketStatus]
    target: TicketStatus | None


def _t(action: Action, sources: set[TicketStatus], target: TicketStatus | None) -> Transition:
    return Transition(action, frozenset(sources), target)


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.SIGN, {S.PENDING_SIGN}, S.IN_PROGRESS),
        _t(Action.RETURN, {S.PENDING_SIGN, S.IN_PROGRESS}, S.RETURNED),
        _t(Action.REASSIGN, {S.RETURNED, S.PENDING_SIGN, S.IN_PROGRESS}, S.PENDING_SIGN),
        _t(Action.REQUEST_EXTENSION, {S.IN_PROGRESS}, S.EXTENSION_REQUESTED),
        _t(Action.APPROVE_EXTENSION, {S.EXTENSION_REQUESTED}, S.IN_PROGRESS),
        _t(Action.REJECT_EXTENSION, {S.EXTENSION_REQUESTED}, S.IN_PROGRESS),
        _t(Action.PAUSE, {S.IN_PROGRESS}, S.PAUSED),
        _t(Action.RESUME, {S.PAUSED}, S.IN_PROGRESS),
        _t(Action.RESPOND, {S.IN_PROGRESS, S.EXTENSION_REQUESTED}, S.ANSWERED),
        _t(Action.FOLLOW_UP, {S.ANSWERED, S.CLOSED}, None),
        _t(Action.REOPEN, {S.ANSWERED}, S.IN_PROGRESS),
        _t(Action.CLOSE, {S.ANSWERED}, S.CLOSED),
        # Answered is not done: the ticket still has to be closed in time, so it can be chased.
        _t(Action.ESCALATE, set(OPEN_STATUSES) | {S.ANSWERED}, None),
        _t(Action.MERGE, set(OPEN_STATUSES) | {S.ANSWERED}, None),
        _t(Action.REMIND, set(OPEN_STATUSES) | {S.ANSWERED}, None),
        # A wrong topic (or sentiment, appeal type, urgency) is worth recording whenever someone
        # notices it, closed tickets included.
        _t(Action.CORRECT_TOPIC, set(OPEN_STATUSES) | {S.ANSWERED, S.CLOSED}, None),
        _t(Action.CORRECT_JUDGEMENT, set(OPEN_STATUSES) | {S.ANSWERED, S.CLOSED}, None),
        # A leader's 批示 guides the handling: any time before the ticket is closed.
        _t(Action.INSTRUCT, set(OPEN_STATUSES) | {S.ANSWERED}, None),
    )
}
"""The one table: every move the ledger allows. ``open`` creates a ticket and is not a move."""


def target_of(action: Action, status: TicketStatus) -> TicketStatus | None:
    """The status ``action`` leads to from ``status``; None if the table forbids it.

    A recorded step that keeps the status returns ``status`` itself.
    """
    transition = TRANSITIONS.get(action)
    if transition is None or status not in transition.sources:
        return None
    return transition.target or status
