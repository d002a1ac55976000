"""The ticket aggregate: state, append-only events and the deadlines computed from them.

Pure: no I/O, no clock. Every moment comes in as an argument; deadlines are data recomputed from
the events whenever they change, and stored so the database can sort and count by them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.china_time import china_time
from response_ledger import timeliness
from response_ledger.calendar import WorkCalendar
from response_ledger.deadlines import Due, Pause, Rule, compute_due
from response_ledger.errors import ExtensionNotAllowed, InvalidActionData, TransitionNotAllowed
from response_ledger.workflow import OPEN_STATUSES, Action, TicketStatus, target_of

SATISFACTION = ("满意", "基本满意", "不满意")
TOPIC_MAX = 50  # characters of a corrected topic's name
INSTRUCTION_MAX = 500  # characters of a leader's 批示
# What 更正研判 may set, as the classifiers spell their labels (the ledger does not import them; a
# test holds the two in step). Each is keyed by the task it trains, which is also its key in the
# event's data, and carries the name staff read.
SENTIMENTS = ("negative", "neutral", "positive")
APPEALS = ("投诉", "举报", "求助", "咨询", "建议", "表扬")
URGENCIES = ("yes", "no")
JUDGEMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sentiment": ("情感", SENTIMENTS),
    "appeal": ("诉求类型", APPEALS),
    "urgency": ("紧急程度", URGENCIES),
}


@dataclass(frozen=True)
class Event:
    """One step in a ticket's history; never edited, never deleted."""

    seq: int
    action: Action
    actor: str
    at: datetime
    comment: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """The limits of a ticket class, copied onto each ticket so a later policy edit never rewrites it."""

    sign: Rule | None = None
    respond: Rule | None = None
    close: Rule | None = None
    max_extension: Rule | None = None


@dataclass
class Ticket:
    """A matter that needs an answer from a unit by a deadline."""

    id: str
    ticket_class: str
    source: str
    summary: str
    unit: str
    found_at: datetime
    opened_at: datetime
    limits: Limits
    post_id: str | None = None
    event_key: str | None = None
    url: str = ""
    status: TicketStatus = TicketStatus.PENDING_SIGN
    version: int = 0
    sign_due_at: datetime | None = None
    respond_due_at: datetime | None = None
    due_at: datetime | None = None
    provisional: bool = False
    signed_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    answer_text: str = ""
    satisfaction: str | None = None
    escalations: int = 0
    handling_s: int | None = None
    events: list[Event] = field(default_factory=list)
    new_events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls,
        *,
        actor: str,
        at: datetime,
        comment: str = "",
        data: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Ticket:
        """A new ticket with its ``open`` event; ``fields`` are the dataclass fields."""
        ticket = cls(opened_at=at, **fields)
        ticket._record(Action.OPEN, actor, at, comment, dict(data or {}))
        return ticket

    def act(
        self,
        action: Action,
        *,
        actor: str,
        at: datetime,
        comment: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> Event:
        """Apply ``action`` if the transition table allows it from the current status, and record it."""
        target = target_of(action, self.status)
        if target is None:
            raise TransitionNotAllowed(self.id, self.status.value, action.value)
        values = dict(data or {})
        self._effect(action, at, comment, values)
        self.status = target
        return self._record(action, actor, at, comment, values)

    def schedule(self, calendar: WorkCalendar) -> None:
        """Recompute every due moment from the limits and the events (pauses, extensions, 改派)."""
        sign = _due(self.limits.sign, self.sign_started_at, calendar, (), ())
        respond = _due(self.limits.respond, self.opened_at, calendar, self.pauses, ())
        close = _due(self.limits.close, self.opened_at, calendar, self.pauses, self.extensions)
        fixed = self.events[0].data.get("due_at") if self.events else None
        if close is None and self.limits.close is None and isinstance(fixed, str):
            close = Due(china_time(datetime.fromisoformat(fixed)))
        dues = [sign, respond, close]
        self.sign_due_at, self.respond_due_at, self.due_at = (d.at if d else None for d in dues)
        self.provisional = any(d is not None and d.provisional for d in dues)

    @property
    def pauses(self) -> list[Pause]:
        """The stretches the clock stood still, from pause/resume events."""
        out: list[Pause] = []
        for event in self.events:
            if event.action is Action.PAUSE:
                out.append(Pause(event.at, None))
            elif event.action is Action.RESUME and out and out[-1].end is None:
                out[-1] = Pause(out[-1].start, event.at)
        return out

    @property
    def extensions(self) -> list[Rule]:
        """Approved extensions, in order."""
        return [Rule.parse(e.data["amount"]) for e in self.events if e.action is Action.APPROVE_EXTENSION]

    @property
    def sign_started_at(self) -> datetime:
        """When the signing clock started: the last 改派 (it restarts the 签收 limit), else the opening."""
        return max((e.at for e in self.events if e.action is Action.REASSIGN), default=self.opened_at)

    @property
    def is_open(self) -> bool:
        """Still waiting for an answer."""
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """超期 at ``now``: not answered by its 办理时限 (:func:`response_ledger.timeliness.is_overdue`)."""
        return timeliness.is_overdue(timeliness.Clock.of(self), now)

    def _effect(self, action: Action, at: datetime, comment: str, data: dict[str, Any]) -> None:
        if action is Action.SIGN:
            self.signed_at = at
        elif action is Action.REASSIGN:
            unit = data.get("unit")
            if not isinstance(unit, str) or not unit:
                raise InvalidActionData(self.id, action.value, "改派须指定新的责任单位")
            data["from_unit"], self.unit, self.signed_at = self.unit, unit, None
        elif action is Action.REQUEST_EXTENSION:
            data["amount"] = str(self._check_extension(data.get("amount")))
        elif action is Action.APPROVE_EXTENSION:
            requests = [e for e in self.events if e.action is Action.REQUEST_EXTENSION]
            asked = requests[-1].data.get("amount") if requests else None
            data["amount"] = str(self._check_extension(data.get("amount") or asked))
        elif action is Action.RESPOND:
            if not comment.strip():
                raise InvalidActionData(self.id, action.value, "答复须填写答复内容")
            self.answer_text = comment
            self.answered_at = self.answered_at or at  # the first answer is the one that counts
        elif action is Action.FOLLOW_UP:
            if data.get("satisfaction") not in SATISFACTION:
                raise InvalidActionData(self.id, action.value, f"满意度须为{'、'.join(SATISFACTION)}之一")
            self.satisfaction = data["satisfaction"]
        elif action is Action.CLOSE:
            self.closed_at = at
            self.handling_s = int((at - self.opened_at).total_seconds())
        elif action is Action.ESCALATE:
            # A 督办 says why: the unit chased reads it, and a leader's appendix lists it.
            if not comment.strip():
                raise InvalidActionData(self.id, action.value, "督办须写明理由")
            self.escalations += 1
        elif action is Action.CORRECT_TOPIC:
            topic = data.get("topic")
            if not isinstance(topic, str) or not topic.strip() or len(topic) > TOPIC_MAX:
                reason = f"更正主题须选择正确的主题（不超过 {TOPIC_MAX} 个字）"
                raise InvalidActionData(self.id, action.value, reason)
            data["topic"] = topic.strip()
        elif action is Action.CORRECT_JUDGEMENT:
            self._check_judgement(data)
        elif action is Action.INSTRUCT:
            if not comment.strip() or len(comment) > INSTRUCTION_MAX:
                reason = f"批示须填写批示内容（不超过 {INSTRUCTION_MAX} 个字）"
                raise InvalidActionData(self.id, action.value, reason)
        elif action is Action.MERGE and not data.get("post_id"):
            raise InvalidActionData(self.id, action.value, "并单须指明重复诉求的编号")

    def _check_judgement(self, data: dict[str, Any]) -> None:
        """Keep the judgements chosen (a missing or empty one is not corrected); refuse a bad value."""
        action = Action.CORRECT_JUDGEMENT.value
        for key, (name, values) in JUDGEMENTS.items():
            value = data.pop(key, None)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if not isinstance(value, str) or value.strip() not in values:
                raise InvalidActionData(self.id, action, f"{name}须为{'、'.join(values)}之一")
            data[key] = value.strip()
        if not any(key in data for key in JUDGEMENTS):
            raise InvalidActionData(self.id, action, "更正研判须至少选择一项：情感、诉求类型或紧急程度")

    def _check_extension(self, amount: object) -> Rule:
        cap = self.limits.max_extension
        if cap is None:
            raise ExtensionNotAllowed(self.id, "该类工单不允许延期")
        if not isinstance(amount, str):
            raise InvalidActionData(self.id, "extension", "须写明延期时长，如 workdays:10")
        rule = Rule.parse(amount)
        used = sum(r.amount for r in self.extensions)
        if rule.kind != cap.kind or used + rule.amount > cap.amount:
            raise ExtensionNotAllowed(self.id, f"已延期 {used}，申请 {rule}，累计不得超过 {cap}")
        return rule

    def _record(self, action: Action, actor: str, at: datetime, comment: str, data: dict[str, Any]) -> Event:
        event = Event(len(self.events) + 1, action, actor, at, comment, data)
        self.events.append(event)
        self.new_events.append(event)
        return event


def _due(
    rule: Rule | None, start: datetime, calendar: WorkCalendar, pauses: Sequence[Pause], ext: Sequence[Rule]
) -> Due | None:
    return None if rule is None else compute_due(rule, start, calendar, pauses=pauses, extensions=ext)
