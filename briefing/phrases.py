"""The briefing's Chinese wording: numbers, changes, shares and the sentences built from them.

Each sentence is made only of counts the :class:`~briefing.model.Briefing` holds (and shares or
differences of them), so every renderer says the same thing and nothing the data does not say.
"""

from __future__ import annotations

from datetime import datetime

from briefing.model import Briefing, Change, LedgerSummary, SpikeItem
from core.china_time import CHINA_TZ
from core.labels import source_label

EMPTY_PERIOD = "本期无舆情数据。"
# The events section when no near-duplicate cluster of the period holds two posts or more.
NO_EVENTS = "本期没有两条及以上相似帖子聚成的事件。"
NUMERALS = "一二三四五六七八九十"
DASH = "—"


def percent(part: int, whole: int) -> str:
    """``part / whole`` as a percentage with one decimal, or a dash when ``whole`` is 0."""
    return f"{part / whole:.1%}" if whole else DASH


def rate(value: float | None) -> str:
    """A ledger rate as a percentage, or a dash when nothing counted."""
    return DASH if value is None else f"{value:.1%}"


def moment(value: datetime | None) -> str:
    """A moment in China time to the minute."""
    return DASH if value is None else value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def change(value: Change, unit: str = "条") -> str:
    """How a count moved against the previous period, e.g. ``较上期增加 5 条（+25.0%）``."""
    if value.delta == 0:
        return "与上期持平"
    if value.previous == 0:
        return f"上期为 0 {unit}"
    direction = "增加" if value.delta > 0 else "减少"
    return f"较上期{direction} {abs(value.delta)} {unit}（{value.delta / value.previous:+.1%}）"


def signed(value: int) -> str:
    """A difference with its sign (``+3``, ``-2``, ``0``)."""
    return f"{value:+d}" if value else "0"


def headline_sentences(b: Briefing) -> list[str]:
    """The headline paragraph: totals, sources, negative and in-remit shares against the last period."""
    h = b.headline
    if b.empty:
        before = f"上期（{b.previous.label}）共 {h.total.previous} 条。" if h.total.previous else ""
        return [EMPTY_PERIOD + before]
    sources = "、".join(f"{source_label(code)} {c.current} 条（{change(c)}）" for code, c in h.by_source)
    return [
        f"本期（{b.period.label}）共监测到舆情信息 {h.total.current} 条，{change(h.total)}。"
        + (f"其中{sources}。" if sources else ""),
        f"负面信息 {h.negative.current} 条，占 {percent(h.negative.current, h.total.current)}"
        f"（上期 {percent(h.negative.previous, h.total.previous)}）；"
        f"属于本部门职责范围的 {h.in_remit.current} 条，占 {percent(h.in_remit.current, h.total.current)}"
        f"（上期 {percent(h.in_remit.previous, h.total.previous)}）。",
    ]


def spike_sentence(spike: SpikeItem) -> str:
    """One spiking topic: its hour, its count against its history, the terms and sources behind it."""
    start = spike.hour.astimezone(CHINA_TZ)
    sources = "、".join(f"{source_label(code)} {n} 条" for code, n in spike.sources) or DASH
    return (
        f"「{spike.topic}」{start:%m月%d日 %H:00}–{start.hour + 1:02d}:00 共 {spike.count} 条，"
        f"明显高于此前 12 小时平均每小时 {spike.baseline_mean:g} 条"
        f"（前一日同时段 {spike.day_ago} 条，上周同时段 {spike.week_ago} 条）；"
        f"高频词：{'、'.join(spike.terms) or DASH}；来源：{sources}。"
    )


def ledger_sentence(ledger: LedgerSummary | None) -> str:
    """The ledger's headline: tickets opened, closed and overdue, and the two rates."""
    if ledger is None:
        return "台账暂无数据（回应台账尚未启用）。"
    total = ledger.total
    if not (total.opened or total.closed or total.overdue):
        return f"本期台账无新增、办结工单；截至 {moment(ledger.as_of)} 无超期未办结工单。"
    return (
        f"本期新增工单 {total.opened} 件，办结 {total.closed} 件；截至 {moment(ledger.as_of)}，"
        f"超期未办结 {total.overdue} 件。本期新增工单的响应率 {rate(total.response_rate)}，"
        f"按时办结率 {rate(total.on_time_close_rate)}。"
    )


def decisions_sentence(b: Briefing) -> str:
    """How many tickets await a leader now, and how many are listed."""
    if b.ledger is None:
        return "台账暂无数据（回应台账尚未启用）。"
    if not b.decisions_total:
        return f"截至 {moment(b.generated_at)}，无待领导决策事项。"
    listed = len(b.decisions)
    more = f"，以下列出办理时限最近的 {listed} 件" if listed < b.decisions_total else ""
    return (
        f"截至 {moment(b.generated_at)}，共有 {b.decisions_total} 件工单待领导决策（延期审批或督办）{more}。"
    )


def section_number(index: int) -> str:
    """一, 二, … for the numbered sections."""
    return NUMERALS[index] if index < len(NUMERALS) else str(index + 1)
