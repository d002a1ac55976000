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

from crawlers.errors import ItemRejected
from crawlers.items import BoardItem
from crawlers.sources import BoardSource
from stream.messages import CHINA_TZ, SCHEMA_VERSION, Author, RawPost, Reply, post_id

_WHITESPACE = re.compile(r"\s+")  # str patterns match Unicode spaces, the full-width U+3000 included
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
_CJK = re.compile(r"[\u3400-\u9fff]+")


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


def mask_text(value: str) -> str:
    """Mask 18-digit ID numbers (keep region code and last four) and mobile numbers (keep 3 + 4 digits)."""
    # The digit boundaries keep either pattern from matching inside a longer number (a bank account).
    value = _ID_NUMBER.sub(r"\1********\2", value)
    return _MOBILE.sub(r"\1****\2", value)


def mask_name(name: str) -> str:
    """A display name as boards show it: ``王**`` for a Chinese name, ``A0****81`` for an account id."""
    name = name.strip()
    if not name or "*" in name:
        return name  # already masked by the board
    if _MOBILE.fullmatch(name):
        return mask_text(name)
    if len(name) == 1:
        return "*"
    if _CJK.fullmatch(name) or len(name) <= 4:
        return name[0] + "*" * (len(name) - 1)  # a personal name: only the family name stays
    if len(name) <= 8:
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return name[:2] + "****" + name[-2:]


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
