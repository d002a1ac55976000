"""What the dashboard reads and writes through: the adapters the composition root builds and hands in.

``yuqing`` builds one :class:`Services` per process (``yuqing/dashboard_services.py``) and the entry
script passes it to the router, which passes it to every page. The dashboard never builds an
archive, a broker or a database engine itself, and never reads a file path the settings do not name.

Every page gets its archive through :attr:`Services.archive` (one provider), so a reader per
session can be plugged in there later without touching a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from yuqing.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from archive.base import Archive
    from archive.saved import SavedSearches
    from classifiers.taxonomy import Taxonomy
    from crawlers.trial import TrialResult
    from response_ledger.policy import Policy
    from response_ledger.unit_of_work import UnitOfWork

# Cached reads live this long; a page refreshing every 10 s shows a post within about 20 s of its indexing.
TTL = timedelta(seconds=5)


@dataclass(frozen=True, eq=False)
class Services:
    """The dashboard process's adapters, built once by the composition root.

    ``has_archive`` says whether there is an archive to read (the dashboard never creates an
    embedded one by opening it); ``archive`` is the process's archive client. ``ledger`` is the
    ledger database's engine, its schema (the ledger's tables and the dashboard's own) brought to
    the newest revision on first use; it raises ``SQLAlchemyError`` while the database is down.
    ``unit_of_work`` opens a unit of work on it for the ledger's services. ``policy`` is the
    ledger policy and ``taxonomy`` the remit taxonomy, each read again when its file changes
    (系统管理 edits them). ``saved_searches`` is the installation's saved searches. ``backlog`` is the
    messages waiting per stage plus ``dead_letters``, or None when the broker cannot be read.
    ``try_source`` tries a configured source by name without publishing
    (:func:`crawlers.trial.try_source`, with the crawl's secrets from the process's environment).
    """

    settings: Settings
    has_archive: Callable[[], bool]
    archive: Callable[[], Archive]
    ledger: Callable[[], Engine]
    unit_of_work: Callable[[], UnitOfWork]
    policy: Callable[[], Policy]
    saved_searches: SavedSearches
    backlog: Callable[[], Mapping[str, int] | None]
    taxonomy: Callable[[], Taxonomy]
    try_source: Callable[[str], TrialResult]


def _cache_key(services: Services) -> Settings:
    # One Services per settings in a process: its settings stand for it in every cache key.
    return services.settings


HASH_FUNCS: dict[type[Any] | str, Callable[[Any], Any]] = {Services: _cache_key}
"""``hash_funcs`` for ``st.cache_data``/``st.cache_resource`` functions that take the services."""
