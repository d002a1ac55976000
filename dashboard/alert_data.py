"""The alerts of 值班监测: the facts behind them, recorded once, settled when their condition is gone.

Spikes and high-risk posts come from the archive, tickets past or near their limits from the
ledger's queries (:mod:`response_ledger.alert_queries`), saved searches at their threshold from
:mod:`dashboard.search_alerts`; the raised alerts and their acknowledgements live in
:class:`dashboard.acks.AlertStore`. The derivations are cached per minute, so every screen within
it shares one computation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from archive.base import SearchQuery
from archive.errors import ArchiveError
from archive.saved import SavedSearch
from classifiers.spikes import HOUR, SpikePost, explain, spike_check
from core.china_time import CHINA_TZ
from dashboard.acks import AlertStore, StoredAlert
from dashboard.alerts import (
    HIGH_RISK,
    HISTORY_HOURS,
    RISK_LOOKBACK,
    SPIKE_MIN_COUNT,
    TICKET_PREFIX,
    Alert,
    headline,
    hour_floor,
    hourly_series,
    live_ticket_alert,
    risk_alert,
    spike_alert,
    ticket_alert,
    ticket_of_alert,
)
from dashboard.labels import SOURCE_LABELS, label
from dashboard.search_alerts import Counter, archive_counter, fire, search_of_alert
from dashboard.services import HASH_FUNCS, TTL, Services
from response_ledger.alert_queries import stage_limits, ticket_clocks

# At most this many alerts of a kind are derived per refresh: the newest high-risk posts, the most
# recently overdue and the soonest due tickets. The rest are counted and left to the ledger page.
ALERTS_PER_KIND = 50


@dataclass(frozen=True)
class TicketAlerts:
    """Tickets past or near their pending limit: how many in all, and the alerts for the first ones."""

    overdue: int
    due_soon: int
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class Board:
    """What the alert section shows: active alerts (the first ones), their count, the acknowledged,
    notes on what was counted or could not be read, and the saved search each 检索预警 opens."""

    count: int
    active: list[StoredAlert]
    acked: list[StoredAlert]
    notes: list[str]
    searches: dict[str, str]  # alert id → the saved search's name


def alert_store(services: Services) -> AlertStore:
    """The raised alerts and acknowledgements, in the ledger's database."""
    return AlertStore(services.ledger())


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def spike_alerts(services: Services, now: datetime) -> list[Alert]:
    """Topics and sources whose last hour spikes at ``now``, each explained (:mod:`classifiers.spikes`).

    Only keys with at least ``SPIKE_MIN_COUNT`` posts in the last hour (one aggregation per field)
    have their hourly history read, so a quiet system costs two small queries.
    """
    store = services.archive()
    found: list[Alert] = []
    for field_name in ("topic", "source"):
        recent = store.shares(field_name, SearchQuery(since=now - HOUR), size=100)
        for code, last_hour in recent.items():
            if last_hour < SPIKE_MIN_COUNT:
                continue
            history = SearchQuery(
                filters={field_name: code}, since=hour_floor(now) - HOUR * (HISTORY_HOURS + 1)
            )
            counts = hourly_series(store.histogram(history, "hour"), last_hour, now)
            check = spike_check(counts, min_count=SPIKE_MIN_COUNT)
            if not check.is_spike:
                continue
            # explain() compares the last hour's terms with the 12 hours before it.
            members = store.search(
                SearchQuery(filters={field_name: code}, since=now - 13 * HOUR, size=500)
            ).hits
            name = label(SOURCE_LABELS, code) if field_name == "source" else code
            spike = explain(name, check, [SpikePost.of(post, name) for post in members], now)
            titles = {post["id"]: f"《{headline(post, 30)}》" for post in members}
            found.append(spike_alert(field_name, code, spike, now, titles))
    return found


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def risk_alerts(services: Services, now: datetime) -> tuple[int, list[Alert]]:
    """High-risk posts published in the lookback: how many, and alerts for the newest ones."""
    query = SearchQuery(min_risk=HIGH_RISK, since=now - RISK_LOOKBACK, size=ALERTS_PER_KIND)
    result = services.archive().search(query)
    return result.total, [risk_alert(post) for post in result.hits]


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def ticket_alerts(services: Services, now: datetime) -> TicketAlerts:
    """Live tickets whose current stage limit (签收, then 答复, then 办结) is past or due soon."""
    due_soon = services.policy().due_soon_fraction
    limits = stage_limits(services.ledger(), now, due_soon_fraction=due_soon, limit=ALERTS_PER_KIND)
    return TicketAlerts(limits.overdue, limits.due_soon, tuple(ticket_alert(row, now) for row in limits.rows))


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def saved_count(services: Services, search: SavedSearch, since: datetime, minute: datetime) -> int:
    """Posts matching a saved search published at or after ``since`` (cached per ``minute``)."""
    del minute  # part of the cache key only
    return archive_counter(services.archive())(search, since)


def _counter(services: Services, minute: datetime) -> Counter:
    def count(search: SavedSearch, since: datetime) -> int:
        return saved_count(services, search, since, minute)

    return count


def collect(services: Services, now: datetime, shown: int, acked: int) -> Board | None:
    """Derive the alerts of ``now``, record the new ones and read what is active; None: no ledger.

    ``shown`` active alerts are read (the rest are counted), and the ``acked`` latest acknowledged.
    """
    notes: list[str] = []
    derived: list[Alert] = []
    try:
        derived += spike_alerts(services, now)
        risky, risk = risk_alerts(services, now)
        derived += risk
        if risky:
            notes.append(f"近 {int(RISK_LOOKBACK.total_seconds() // 3600)} 小时高风险帖子 {risky:,} 条")
    except ArchiveError:
        notes.append("舆情库暂时无法连接，突增和高风险提醒暂停更新")
    try:
        tickets = ticket_alerts(services, now)
        derived += tickets.alerts
        if tickets.overdue or tickets.due_soon:
            notes.append(f"超期工单 {tickets.overdue:,} 张、即将到期 {tickets.due_soon:,} 张（详见回应台账）")
        store = alert_store(services)
        store.record(derived, now)
        searches = _fire_saved(services, store, now, notes)
        live = _settle_tickets(services, store)
        active = [replace(item, alert=live.get(item.alert.id) or item.alert) for item in store.active(shown)]
        links = {
            item.alert.id: found.name
            for item in active
            if (found := search_of_alert(item.alert.id, searches)) is not None
        }
        return Board(store.active_count(), active, store.acknowledged(acked), notes, links)
    except SQLAlchemyError:
        return None


def _fire_saved(services: Services, store: AlertStore, now: datetime, notes: list[str]) -> list[SavedSearch]:
    """Record the saved searches' alerts that fired (:mod:`dashboard.search_alerts`); the searches read."""
    try:
        searches = services.saved_searches.all()
    except ArchiveError:
        notes.append("保存的查询暂时无法读取，检索预警暂停更新")
        return []
    try:
        fire(searches, _counter(services, now), store, now)
    except ArchiveError:
        notes.append("舆情库暂时无法连接，检索预警暂停更新")
    return searches


def _settle_tickets(services: Services, store: AlertStore) -> dict[str, Alert]:
    """Ticket alerts read against their tickets now: settled ones leave, the rest say how things stand
    at this moment (status, how long overdue); returns the rebuilt ones by id."""
    moment = datetime.now(CHINA_TZ)
    refs = {i: ref for i in store.active_ids(TICKET_PREFIX) if (ref := ticket_of_alert(i)) is not None}
    states = ticket_clocks(services.ledger(), [ticket_id for ticket_id, _ in refs.values()]) if refs else {}
    due_soon = services.policy().due_soon_fraction
    live = {
        i: live_ticket_alert(i, states.get(ticket_id), moment, due_soon) for i, (ticket_id, _) in refs.items()
    }
    store.resolve([i for i, alert in live.items() if alert is None], moment)
    return {i: alert for i, alert in live.items() if alert is not None}
