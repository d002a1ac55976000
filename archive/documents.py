"""What both archives take from a post: checked once here, so both index exactly the same facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from archive.base import FILTER_FIELDS
from archive.errors import DocumentRejected
from archive.tokens import tokenize
from core.china_time import CHINA_TZ, parse_time
from core.errors import MessageError
from core.messages import EnrichedPost

# Fields of a post that are JSON objects when present; anything else there would be refused by
# Elasticsearch's mapping, so both archives refuse it up front.
OBJECT_FIELDS = ("author", "metrics", "reply", "hotline", "raw", "sentiment", "topic", "risk", "models")


@dataclass(frozen=True)
class Indexed:
    """A post with the fields the archive filters, sorts and searches on, extracted and checked."""

    post: EnrichedPost
    post_id: str
    published: datetime  # in China time
    filters: dict[str, str | None]  # FILTER_FIELDS name -> value
    risk: int
    title_tokens: list[str]
    text_tokens: list[str]

    @property
    def published_ms(self) -> int:
        """``published_at`` as Unix epoch milliseconds (Elasticsearch's resolution for ``date``)."""
        return epoch_ms(self.published)

    @property
    def month(self) -> str:
        """``YYYY.MM`` of ``published_at`` in China time: the monthly index the post belongs to."""
        return self.published.strftime("%Y.%m")


def to_china(moment: datetime) -> datetime:
    """``moment`` in China time; a naive datetime is taken to be China time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CHINA_TZ)
    return moment.astimezone(CHINA_TZ)


def epoch_ms(moment: datetime) -> int:
    """Unix epoch milliseconds of ``moment`` (naive means China time), rounded down."""
    china = to_china(moment)
    return int(china.timestamp()) * 1000 + china.microsecond // 1000


def lookup(post: Mapping[str, Any], path: str) -> object:
    """The value at a dotted ``path`` of a post, or None where any step is missing."""
    value: object = post
    for step in path.split("."):
        # dict first: the ABC check costs ~10x more and posts are plain dicts from JSON.
        if not isinstance(value, dict) and not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _text(post: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = post.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{name} must be {'non-empty ' if required else ''}text, got {value!r}")
    return value


def _canonical_time(value: object) -> object:
    # Elasticsearch reads a time without an offset as UTC and refuses a space for the "T"; the
    # message schema means China time. Written back as Python's ISO form with its offset, the
    # moment is the same in both archives and in what they return.
    if not isinstance(value, str):
        return value
    try:
        return parse_time(value).isoformat()
    except MessageError:
        return value  # fetched_at only: published_at was checked before


def extract(post: EnrichedPost) -> Indexed:
    """Check one post and extract its indexed fields; raise ValueError with the reason.

    ``published_at`` and ``fetched_at`` of the stored copy are canonical ISO 8601 with an offset
    (a naive time gets ``+08:00``); every other field is stored as given.
    """
    post_id = _text(post, "id", required=True)
    for name in ("source", "channel"):
        _text(post, name, required=True)
    try:
        published = to_china(parse_time(post.get("published_at"), field="published_at"))
    except MessageError as exc:
        raise ValueError(str(exc)) from exc
    for name in OBJECT_FIELDS:
        value = post.get(name)
        if value is not None and not isinstance(value, dict) and not isinstance(value, Mapping):
            raise ValueError(f"{name} must be an object, got {value!r}")
    filters: dict[str, str | None] = {}
    for name, path in FILTER_FIELDS.items():
        value = lookup(post, path)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{path} must be text, got {value!r}")
        filters[name] = value
    risk = lookup(post, "risk.score")
    # bool is an int subclass; a True risk is a bug upstream, not a score of 1.
    if not isinstance(risk, int) or isinstance(risk, bool) or not 0 <= risk <= 100:
        raise ValueError(f"risk.score must be a whole number 0-100, got {risk!r}")
    times = {name: _canonical_time(post.get(name)) for name in ("published_at", "fetched_at") if name in post}
    stored = cast(EnrichedPost, {**post, **times})
    return Indexed(
        post=stored,
        post_id=post_id,
        published=published,
        filters=filters,
        risk=risk,
        title_tokens=tokenize(_text(post, "title", required=False)),
        text_tokens=tokenize(_text(post, "text", required=False)),
    )


def extract_all(posts: Sequence[EnrichedPost]) -> list[Indexed]:
    """Extract every post, or raise :class:`DocumentRejected` naming each one that fails.

    A batch holding one id twice keeps the last copy, as a sequence of upserts would.
    """
    extracted: dict[str, Indexed] = {}
    rejected: dict[str, str] = {}
    for number, post in enumerate(posts):
        try:
            item = extract(post)
        except ValueError as exc:
            key = post.get("id") if isinstance(post.get("id"), str) else f"#{number} (no id)"
            rejected[str(key)] = str(exc)
            continue
        extracted.pop(item.post_id, None)
        extracted[item.post_id] = item
    if rejected:
        raise DocumentRejected(rejected)
    return list(extracted.values())
