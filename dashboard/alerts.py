"""The duty officer's alerts, derived from facts — pure functions with ``now`` passed in.

Four kinds: a topic or source whose last hour spikes (explained by :mod:`classifiers.spikes`), a
high-risk post, a ticket whose current stage limit (签收, then 答复, then 办结) is due soon or
past (:mod:`response_ledger.timeliness`), and a saved search whose alert threshold is reached
(:mod:`dashboard.search_alerts`). Each alert has a stable id, so the same fact raised by
many screens, or again after a refresh, is one alert that one acknowledgement settles for everyone
(:mod:`dashboard.acks`). Every text built here
may quote a post or a ticket summary: it is plain text for ``st.text`` or a dataframe cell, never
markdown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from classifiers.spikes import HOUR, WEEK_HOURS, Spike
from core.china_time import CHINA_TZ, parse_time
from core.messages import EnrichedPost
from dashboard.auth import Role
from dashboard.labels import SENTIMENT_LABELS, SOURCE_LABELS, label
from response_ledger.timeliness import (
    DUE_SOON_FRACTION,
    Clock,
    current_stage,
    past,
    stage_due_soon,
    stage_late,
)
from response_ledger.workflow import TicketStatus

# A post at or above this risk is an alert. Intake already files Weibo posts from 60 and news from
# 80 (docs/ledger.md); 80 is where the reasons (negativity plus sensitive terms, or fast spread)
# call for a person now, and it keeps the list short enough to be read on a busy day.
HIGH_RISK = 80
# From here a post's badge turns orange: the Weibo intake threshold.
MEDIUM_RISK = 60
# High-risk posts published this long ago or less are raised; once raised they stay until acknowledged.
RISK_LOOKBACK = timedelta(hours=24)
# A spike needs at least this many posts in its last hour (classifiers.spikes' own default).
SPIKE_MIN_COUNT = 5
# Hourly history a spike check reads: the last hour, the 12 before it, a day and a week back.
HISTORY_HOURS = WEEK_HOURS + 1
# Roles that act on the monitor (acknowledge, open a ticket, escalate); a leader or analyst watches.
ACTING_ROLES = frozenset({Role.DUTY, Role.ADMIN})

SpikeField = Literal["topic", "source"]
SPIKE_FIELD_LABELS: dict[str, str] = {"topic": "话题", "source": "来源"}
RISK_PREFIX, SPIKE_PREFIX = "risk:", "spike:"


class AlertKind(StrEnum):
    """What an alert is about."""

    SPIKE = "spike"
    RISK = "risk"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    SAVED = "saved"

    @property
    def label(self) -> str:
        """A short badge for the kind, as the duty officer reads it."""
        return KIND_LABELS[self]


KIND_LABELS = {
    AlertKind.SPIKE: "【舆情突增】",
    AlertKind.RISK: "【高风险帖子】",
    AlertKind.DUE_SOON: "【工单即将到期】",
    AlertKind.OVERDUE: "【工单已超期】",
    AlertKind.SAVED: "【检索预警】",
}


# The order of the alert list: what is happening in public opinion now first (a spike, a high-risk
# post), then a ticket past its limit, a saved search's threshold the office asked to be told of,
# and last a limit still ahead. Within a kind the most recently raised comes first.
SEVERITY: tuple[AlertKind, ...] = (
    AlertKind.SPIKE,
    AlertKind.RISK,
    AlertKind.OVERDUE,
    AlertKind.SAVED,
    AlertKind.DUE_SOON,
)


@dataclass(frozen=True)
class Alert:
    """One thing a duty officer must see; ``at`` is when its fact happened (hour, post, due moment)."""

    id: str
    kind: AlertKind
    title: str
    detail: str
    at: datetime


def may_act(role: Role) -> bool:
    """Whether ``role`` may acknowledge alerts, open tickets and escalate from the monitor."""
    return role in ACTING_ROLES


def hour_floor(moment: datetime) -> datetime:
    """The start of ``moment``'s clock hour in China time."""
    return moment.astimezone(CHINA_TZ).replace(minute=0, second=0, microsecond=0)


def hourly_series(
    buckets: Sequence[tuple[datetime, int]], last_hour: int, now: datetime, hours: int = HISTORY_HOURS
) -> list[int]:
    """Counts in :func:`classifiers.spikes.hourly_counts`' layout from an archive's hourly histogram.

    ``counts[0]`` is ``last_hour``, the exact count of the 60 minutes up to ``now``; ``counts[i]``
    for the hour ``(now - (i+1)h, now - ih]`` is the clock-hour bucket holding that hour's middle,
    so the history costs one aggregation instead of reading every post's time. Hours without a
    bucket count as 0.
    """
    by_start = {hour_floor(start): count for start, count in buckets}
    counts = [last_hour]
    for i in range(1, hours):
        middle = now - HOUR * i - HOUR / 2
        counts.append(by_start.get(hour_floor(middle), 0))
    return counts


def spike_alert(
    field_name: SpikeField, code: str, spike: Spike, now: datetime, titles: Mapping[str, str]
) -> Alert:
    """The alert for a spiking topic or source, once per key and clock hour.

    ``titles`` maps post ids to what to call them, for the spike's representative posts.
    """
    # Near-copies are what a spike is made of: name each distinct title once.
    shown = list(dict.fromkeys(titles[post_id] for post_id in spike.representatives if titles.get(post_id)))
    examples = f"代表帖子：{'；'.join(shown)}" if shown else ""
    name = label(SOURCE_LABELS, code) if field_name == "source" else code
    return Alert(
        id=f"{SPIKE_PREFIX}{field_name}:{code}:{hour_floor(now):%Y%m%d%H}",
        kind=AlertKind.SPIKE,
        title=f"{SPIKE_FIELD_LABELS[field_name]}「{name}」近1小时突增至 {spike.check.last_hour} 条",
        detail="\n".join(part for part in (spike.explanation, examples) if part),
        at=hour_floor(now),
    )


def risk_alert(post: EnrichedPost) -> Alert:
    """The alert for one high-risk post: its risk, reasons, where and when it appeared."""
    risk = post.get("risk") or {}
    score = int(risk.get("score", 0))
    published = parse_time(post["published_at"]).astimezone(CHINA_TZ)
    reasons = "、".join(risk.get("reasons") or []) or "无"
    where = f"{label(SOURCE_LABELS, post.get('source'))}·{post.get('channel') or '—'}"
    return Alert(
        id=f"{RISK_PREFIX}{post['id']}",
        kind=AlertKind.RISK,
        title=f"风险 {score}：{headline(post)}",
        detail=f"{where}，发布于 {published:%m-%d %H:%M}；风险原因：{reasons}",
        at=published,
    )


def ticket_alert(row: Mapping[str, Any], now: datetime) -> Alert:
    """The alert for a ticket whose current stage limit is near or past at ``now``.

    ``row`` holds the ticket's ``id``, ``unit``, ``status``, ``summary``, the stage's name ``limit``
    (签收/答复/办结) and its aware ``due`` moment (:func:`response_ledger.timeliness.stage_sql`).
    """
    due: datetime = row["due"].astimezone(CHINA_TZ)
    overdue = past(due, now)
    kind = AlertKind.OVERDUE if overdue else AlertKind.DUE_SOON
    if overdue:
        state = f"{row['limit']}已超期 {_duration(now - due)}"
    else:
        state = f"{row['limit']}时限还剩 {_duration(due - now)}"
    return Alert(
        id=f"ticket:{row['id']}:{row['limit']}:{kind.value}",
        kind=kind,
        title=f"工单 {row['id']}（{row['unit']}）{state}",
        detail=(
            f"{row['limit']}时限 {due:%Y-%m-%d %H:%M}，当前状态：{row['status']}；"
            f"摘要：{row['summary'][:100]}"
        ),
        at=due,
    )


def post_of_alert(alert_id: str) -> str | None:
    """The post a high-risk alert is about; None for other alerts."""
    if not alert_id.startswith(RISK_PREFIX):
        return None
    return alert_id[len(RISK_PREFIX) :] or None


def spike_of_alert(alert_id: str) -> tuple[SpikeField, str] | None:
    """The field (话题 or 来源) and the value a spike alert is about; None for other alerts."""
    if not alert_id.startswith(SPIKE_PREFIX):
        return None
    field_name, _, rest = alert_id[len(SPIKE_PREFIX) :].partition(":")
    code, _, hour = rest.rpartition(":")
    if not code or not hour:
        return None
    if field_name == "topic":
        return "topic", code
    if field_name == "source":
        return "source", code
    return None


TICKET_PREFIX = "ticket:"
_DONE_STATUSES = frozenset({TicketStatus.CLOSED.value, TicketStatus.PAUSED.value})  # no clock runs


def ticket_of_alert(alert_id: str) -> tuple[str, str] | None:
    """The ticket id and the limit (签收/答复/办结) a ticket alert is about; None for other alerts."""
    if not alert_id.startswith(TICKET_PREFIX):
        return None
    ticket_id, _, rest = alert_id[len(TICKET_PREFIX) :].partition(":")
    limit, _, _ = rest.partition(":")
    return (ticket_id, limit) if ticket_id and limit else None


def live_ticket_alert(
    alert_id: str,
    row: Mapping[str, Any] | None,
    now: datetime,
    due_soon_fraction: float = DUE_SOON_FRACTION,
) -> Alert | None:
    """The ticket alert ``alert_id`` as its ticket ``row`` stands at ``now``; None once it is gone.

    ``row`` holds :data:`response_ledger.alert_queries.TICKET_FIELDS`.

    Gone: the ticket no longer exists, is closed or paused, has passed the limit the alert is about
    (signed for a 签收 alert, answered for 答复), or was given more time so that the limit is neither
    late nor due soon (:mod:`response_ledger.timeliness`, with the policy's ``due_soon_fraction``).
    Otherwise the text is rebuilt from the ticket's current status and the overdue (or remaining)
    time at ``now``; the id stays, so an acknowledgement still settles it.
    """
    ref = ticket_of_alert(alert_id)
    if ref is None or row is None or row["status"] in _DONE_STATUSES:
        return None
    stage = current_stage(Clock.of_row(row))
    if stage is None or stage.name != ref[1] or stage.due is None:
        return None
    if not (stage_late(stage, now) or stage_due_soon(stage, now, due_soon_fraction)):
        return None
    live = ticket_alert({**row, "limit": stage.name, "due": stage.due}, now)
    # A due-soon alert whose limit has passed is gone too: the overdue alert (its own id) replaces it.
    return live if live.id == alert_id else None


def _duration(span: timedelta) -> str:
    minutes = max(math.ceil(span.total_seconds() / 60), 1)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    return f"{hours} 小时 {minutes} 分钟" if hours else f"{minutes} 分钟"


def headline(post: Mapping[str, Any], width: int = 60) -> str:
    """The post's title, or the start of its text when it has none (Weibo posts), as plain text."""
    text = (post.get("title") or "").strip() or (post.get("text") or "").strip() or "（无标题）"
    return text if len(text) <= width else text[: width - 1] + "…"


def risk_badge(score: int) -> str:
    """A risk score with its level in words (高 from ``HIGH_RISK``, 中 from ``MEDIUM_RISK``, else 低).

    Words rather than coloured emoji: office machines without an emoji font draw those as boxes.
    """
    level = "高" if score >= HIGH_RISK else "中" if score >= MEDIUM_RISK else "低"
    return f"{level} {score}"


def sentiment_badge(code: str | None) -> str:
    """The sentiment's Chinese label (负面/中性/正面)."""
    return label(SENTIMENT_LABELS, code)
