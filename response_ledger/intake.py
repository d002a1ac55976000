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
from response_ledger.errors import InvalidActionData
from response_ledger.model import Ticket
from response_ledger.policy import Policy, load_policy
from response_ledger.services import new_ticket, ticket_id_for_post
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
    """A post that needs a ticket: of which class, for which unit, with the clock from when.

    ``clock``, ``unit_basis`` and ``class_basis`` say why, in the words the pages show.
    """

    ticket_class: str
    unit: str
    start: datetime
    clock: str = ""  # why the clock starts at ``start``
    unit_basis: str = ""  # why this unit: the work order's own, the remit topic's, the dispatcher
    class_basis: str = ""  # which intake rule chose the class


PRAISE = "表扬"
CLOCK_HOTLINE = "12345 平台受理时间（工单发布时间）"
CLOCK_BOARD = "留言发布时间"
CLOCK_FOUND = "发现时间（采集到帖子的时间）"
CLOCK_BY_HAND = "人工立案时间（该帖子不符合自动立单规则）"
UNIT_OF_ORDER = "12345 工单自带的承办单位"
UNIT_DISPATCHER = "未能按职责范围确定责任单位，交调度单位"
CLASS_BY_HAND = "该帖子不符合自动立单规则，按政务舆情办理"
UNIT_MAX = 100  # characters of a unit's name (the ledger's column)


def decide(post: EnrichedPost, policy: Policy) -> Decision | str:
    """The ticket a post calls for, or the reason it calls for none (pure)."""
    rules = policy.intake
    topic = post.get("topic") or {}
    unit, basis = _remit_unit(post, policy)
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
        named = appeal in rules.hotline_classes or cls == rules.praise_class
        why = f"12345 {appeal}类工单" if named else "12345 工单"
        # A work order names its unit; the taxonomy's unit only stands in where it does not.
        if hotline.get("unit"):
            unit, basis = hotline["unit"], UNIT_OF_ORDER
        return Decision(cls, unit, published, CLOCK_HOTLINE, basis, why)
    if source == "board":
        if (post.get("reply") or {}).get("status") == "replied":
            return "board message already answered"
        if not rules.board_unanswered:
            return "board intake is off"
        if praise and post.get("appeal_type") == PRAISE:
            return Decision(rules.praise_class, unit, published, CLOCK_BOARD, basis, "表扬类留言")
        return Decision(rules.board_class, unit, published, CLOCK_BOARD, basis, "未回复的网站留言")
    threshold = rules.weibo_min_risk if source == "weibo" else rules.news_min_risk
    if not topic.get("in_remit"):
        return "not in the department's remit"
    if risk < threshold:
        return f"risk {risk} below {threshold}"
    cls, why = rules.opinion_class, f"职责内舆情（风险 {risk} ≥ {threshold}）"
    if risk >= rules.major_incident_risk:
        cls, why = rules.major_class, f"重大突发舆情（风险 {risk} ≥ {rules.major_incident_risk}）"
    if praise and post.get("appeal_type") == PRAISE and risk < rules.major_incident_risk:
        cls, why = rules.praise_class, "表扬类舆情"
    # 政务舆情 limits run from discovery, which for social media is the crawl.
    found = parse_time(post.get("fetched_at") or post["published_at"], field="fetched_at")
    return Decision(cls, unit, found, CLOCK_FOUND, basis, why)


def propose(post: EnrichedPost, now: datetime, policy: Policy) -> Decision:
    """What 立案 proposes for ``post``: the class and unit the intake rules choose (:func:`decide`).

    Where the rules choose nothing it is 政务舆情 for the remit topic's unit (else the dispatcher),
    its clock starting ``now``. The one proposal: the duty officer's form shows it, and
    :func:`open_by_hand` opens with it what the officer did not change.
    """
    decision = decide(post, policy)
    if not isinstance(decision, str):
        return decision
    unit, basis = _remit_unit(post, policy)
    return Decision(policy.intake.opinion_class, unit, china_time(now), CLOCK_BY_HAND, basis, CLASS_BY_HAND)


def _remit_unit(post: EnrichedPost, policy: Policy) -> tuple[str, str]:
    """The remit topic's unit (from the taxonomy, via the classifier) and why; else the dispatcher."""
    topic = post.get("topic") or {}
    unit = topic.get("unit") if topic.get("in_remit") else None
    if unit:
        return str(unit), f"按帖子主题“{topic.get('label') or '—'}”对应的责任单位（职责范围）"
    return policy.intake.default_unit, UNIT_DISPATCHER


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
    """What :func:`open_by_hand` did: the post's ticket, whether it was opened now, and the ticket
    opened (None when the post had one already)."""

    ticket_id: str
    opened: bool
    ticket: Ticket | None = field(default=None, compare=False)


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

    The class and unit default to :func:`propose`'s; the officer may choose others (the policy
    must know the class: :class:`~response_ledger.errors.RuleError` otherwise). ``comment`` is the
    officer's note, recorded on the opening event together with what was proposed where the officer
    chose differently. A post already on the ledger keeps its ticket: nothing is opened, and the
    answer says which ticket it is (``opened`` False).
    """
    policy = policy or load_policy()
    existing = uow.tickets.ticket_id_for_post(post["id"])
    if existing is not None:
        return HandOpened(existing, opened=False)
    proposed = propose(post, now, policy)
    chosen_unit = (unit or "").strip() or proposed.unit
    if len(chosen_unit) > UNIT_MAX:
        reason = f"责任单位名称不能超过 {UNIT_MAX} 个字"
        raise InvalidActionData(ticket_id_for_post(post["id"]), Action.OPEN.value, reason)
    chosen_class = ticket_class or proposed.ticket_class
    policy.ticket_class(chosen_class)  # an unknown class is refused before anything is written
    data: dict[str, object] = {"clock": proposed.clock}
    if chosen_unit != proposed.unit:
        data["proposed_unit"] = proposed.unit
    if chosen_class != proposed.ticket_class:
        data["proposed_class"] = policy.ticket_class(proposed.ticket_class).title
    ticket = new_ticket(
        uow, policy, ticket_class=chosen_class, source=post["source"],
        summary=summary_of(post), unit=chosen_unit, found_at=parse_time(post["published_at"]),
        start=min(china_time(proposed.start), china_time(now)), actor=actor, post_id=post["id"],
        event_key=post.get("event_id") or None, url=post.get("url", ""), comment=comment.strip(),
        data=data,
    )  # fmt: skip
    uow.commit()
    return HandOpened(ticket.id, opened=True, ticket=ticket)
