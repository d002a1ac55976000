"""Raised alerts and their acknowledgements, in the ledger's database via SQLAlchemy.

An alert is recorded the first time any screen derives it and stays active until someone who may
act acknowledges it; the acknowledgement (who, when) holds for every screen and survives restarts.
So a spike that has calmed down, or a post that dropped out of the lookback, is still shown until
a duty officer has seen it. The table is the ledger's migrations' (revision 0002, ``notified_at``
since 0003): the engine handed in is migrated.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    Row,
    String,
    Table,
    Text,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from dashboard.alerts import SEVERITY, Alert, AlertKind, may_act
from dashboard.auth import User

log = logging.getLogger(__name__)
metadata = MetaData()
SYSTEM = "system"
RESOLVED_BY = "系统（情况已解除）"
alerts = Table(
    "dashboard_alerts",
    metadata,
    Column("id", String(400), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("acked_by", String(64)),
    Column("acked_by_name", String(128)),
    Column("acked_at", DateTime(timezone=True)),
    # When the alert was sent out (saved searches' alerts, by the scheduler): claimed before sending.
    Column("notified_at", DateTime(timezone=True)),
    # The active list is "not acknowledged, newest first"; the acknowledged one "latest first".
    Index("ix_dashboard_alerts_acked_raised", "acked_at", "raised_at"),
)


class AcknowledgeRefused(PermissionError):
    """A user whose role may not act tried to acknowledge; the message is for the user."""


@dataclass(frozen=True)
class StoredAlert:
    """An alert as recorded: when it was raised and, once acknowledged, by whom and when."""

    alert: Alert
    raised_at: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None
    notified_at: datetime | None = None


class AlertStore:
    """The raised alerts of every screen and their acknowledgements."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, derived: Sequence[Alert], now: datetime) -> int:
        """Store the alerts not seen before (an alert's id is its identity); returns how many were new."""
        if not derived:
            return 0
        unique = {alert.id: alert for alert in derived}
        # Two screens may record the same new alert at once: the loser's insert conflicts, and its
        # second pass finds the row and inserts nothing.
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    known = set(
                        conn.execute(select(alerts.c.id).where(alerts.c.id.in_(list(unique)))).scalars()
                    )
                    fresh = [alert for alert_id, alert in unique.items() if alert_id not in known]
                    if fresh:
                        conn.execute(insert(alerts), [_row(alert, now) for alert in fresh])
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            for alert in fresh:
                log.info("event=alert-raised id=%s kind=%s", alert.id, alert.kind.value)
            return len(fresh)
        return 0  # pragma: no cover - the loop returns or raises

    def active(self, limit: int = 50) -> list[StoredAlert]:
        """Alerts nobody has acknowledged, the gravest kind first (:data:`dashboard.alerts.SEVERITY`),
        within a kind the most recently raised first."""
        rank = case({kind.value: index for index, kind in enumerate(SEVERITY)}, value=alerts.c.kind, else_=99)
        query = (
            select(alerts)
            .where(alerts.c.acked_at.is_(None))
            .order_by(rank, alerts.c.raised_at.desc(), alerts.c.at.desc(), alerts.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def active_count(self) -> int:
        """How many alerts wait for an acknowledgement."""
        query = select(func.count()).select_from(alerts).where(alerts.c.acked_at.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def active_ids(self, prefix: str) -> list[str]:
        """The ids of the unacknowledged alerts whose id starts with ``prefix`` (e.g. ``ticket:``)."""
        query = select(alerts.c.id).where(alerts.c.acked_at.is_(None), alerts.c.id.startswith(prefix))
        with self.engine.connect() as conn:
            return [str(alert_id) for alert_id in conn.execute(query).scalars()]

    def resolve(self, alert_ids: Sequence[str], now: datetime) -> int:
        """Settle alerts whose condition is gone (a ticket signed, answered, closed); returns how many.

        They leave the active list for everyone and show among the acknowledged as settled by the
        system, so nobody is asked to confirm what is no longer true.
        """
        if not alert_ids:
            return 0
        with self.engine.begin() as conn:
            done = conn.execute(
                update(alerts)
                .where(alerts.c.id.in_(list(alert_ids)), alerts.c.acked_at.is_(None))
                .values(acked_by=SYSTEM, acked_by_name=RESOLVED_BY, acked_at=_utc(now))
            )
        for alert_id in alert_ids:
            log.info("event=alert-resolved id=%s", alert_id)
        return int(done.rowcount or 0)

    def last_settled(self, prefix: str) -> datetime | None:
        """When the latest alert whose id starts with ``prefix`` was acknowledged (or settled), if ever."""
        query = select(func.max(alerts.c.acked_at)).where(alerts.c.id.startswith(prefix))
        with self.engine.connect() as conn:
            moment = conn.execute(query).scalar_one()
        return None if moment is None else _aware(moment)

    def to_notify(self, prefix: str) -> list[StoredAlert]:
        """Active alerts whose id starts with ``prefix`` that were never sent out, oldest first."""
        query = (
            select(alerts)
            .where(
                alerts.c.acked_at.is_(None), alerts.c.notified_at.is_(None), alerts.c.id.startswith(prefix)
            )
            .order_by(alerts.c.raised_at, alerts.c.id)
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def claim_notification(self, alert_id: str, now: datetime) -> bool:
        """Mark an alert as sent before sending it; False when someone claimed it first (then don't send)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.notified_at.is_(None))
                .values(notified_at=_utc(now))
            )
        return bool(done.rowcount == 1)

    def acknowledged(self, limit: int = 20) -> list[StoredAlert]:
        """The latest acknowledged alerts, the most recent acknowledgement first."""
        query = (
            select(alerts)
            .where(alerts.c.acked_at.is_not(None))
            .order_by(alerts.c.acked_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def acknowledge(self, alert_id: str, user: User, now: datetime) -> bool:
        """Acknowledge an alert for everyone; False when it was already acknowledged (or unknown)."""
        if not may_act(user.role):
            raise AcknowledgeRefused(f"{user.role.label}无权确认提醒")
        with self.engine.begin() as conn:
            done = conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.acked_at.is_(None))
                .values(acked_by=user.username, acked_by_name=user.display_name, acked_at=_utc(now))
            )
        if done.rowcount == 1:
            log.info("event=alert-acknowledged id=%s username=%s", alert_id, user.username)
        return bool(done.rowcount == 1)


def _row(alert: Alert, now: datetime) -> dict[str, object]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "title": alert.title,
        "detail": alert.detail,
        "at": _utc(alert.at),
        "raised_at": _utc(now),
    }


def _stored(row: Row[Any]) -> StoredAlert:
    r = row._mapping
    alert = Alert(r["id"], AlertKind(r["kind"]), r["title"], r["detail"], _aware(r["at"]))
    acked_at, notified_at = r["acked_at"], r["notified_at"]
    return StoredAlert(
        alert,
        _aware(r["raised_at"]),
        r["acked_by_name"] or r["acked_by"],
        None if acked_at is None else _aware(acked_at),
        None if notified_at is None else _aware(notified_at),
    )


def _utc(moment: datetime) -> datetime:
    # SQLite drops offsets: store and compare in UTC everywhere (as dashboard.accounts does).
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
