"""The messages on every topic, defined once: posts.raw, posts.enriched and posts.dlq.

Values are UTF-8 JSON objects carrying ``schema``; keys are the post id. A version bump is a
documented migration in ``docs/architecture.md``.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

from core.china_time import parse_time
from core.errors import MessageError

SCHEMA_VERSION = 1
SOURCES = ("hotline", "board", "weibo", "news")
Source = Literal["hotline", "board", "weibo", "news"]


class Author(TypedDict, total=False):
    """Who wrote a post; ``id_hash`` is a salted hash, never the raw account or phone number."""

    id_hash: str
    name: str
    followers: int
    verified: bool


class Metrics(TypedDict, total=False):
    """Engagement counters as the source reports them."""

    reposts: int
    comments: int
    likes: int
    views: int
    votes_up: int
    votes_down: int


class Reply(TypedDict, total=False):
    """The department's reply on a board or hotline item."""

    status: str  # "replied" | "pending"
    replied_at: str | None
    unit: str | None
    text: str | None


class Hotline(TypedDict, total=False):
    """12345 work-order fields."""

    order_no: str
    appeal_type: str
    caller: str
    unit: str
    status: str


class RawPost(TypedDict):
    """A post as crawled: the value of posts.raw."""

    schema: int
    id: str
    source: Source
    channel: str
    url: str
    title: str
    text: str
    published_at: str
    fetched_at: str
    author: NotRequired[Author]
    region: NotRequired[str | None]
    metrics: NotRequired[Metrics]
    reply: NotRequired[Reply]
    hotline: NotRequired[Hotline]
    raw: NotRequired[dict[str, Any]]


class Label(TypedDict):
    """A classifier's answer with its score in [0, 1]."""

    label: str
    score: float


class TopicLabel(Label):
    """A remit topic with whether it is in the department's remit and the responsible unit."""

    in_remit: bool
    unit: str | None


class Risk(TypedDict):
    """Risk 0–100 with the reasons that produced it."""

    score: int
    reasons: list[str]


class EnrichedPost(RawPost):
    """A classified post: the value of posts.enriched and the archive's document."""

    sentiment: Label
    topic: TopicLabel
    appeal_type: str | None
    risk: Risk
    event_id: str
    models: dict[str, str]


class DeadLetter(TypedDict):
    """What lands on posts.dlq: the stage, the reason and the original bytes (as text)."""

    schema: int
    stage: str
    error: str
    topic: str
    partition: int
    offset: int
    key: str | None
    payload: str
    failed_at: str


REQUIRED_TEXT = ("id", "source", "channel", "title", "text", "published_at")
# Limits of the contract: far above any real post, low enough that no stage has to fear a value.
MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 1_000
MAX_SHORT_CHARS = 2_048  # ids, urls, names, times, units: one line each
MAX_RAW_DEPTH = 8  # nesting of ``raw`` (objects and lists), counting ``raw`` itself as 1
MAX_COUNT = 10**15  # a counter above this is a parse error upstream, not a real figure
METRICS = ("reposts", "comments", "likes", "views", "votes_up", "votes_down")
OPTIONAL_OBJECTS = ("author", "metrics", "reply", "hotline", "raw")


def post_id(source: str, channel: str, native_id: str) -> str:
    """The stable id ``<source>:<channel>:<native id>`` that survives re-crawls."""
    return f"{source}:{channel}:{native_id}"


def text_post(
    source: Source, channel: str, native_id: str, text: str, at: str, *, title: str = ""
) -> RawPost:
    """A minimal valid raw post of ``text`` (commands and benchmarks that classify bare texts)."""
    return RawPost(
        schema=SCHEMA_VERSION,
        id=post_id(source, channel, native_id),
        source=source,
        channel=channel,
        url="",
        title=title,
        text=text,
        published_at=at,
        fetched_at=at,
    )


def validate_raw(obj: object) -> RawPost:
    """Check a decoded posts.raw value and return it typed; raise :class:`MessageError` if it is poison."""
    if not isinstance(obj, dict):
        raise MessageError("message is not a JSON object")
    schema = obj.get("schema")
    if schema != SCHEMA_VERSION:
        raise MessageError(f"unsupported schema version {schema!r}", field="schema")
    obj.setdefault("title", "")  # social posts have none
    for name in REQUIRED_TEXT:
        value = obj.get(name)
        if not isinstance(value, str) or (name != "title" and not value.strip()):
            raise MessageError("missing or not text", field=name)
    if obj["source"] not in SOURCES:
        raise MessageError(f"unknown source {obj['source']!r}", field="source")
    parse_time(obj["published_at"])
    obj.setdefault("url", "")
    obj.setdefault("fetched_at", obj["published_at"])
    _check_shape(obj)
    return obj  # type: ignore[return-value]


def _check_shape(obj: dict[str, Any]) -> None:
    """Types, sizes and nesting of a post's fields; the first fault is a :class:`MessageError` naming it."""
    if len(obj["text"]) > MAX_TEXT_CHARS:
        raise MessageError(f"longer than {MAX_TEXT_CHARS} characters", field="text")
    if len(obj["title"]) > MAX_TITLE_CHARS:
        raise MessageError(f"longer than {MAX_TITLE_CHARS} characters", field="title")
    for name in ("id", "channel", "url", "fetched_at", "published_at"):
        _short_text(obj.get(name), name)
    parse_time(obj["fetched_at"], field="fetched_at")
    if obj.get("region") is not None:
        _short_text(obj["region"], "region")
    for name in OPTIONAL_OBJECTS:
        if name in obj and obj[name] is not None and not isinstance(obj[name], dict):
            raise MessageError(f"not an object but {type(obj[name]).__name__}", field=name)
    for name, value in (obj.get("metrics") or {}).items():
        if name not in METRICS:
            raise MessageError("unknown counter", field=f"metrics.{name}")
        _count(value, f"metrics.{name}")
    author = obj.get("author") or {}
    if author.get("followers") is not None:
        _count(author["followers"], "author.followers")
    if author.get("verified") is not None and not isinstance(author["verified"], bool):
        raise MessageError("not true or false", field="author.verified")
    for name in ("id_hash", "name"):
        if author.get(name) is not None:
            _short_text(author[name], f"author.{name}")
    for part in ("reply", "hotline"):
        for name, value in (obj.get(part) or {}).items():
            if value is not None and not isinstance(value, str):
                raise MessageError(f"not text but {type(value).__name__}", field=f"{part}.{name}")
            if value is not None and len(value) > MAX_TEXT_CHARS:
                raise MessageError(f"longer than {MAX_TEXT_CHARS} characters", field=f"{part}.{name}")
    if obj.get("raw") is not None:
        _depth(obj["raw"], "raw", 1)


def _short_text(value: object, name: str) -> None:
    if not isinstance(value, str):
        raise MessageError(f"not text but {type(value).__name__}", field=name)
    if len(value) > MAX_SHORT_CHARS:
        raise MessageError(f"longer than {MAX_SHORT_CHARS} characters", field=name)


def _count(value: object, name: str) -> None:
    # bool is an int in Python; "1.2万" is how Weibo prints a count, the spider's job to turn into one.
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageError(f"not a non-negative integer: {value!r}", field=name)
    if not 0 <= value <= MAX_COUNT:
        raise MessageError(f"out of range 0..{MAX_COUNT}: {value!r}", field=name)


def _depth(value: object, path: str, depth: int) -> None:
    """Refuse ``raw`` nested deeper than :data:`MAX_RAW_DEPTH` (without recursing past the limit)."""
    if depth > MAX_RAW_DEPTH:
        raise MessageError(f"nested deeper than {MAX_RAW_DEPTH} levels", field=path)
    if isinstance(value, dict):
        for key, inner in value.items():
            _depth(inner, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _depth(inner, f"{path}[{index}]", depth + 1)


def decode(value: bytes) -> dict[str, Any]:
    """Decode a message value; undecodable bytes or JSON are a :class:`MessageError`."""
    try:
        obj = json.loads(value.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MessageError(f"value is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise MessageError(f"value is not JSON: {exc.msg} at char {exc.pos}") from exc
    except RecursionError as exc:
        raise MessageError("value is nested too deeply to decode") from exc
    if not isinstance(obj, dict):
        raise MessageError("message is not a JSON object")
    return obj


def encode(message: RawPost | EnrichedPost | DeadLetter | dict[str, Any]) -> bytes:
    """Encode a message value as compact UTF-8 JSON."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def dead_letter(
    *,
    stage: str,
    error: str,
    topic: str,
    partition: int,
    offset: int,
    key: str | None,
    payload: bytes,
    failed_at: str,
) -> DeadLetter:
    """Build the posts.dlq message for a record that a stage could not process."""
    return DeadLetter(
        schema=SCHEMA_VERSION,
        stage=stage,
        error=error,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        payload=payload.decode("utf-8", errors="replace"),
        failed_at=failed_at,
    )
