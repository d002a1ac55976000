"""Intake: which enriched posts open tickets, for which unit and class; 并单 and idempotency.

The stream's ledger stage calls :func:`open_tickets` with a batch of ``posts.enriched`` values. A
post already on the ledger (by post id) is a duplicate and changes nothing, so replays are safe; a
post of an event that already has a live ticket merges into it (并单) instead of opening another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from core.china_time import china_time, parse_time
from core.messages import EnrichedPost
from response_ledger.policy import Policy, load_policy
from response_ledger.services import new_ticket
from response_ledger.unit_of_work import UnitOfWork
from response_ledger.workflow import Action

INTAKE_ACTOR = "系统受理"
_SUMMARY_CHARS = 300


@dataclass
class IntakeReport:
    """What one batch did: tickets opened, posts merged, replays ignored, posts no rule took."""

    opened: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (post id, ticket id)
    duplicates: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # post id → why no ticket


@dataclass(frozen=True)
class Decision:
    """A post that needs a ticket: of which class, for which unit, with the clock from when."""

    ticket_class: str
    unit: str
    start: datetime
    clock: str = ""  # why the clock starts at ``start``, in the words the ledger page shows


PRAISE = "表扬"
CLOCK_HOTLINE = "12345 平台受理时间（工单发布时间）"
CLOCK_BOARD = "留言发布时间"
CLOCK_FOUND = "发现时间（采集到帖子的时间）"
CLOCK_BY_HAND = "人工立案时间（该帖子不符合自动立单规则）"


def decide(post: EnrichedPost, policy: Policy) -> Decision | str:
    """The ticket a post calls for, or the reason it calls for none (pure)."""
    rules = policy.intake
    topic = post.get("topic") or {}
    unit = _remit_unit(post, policy)
    risk = int((post.get("risk") or {}).get("score", 0))
    source = post["source"]
    published = parse_time(post["published_at"])
    praise = bool(rules.praise_class)
    if source == "hotline":
        if not rules.hotline:
            return "12345 intake is off"
        hotline = post.get("hotline") or {}
        appeal = hotline.get("appeal_type") or post.get("appeal_type") or ""
        cls = rules.hotline_classes.get(appeal, rules.hotline_default_class)
        if praise and appeal == PRAISE and appeal not in rules.hotline_classes:
            cls = rules.praise_class
        # A work order names its unit; the taxonomy's unit only stands in where it does not.
        return Decision(cls, hotline.get("unit") or unit, published, CLOCK_HOTLINE)
    if source == "board":
        if (post.get("reply") or {}).get("status") == "replied":
            return "board message already answered"
        if not rules.board_unanswered:
            return "board intake is off"
        cls = rules.praise_class if praise and post.get("appeal_type") == PRAISE else rules.board_class
        return Decision(cls, unit, published, CLOCK_BOARD)
    threshold = rules.weibo_min_risk if source == "weibo" else rules.news_min_risk
    if not topic.get("in_remit"):
        return "not in the department's remit"
    if risk < threshold:
        return f"risk {risk} below {threshold}"
    cls = rules.major_class if risk >= rules.major_incident_risk else rules.opinion_class
    if praise and post.get("appeal_type") == PRAISE and risk < rules.major_incident_risk:
        cls = rules.praise_class
    # 政务舆情 limits run from discovery, which for social media is the crawl.
    found = parse_time(post.get("fetched_at") or post["published_at"], field="fetched_at")
    return Decision(cls, unit, found, CLOCK_FOUND)


def _remit_unit(post: EnrichedPost, policy: Policy) -> str:
    topic = post.get("topic") or {}
    return (topic.get("unit") if topic.get("in_remit") else None) or policy.intake.default_unit


def open_tickets(
    uow: UnitOfWork, posts: Iterable[EnrichedPost], now: datetime, *, policy: Policy | None = None
) -> IntakeReport:
    """Open or merge tickets for a batch of enriched posts and commit once; safe to replay.

    ``now`` caps start moments (a clock skewed into the future never starts a deadline late).
    """
    policy = policy or load_policy()
    report = IntakeReport()
    now = china_time(now)
    for post in posts:
        post_id = post["id"]
        if uow.tickets.ticket_id_for_post(post_id) is not None:
            report.duplicates.append(post_id)
            continue
        decision = decide(post, policy)
        if isinstance(decision, str):
            report.skipped[post_id] = decision
            continue
        event_key = post.get("event_id") or None
        live = uow.tickets.open_ticket_id_for_event(event_key) if event_key else None
        if live is not None:
            ticket = uow.tickets.get(live)
            ticket.act(
                Action.MERGE, actor=INTAKE_ACTOR, at=now, comment="重复诉求并单", data={"post_id": post_id}
            )
            uow.tickets.link_post(post_id, live)
            report.merged.append((post_id, live))
            continue
        ticket = new_ticket(
            uow, policy, ticket_class=decision.ticket_class, source=post["source"], summary=summary_of(post),
            unit=decision.unit, found_at=parse_time(post.get("fetched_at") or post["published_at"]),
            start=min(china_time(decision.start), now), actor=INTAKE_ACTOR, post_id=post_id,
            event_key=event_key, url=post.get("url", ""), data={"clock": decision.clock},
        )  # fmt: skip
        report.opened.append(ticket.id)
    uow.commit()
    return report


def summary_of(post: EnrichedPost) -> str:
    """舆情/诉求摘要: the title and the start of the text."""
    title, text = post.get("title", "").strip(), post.get("text", "").strip()
    joined = f"{title}：{text}" if title and not text.startswith(title) else text or title
    return joined[:_SUMMARY_CHARS]


@dataclass(frozen=True)
class HandOpened:
    """What :func:`open_by_hand` did: the post's ticket, and whether it was opened now."""

    ticket_id: str
    opened: bool


def open_by_hand(
    uow: UnitOfWork,
    post: EnrichedPost,
    now: datetime,
    *,
    actor: str,
    ticket_class: str | None = None,
    unit: str | None = None,
    comment: str = "",
    policy: Policy | None = None,
) -> HandOpened:
    """A duty officer opens a ticket from any post, whatever the intake rules say; commits.

    The class and unit default to what the rules would choose; where they choose nothing, 政务舆情
    for the remit topic's unit (else the dispatcher). A post already on the ledger keeps its
    ticket: nothing is opened, and the answer says which ticket it is (``opened`` False).
    """
    policy = policy or load_policy()
    existing = uow.tickets.ticket_id_for_post(post["id"])
    if existing is not None:
        return HandOpened(existing, opened=False)
    decision = decide(post, policy)
    chosen = (
        decision
        if not isinstance(decision, str)
        else Decision(policy.intake.opinion_class, _remit_unit(post, policy), china_time(now), CLOCK_BY_HAND)
    )
    ticket = new_ticket(
        uow, policy, ticket_class=ticket_class or chosen.ticket_class, source=post["source"],
        summary=summary_of(post), unit=unit or chosen.unit, found_at=parse_time(post["published_at"]),
        start=min(china_time(chosen.start), china_time(now)), actor=actor, post_id=post["id"],
        event_key=post.get("event_id") or None, url=post.get("url", ""), comment=comment,
        data={"clock": chosen.clock},
    )  # fmt: skip
    uow.commit()
    return HandOpened(ticket.id, opened=True)
