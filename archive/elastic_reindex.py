"""Reindexing the Elasticsearch archive with no gap for readers: copy, then swap the alias.

After a mapping change (a new :data:`archive.mappings.TEMPLATE_VERSION`) or a change of the jieba
dictionary, every month is copied into a new index ``<alias>-YYYY.MM-r<stamp>`` created from the
current template. Each post is read back from ``_source`` and tokenised again, so new tokens are
computed rather than copied. When a month's copy is complete and refreshed, one
``_aliases`` request adds the copy to the read alias and removes the old index: Elasticsearch
applies both actions atomically, so a search sees either the old month or the new one, never
neither and never both. The old index is then deleted.

Writes that land in an old month index while it is being copied are lost with it: stop the index
worker during a reindex (its offsets are not committed, so it resumes where it stopped).
"""

from __future__ import annotations

import time
from typing import Any

from elasticsearch import Elasticsearch, helpers

from archive import mappings
from archive.documents import extract_all
from archive.errors import DocumentRejected
from core.messages import EnrichedPost


def _read(client: Elasticsearch, index: str, batch: int) -> list[list[EnrichedPost]]:
    """Every post of ``index`` in pages, through a point in time (a snapshot of the index)."""
    pages: list[list[EnrichedPost]] = []
    pit = client.open_point_in_time(index=index, keep_alive="2m")["id"]
    try:
        search_after: list[Any] | None = None
        while True:
            extra: dict[str, Any] = {} if search_after is None else {"search_after": search_after}
            response = client.search(
                pit={"id": pit, "keep_alive": "2m"}, sort=[{"id": "asc"}], size=batch, **extra
            )
            pit = response.get("pit_id", pit)
            hits = response["hits"]["hits"]
            posts = []
            for hit in hits:
                source = dict(hit["_source"])
                for name in mappings.TOKEN_FIELDS:
                    source.pop(name, None)
                posts.append(source)
            if posts:
                pages.append(posts)  # type: ignore[arg-type]
            if len(hits) < batch:
                return pages
            search_after = hits[-1]["sort"]
    finally:
        client.close_point_in_time(id=pit)


def _copy(client: Elasticsearch, old: str, new: str, batch: int) -> int:
    copied = 0
    for posts in _read(client, old, batch):
        items = extract_all(posts)
        actions = []
        for item in items:
            document = dict(item.post)
            document["title_tokens"] = " ".join(item.title_tokens)
            document["text_tokens"] = " ".join(item.text_tokens)
            actions.append({"_op_type": "index", "_index": new, "_id": item.post_id, "_source": document})
        _, errors = helpers.bulk(client, actions, raise_on_error=False, chunk_size=500)
        if errors:
            rejected = {str(next(iter(e.values())).get("_id")): str(e) for e in errors}  # type: ignore[union-attr]
            raise DocumentRejected(rejected)
        copied += len(items)
    return copied


def reindex(
    client: Elasticsearch,
    alias: str,
    months: dict[str, str],
    *,
    batch: int = 1000,
) -> int:
    """Copy each month of ``months`` (YYYY.MM -> index) to a new index and swap it into ``alias``.

    ``months`` is updated to the new names as each swap completes. Returns the posts copied.
    """
    stamp = time.strftime("%Y%m%d%H%M%S")
    behind = set(client.indices.get_alias(name=alias)) if client.indices.exists_alias(name=alias) else set()
    total = 0
    for month in sorted(months):
        olds = sorted(name for name in behind if name[len(alias) + 1 : len(alias) + 8] == month)
        new = f"{alias}-{month}-r{stamp}"
        client.indices.create(index=new)  # the template's settings and mapping, not yet in the alias
        for old in olds:
            total += _copy(client, old, new, batch)
        client.indices.refresh(index=new)
        actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": alias}}]
        actions.extend({"remove": {"index": old, "alias": alias}} for old in olds)
        client.indices.update_aliases(actions=actions)  # atomic: no moment without the month
        months[month] = new
        for old in olds:
            client.indices.delete(index=old)
    return total
