"""What the Elasticsearch archive and its reindex share: error translation, hits, bulk failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import elastic_transport
from elasticsearch import ApiError

from archive import mappings
from archive.errors import ArchiveError, ArchiveUnavailable, DocumentRejected, QueryError, QueryTimeout
from core.messages import EnrichedPost

# Reads name the alias, which does not exist until the first month is created: an empty archive
# answers with no hits rather than index_not_found.
READ_OPTIONS: dict[str, Any] = {"ignore_unavailable": True, "allow_no_indices": True}


def transient(status: int) -> bool:
    """Whether an HTTP status is worth retrying (429 and 5xx)."""
    return status == 429 or status >= 500


@contextmanager
def translated(doing: str, *, reading_query: bool = False, budget_s: float | None = None) -> Iterator[None]:
    """Turn client errors into the archive's: no connection, 429 and 5xx are worth retrying.

    With ``reading_query``, a 400 means Elasticsearch could not run the query: a ``QueryError``.
    With ``budget_s``, a request that timed out ran past the query's time budget: ``QueryTimeout``.
    """
    try:
        yield
    except elastic_transport.ConnectionTimeout as exc:
        if budget_s is not None:
            raise QueryTimeout(budget_s) from exc
        raise ArchiveUnavailable(f"Elasticsearch unreachable while trying to {doing}: {exc}") from exc
    except elastic_transport.ConnectionError as exc:
        raise ArchiveUnavailable(f"Elasticsearch unreachable while trying to {doing}: {exc}") from exc
    except ApiError as exc:
        if transient(exc.meta.status):
            raise ArchiveUnavailable(
                f"Elasticsearch busy or failing ({exc.meta.status}) on {doing}: {exc}"
            ) from exc
        if exc.meta.status == 400 and reading_query:
            raise QueryError(f"Elasticsearch refused the search: {exc.message}") from exc
        raise ArchiveError(f"Elasticsearch refused to {doing}: {exc}") from exc
    except elastic_transport.TransportError as exc:
        raise ArchiveError(f"Elasticsearch failed to {doing}: {exc}") from exc


def hit_post(hit: dict[str, Any]) -> EnrichedPost:
    """The post of a search hit, without the derived token fields."""
    source = dict(hit["_source"])
    # Real Elasticsearch leaves the token fields out of _source (the mapping excludes them);
    # noida-db returns them, so drop them here too.
    for name in mappings.TOKEN_FIELDS:
        source.pop(name, None)
    return cast(EnrichedPost, source)


def raise_for_bulk(errors: list[dict[str, Any]]) -> None:
    """Raise ``ArchiveUnavailable`` if a failed bulk item may pass later, else ``DocumentRejected``."""
    rejected: dict[str, str] = {}
    later: list[str] = []
    for error in errors:
        operation, item = next(iter(error.items()))
        status = int(item.get("status", 500))
        if operation == "delete" and status == 404:
            continue  # already gone: what the delete wanted
        reason = item.get("error")
        text = reason.get("reason", str(reason)) if isinstance(reason, dict) else str(reason)
        if transient(status):
            later.append(f"{item.get('_id')}: {status} {text}")
        else:
            rejected[str(item.get("_id"))] = f"{status} {text}"
    if later:
        # Retrying the whole batch is safe (ids are stable); a rejected post would fail again
        # and is reported on that retry.
        raise ArchiveUnavailable(f"Elasticsearch refused {len(later)} post(s) for now: {later[0]}")
    if rejected:
        raise DocumentRejected(rejected)
