"""Saved searches as alert rules (检索预警): a threshold reached raises an alert and one notification.

**The rule.** A saved search with an alert threshold N (预警阈值) fires once at least N posts that
match it were *published* since its last alert was acknowledged, or since it was saved when that
is later (saving it again with a new query starts a new count; a search saved without a time
counts from the start of the previous clock hour). A
firing is an alert on 值班监测 like the others: it stays until someone acknowledges it, and while
it stays the search does not fire again; after the acknowledgement the count starts afresh. Posts
are counted by their publication time, so a post crawled late with an older time is not counted.

One firing is one row of ``dashboard_alerts``, its id ``saved:<key>:<since>`` (the search's key,
the moment its count started): the monitor and the scheduler derive the same id from the same
facts, so whichever sees the firing first records it and the other finds it there. The scheduler
sends each firing to the duty office's addresses once (:func:`notify_firings`), claiming it before
sending: a firing is never sent twice, and one whose sending failed after the channels' own retries
is not tried again (the failure is in 系统管理 → 通知记录).

Pure functions and the alert store only: no Streamlit, so ``yuqing schedule`` runs the same code.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from archive.base import Archive, SearchQuery
from archive.errors import QueryError
from archive.saved import SavedSearch
from core.china_time import CHINA_TZ
from dashboard.acks import AlertStore
from dashboard.alerts import Alert, AlertKind
from response_ledger.errors import DeliveryError
from response_ledger.reminders import Level, Notice, Notifier

log = logging.getLogger(__name__)
SAVED_PREFIX = "saved:"
# How far before the current clock hour a search saved without a time starts counting.
FALLBACK_WINDOW = timedelta(hours=1)
NOTICE_SUBJECT = "舆情检索预警"

Counter = Callable[[SavedSearch, datetime], int]
"""How many posts matching a saved search were published at or after a moment."""


def rule_key(name: str) -> str:
    """A short fixed-width key for a saved search's name (names may hold any character, at any length)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def rule_prefix(name: str) -> str:
    """The id prefix every alert of the saved search ``name`` carries."""
    return f"{SAVED_PREFIX}{rule_key(name)}:"


def alert_rules(searches: Iterable[SavedSearch]) -> list[SavedSearch]:
    """The saved searches that are alert rules (those with an alert threshold), in their order."""
    return [search for search in searches if search.alert_threshold is not None]


def search_of_alert(alert_id: str, searches: Iterable[SavedSearch]) -> SavedSearch | None:
    """The saved search a 检索预警 alert is about; None for other alerts or a search deleted since."""
    if not alert_id.startswith(SAVED_PREFIX):
        return None
    return next((s for s in searches if alert_id.startswith(rule_prefix(s.name))), None)


def counting_since(search: SavedSearch, last_settled: datetime | None, now: datetime) -> datetime:
    """Where the search's count starts: the later of its last acknowledgement and when it was saved.

    A search saved without a time counts from its last acknowledgement, else from the start of the
    previous clock hour (a moment every process computes alike within the hour).
    """
    try:
        saved_at: datetime | None = datetime.fromisoformat(search.created_at)
    except ValueError:
        saved_at = None
    if saved_at is not None and saved_at.tzinfo is None:
        saved_at = saved_at.replace(tzinfo=CHINA_TZ)
    known = [moment for moment in (last_settled, saved_at) if moment is not None]
    if known:
        return max(known)
    return now.astimezone(CHINA_TZ).replace(minute=0, second=0, microsecond=0) - FALLBACK_WINDOW


def saved_search_alert(search: SavedSearch, count: int, since: datetime, now: datetime) -> Alert:
    """The alert of a saved search whose count since ``since`` reached its threshold at ``now``.

    The name and the query were typed by an analyst: plain text for ``st.text``, never markdown.
    """
    return Alert(
        id=f"{rule_prefix(search.name)}{since.astimezone(UTC):%Y%m%dT%H%M%S}",
        kind=AlertKind.SAVED,
        title=f"保存的查询“{search.name}”新增 {count:,} 条命中（预警阈值 {search.alert_threshold}）",
        detail=(
            f"检索式：{search.query}\n"
            f"自 {since.astimezone(CHINA_TZ):%m-%d %H:%M} 起发布的帖子中有 {count:,} 条符合该查询。"
        ),
        at=now,
    )


def archive_counter(archive: Archive) -> Counter:
    """Count in ``archive``; a saved query the language no longer reads counts nothing (and never fires)."""

    def count(search: SavedSearch, since: datetime) -> int:
        try:
            return archive.count(SearchQuery(text=search.query, since=since))
        except QueryError:
            log.warning("event=saved-search-unreadable name=%s", search.name)
            return 0

    return count


def fire(searches: Sequence[SavedSearch], count: Counter, store: AlertStore, now: datetime) -> list[Alert]:
    """Record an alert for every rule that reached its threshold at ``now``; returns those derived.

    A rule whose alert waits for an acknowledgement is not counted again. The alerts of searches
    that are no longer rules (deleted, or their threshold removed) are settled by the system.
    """
    rules = alert_rules(searches)
    prefixes = [rule_prefix(rule.name) for rule in rules]
    waiting = store.active_ids(SAVED_PREFIX)
    store.resolve([i for i in waiting if not i.startswith(tuple(prefixes))], now)
    derived: list[Alert] = []
    for rule, prefix in zip(rules, prefixes, strict=True):
        if any(alert_id.startswith(prefix) for alert_id in waiting):
            continue
        since = counting_since(rule, store.last_settled(prefix), now)
        found = count(rule, since)
        if rule.alert_threshold is not None and found >= rule.alert_threshold:
            derived.append(saved_search_alert(rule, found, since, now))
    store.record(derived, now)
    return derived


def firing_notice(alert: Alert, recipients: Sequence[str]) -> Notice:
    """The notification of one firing: what fired and where to acknowledge it (no post text)."""
    text = f"{alert.kind.label}{alert.title}\n{alert.detail}\n请在看板“值班监测”页查看并确认。"
    # A Notice is addressed like a ticket's; the channels read only recipients, subject and text.
    return Notice(alert.id, "", Level.DUE_SOON, tuple(recipients), NOTICE_SUBJECT, text)


def notify_firings(
    store: AlertStore, notifier: Notifier, recipients: Sequence[str], now: datetime
) -> list[str]:
    """Send every waiting firing nobody was told of yet, once each; returns the ids sent.

    Without recipients nothing is claimed, so firings still waiting are sent once addresses are set.
    """
    if not recipients:
        return []
    sent: list[str] = []
    for item in store.to_notify(SAVED_PREFIX):
        if not store.claim_notification(item.alert.id, now):
            continue  # another scheduler took it
        try:
            notifier.send(firing_notice(item.alert, recipients))
        except DeliveryError as exc:
            # Claimed: not sent again (at most once); the channels retried and logged every attempt.
            log.warning("event=search-alert-undelivered id=%s channel=%s", item.alert.id, exc.channel)
            continue
        log.info("event=search-alert-sent id=%s", item.alert.id)
        sent.append(item.alert.id)
    return sent
