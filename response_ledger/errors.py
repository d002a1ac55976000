"""The ledger's one exception tree; context travels as attributes and is translated at the edge."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class TransitionNotAllowed(LedgerError):
    """An action that the transition table does not allow from the ticket's current status."""

    def __init__(self, ticket_id: str, status: str, action: str) -> None:
        super().__init__(f"ticket {ticket_id}: action {action!r} is not allowed in status {status!r}")
        self.ticket_id = ticket_id
        self.status = status
        self.action = action


class ExtensionNotAllowed(LedgerError):
    """An extension that the ticket's class forbids or that would exceed its maximum."""

    def __init__(self, ticket_id: str, reason: str) -> None:
        super().__init__(f"ticket {ticket_id}: extension refused: {reason}")
        self.ticket_id = ticket_id
        self.reason = reason


class ConcurrencyConflict(LedgerError):
    """Someone else changed the ticket since it was read; nothing was written."""

    def __init__(self, ticket_id: str, expected_version: int) -> None:
        super().__init__(f"ticket {ticket_id} changed since version {expected_version}")
        self.ticket_id = ticket_id
        self.expected_version = expected_version


class TicketNotFound(LedgerError):
    """No ticket has this id."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id


class TicketOutsideUnit(LedgerError):
    """A ticket looked at or acted on for a unit that does not hold it (staff work their own unit's)."""

    def __init__(self, ticket_id: str, unit: str) -> None:
        super().__init__(f"ticket {ticket_id} is not a ticket of unit {unit!r}")
        self.ticket_id = ticket_id
        self.unit = unit


class RuleError(LedgerError):
    """A deadline rule or a ledger policy that cannot be parsed."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule!r}: {reason}")
        self.rule = rule
        self.reason = reason


class DeliveryError(LedgerError):
    """A notification channel could not deliver a notice; ``transient`` if trying again may succeed."""

    def __init__(self, channel: str, reason: str, *, transient: bool = False) -> None:
        super().__init__(f"{channel}: {reason}")
        self.channel = channel
        self.reason = reason
        self.transient = transient


class InvalidActionData(LedgerError):
    """An action is allowed but lacks what it needs (a unit to reassign to, a satisfaction level)."""

    def __init__(self, ticket_id: str, action: str, reason: str) -> None:
        super().__init__(f"ticket {ticket_id}: {action}: {reason}")
        self.ticket_id = ticket_id
        self.action = action
        self.reason = reason


def describe(exc: LedgerError) -> str:
    """The sentence staff read for ``exc``, in Chinese; every edge (CLI, dashboard) shows this one."""
    from response_ledger.workflow import ACTION_LABELS, Action

    if isinstance(exc, TransitionNotAllowed):
        label = ACTION_LABELS.get(Action(exc.action), exc.action)
        return f"工单 {exc.ticket_id} 当前状态为“{exc.status}”，不能{label}。"
    if isinstance(exc, ExtensionNotAllowed | InvalidActionData):
        return f"工单 {exc.ticket_id}：{exc.reason}。"
    if isinstance(exc, ConcurrencyConflict):
        return f"工单 {exc.ticket_id} 已被他人修改，请刷新后重试。"
    if isinstance(exc, TicketNotFound):
        return f"没有编号为 {exc.ticket_id} 的工单。"
    if isinstance(exc, TicketOutsideUnit):
        return f"工单 {exc.ticket_id} 不属于本单位，无权查看或办理。"
    if isinstance(exc, RuleError):
        return f"时限规则或台账配置有误：{exc.rule}（时限应写作 hours:N、workdays:N、days:N 或 months:N）。"
    if isinstance(exc, DeliveryError):
        return f"提醒发送失败（{exc.channel}）：{exc.reason}"
    return str(exc)
