"""Pure functions that turn a board item's page text into a posts.raw message.

Whitespace is normalised (full-width and no-break spaces, stray line breaks), times become ISO 8601
in China time, and personal data is masked before anything leaves the crawler: mobile numbers
(``1[3-9]`` + 9 digits) and 18-digit resident ID numbers in text, and the author's name. The author
keeps a stable pseudonym: a salted SHA-256 of board and name, so repeat posters can be counted.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from core.china_time import CHINA_TZ
from core.masking import mask_name, mask_text
from core.messages import SCHEMA_VERSION, Author, RawPost, Reply, post_id
from crawlers.errors import ItemRejected
from crawlers.items import BoardItem
from crawlers.sources import BoardSource

_WHITESPACE = re.compile(r"\s+")  # str patterns match Unicode spaces, the full-width U+3000 included
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")


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


def author_hash(name: str, *, channel: str, salt: str) -> str:
    """A stable pseudonym for an author: salted SHA-256 of the board and the name as the board shows it.

    The channel is part of the input because a name (``匿名``, a nickname) only identifies someone within
    one board. ``salt`` is the deployment's fixed secret (Scrapy setting ``YUQING_AUTHOR_SALT``).
    """
    data = "\x1f".join((salt, channel, name)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


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


def iso(moment: datetime) -> str:
    """ISO 8601 with seconds in China time, the form every message time takes."""
    return moment.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def to_raw_post(item: BoardItem, source: BoardSource, *, salt: str, fetched_at: datetime) -> RawPost:
    """Build the posts.raw message for a validated item; raise :class:`ItemRejected` if it cannot be."""
    native_id = normalise_line(item.native_id).replace(" ", "")
    if not native_id:
        raise ItemRejected("missing native_id")
    published = parse_board_time(item.published_at, source.time_format)
    if published is None:
        raise ItemRejected("unparseable published_at")
    raw: dict[str, object] = {"board": source.display_name}
    if item.signature:
        raw["list_signature"] = item.signature
    post = RawPost(
        schema=SCHEMA_VERSION,
        id=post_id("board", source.name, native_id),
        source="board",
        channel=source.name,
        url=item.url,
        title=mask_text(normalise_line(item.title)),
        text=mask_text(normalise_text(item.text)),
        published_at=iso(published),
        fetched_at=iso(fetched_at),
        reply=_reply(item, source, raw),
        raw=raw,
    )
    author = normalise_line(item.author)
    if author:
        post["author"] = Author(
            id_hash=author_hash(author, channel=source.name, salt=salt), name=mask_name(author)
        )
    if source.region is not None:
        post["region"] = source.region
    return post


def _reply(item: BoardItem, source: BoardSource, raw: dict[str, object]) -> Reply:
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
