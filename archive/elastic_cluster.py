"""How the Elasticsearch archive meets a real cluster: credentials, TLS, replicas and retention.

- **Credentials**: a user and password (``basic_auth``) or an API key (``api_key``); a user and
  password inside the URL keep working (the client turns them into the same header).
- **TLS**: an ``https://`` URL is checked against ``ca_file`` (``ca_certs``), or the system's CAs.
- **Replicas**: ``None`` is "auto" (``auto_expand_replicas: 0-1``): no replica on a one-node cluster,
  which could never place one and would stay yellow, and one as soon as a second data node joins.
- **Retention**: a month's index ``<alias>-YYYY.MM`` is deleted on the first day (China time) of the
  month ``retention_months + 1`` after it, so 12 keeps the twelve months before the current one
  whole. Where the cluster has index lifecycle management (ILM), a policy with a delete phase does it
  (attached by the index template); each month's index carries an origination date placed so that
  the policy's age in days falls due exactly on that first day. The scheduler's daily retention job
  (:func:`expired_months`) deletes the same months itself, so retention holds where ILM is missing
  (noida-db), refused (a user without ``manage_ilm``) or skipped (copies made by a reindex).
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from core.china_time import CHINA_TZ

log = logging.getLogger(__name__)

# ILM counts an index's age in days; a month is at most 31 of them.
_DAYS_PER_MONTH = 31


@dataclass(frozen=True)
class ElasticAuth:
    """Credentials and the CA of a cluster. Secrets never show in a repr."""

    username: str = ""
    password: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    ca_file: str | None = None


def client_kwargs(auth: ElasticAuth | None) -> dict[str, Any]:
    """The keyword arguments of ``Elasticsearch(...)`` for ``auth`` (none: what the URL says)."""
    if auth is None:
        return {}
    if auth.api_key and auth.username:
        raise ValueError("use either an API key or a username and password")
    kwargs: dict[str, Any] = {}
    if auth.api_key:
        kwargs["api_key"] = auth.api_key
    elif auth.username:
        # Encoded here as UTF-8: the client would encode a (user, password) pair as ASCII and fail
        # on any other character; Elasticsearch reads the header as UTF-8.
        kwargs["basic_auth"] = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
    if auth.ca_file:
        kwargs["ca_certs"] = auth.ca_file
    return kwargs


def replica_settings(replicas: int | None) -> dict[str, Any]:
    """Index settings for ``replicas`` copies of each shard (None: auto, 0 on one node, else 1)."""
    if replicas is None:
        return {"number_of_replicas": 0, "auto_expand_replicas": "0-1"}
    if replicas < 0:
        raise ValueError("replicas must be >= 0")
    return {"number_of_replicas": replicas, "auto_expand_replicas": "false"}


def policy_name(alias: str) -> str:
    """The ILM policy of the archive behind ``alias``."""
    return f"{alias}-retention"


def lifecycle_policy(months: int) -> dict[str, Any]:
    """The ``policy`` of ``ilm.put_lifecycle``: delete an index ``31 × months`` days after its origin."""
    return {
        "_meta": {"owner": "yuqing archive", "retention_months": months},
        "phases": {
            "hot": {"min_age": "0ms", "actions": {}},
            "delete": {"min_age": f"{_DAYS_PER_MONTH * months}d", "actions": {"delete": {}}},
        },
    }


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=CHINA_TZ)


def expiry(month: str, months: int) -> datetime:
    """When the index of ``month`` (``YYYY.MM``) is deleted: the first day of month + ``months`` + 1."""
    year, number = (int(part) for part in month.split("."))
    return _month_start(year, number + months + 1)


def origination_ms(month: str, months: int) -> int:
    """``index.lifecycle.origination_date`` of ``month``'s index: its expiry less the policy's min_age."""
    moment = expiry(month, months) - timedelta(days=_DAYS_PER_MONTH * months)
    return int(moment.timestamp() * 1000)


def expired_months(months: list[str], retention_months: int, now: datetime) -> list[str]:
    """The ``YYYY.MM`` of ``months`` whose expiry has come at ``now`` (none when retention is 0)."""
    if retention_months <= 0:
        return []
    return sorted(month for month in months if expiry(month, retention_months) <= now)


def install_policy(client: Elasticsearch, alias: str, months: int) -> bool:
    """Create or update the archive's ILM policy; False (logged) where the cluster offers no ILM.

    noida-db has no ``_ilm`` endpoints (400, "no handler found"); a user without the ``manage_ilm``
    privilege is refused (403). Either way the scheduler's retention job deletes expired months.
    """
    try:
        client.ilm.put_lifecycle(name=policy_name(alias), policy=lifecycle_policy(months))
    except ApiError as exc:
        missing = exc.meta.status == 400 and "no handler found" in str(exc.message)
        if missing or exc.meta.status in (403, 404, 405, 501):
            log.warning(
                "event=ilm-unavailable alias=%s status=%d reason=%s "
                "(expired months are deleted by the scheduler's archive-retention job)",
                alias,
                exc.meta.status,
                exc.message,
            )
            return False
        raise
    return True
