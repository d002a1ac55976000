"""The Elasticsearch index template of the archive: one mapping for every field of an enriched post.

Text is searched through ``title_tokens``/``text_tokens``: the jieba tokens of
:func:`archive.tokens.tokenize`, joined by spaces and split again by the ``whitespace`` analyzer,
so Elasticsearch matches exactly the words the embedded archive matches (no smartcn or IK plugin
needed). The original ``title``/``text`` (and the reply text) are analysed with the built-in ``cjk``
analyzer, CJK character bigrams, for recall where jieba's segmentation misses a word (phrases, new
names). The token fields are indexed but left out of ``_source``: they are derived, and the stored
post stays exactly what was indexed.
"""

from __future__ import annotations

from typing import Any

TEMPLATE_VERSION = 2
TOKEN_FIELDS = ("title_tokens", "text_tokens")

_KEYWORD: dict[str, Any] = {"type": "keyword"}
_BIGRAM_TEXT: dict[str, Any] = {"type": "text", "analyzer": "cjk"}
_TOKENS: dict[str, Any] = {"type": "text", "analyzer": "whitespace"}
_LONG: dict[str, Any] = {"type": "long"}
_FLOAT: dict[str, Any] = {"type": "float"}
_DATE: dict[str, Any] = {"type": "date"}
# Stored in _source, never indexed: source-specific leftovers and free-form maps would otherwise add
# a mapping field per key they ever carry.
_STORED_ONLY: dict[str, Any] = {"type": "object", "enabled": False}

PROPERTIES: dict[str, Any] = {
    "schema": {"type": "integer"},
    "id": _KEYWORD,
    "source": _KEYWORD,
    "channel": _KEYWORD,
    "url": {"type": "keyword", "ignore_above": 2048},
    "title": _BIGRAM_TEXT,
    "text": _BIGRAM_TEXT,
    "title_tokens": _TOKENS,
    "text_tokens": _TOKENS,
    "author": {
        "properties": {
            "id_hash": _KEYWORD,
            "name": _KEYWORD,
            "followers": _LONG,
            "verified": {"type": "boolean"},
        }
    },
    # The archive checks published_at itself; a malformed one must never be silently dropped.
    "published_at": {"type": "date", "ignore_malformed": False},
    "fetched_at": _DATE,
    "region": _KEYWORD,
    "metrics": {
        "properties": {
            name: _LONG for name in ("reposts", "comments", "likes", "views", "votes_up", "votes_down")
        }
    },
    "reply": {
        "properties": {"status": _KEYWORD, "replied_at": _DATE, "unit": _KEYWORD, "text": _BIGRAM_TEXT}
    },
    "hotline": {
        "properties": {
            "order_no": _KEYWORD,
            "appeal_type": _KEYWORD,
            # A masked phone number: kept for display, never searched.
            "caller": {"type": "keyword", "index": False, "doc_values": False},
            "unit": _KEYWORD,
            "status": _KEYWORD,
        }
    },
    "raw": _STORED_ONLY,
    "sentiment": {"properties": {"label": _KEYWORD, "score": _FLOAT}},
    "topic": {
        "properties": {"label": _KEYWORD, "score": _FLOAT, "in_remit": {"type": "boolean"}, "unit": _KEYWORD}
    },
    "appeal_type": _KEYWORD,
    "risk": {"properties": {"score": {"type": "integer", "ignore_malformed": False}, "reasons": _KEYWORD}},
    "event_id": _KEYWORD,
    "models": _STORED_ONLY,
}


def index_template(
    alias: str, *, shards: int = 1, replicas: int | None = 1, lifecycle: str | None = None
) -> dict[str, Any]:
    """Keyword arguments of ``indices.put_index_template`` for the monthly indices ``<alias>-YYYY.MM``.

    The archive adds each month to the read alias ``alias`` itself when it creates the month, not
    through the template: a reindex creates its copies from this template and keeps them out of
    the alias until they are complete (see :mod:`archive.elastic_reindex`). One shard per month
    is plenty for the volumes of one department (a shard holds tens of millions of posts).
    ``replicas`` None is "auto" (none on one node, one with two or more: see
    :func:`archive.elastic_cluster.replica_settings`); ``lifecycle`` names the ILM policy that
    deletes a month once it is past retention.
    """
    from archive.elastic_cluster import replica_settings

    lifecycle_settings = {} if lifecycle is None else {"index.lifecycle.name": lifecycle}
    return {
        # Only names that continue with a year: Elasticsearch refuses two templates of one priority
        # whose patterns overlap, and "<alias>-*" would overlap another archive's "<alias>-test-*".
        "index_patterns": [f"{alias}-2*"],
        "priority": 100,
        "meta": {"owner": "yuqing archive", "version": TEMPLATE_VERSION},
        "template": {
            "settings": {
                "number_of_shards": shards,
                **replica_settings(replicas),
                **lifecycle_settings,
                # A crawler's odd metric or timestamp (say "1.2万" views) must not cost us the post:
                # the bad value is left unindexed and the post is stored. Fields the archive
                # filters on are checked before indexing and opt out above.
                "index.mapping.ignore_malformed": True,
            },
            "mappings": {
                # Fields outside this mapping stay in _source but are not indexed: a new field in
                # the message schema never changes the index by accident.
                "dynamic": False,
                "_source": {"excludes": list(TOKEN_FIELDS)},
                "properties": PROPERTIES,
            },
        },
    }
