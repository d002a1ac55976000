"""Saved searches as alert rules (检索预警): when one fires, once per acknowledgement, and its one notice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from archive.saved import SavedSearch
from core.china_time import CHINA_TZ
from dashboard.acks import AlertStore
from dashboard.alerts import AlertKind
from dashboard.auth import Role, User
from dashboard.search_alerts import (
    NOTICE_SUBJECT,
    counting_since,
    fire,
    notify_firings,
    rule_prefix,
    search_of_alert,
)
from response_ledger.errors import DeliveryError
from response_ledger.reminders import Notice

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=CHINA_TZ)
DUTY = User("duty1", "值班员甲", Role.DUTY)
WAGES = SavedSearch("欠薪", "欠薪 OR 拖欠工资", alert_threshold=3, created_at="2026-12-07T08:00:00+08:00")
QUIET = SavedSearch("停车", "停车")  # no threshold: not a rule


class Published:
    """The matching posts' publication times: the count a rule sees from a moment on."""

    def __init__(self, *minutes_after_eight: int) -> None:
        self.times = [NOW - timedelta(hours=1) + timedelta(minutes=m) for m in minutes_after_eight]

    def add(self, *minutes_after_eight: int) -> None:
        self.times += Published(*minutes_after_eight).times

    def __call__(self, search: SavedSearch, since: datetime) -> int:
        return sum(moment >= since for moment in self.times)


class Inbox:
    def __init__(self, fail: bool = False) -> None:
        self.notices: list[Notice] = []
        self.fail = fail

    def send(self, notice: Notice) -> None:
        if self.fail:
            raise DeliveryError("mailto", "connection refused", transient=True)
        self.notices.append(notice)


def test_a_rule_fires_at_its_threshold_once_until_acknowledged_then_counts_afresh(
    ledger_engine: Engine,
) -> None:
    store, posts = AlertStore(ledger_engine), Published(30, 40)
    assert fire([WAGES, QUIET], posts, store, NOW) == []  # two posts since it was saved: below 3
    posts.add(50)
    [alert] = fire([WAGES, QUIET], posts, store, NOW)
    assert alert.kind is AlertKind.SAVED and alert.id.startswith(rule_prefix("欠薪"))
    assert alert.title == "保存的查询“欠薪”新增 3 条命中（预警阈值 3）"
    assert "检索式：欠薪 OR 拖欠工资" in alert.detail and "自 12-07 08:00 起发布" in alert.detail
    posts.add(55, 58)
    assert fire([WAGES], posts, store, NOW + timedelta(minutes=1)) == []  # waits for its 确认
    assert [item.alert.id for item in store.active()] == [alert.id]

    store.acknowledge(alert.id, DUTY, NOW + timedelta(minutes=10))
    posts.add(70, 80)  # 09:10 and 09:20: two since the acknowledgement
    assert fire([WAGES], posts, store, NOW + timedelta(minutes=25)) == []
    posts.add(85)
    [again] = fire([WAGES], posts, store, NOW + timedelta(minutes=30))
    assert again.id != alert.id and again.id.startswith(rule_prefix("欠薪"))
    assert "新增 3 条命中" in again.title and "自 12-07 09:10 起发布" in again.detail
    # The monitor and the scheduler derive the same firing: recorded once.
    assert fire([WAGES], posts, store, NOW + timedelta(minutes=31)) == [] and store.active_count() == 1


def test_a_search_that_is_no_longer_a_rule_has_its_alert_settled(ledger_engine: Engine) -> None:
    store = AlertStore(ledger_engine)
    [alert] = fire([WAGES], Published(10, 20, 30), store, NOW)
    assert search_of_alert(alert.id, [QUIET, WAGES]) == WAGES
    fire([QUIET], Published(10, 20, 30), store, NOW + timedelta(minutes=1))  # 欠薪 was deleted
    assert store.active_count() == 0 and store.acknowledged()[0].acked_by == "系统（情况已解除）"
    assert search_of_alert(alert.id, [QUIET]) is None and search_of_alert("risk:x", [WAGES]) is None


def test_counting_starts_at_the_later_of_the_save_and_the_last_acknowledgement() -> None:
    saved_at = datetime(2026, 12, 7, 8, 0, tzinfo=CHINA_TZ)
    assert counting_since(WAGES, None, NOW) == saved_at
    assert counting_since(WAGES, NOW, NOW) == NOW
    assert counting_since(WAGES, saved_at - timedelta(days=1), NOW) == saved_at  # saved again since
    naive = SavedSearch("欠薪", "欠薪", alert_threshold=1, created_at="2026-12-07T08:00:00")
    assert counting_since(naive, None, NOW) == saved_at  # China time
    untimed = SavedSearch("欠薪", "欠薪", alert_threshold=1)
    assert counting_since(untimed, None, NOW + timedelta(minutes=42)) == NOW - timedelta(hours=1)


def test_each_firing_is_sent_once_even_when_its_delivery_fails(ledger_engine: Engine) -> None:
    store = AlertStore(ledger_engine)
    [alert] = fire([WAGES], Published(10, 20, 30), store, NOW)
    assert notify_firings(store, Inbox(), (), NOW) == []  # no addresses: nothing sent, nothing claimed
    inbox = Inbox()
    assert notify_firings(store, inbox, ("mailto:duty@example.gov.cn",), NOW) == [alert.id]
    [notice] = inbox.notices
    assert notice.subject == NOTICE_SUBJECT and notice.recipients == ("mailto:duty@example.gov.cn",)
    assert notice.text.startswith("【检索预警】保存的查询“欠薪”新增 3 条命中") and "值班监测" in notice.text
    assert notify_firings(store, inbox, ("mailto:duty@example.gov.cn",), NOW) == []
    assert store.active()[0].notified_at == NOW

    store.acknowledge(alert.id, DUTY, NOW)
    [second] = fire([WAGES], Published(61, 62, 63), store, NOW + timedelta(minutes=5))
    failing = Inbox(fail=True)
    assert notify_firings(store, failing, ("mailto:duty@example.gov.cn",), NOW) == []
    assert notify_firings(store, inbox, ("mailto:duty@example.gov.cn",), NOW) == []  # at most once
    assert len(inbox.notices) == 1 and store.to_notify("saved:") == [] and second.id != alert.id
