"""Spikes within a period: each topic's busiest clock hour that spikes against its own history.

The test is :func:`classifiers.spikes.spike_check` (the hour against the mean of the 12 before it,
cross-checked against the same hour a day and a week earlier), applied to every clock hour of the
period from one hourly histogram per topic; :func:`classifiers.spikes.explain` names the terms,
sources and posts behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from archive.base import Archive, SearchQuery
from briefing.model import SpikeItem
from briefing.period import Period
from briefing.posts import post_ref
from classifiers.spikes import HOUR, WEEK_HOURS, SpikeCheck, SpikePost, explain, spike_check
from core.messages import EnrichedPost

# A spike needs at least this many posts in its hour (classifiers.spikes' own default).
MIN_COUNT = 5
# Posts sampled to explain one spike, from its hour and from the 12 hours before it.
EXPLAIN_POSTS = 300


def find_spikes(
    archive: Archive, period: Period, topics: Mapping[str, int], *, limit: int
) -> tuple[SpikeItem, ...]:
    """The ``limit`` topics whose busiest spiking hour of ``period`` is loudest (by ratio), explained."""
    found: list[tuple[str, datetime, SpikeCheck]] = []
    for topic, posts in topics.items():
        if posts < MIN_COUNT:
            continue
        history = SearchQuery(
            filters={"topic": topic}, since=period.start - HOUR * WEEK_HOURS, until=period.end
        )
        by_hour = dict(archive.histogram(history, "hour"))
        best: tuple[datetime, SpikeCheck] | None = None
        for index in range(period.hours):
            hour = period.start + HOUR * index
            if by_hour.get(hour, 0) < MIN_COUNT:
                continue
            counts = [by_hour.get(hour - HOUR * back, 0) for back in range(WEEK_HOURS + 1)]
            check = spike_check(counts, min_count=MIN_COUNT)
            if check.is_spike and (best is None or check.ratio > best[1].ratio):
                best = (hour, check)
        if best is not None:
            found.append((topic, *best))
    found.sort(key=lambda item: (-item[2].ratio, item[0]))
    return tuple(_explained(archive, topic, hour, check) for topic, hour, check in found[:limit])


def _explained(archive: Archive, topic: str, hour: datetime, check: SpikeCheck) -> SpikeItem:
    def sample(since: datetime, until: datetime) -> list[EnrichedPost]:
        query = SearchQuery(filters={"topic": topic}, since=since, until=until, size=EXPLAIN_POSTS)
        return archive.search(query).hits

    # Terms and representatives come from samples of the hour and of the 12 hours before it; the
    # source counts are the archive's own, for the whole hour.
    members = sample(hour, hour + HOUR) + sample(hour - 12 * HOUR, hour)
    # explain() reads (now - 1h, now]: a moment just before the next hour makes that the clock hour.
    moment = hour + HOUR - timedelta(microseconds=1)
    spike = explain(topic, check, [SpikePost.of(post, topic) for post in members], moment)
    sources = archive.shares("source", SearchQuery(filters={"topic": topic}, since=hour, until=hour + HOUR))
    by_id = {post["id"]: post for post in members}
    return SpikeItem(
        topic=topic,
        hour=hour,
        count=check.last_hour,
        baseline_mean=check.baseline_mean,
        ratio=check.ratio,
        day_ago=check.day_ago,
        week_ago=check.week_ago,
        terms=tuple(spike.top_terms),
        sources=tuple(sources.items()),
        posts=tuple(post_ref(by_id[pid]) for pid in spike.representatives if pid in by_id),
    )
