"""``yuqing health CHECK...``: a container's healthcheck — can this process reach what it needs?

Each check is cheap enough to run every few seconds: the broker and the archive are a TCP connection
to a configured host (embedded ones are files and always pass), the ledger is a ``SELECT 1`` (which
also proves the password), the sources file is read and checked like the crawler reads it, and the
scheduler's heartbeat (``<home>/schedule/heartbeat``, written every minute) must be recent. Exit code
0 when every named check passes, else 1 with one line per failure on stderr.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from yuqing.commands import Subparsers
from yuqing.settings import Settings

TIMEOUT_S = 3.0


class Unhealthy(Exception):
    """A check failed; the message says what could not be reached or read."""


def _connect(host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            pass
    except OSError as exc:
        raise Unhealthy(f"{host}:{port} unreachable: {exc}") from exc


def _broker(settings: Settings) -> None:
    if settings.broker_url == "embedded":
        return
    faults = []
    for address in settings.kafka_bootstrap:
        host, _, port = address.rpartition(":")
        try:
            _connect(host, int(port))
        except Unhealthy as exc:
            faults.append(str(exc))
        else:
            return  # one live bootstrap server is enough for a client to find the cluster
    raise Unhealthy("; ".join(faults))


def _archive(settings: Settings) -> None:
    if settings.archive_url == "embedded":
        return
    url = urlsplit(settings.archive_url)
    if url.hostname is None:
        raise Unhealthy("YUQING_ARCHIVE_URL names no host")
    _connect(url.hostname, url.port or (443 if url.scheme == "https" else 9200))
    _archive_credentials(settings)


def _archive_credentials(settings: Settings) -> None:
    """One request with the archive's credentials and CA: a refused password or certificate fails."""
    import elastic_transport
    from elasticsearch import ApiError, Elasticsearch

    from archive.elastic_cluster import client_kwargs
    from yuqing.backends import elastic_auth

    try:
        with Elasticsearch(
            settings.archive_url,
            request_timeout=TIMEOUT_S,
            max_retries=0,
            **client_kwargs(elastic_auth(settings)),
        ) as client:
            client.indices.exists_alias(name=settings.archive_index)
    except ApiError as exc:
        raise Unhealthy(
            f"Elasticsearch refused the archive's request ({exc.meta.status}): {exc.message}"
        ) from exc
    except elastic_transport.TransportError as exc:
        # The URL may carry the password: name the error's kind, never the URL.
        raise Unhealthy(f"Elasticsearch unreachable: {type(exc).__name__}") from exc


def _ledger(settings: Settings) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from response_ledger.db import make_engine

    engine = make_engine(settings.ledger_sqlalchemy_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        # The URL carries the password: report the driver's first line only, never the URL.
        cause = getattr(exc, "orig", None) or exc  # the driver's error, when there is one
        raise Unhealthy(f"ledger database: {str(cause).splitlines()[0]}") from exc
    finally:
        engine.dispose()


def _sources(settings: Settings) -> None:
    from crawlers.errors import CrawlerError
    from crawlers.schedule import source_schedule

    try:
        if not source_schedule(settings, settings.crawl_every_s):
            raise Unhealthy("the sources file lists no source")
    except CrawlerError as exc:
        raise Unhealthy(str(exc)) from exc


def _scheduler(settings: Settings) -> None:
    from datetime import datetime

    from core.china_time import CHINA_TZ
    from yuqing.scheduler import HEARTBEAT_STALE, heartbeat_age

    age = heartbeat_age(settings.home, datetime.now(CHINA_TZ))
    if age is None:
        raise Unhealthy("no heartbeat yet (is `yuqing schedule` running?)")
    if age > HEARTBEAT_STALE:
        raise Unhealthy(f"last heartbeat {int(age.total_seconds())} s ago")


CHECKS: dict[str, Callable[[Settings], None]] = {
    "broker": _broker,
    "archive": _archive,
    "ledger": _ledger,
    "sources": _sources,
    "scheduler": _scheduler,
}


def _health(settings: Settings, args: argparse.Namespace) -> int:
    failed = 0
    for name in args.checks:
        try:
            CHECKS[name](settings)
        except Unhealthy as exc:
            print(f"unhealthy {name}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def register(sub: Subparsers) -> None:
    """Add ``health``."""
    parser = sub.add_parser(
        "health", help="健康检查（容器用）：能否连上所需的后端、读取采集源配置，定时任务是否在运行"
    )
    parser.add_argument("checks", nargs="+", choices=sorted(CHECKS), help="要检查的项目")
    parser.set_defaults(handler=_health)
