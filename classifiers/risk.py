"""Risk 0–100 with the reasons behind it.

Social posts: negativity, sensitive terms, reach and velocity (how fast a story spreads: the post's
own reposts and comments per hour since it was published, and how many near-copies of it arrived
in the last hour). Letters (boards, 12345 orders): nearly every letter is negative, so negativity
says nothing; what a duty officer must act on today is the urgency model's call (risk to life, a
group harmed, an imminent deadline), with the phrases that drove it, plus sensitive terms and votes.
"""

from __future__ import annotations

import math
from datetime import datetime

from core.messages import Label, Metrics, Risk

SENSITIVE_TERMS = (
    "群体性",
    "维权",
    "上访",
    "欠薪",
    "爆炸",
    "中毒",
    "伤亡",
    "死亡",
    "火灾",
    "坍塌",
    "跳楼",
    "打砸",
    "集体",
    "拉横幅",
)


def risk_score(
    sentiment: Label,
    title: str,
    text: str,
    metrics: Metrics | None,
    followers: int | None,
    terms: tuple[str, ...] = SENSITIVE_TERMS,
    *,
    engagement_per_hour: float = 0.0,
    event_last_hour: int = 0,
) -> Risk:
    """Up to 40 for negativity, 40 for sensitive terms (15 each), 20 for reach and 20 for velocity.

    The sum is capped at 100: a negative post with sensitive terms that spreads fast is the top.
    """
    reasons: list[str] = []
    score = 0.0
    if sentiment["label"] == "negative":
        score += 40 * sentiment["score"]
        reasons.append(f"负面情绪（{sentiment['score']:.2f}）")
    score += _sensitive(title, text, terms, reasons, each=15, cap=40)
    m = metrics or {}
    reach = m.get("reposts", 0) + m.get("comments", 0) + m.get("likes", 0) // 10 + (followers or 0) // 1000
    if reach > 0:
        reach_points = min(20.0, 4 * math.log10(1 + reach))
        score += reach_points
        if reach_points >= 4:
            reasons.append(f"传播量：{reach}")
    # Velocity, log-scaled like reach: 100 interactions an hour or 10 copies in an hour are loud.
    speed = max(engagement_per_hour, 0.0) + 10 * max(event_last_hour - 1, 0)
    if speed > 0:
        velocity_points = min(20.0, 5 * math.log10(1 + speed))
        score += velocity_points
        if engagement_per_hour >= 10:
            reasons.append(f"传播速度：每小时约{engagement_per_hour:.0f}次转发评论")
        if event_last_hour >= 3:
            reasons.append(f"事件升温：1小时内{event_last_hour}条相似帖文")
    return Risk(score=min(100, round(score)), reasons=reasons)


def engagement_per_hour(metrics: Metrics | None, published_at: datetime, fetched_at: datetime) -> float:
    """Reposts and comments per hour between publication and crawl (at least a quarter hour)."""
    m = metrics or {}
    hours = max((fetched_at - published_at).total_seconds() / 3600, 0.25)
    return (m.get("reposts", 0) + m.get("comments", 0)) / hours


# The risk at which the dashboard raises a high-risk alert (dashboard.alerts.HIGH_RISK reads it).
ALERT_RISK = 80


def urgency_points(probability: float, alert_probability: float) -> float:
    """P(urgent) mapped onto 0–90, monotone, so that the model's alert threshold lands on ALERT_RISK.

    The threshold was chosen by cross-validation on the training letters (on the model's card): a
    letter the model would flag is exactly a letter the dashboard raises, sensitive terms aside.
    """
    t = min(max(alert_probability, 0.01), 0.99)
    if probability < t:
        return ALERT_RISK * probability / t
    return ALERT_RISK + 10 * (probability - t) / (1 - t)


def letter_risk(
    urgency: float,
    alert_probability: float,
    phrases: list[str],
    title: str,
    text: str,
    metrics: Metrics | None,
    terms: tuple[str, ...] = SENSITIVE_TERMS,
    *,
    event_last_hour: int = 0,
) -> Risk:
    """Up to 90 for urgency, 10 each for sensitive terms (5 a term), votes and comments, and copies
    of the letter in the last hour (a campaign); capped at 100."""
    score = urgency_points(urgency, alert_probability)
    # The threshold beside the probability: 0.51 reads as "maybe" unless one sees the alert is at 0.28.
    reasons = [f"紧急程度{urgency:.2f}（模型判断，{alert_probability:.2f}起预警）"]
    if phrases:
        reasons.append("关键表述：" + "、".join(phrases))
    score += _sensitive(title, text, terms, reasons, each=5, cap=10)
    m = metrics or {}
    support = m.get("votes_up", 0) + m.get("comments", 0) + m.get("reposts", 0)
    if support > 0:
        score += min(10.0, 3 * math.log10(1 + support))
        if support >= 10:
            reasons.append(f"关注度：{support}")
    if event_last_hour > 1:
        score += min(10.0, 5 * math.log10(1 + 10 * (event_last_hour - 1)))
        if event_last_hour >= 3:
            reasons.append(f"事件升温：1小时内{event_last_hour}条相似帖文")
    return Risk(score=min(100, round(score)), reasons=reasons)


def _sensitive(
    title: str, text: str, terms: tuple[str, ...], reasons: list[str], *, each: int, cap: int
) -> int:
    """Points for the sensitive terms in a post (``each`` a term, at most ``cap``), its reason appended."""
    body = f"{title} {text}"
    found = [t for t in terms if t in body]
    if found:
        reasons.append("敏感词：" + "、".join(found))
    return min(cap, each * len(found))
