"""The ledger policy from YAML: ticket classes and their limits, intake rules, reminders, contacts.

An address in ``contacts`` is ``mailto:someone@example.org``, ``wecom:https://…`` or
``dingtalk:https://…``; :mod:`response_ledger.notify` routes each to its channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from response_ledger.deadlines import Rule
from response_ledger.errors import RuleError
from response_ledger.model import Limits
from response_ledger.timeliness import DUE_SOON_FRACTION


@dataclass(frozen=True)
class TicketClass:
    """A kind of ticket: its Chinese title and its limits."""

    name: str
    title: str
    limits: Limits


@dataclass(frozen=True)
class IntakeRules:
    """Which enriched posts open tickets, and of which class."""

    hotline: bool = True
    board_unanswered: bool = True
    weibo_min_risk: int = 60
    news_min_risk: int = 80
    major_incident_risk: int = 90
    hotline_classes: dict[str, str] = field(default_factory=dict)
    hotline_default_class: str = "12345-complaint"
    board_class: str = "board-message"
    opinion_class: str = "government-opinion"
    major_class: str = "major-incident"
    # 表扬 (praise) posts open tickets of this class, which has no reply limit: the unit
    # acknowledges them and closes them. Empty: praise is treated like any other post of its source.
    praise_class: str = ""
    default_unit: str = "区政府办公室"


@dataclass(frozen=True)
class Contacts:
    """Where a unit's notices go, and whom a 钉钉 robot @-mentions (by mobile) when they do."""

    assignee: tuple[str, ...] = ()
    leader: tuple[str, ...] = ()
    assignee_mobiles: tuple[str, ...] = ()
    leader_mobiles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """The whole ledger configuration."""

    classes: dict[str, TicketClass]
    intake: IntakeRules
    # The share of a stage's time after which it is due soon: reminders, flags and alerts alike.
    due_soon_fraction: float = DUE_SOON_FRACTION
    leader_after_hours: int = 24
    contacts: dict[str, Contacts] = field(default_factory=dict)
    # Units that may hold tickets besides those the remit taxonomy names (改派 targets, staff
    # accounts): the 系统管理 page offers these, the taxonomy's, the dispatcher and the contacts' units.
    units: tuple[str, ...] = ()

    def ticket_class(self, name: str) -> TicketClass:
        """The class called ``name``; an unknown name is a :class:`RuleError`."""
        try:
            return self.classes[name]
        except KeyError:
            raise RuleError(name, "no such ticket class in the ledger policy") from None


def default_policy_path() -> Path:
    """The policy shipped with the package."""
    return Path(str(resources.files("response_ledger").joinpath("policy.yaml")))


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file (the shipped one by default)."""
    source = path or default_policy_path()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(str(source), f"cannot read the ledger policy: {exc}") from exc
    return parse_policy(data)


def parse_policy(data: Any) -> Policy:
    """Validate decoded YAML; an error names the class or section at fault."""
    if not isinstance(data, dict) or not isinstance(data.get("classes"), dict):
        raise RuleError("policy", "needs a `classes` mapping")
    classes = {str(name): _ticket_class(str(name), spec) for name, spec in data["classes"].items()}
    raw_intake = data.get("intake") or {}
    known = IntakeRules.__dataclass_fields__
    intake = IntakeRules(**{k: v for k, v in raw_intake.items() if k in known})
    for name in [
        *intake.hotline_classes.values(),
        intake.hotline_default_class,
        intake.board_class,
        intake.opinion_class,
        intake.major_class,
        *([intake.praise_class] if intake.praise_class else []),
    ]:
        if name not in classes:
            raise RuleError(name, "intake names a ticket class the policy does not define")
    reminders = data.get("reminders") or {}
    contacts = {
        str(unit): Contacts(
            tuple(spec.get("assignee") or ()),
            tuple(spec.get("leader") or ()),
            tuple(str(m) for m in spec.get("assignee_mobiles") or ()),
            tuple(str(m) for m in spec.get("leader_mobiles") or ()),
        )
        for unit, spec in (data.get("contacts") or {}).items()
    }
    return Policy(
        units=_units(data.get("units")),
        classes=classes,
        intake=intake,
        due_soon_fraction=float(reminders.get("due_soon_fraction", DUE_SOON_FRACTION)),
        leader_after_hours=int(reminders.get("leader_after_hours", 24)),
        contacts=contacts,
    )


def _ticket_class(name: str, spec: Any) -> TicketClass:
    if not isinstance(spec, dict):
        raise RuleError(name, "a ticket class is a mapping of limits")

    def rule(key: str) -> Rule | None:
        text = spec.get(key)
        return None if text is None else Rule.parse(str(text))

    limits = Limits(rule("sign"), rule("respond"), rule("close"), rule("max_extension"))
    if limits.close is None:
        raise RuleError(name, "a ticket class needs a `close` limit")
    return TicketClass(name, str(spec.get("title", name)), limits)


UNIT_MAX = 100  # characters of a unit's name: the ledger's column


def _units(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(unit, str) and unit.strip() for unit in value):
        raise RuleError("units", "`units` must be a list of unit names")
    names = [unit.strip() for unit in value]
    too_long = [name for name in names if len(name) > UNIT_MAX]
    if too_long:
        raise RuleError(too_long[0], f"a unit name has at most {UNIT_MAX} characters")
    if len(set(names)) != len(names):
        raise RuleError("units", "unit names must be unique")
    return tuple(names)
