"""The dashboard process's adapters, built here and handed to the dashboard as its ``Services``.

The archive (``yuqing.backends``), the broker's backlog (``yuqing.status``), the saved searches,
the ledger's engine and units of work, the ledger policy: one of each per process and settings,
each made on first use, so that a page that needs only the archive works while the ledger's
database is down (and the other way round). The ledger's schema — its tables and the dashboard's —
is brought to the newest revision the first time the database is reached, and again at the next
use if that failed.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dashboard.services import Services
from yuqing.backends import archive_exists, make_archive, make_saved_searches
from yuqing.settings import PREFIX, Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from crawlers.trial import TrialResult
    from response_ledger.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")


def _once(make: Callable[[], T]) -> Callable[[], T]:
    """``make``'s value, made at the first call that succeeds and kept (a failure is tried again)."""
    made: list[T] = []
    lock = threading.Lock()

    def get() -> T:
        if not made:
            with lock:
                if not made:
                    made.append(make())
        return made[0]

    return get


def _migrated_ledger(settings: Settings) -> Callable[[], Engine]:
    from response_ledger.db import make_engine, migrate

    engine = make_engine(settings.ledger_sqlalchemy_url)  # connects only when first used

    def migrated() -> Engine:
        migrate(engine)
        return engine

    return _once(migrated)


def _backlog(settings: Settings) -> Mapping[str, int] | None:
    from stream.errors import StreamError
    from yuqing.status import backlog

    try:
        return backlog(settings)
    except (StreamError, OSError):  # a broker that cannot be read shows no backlog line, never a traceback
        log.debug("event=backlog-unreadable", exc_info=True)
        return None


def _current(load: Callable[[Path | None], T], path: Callable[[], Path | None]) -> Callable[[], T]:
    """``load(path())``, read again whenever the file in use (or its size or time) changes: 系统管理
    edits the policy and the taxonomy, and the page shows the edit at once. A failed read is not
    kept (it raises again at the next call, as the file may be fixed meanwhile)."""
    kept: dict[tuple[object, ...], T] = {}
    lock = threading.Lock()

    def get() -> T:
        where = path()
        try:
            stat = where.stat() if where is not None else None
        except OSError:
            stat = None
        key = (where, stat.st_mtime_ns if stat else None, stat.st_size if stat else None)
        with lock:
            if key not in kept:
                value = load(where)
                kept.clear()
                kept[key] = value
            return kept[key]

    return get


def _try_source(settings: Settings, name: str) -> TrialResult:
    """Try a source for 系统管理 with the crawl's secrets (read from this process's environment here,
    in the composition root; the dashboard never reads the environment)."""
    from crawlers.settings import secrets_from
    from crawlers.trial import try_source

    return try_source(settings, name, pages=1, limit=20, secrets=secrets_from(os.environ), timeout_s=180)


def build_services(settings: Settings) -> Services:
    """A new set of the dashboard's adapters for ``settings`` (see :func:`services_for` to share one)."""
    from classifiers.taxonomy import load_taxonomy
    from response_ledger.policy import load_policy
    from response_ledger.unit_of_work import SqlUnitOfWork

    ledger = _migrated_ledger(settings)

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(ledger())

    return Services(
        settings=settings,
        has_archive=functools.partial(archive_exists, settings),
        archive=_once(functools.partial(make_archive, settings)),
        ledger=ledger,
        unit_of_work=unit_of_work,
        policy=_current(load_policy, lambda: settings.ledger_policy_path),
        saved_searches=make_saved_searches(settings),
        backlog=functools.partial(_backlog, settings),
        taxonomy=_current(load_taxonomy, lambda: settings.taxonomy_path),
        try_source=functools.partial(_try_source, settings),
    )


@functools.cache
def services_for(settings: Settings) -> Services:
    """The process's one set of adapters for ``settings`` (the dashboard and its tests share it)."""
    return build_services(settings)


def services_from_env(environ: Mapping[str, str]) -> Services:
    """The services of the ``YUQING_*`` variables in ``environ``; raises ``SettingsError`` for bad ones.

    Keyed by the variables themselves, so a process whose environment changes (tests do this)
    never reads a stale object.
    """
    return _services_of_env(tuple(sorted((k, v) for k, v in environ.items() if k.startswith(PREFIX))))


@functools.cache
def _services_of_env(environ: tuple[tuple[str, str], ...]) -> Services:
    return services_for(Settings.from_env(dict(environ)))
