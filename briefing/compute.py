"""The pure compute step: read the archive and the ledger for one period into a frozen Briefing.

Only the archive port (:mod:`archive.base`: count, shares, histogram, search) and the ledger's
tables are read, so both archive backends give the same briefing. ``now`` is passed in: it decides
the ledger's overdue judgement (at the period's end, or now if the period is still running) and
stamps the briefing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from archive.base import Archive, Interval, SearchQuery
from archive.errors import ArchiveError
from briefing.errors import SourceUnavailable
from briefing.ledger_facts import ledger_ready, pending_decisions, summarize_ledger
from briefing.model import (
    MIN_EVENT_POSTS,
    Briefing,
    Change,
    Decision,
    EventItem,
    Headline,
    LedgerSummary,
    PostRef,
    RiskSummary,
    TopicMove,
)
from briefing.period import Period
from briefing.posts import post_ref
from briefing.surges import find_spikes
from briefing.template import Template
from core.messages import SOURCES

# classifiers.topic.OUT_OF_REMIT (not imported: that module loads scikit-learn).
OUT_OF_REMIT = "其他"
# Enough groups to hold every topic of a remit taxonomy, so the in-remit sum is exact.
TOPIC_GROUPS = 1000


@dataclass(frozen=True)
class _Facts:
    total: int
    sources: dict[str, int]
    negative: int
    in_remit: int
    topics: dict[str, int]


def _query(period: Period, **extra: object) -> SearchQuery:
    return replace(SearchQuery(since=period.start, until=period.end, size=0), **extra)  # type: ignore[arg-type]


def _facts(archive: Archive, period: Period) -> _Facts:
    query = _query(period)
    total = archive.count(query)
    if not total:
        return _Facts(0, {}, 0, 0, {})
    topics = archive.shares("topic", query, size=TOPIC_GROUPS)
    return _Facts(
        total=total,
        sources=archive.shares("source", query, size=20),
        negative=archive.shares("sentiment", query, size=10).get("negative", 0),
        in_remit=sum(n for topic, n in topics.items() if topic != OUT_OF_REMIT),
        topics=topics,
    )


def _headline(now: _Facts, before: _Facts) -> Headline:
    order = {code: n for n, code in enumerate(SOURCES)}
    codes = sorted(
        set(now.sources) | set(before.sources), key=lambda c: (-now.sources.get(c, 0), order.get(c, 9), c)
    )
    return Headline(
        total=Change(now.total, before.total),
        by_source=tuple(
            (code, Change(now.sources.get(code, 0), before.sources.get(code, 0))) for code in codes
        ),
        negative=Change(now.negative, before.negative),
        in_remit=Change(now.in_remit, before.in_remit),
    )


def _volume(archive: Archive, period: Period) -> tuple[tuple[datetime, int], ...]:
    interval: Interval = "hour" if period.kind == "day" else "day"
    step = timedelta(hours=1) if interval == "hour" else timedelta(days=1)
    counts = dict(archive.histogram(_query(period), interval))
    slots = int((period.end - period.start) / step)
    return tuple((period.start + step * i, counts.get(period.start + step * i, 0)) for i in range(slots))


def _events(archive: Archive, period: Period, template: Template) -> tuple[EventItem, ...]:
    """The period's largest events: clusters of at least MIN_EVENT_POSTS posts (shares come largest
    first, so the first smaller one ends the list)."""
    events: list[EventItem] = []
    for event_id, volume in archive.shares("event", _query(period), size=max(template.top_events, 1)).items():
        if len(events) >= template.top_events or volume < MIN_EVENT_POSTS:
            break
        filters = {"event": event_id}
        top = archive.search(_query(period, filters=filters, sort="risk", size=template.posts_per_event))
        negative = archive.count(_query(period, filters={**filters, "sentiment": "negative"}))
        events.append(EventItem(event_id, volume, negative, tuple(post_ref(p) for p in top.hits)))
    return tuple(events)


def _top_posts(archive: Archive, period: Period, template: Template) -> tuple[PostRef, ...]:
    """The period's riskiest posts, shown in the events' place when no event has two posts."""
    found = archive.search(_query(period, sort="risk", size=max(template.top_events, 0)))
    return tuple(post_ref(p) for p in found.hits)


def _risks(archive: Archive, period: Period, template: Template) -> RiskSummary:
    query = _query(period, min_risk=template.risk_threshold, sort="risk", size=template.risk_posts)
    found = archive.search(query)
    return RiskSummary(template.risk_threshold, found.total, tuple(post_ref(p) for p in found.hits))


def _moves(now: Mapping[str, int], before: Mapping[str, int], limit: int) -> tuple[TopicMove, ...]:
    moves = [
        TopicMove(topic, Change(now.get(topic, 0), before.get(topic, 0))) for topic in set(now) | set(before)
    ]
    moves = [move for move in moves if move.change.delta]
    moves.sort(key=lambda m: (-abs(m.change.delta), -m.change.current, m.topic))
    return tuple(moves[:limit])


def compute_briefing(
    archive: Archive,
    ledger: Engine | None,
    period: Period,
    *,
    now: datetime,
    template: Template | None = None,
) -> Briefing:
    """Every figure of the briefing for ``period``; ``ledger`` None (or without tables) leaves it out.

    Raises :class:`SourceUnavailable` when the archive or the ledger cannot be read.
    """
    template = template or Template()
    previous = period.previous()
    try:
        current, before = _facts(archive, period), _facts(archive, previous)
        has_posts = current.total > 0
        volume = _volume(archive, period) if has_posts else ()
        events = _events(archive, period, template) if has_posts and "events" in template.sections else ()
        top_posts = (
            _top_posts(archive, period, template)
            if has_posts and not events and "events" in template.sections and template.top_events
            else ()
        )
        spikes = (
            find_spikes(archive, period, current.topics, limit=template.spikes)
            if has_posts and "spikes" in template.sections
            else ()
        )
        risks = (
            _risks(archive, period, template) if has_posts else RiskSummary(template.risk_threshold, 0, ())
        )
    except ArchiveError as exc:
        raise SourceUnavailable("archive", str(exc)) from exc
    summary: LedgerSummary | None = None
    decisions: tuple[Decision, ...] = ()
    decisions_total = 0
    try:
        if ledger is not None and ledger_ready(ledger):
            summary = summarize_ledger(ledger, period, as_of=min(now, period.end))
            decisions, decisions_total = pending_decisions(ledger, limit=template.decisions)
    except SQLAlchemyError as exc:
        raise SourceUnavailable("ledger", str(exc)) from exc
    return Briefing(
        period=period,
        previous=previous,
        generated_at=now,
        department=template.department,
        title=template.title(period.kind),
        header=template.header,
        sections=template.sections,
        headline=_headline(current, before),
        volume=volume,
        topics=tuple(current.topics.items()),
        events=events,
        spikes=spikes,
        risks=risks,
        topic_moves=_moves(current.topics, before.topics, template.topic_moves),
        ledger=summary,
        decisions=decisions,
        decisions_total=decisions_total,
        issuer=template.issuer or template.department,
        issue=template.issue(period.first_day, period.kind),
        signer=template.signer,
        top_posts=top_posts,
    )
