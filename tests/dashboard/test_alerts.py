"""Alert derivation (pure) and the acknowledgement store on SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from classifiers.spikes import SpikePost, explain, spike_check
from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from dashboard.acks import AcknowledgeRefused, AlertStore
from dashboard.alerts import (
    HIGH_RISK,
    HISTORY_HOURS,
    AlertKind,
    headline,
    hour_floor,
    hourly_series,
    may_act,
    risk_alert,
    risk_badge,
    sentiment_badge,
    spike_alert,
    ticket_alert,
)
from dashboard.auth import Role, User
from tests.dashboard.samples import enriched_post

NOW = datetime(2026, 11, 20, 14, 20, tzinfo=CHINA_TZ)
DUTY = User("duty1", "值班员甲", Role.DUTY)


def split(text: str) -> list[str]:
    return text.split()


def test_the_hourly_series_takes_the_exact_last_hour_and_the_clock_hour_holding_each_earlier_middle() -> None:
    buckets = [
        (datetime(2026, 11, 20, 12, tzinfo=CHINA_TZ), 4),  # holds 12:50, the middle of 12:20-13:20
        (datetime(2026, 11, 20, 13, tzinfo=CHINA_TZ), 9),  # holds no middle: partly the last hour
        (datetime(2026, 11, 19, 13, tzinfo=CHINA_TZ), 2),  # a day back: the middle 13:50
        (datetime(2026, 11, 13, 13, tzinfo=CHINA_TZ), 1),  # a week back
    ]
    counts = hourly_series(buckets, 7, NOW)
    assert len(counts) == HISTORY_HOURS
    assert counts[0] == 7 and counts[1] == 4 and counts[2] == 0
    assert counts[24] == 2 and counts[168] == 1
    assert sum(counts) == 7 + 4 + 2 + 1


def test_a_quiet_history_and_a_loud_last_hour_is_a_spike_and_a_steady_one_is_not() -> None:
    quiet = [(hour_floor(NOW) - timedelta(hours=h), 1) for h in range(1, 170)]
    assert spike_check(hourly_series(quiet, 12, NOW)).is_spike
    steady = [(start, 12) for start, _ in quiet]
    assert not spike_check(hourly_series(steady, 12, NOW)).is_spike


def spike_posts(count: int, topic: str = "燃气安全") -> list[EnrichedPost]:
    return [
        enriched_post(
            f"g{i}",
            source="weibo",
            title="",
            text="小区 燃气 泄漏 居民 疏散",
            topic=topic,
            published_at=NOW - timedelta(minutes=3 * i),
        )
        for i in range(count)
    ]


def test_a_spike_alert_is_explained_and_keeps_its_id_within_the_clock_hour() -> None:
    posts = spike_posts(8)
    check = spike_check(hourly_series([], 8, NOW))
    members = [SpikePost.of(post, "燃气安全") for post in posts]
    spike = explain("燃气安全", check, members, NOW, terms_of=split)
    titles = {str(post["id"]): f"《{headline(post)}》" for post in posts}
    alert = spike_alert("topic", "燃气安全", spike, NOW, titles)
    assert alert.kind is AlertKind.SPIKE and alert.id == "spike:topic:燃气安全:2026112014"
    assert alert.title == "话题「燃气安全」近1小时突增至 8 条"
    assert "「燃气安全」近1小时8条" in alert.detail and "燃气" in alert.detail and "微博8条" in alert.detail
    assert "代表帖子：《小区 燃气 泄漏 居民 疏散》" in alert.detail
    later = spike_alert("topic", "燃气安全", spike, NOW + timedelta(minutes=30), titles)
    next_hour = spike_alert("topic", "燃气安全", spike, NOW + timedelta(minutes=45), titles)
    assert later.id == alert.id and next_hour.id != alert.id
    by_source = spike_alert("source", "weibo", spike, NOW, titles)
    assert by_source.id.startswith("spike:source:weibo:") and by_source.title.startswith("来源「微博」")


def test_a_high_risk_alert_names_the_post_its_score_and_reasons_and_uses_the_text_without_a_title() -> None:
    post = enriched_post("r1", source="weibo", title="", text="工地欠薪 工人 维权", published_at=NOW, risk=92)
    alert = risk_alert(post)
    assert alert.id == f"risk:{post['id']}" and alert.kind is AlertKind.RISK
    assert alert.title == "风险 92：工地欠薪 工人 维权"
    assert "微博·市长信箱" in alert.detail and "负面情绪" in alert.detail and "11-20 14:20" in alert.detail
    assert alert.at == NOW


def ticket_row(due: datetime, limit: str = "答复") -> dict[str, object]:
    return {
        "id": "YQ-1",
        "unit": "区城管执法局",
        "status": "待签收",
        "summary": "噪音扰民",
        "limit": limit,
        "due": due,
    }


def test_ticket_alerts_say_overdue_or_due_soon_with_one_id_per_limit_and_level() -> None:
    overdue = ticket_alert(ticket_row(NOW - timedelta(hours=26, minutes=5)), NOW)
    assert overdue.kind is AlertKind.OVERDUE and overdue.id == "ticket:YQ-1:答复:overdue"
    assert overdue.title == "工单 YQ-1（区城管执法局）答复已超期 1 天 2 小时"
    soon = ticket_alert(ticket_row(NOW + timedelta(minutes=90), "签收"), NOW)
    assert soon.kind is AlertKind.DUE_SOON and soon.id == "ticket:YQ-1:签收:due_soon"
    assert "签收时限还剩 1 小时 30 分钟" in soon.title and "摘要：噪音扰民" in soon.detail


def test_badges_and_who_may_act() -> None:
    assert [risk_badge(s) for s in (HIGH_RISK, 79, 60, 59)] == ["高 80", "中 79", "中 60", "低 59"]
    assert sentiment_badge("negative") == "负面" and sentiment_badge(None) == "—"
    assert [role for role in Role if may_act(role)] == [Role.DUTY, Role.ADMIN]


@pytest.fixture
def store(ledger_engine: Engine) -> AlertStore:
    """The alert store on a migrated ledger database (SQLite, and a fresh PostgreSQL schema)."""
    return AlertStore(ledger_engine)


def test_an_alert_is_recorded_once_and_stays_active_until_acknowledged_for_everyone(
    store: AlertStore,
) -> None:
    first = risk_alert(enriched_post("r1", published_at=NOW, risk=90))
    second = ticket_alert(ticket_row(NOW - timedelta(hours=1)), NOW)
    assert store.record([first, second], NOW) == 2
    assert store.record([first, second, first], NOW + timedelta(minutes=1)) == 0
    assert [a.alert.id for a in store.active()] == [first.id, second.id]  # same raise: newest fact first
    assert store.active_count() == 2

    assert store.acknowledge(first.id, DUTY, NOW + timedelta(minutes=5))
    assert not store.acknowledge(first.id, User("duty2", "值班员乙", Role.DUTY), NOW + timedelta(minutes=6))
    assert [a.alert.id for a in store.active()] == [second.id]
    [acked] = store.acknowledged()
    assert (acked.alert.id, acked.acked_by) == (first.id, "值班员甲")
    assert acked.acked_at == NOW + timedelta(minutes=5) and acked.alert.title == first.title
    # Derived again later, an acknowledged alert does not come back.
    assert store.record([first], NOW + timedelta(hours=1)) == 0 and store.active_count() == 1


def test_the_active_list_puts_the_gravest_kind_first_then_the_newest(store: AlertStore) -> None:
    from dashboard.alerts import SEVERITY, Alert, post_of_alert, spike_of_alert

    def alert(kind: AlertKind, name: str) -> Alert:
        return Alert(f"{kind.value}:{name}", kind, name, "", NOW)

    # Raised one by one, the least grave first: raising later never lifts a lighter kind above.
    for minutes, kind in enumerate(reversed(SEVERITY)):
        store.record([alert(kind, "a")], NOW + timedelta(minutes=minutes))
    store.record([alert(AlertKind.RISK, "b")], NOW + timedelta(hours=1))
    kinds = [(a.alert.kind, a.alert.title) for a in store.active()]
    assert kinds == [
        (AlertKind.SPIKE, "a"), (AlertKind.RISK, "b"), (AlertKind.RISK, "a"), (AlertKind.OVERDUE, "a"),
        (AlertKind.SAVED, "a"), (AlertKind.DUE_SOON, "a"),
    ]  # fmt: skip
    assert (
        post_of_alert("risk:board:市长信箱:x1") == "board:市长信箱:x1"
        and post_of_alert("ticket:T:签收") is None
    )
    assert spike_of_alert("spike:topic:燃气安全:2026112014") == ("topic", "燃气安全")
    assert spike_of_alert("spike:source:weibo:2026112014") == ("source", "weibo")
    assert spike_of_alert("risk:x") is None and spike_of_alert("spike:other:x:1") is None


def test_only_acting_roles_may_acknowledge(store: AlertStore) -> None:
    alert = risk_alert(enriched_post("r1", published_at=NOW, risk=90))
    store.record([alert], NOW)
    with pytest.raises(AcknowledgeRefused):
        store.acknowledge(alert.id, User("lead", "领导", Role.LEADER), NOW)
    assert store.active_count() == 1
    assert store.acknowledge(alert.id, User("root", "管理员", Role.ADMIN), NOW)


def live_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "YQ-1", "unit": "区城管执法局", "status": "待签收", "summary": "噪音扰民",
        "opened_at": NOW - timedelta(days=1), "sign_started_at": NOW - timedelta(days=1),
        "signed_at": None, "sign_due_at": NOW - timedelta(hours=23), "answered_at": None,
        "respond_due_at": NOW + timedelta(days=2), "due_at": NOW + timedelta(days=5), "closed_at": None,
    }  # fmt: skip
    return {**row, **changes}


def test_a_ticket_alert_is_rebuilt_from_its_ticket_at_each_moment() -> None:
    from dashboard.alerts import live_ticket_alert, ticket_of_alert

    alert_id = "ticket:YQ-1:签收:overdue"
    assert ticket_of_alert(alert_id) == ("YQ-1", "签收") and ticket_of_alert("risk:x") is None
    first = live_ticket_alert(alert_id, live_row(), NOW)
    later = live_ticket_alert(alert_id, live_row(), NOW + timedelta(minutes=29))
    assert first is not None and later is not None
    assert "签收已超期 23 小时 0 分钟" in first.title and "签收已超期 23 小时 29 分钟" in later.title
    assert "当前状态：待签收" in first.detail


def test_a_ticket_alert_is_gone_once_signed_closed_paused_or_deleted() -> None:
    from dashboard.alerts import live_ticket_alert

    alert_id = "ticket:YQ-1:签收:overdue"
    assert live_ticket_alert(alert_id, live_row(signed_at=NOW, status="办理中"), NOW) is None
    assert live_ticket_alert(alert_id, live_row(status="已办结"), NOW) is None
    assert live_ticket_alert(alert_id, live_row(status="暂停"), NOW) is None
    assert live_ticket_alert(alert_id, None, NOW) is None
    # Due soon, then past: the overdue alert (its own id) takes over.
    soon = live_row(sign_due_at=NOW + timedelta(hours=1))
    assert live_ticket_alert("ticket:YQ-1:签收:due_soon", soon, NOW) is not None
    assert live_ticket_alert("ticket:YQ-1:签收:due_soon", soon, NOW + timedelta(hours=2)) is None
    # Due soon is the policy's share of the stage's time used (24 of its 25 hours here).
    assert live_ticket_alert("ticket:YQ-1:签收:due_soon", soon, NOW - timedelta(hours=20)) is None
    assert live_ticket_alert("ticket:YQ-1:签收:due_soon", soon, NOW, 0.99) is None
