"""The unit directory (单位名录): every unit a ticket can be assigned to, and where each is named.

An account's unit must be one of these, so a staff member's unit always matches the tickets'
(a name typed slightly differently, 区住建局 for 区住房和城乡建设局, would show them no ticket). Units
come from the remit taxonomy (each topic's responsible unit), the ledger policy (the dispatcher, the
units with contacts, and its ``units`` list, which 系统管理 adds to) and the tickets already filed
(12345 work orders carry their own 承办单位). Pure functions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from classifiers.taxonomy import Taxonomy
from response_ledger.policy import UNIT_MAX, Policy

ORIGINS = ("职责范围", "调度单位", "通知联系人", "单位名录", "已有工单")


@dataclass(frozen=True)
class Unit:
    """A unit and where it is named (some of :data:`ORIGINS`)."""

    name: str
    origins: tuple[str, ...]


def directory(taxonomy: Taxonomy, policy: Policy, ticket_units: Iterable[str] = ()) -> list[Unit]:
    """Every known unit by name, each with where it is named."""
    found: dict[str, list[str]] = {}

    def add(name: str, origin: str) -> None:
        name = name.strip()
        if name and origin not in found.setdefault(name, []):
            found[name].append(origin)

    for topic in taxonomy.topics:
        add(topic.unit, "职责范围")
    add(policy.intake.default_unit, "调度单位")
    for unit in policy.contacts:
        add(unit, "通知联系人")
    for unit in policy.units:
        add(unit, "单位名录")
    for unit in ticket_units:
        add(unit, "已有工单")
    return [Unit(name, tuple(origins)) for name, origins in sorted(found.items())]


def new_unit_name(text: str, known: Iterable[str]) -> str:
    """``text`` as a new unit's name; a ``ValueError`` in Chinese when it cannot be one."""
    name = unicodedata.normalize("NFKC", text).strip()
    if not name:
        raise ValueError("请填写单位名称。")
    if len(name) > UNIT_MAX:
        raise ValueError(f"单位名称不超过 {UNIT_MAX} 个字。")
    if any(unicodedata.category(ch).startswith("C") for ch in name) or any(ch in name for ch in "<>{}[]|\\`"):
        raise ValueError("单位名称不能含有控制字符或 < > { } [ ] | \\ ` 等符号。")
    if len(name) < 2:
        raise ValueError("单位名称至少 2 个字，请填写全称，如“区住房和城乡建设局”。")
    taken = {unicodedata.normalize("NFKC", unit).strip() for unit in known}
    if name in taken:
        raise ValueError(f"单位名录中已有“{name}”。")
    return name
