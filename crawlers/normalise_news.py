"""Pure functions that turn a news article into a posts.raw message (source ``news``).

The same rules as every other source (:mod:`crawlers.normalise`): clean text, ISO times in China time,
phone and ID numbers masked. A byline is a journalist's published name, not a private person's, so it
is kept as printed (as a verified Weibo account's is), with the usual salted pseudonym beside it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

from core.masking import pseudonym
from core.messages import Author, RawPost, post_id
from crawlers.errors import ItemRejected
from crawlers.items import NewsItem
from crawlers.normalise import normalise_line, parse_loose_time, written_post

if TYPE_CHECKING:
    from crawlers.news import NewsSource

_BYLINE = re.compile(r"^(记者|作者|文|撰稿|通讯员)\s*[:：/]?\s*")


def news_native_id(url: str, id_pattern: str | None) -> str:
    """An article's id on its site: the ``id_pattern`` group of its URL, else a hash of the URL.

    The URL is the article's identity across crawls (a feed's guid is often the same URL, often absent);
    its fragment is not part of it.
    """
    address = urldefrag(url)[0]
    if id_pattern is not None:
        match = re.search(id_pattern, address)
        if match is not None and match.group(1).strip():
            return match.group(1).strip().replace(":", "-")
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:20]


def news_post_id(channel: str, native_id: str | None) -> str | None:
    """An article's post id, ``news:<channel>:<native id>``, or None without one (message and log alike)."""
    native = normalise_line(native_id).replace(" ", "")
    return post_id("news", channel, native) if native else None


def news_post(item: NewsItem, source: NewsSource, *, salt: str, fetched_at: datetime) -> RawPost:
    """The posts.raw message of an article; raise :class:`ItemRejected` when it cannot be one."""
    identity = news_post_id(source.name, item.native_id)
    if identity is None:
        raise ItemRejected("missing native_id")
    for name in ("title", "text", "published_at"):
        if not normalise_line(getattr(item, name)):
            raise ItemRejected(f"missing {name}")
    published = parse_loose_time(item.published_at, source.time_format)
    if published is None:
        raise ItemRejected("unparseable published_at")
    raw: dict[str, object] = {"outlet": normalise_line(item.outlet) or source.display_name}
    raw["site"] = urlsplit(item.url).netloc
    if item.origin:
        raw["origin"] = item.origin
    if item.signature:
        raw["list_signature"] = item.signature
    post = written_post(
        "news", source.name, identity, item, published=published, fetched_at=fetched_at, raw=raw
    )
    author = _BYLINE.sub("", normalise_line(item.author))
    if author:
        post["author"] = Author(id_hash=pseudonym(author, scope=source.name, key=salt), name=author[:100])
    if source.region is not None:
        post["region"] = source.region
    return post
