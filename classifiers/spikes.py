"""Spikes: a topic's or an event's volume in the last hour against its own baseline, with an explanation.

Pure functions of posts (or hourly counts) and a ``now`` passed in: the last hour is compared with
the mean of the 12 hours before it, and cross-checked against the same hour a day and a week
earlier, so a daily rhythm (the morning rush of 交通 posts) is not an alarm. A spike is explained
by the terms that rose, the sources that carried it and the posts that represent it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.china_time import parse_time
from core.labels import source_label
from core.messages import EnrichedPost

HOUR = timedelta(hours=1)
DAY_HOURS, WEEK_HOURS = 24, 24 * 7


@dataclass(frozen=True)
class SpikePost:
    """What spike detection needs of an enriched post; ``key`` is its topic label or event id."""

    post_id: str
    key: str
    published_at: datetime
    source: str
    text: str
    reach: int = 0  # reposts + comments: the representative posts are the most spread

    @classmethod
    def of(cls, post: EnrichedPost, key: str) -> SpikePost:
        """What :func:`explain` reads of an enriched post, filed under ``key``."""
        metrics: Mapping[str, Any] = post.get("metrics") or {}
        return cls(
            post_id=post["id"],
            key=key,
            published_at=parse_time(post["published_at"]),
            source=post.get("source", ""),
            text=f"{post.get('title', '')} {post.get('text', '')}",
            reach=int(metrics.get("reposts", 0) or 0) + int(metrics.get("comments", 0) or 0),
        )


@dataclass(frozen=True)
class SpikeCheck:
    """The figures behind a verdict: last hour, its baseline and the same hour a day and a week ago."""

    last_hour: int
    baseline_mean: float
    z: float
    day_ago: int
    week_ago: int
    ratio: float
    is_spike: bool


@dataclass(frozen=True)
class Spike:
    """A key whose volume spiked, with what explains it."""

    key: str
    check: SpikeCheck
    top_terms: list[str]
    sources: dict[str, int]
    representatives: list[str]  # post ids
    explanation: str


def hourly_counts(times: Iterable[datetime], now: datetime, hours: int = WEEK_HOURS + 1) -> list[int]:
    """``counts[i]`` = posts published in ``(now - (i+1)h, now - ih]``; index 0 is the last hour."""
    counts = [0] * hours
    for moment in times:
        if moment > now:
            continue  # from a clock ahead of ours: not yet
        index = math.ceil((now - moment) / HOUR) - 1 if moment < now else 0
        if 0 <= index < hours:
            counts[index] += 1
    return counts


def spike_check(
    counts: Sequence[int],
    *,
    baseline_hours: int = 12,
    min_count: int = 5,
    min_ratio: float = 3.0,
    min_z: float = 3.0,
) -> SpikeCheck:
    """Whether the last hour (``counts[0]``) spikes against the hours before it.

    The baseline's spread is floored at a Poisson count's (√mean, at least 1), so a quiet key with a
    flat history does not alarm at its first few posts. Missing history counts as zero.
    """

    def at(i: int) -> int:
        return counts[i] if i < len(counts) else 0

    last = at(0)
    baseline = [at(i) for i in range(1, baseline_hours + 1)]
    mean = sum(baseline) / len(baseline)
    spread = max(math.sqrt(sum((c - mean) ** 2 for c in baseline) / len(baseline)), math.sqrt(mean), 1.0)
    z = (last - mean) / spread
    day_ago, week_ago = at(DAY_HOURS), at(WEEK_HOURS)
    reference = max(mean, day_ago, week_ago, 1.0)
    ratio = last / reference
    is_spike = last >= min_count and ratio >= min_ratio and z >= min_z
    return SpikeCheck(last, round(mean, 2), round(z, 2), day_ago, week_ago, round(ratio, 2), is_spike)


def explain(
    key: str,
    check: SpikeCheck,
    members: Sequence[SpikePost],
    now: datetime,
    *,
    terms_of: Callable[[str], list[str]] | None = None,
) -> Spike:
    """Top rising terms, sources and representative posts of a spiking key, and a sentence saying so."""
    split = terms_of or _default_terms
    recent = [p for p in members if now - HOUR < p.published_at <= now]
    before = [p for p in members if now - 13 * HOUR < p.published_at <= now - HOUR]
    now_terms = Counter(t for p in recent for t in set(split(p.text)) if len(t) >= 2)
    old_terms = Counter(t for p in before for t in set(split(p.text)) if len(t) >= 2)
    # A term rises when it is in many of this hour's posts and few of the baseline's (per hour).
    rising = sorted(now_terms, key=lambda t: (-(now_terms[t] / (1 + old_terms[t] / 12)), t))[:5]
    sources = dict(Counter(p.source for p in recent).most_common())
    representatives = [p.post_id for p in sorted(recent, key=lambda p: (-p.reach, p.published_at))[:3]]
    source_text = "、".join(f"{source_label(s)}{n}条" for s, n in sources.items())
    sentence = (
        f"「{key}」近1小时{check.last_hour}条，是过去12小时平均每小时{check.baseline_mean:g}条的"
        f"{check.ratio:g}倍（昨日同时段{check.day_ago}条，上周同时段{check.week_ago}条）；"
        f"高频词：{'、'.join(rising) or '无'}；来源：{source_text}。"
    )
    return Spike(key, check, rising, sources, representatives, sentence)


def _default_terms(text: str) -> list[str]:
    from archive.tokens import tokenize

    return tokenize(text)
