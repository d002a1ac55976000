"""The stages of the pipeline: the stream's worker bound to the classifiers, the archive and the ledger.

- classify: posts.raw → :class:`classifiers.enrich.Enricher` → posts.enriched
- index: posts.enriched → the archive (bulk, idempotent by post id)
- ledger: posts.enriched → the response ledger's intake rules (tickets, idempotent by post id)

Each stage pairs a pure parse from :mod:`stream.decode` (the worker's decode edge, where a record is
validated) with a sink; :mod:`yuqing.wiring` builds them from settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from core.china_time import CHINA_TZ
from core.messages import EnrichedPost, RawPost, encode
from stream.broker import Producer
from stream.decode import parse_enriched, parse_raw
from stream.errors import PartialFailure, TransientError
from stream.worker import Stage

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from archive.base import Archive
    from classifiers.enrich import Enricher
    from response_ledger.policy import Policy


def classify_stage(enricher: Enricher, producer: Producer, *, source: str, target: str) -> Stage[RawPost]:
    """raw → enriched: classify the batch, produce it and wait for the broker's acknowledgement."""

    def sink(posts: Sequence[RawPost]) -> None:
        for post in enricher.enrich_many(posts):
            producer.send(target, post["id"], encode(post))
        producer.flush()

    return Stage(name="classify", group="yuqing-classify", topic=source, parse=parse_raw, sink=sink)


def index_stage(archive: Archive, *, source: str) -> Stage[EnrichedPost]:
    """enriched → archive: one bulk write per batch; an unreachable archive is transient.

    The archive is the idempotent sink: it stores a post under its id, so a redelivered batch, or a
    post seen twice in one batch (a re-crawl), leaves its latest version once (the archive port's
    contract); the stage does not deduplicate a second time.
    """
    from archive.errors import ArchiveUnavailable, DocumentRejected

    def sink(posts: Sequence[EnrichedPost]) -> None:
        try:
            try:
                archive.index(posts)
            except DocumentRejected as exc:
                # Store the rest (idempotent by id), then hand the refused posts to the dead-letter topic.
                rest = [post for post in posts if post["id"] not in exc.rejected]
                if rest:
                    archive.index(rest)
                raise PartialFailure(exc.rejected) from exc
        except ArchiveUnavailable as exc:
            raise TransientError(f"archive unavailable: {exc}", retry_after=2.0) from exc

    return Stage(name="index", group="yuqing-index", topic=source, parse=parse_enriched, sink=sink)


def ledger_stage(engine: Engine, *, source: str, policy: Policy | None = None) -> Stage[EnrichedPost]:
    """enriched → ledger: the intake rules open or merge tickets; replays are recognised by post id.

    A database that is down, or a staff edit racing the intake on the same ticket, is transient: the
    batch is retried as a whole (the intake skips posts it has already ticketed).
    """
    from sqlalchemy.exc import OperationalError

    from response_ledger.errors import ConcurrencyConflict
    from response_ledger.intake import open_tickets
    from response_ledger.unit_of_work import SqlUnitOfWork

    def sink(posts: Sequence[EnrichedPost]) -> None:
        try:
            with SqlUnitOfWork(engine) as uow:
                open_tickets(uow, posts, datetime.now(CHINA_TZ), policy=policy)
        except ConcurrencyConflict as exc:
            raise TransientError(f"ticket changed meanwhile: {exc}", retry_after=0.2) from exc
        except OperationalError as exc:
            raise TransientError(f"ledger database unavailable: {exc}", retry_after=2.0) from exc

    return Stage(name="ledger", group="yuqing-ledger", topic=source, parse=parse_enriched, sink=sink)
