"""Pure functions that turn a board item's page text into a posts.raw message.

Whitespace is normalised (full-width and no-break spaces, stray line breaks), times become ISO 8601
in China time, and personal data is masked (:mod:`core.masking`) before anything leaves the
crawler: phone, ID and bank-card numbers in text, and the author's name. The author keeps a stable
pseudonym, an HMAC of board and name keyed with the deployment secret, so repeat posters can be
counted.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from core.china_time import CHINA_TZ
from core.masking import mask_name, mask_text, pseudonym
from core.messages import SCHEMA_VERSION, Author, RawPost, Reply, Source, post_id
from crawlers.errors import ItemRejected
from crawlers.items import BoardItem

# Besides its native id, what a board item must have for a post to be built from it (a social post may
# lack a title; a letter may not).
REQUIRED_TEXT_FIELDS = ("title", "published_at", "text")
_WHITESPACE = re.compile(r"\s+")  # str patterns match Unicode spaces, the full-width U+3000 included
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")


class BoardConfig(Protocol):
    """What building a board message needs of its source: an HTML board or a JSON board alike."""

    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def time_format(self) -> tuple[str, ...]: ...
    @property
    def region(self) -> str | None: ...
    @property
    def replied_labels(self) -> tuple[str, ...]: ...


def normalise_line(value: str | None) -> str:
    """One line of text: zero-width characters removed, every run of whitespace one ASCII space."""
    if value is None:
        return ""
    return _WHITESPACE.sub(" ", _ZERO_WIDTH.sub("", value)).strip()


def normalise_text(value: str | None) -> str:
    """Paragraphs: each line normalised by :func:`normalise_line`, blank ones dropped, joined by ``\\n``."""
    if value is None:
        return ""
    lines = (normalise_line(line) for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def board_post_id(channel: str, native_id: str | None) -> str | None:
    """A board message's post id, ``board:<channel>:<native id>``, or None without a native id.

    The one place a board post's id is made from its native id (the spider's choice of that id is
    :meth:`crawlers.spiders.board.BoardSpider.native_id`): the spider keys the incremental skip with it,
    :func:`to_raw_post` stamps it on the message and the crawl log names the item by it, so the three
    always agree. Whitespace in the native id (a page's ``10 016``) is dropped.
    """
    native = normalise_line(native_id).replace(" ", "")
    return post_id("board", channel, native) if native else None


def parse_board_time(value: str | None, formats: tuple[str, ...]) -> datetime | None:
    """A board's time text read with the first format that fits; naive times are China time."""
    text = normalise_line(value)
    if not text:
        return None
    for fmt in formats:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment.replace(tzinfo=CHINA_TZ) if moment.tzinfo is None else moment.astimezone(CHINA_TZ)
    return None


# Times as news pages and feeds print them, tried after a source's own formats.
LOOSE_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日", "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
)  # fmt: skip
# A date (and time) inside a longer text: "发布时间：2024-06-01 09:30", "2024年6月1日 09:30 来源：…".
_DATE_IN_TEXT = re.compile(
    r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def parse_loose_time(value: str | None, formats: tuple[str, ...] = ()) -> datetime | None:
    """A time as feeds and news pages write it: ``formats`` first, then the common forms, ISO 8601,
    RFC 822 (RSS ``pubDate``) and at last a date inside a longer text. Naive times are China time."""
    text = normalise_line(value)
    if not text:
        return None
    found = parse_board_time(text, (*formats, *LOOSE_TIME_FORMATS))
    if found is not None:
        return found
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        match = _DATE_IN_TEXT.search(text)
        if match is None:
            return None
        year, month, day, hour, minute, second = (int(group) if group else 0 for group in match.groups())
        try:
            moment = datetime(year, month, day, hour, minute, second)
        except ValueError:
            return None
    return moment.replace(tzinfo=CHINA_TZ) if moment.tzinfo is None else moment.astimezone(CHINA_TZ)


def iso(moment: datetime) -> str:
    """ISO 8601 with seconds in China time, the form every message time takes."""
    return moment.astimezone(CHINA_TZ).isoformat(timespec="seconds")


class Written(Protocol):
    """What a written piece (a letter, an article) brings: its address, title and text."""

    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...


def written_post(
    source: Source,
    channel: str,
    identity: str,
    item: Written,
    *,
    published: datetime,
    fetched_at: datetime,
    raw: dict[str, object],
) -> RawPost:
    """The posts.raw message of a written piece: title and text normalised and masked, times in ISO."""
    return RawPost(
        schema=SCHEMA_VERSION,
        id=identity,
        source=source,
        channel=channel,
        url=item.url,
        title=mask_text(normalise_line(item.title)),
        text=mask_text(normalise_text(item.text)),
        published_at=iso(published),
        fetched_at=iso(fetched_at),
        raw=raw,
    )


def to_raw_post(item: BoardItem, source: BoardConfig, *, salt: str, fetched_at: datetime) -> RawPost:
    """Build the posts.raw message for an item; raise :class:`ItemRejected` if it cannot be built.

    An item without a native id or one of :data:`REQUIRED_TEXT_FIELDS` is ``missing <field>``; a time
    that does not parse is ``unparseable published_at``. The built message is checked against the
    contract once, as it is published (:class:`crawlers.pipelines.PublishPipeline`).
    """
    identity = board_post_id(source.name, item.native_id)
    if identity is None:
        raise ItemRejected("missing native_id")
    for name in REQUIRED_TEXT_FIELDS:
        if not normalise_line(getattr(item, name)):
            raise ItemRejected(f"missing {name}")
    published = parse_board_time(item.published_at, source.time_format)
    if published is None:
        raise ItemRejected("unparseable published_at")
    raw: dict[str, object] = {"board": source.display_name}
    if item.signature:
        raw["list_signature"] = item.signature
    post = written_post(
        "board", source.name, identity, item, published=published, fetched_at=fetched_at, raw=raw
    )
    post["reply"] = _reply(item, source, raw)
    author = normalise_line(item.author)
    if author:
        post["author"] = Author(
            id_hash=pseudonym(author, scope=source.name, key=salt), name=mask_name(author)
        )
    if source.region is not None:
        post["region"] = source.region
    return post


def _reply(item: BoardItem, source: BoardConfig, raw: dict[str, object]) -> Reply:
    status_text = normalise_line(item.status)
    text = mask_text(normalise_text(item.reply_text))
    replied_at = parse_board_time(item.replied_at, source.time_format)
    if status_text:
        raw["status_text"] = status_text
    if item.replied_at and replied_at is None:
        raw["replied_at_text"] = normalise_line(item.replied_at)  # kept for a human; not a usable time
    replied = bool(text) or any(label in status_text for label in source.replied_labels)
    # A pending message may already name the unit it was assigned to; the ledger wants that too.
    unit = normalise_line(item.reply_unit) or None
    if not replied:
        return Reply(status="pending", replied_at=None, unit=unit, text=None)
    return Reply(
        status="replied", replied_at=iso(replied_at) if replied_at else None, unit=unit, text=text or None
    )
