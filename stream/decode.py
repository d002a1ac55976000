"""The worker's decode edge: a record off posts.raw or posts.enriched as a post, or a :class:`MessageError`.

Validation happens at the edges where posts enter the stream (a crawl's publish, a file import) and
here, where a worker takes them off a topic; nowhere in between. posts.raw may hold anything a
producer ever wrote (an older crawler, a replayed dead letter), so :func:`parse_raw` checks the whole
contract. posts.enriched is written by the classify worker alone, from posts :func:`parse_raw`
accepted, so :func:`parse_enriched` checks only what a reader relies on beyond that: the envelope
(schema, an id equal to the key, which the index sink's refusals are matched by) and the fields
classify adds. These parse functions are pure: the worker dead-letters whatever they refuse.
"""

from __future__ import annotations

from typing import Any, cast

from core.errors import MessageError
from core.messages import SCHEMA_VERSION, EnrichedPost, RawPost, decode, validate_raw
from stream.broker import Record

ENRICHED_FIELDS = ("sentiment", "topic", "risk", "event_id", "models")


def parse_raw(record: Record) -> RawPost:
    """A posts.raw record as a valid raw post (the whole contract checked), or :class:`MessageError`."""
    post = validate_raw(decode(record.value))
    _check_key(record, post)
    return post


def parse_enriched(record: Record) -> EnrichedPost:
    """A posts.enriched record as an enriched post, or :class:`MessageError`.

    The raw part was validated when the classify worker read it off posts.raw; it is not checked again.
    """
    post = decode(record.value)
    schema = post.get("schema")
    if schema != SCHEMA_VERSION:
        raise MessageError(f"unsupported schema version {schema!r}", field="schema")
    if not isinstance(post.get("id"), str) or not post["id"].strip():
        raise MessageError("missing or not text", field="id")
    _check_key(record, post)
    missing = [name for name in ENRICHED_FIELDS if name not in post]
    if missing:
        raise MessageError(f"not enriched: missing {', '.join(missing)}")
    return cast(EnrichedPost, post)


def _check_key(record: Record, post: RawPost | dict[str, Any]) -> None:
    if record.key is not None and record.key != post["id"]:
        raise MessageError(f"key {record.key!r} differs from id {post['id']!r}", field="id")
