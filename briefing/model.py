"""The briefing as data: a frozen object that :mod:`briefing.compute` fills and every renderer reads.

Every figure here is a count read from the archive or the ledger (or a rate the ledger's own
metrics query returns); renderers only format them, so no sentence can state a number that neither
holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from briefing.period import Period

MIN_EVENT_POSTS = 2
"""A cluster with fewer posts in the period is one post, not an event."""


@dataclass(frozen=True)
class Change:
    """A count this period and in the period before."""

    current: int
    previous: int

    @property
    def delta(self) -> int:
        """This period's count minus the previous one's."""
        return self.current - self.previous


@dataclass(frozen=True)
class Headline:
    """The headline counts of a period and of the one before it.

    ``negative`` and ``in_remit`` are post counts; their shares are taken of ``total``. A post is in
    remit when its topic is one of the department's (any topic but 其他).
    """

    total: Change
    by_source: tuple[tuple[str, Change], ...]  # source code, counts; largest first
    negative: Change
    in_remit: Change


@dataclass(frozen=True)
class PostRef:
    """One post as the briefing quotes it; every text field is untrusted and escaped by renderers."""

    post_id: str
    title: str
    excerpt: str
    source: str
    channel: str
    published_at: datetime
    url: str
    sentiment: str
    topic: str
    risk: int
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventItem:
    """A near-duplicate cluster of at least two posts in the period (:data:`MIN_EVENT_POSTS`): how many,
    how many are negative, the riskiest ones."""

    event_id: str
    volume: int
    negative: int
    posts: tuple[PostRef, ...]


@dataclass(frozen=True)
class SpikeItem:
    """A topic's busiest spiking clock hour in the period, with what explains it."""

    topic: str
    hour: datetime  # start of the clock hour, China time
    count: int
    baseline_mean: float  # mean posts per hour over the 12 hours before
    ratio: float
    day_ago: int
    week_ago: int
    terms: tuple[str, ...]
    sources: tuple[tuple[str, int], ...]
    posts: tuple[PostRef, ...]


@dataclass(frozen=True)
class RiskSummary:
    """Posts at or above ``threshold`` risk in the period: how many, and the riskiest of them."""

    threshold: int
    count: int
    posts: tuple[PostRef, ...]


@dataclass(frozen=True)
class TopicMove:
    """A topic's post count this period and before: the topics that moved most."""

    topic: str
    change: Change


@dataclass(frozen=True)
class UnitRow:
    """A unit's ledger figures: tickets opened, closed and overdue; rates from ``queries.metrics``.

    ``opened`` and the two rates cover tickets opened in the period; ``closed`` counts tickets closed
    in the period; ``overdue`` counts tickets past their due moment and not closed at ``as_of``.
    """

    unit: str
    opened: int
    closed: int
    overdue: int
    response_rate: float | None
    on_time_close_rate: float | None


@dataclass(frozen=True)
class LedgerSummary:
    """The ledger over the period, per unit and in total; ``as_of`` is when overdue is judged."""

    as_of: datetime
    units: tuple[UnitRow, ...]
    total: UnitRow


@dataclass(frozen=True)
class Decision:
    """A ticket awaiting a leader: an extension to approve, or an escalated ticket still open."""

    ticket_id: str
    unit: str
    status: str
    reason: str
    summary: str
    due_at: datetime | None
    escalations: int


@dataclass(frozen=True)
class Briefing:
    """Everything one briefing says, for one period, computed at ``generated_at``."""

    period: Period
    previous: Period
    generated_at: datetime
    department: str
    title: str
    header: str
    sections: tuple[str, ...]
    headline: Headline
    volume: tuple[tuple[datetime, int], ...]  # per hour (a day) or per day, the whole period
    topics: tuple[tuple[str, int], ...]  # posts per topic this period, largest first
    events: tuple[EventItem, ...]
    spikes: tuple[SpikeItem, ...]
    risks: RiskSummary
    topic_moves: tuple[TopicMove, ...]
    ledger: LedgerSummary | None  # None: the ledger has no tables yet
    decisions: tuple[Decision, ...]
    decisions_total: int
    issuer: str = ""  # 编发单位 of the 版头
    issue: str = ""  # 期号: 2026年第64期
    signer: str = ""  # 签发人
    # When no event of the period has two posts or more: its riskiest posts, listed in the events'
    # place under a heading of their own (a post alone is not an event).
    top_posts: tuple[PostRef, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the archive holds no post of the period."""
        return self.headline.total.current == 0
