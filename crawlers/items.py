"""The item a board spider yields: one message's fields as text, exactly as the detail page shows them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BoardItem:
    """A message read off a detail page; nothing is parsed, masked or decided yet (the pipelines do that).

    ``channel`` is the board's configured name and ``url`` the detail page; every other field is the
    extracted text, or None where the page has no such field (an unanswered message has no reply).
    """

    channel: str
    url: str
    native_id: str | None = None
    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    text: str | None = None
    status: str | None = None
    reply_unit: str | None = None
    replied_at: str | None = None
    reply_text: str | None = None
    signature: str | None = None  # the list row's fingerprint, remembered for incremental re-crawls
    # Where each field came from (field -> selector or path, or what was tried when it was not found):
    # nothing decides on it and it is not part of the item's value; `yuqing sources try` prints it.
    trace: dict[str, str] | None = field(default=None, compare=False, repr=False)


@dataclass
class HotlineItem:
    """A 12345 work order as the platform hands it over (an API record or an export-file row).

    ``fields`` maps the platform's column names (工单编号, 受理时间, ...) to their text, untouched;
    ``origin`` is where it came from (the API page URL, or ``file.xlsx#row 7``).
    """

    channel: str
    origin: str
    fields: dict[str, str]
    extra: dict[str, str] | None = None


@dataclass
class WeiboItem:
    """An ``mblog`` object of a Weibo-like mobile JSON API, as decoded; ``query`` is the search or account."""

    channel: str
    url: str
    query: str
    mblog: dict[str, object]


@dataclass
class NewsItem:
    """A news article: the feed entry's or list page's facts and the page's extracted main text.

    Every field is text as found (the time unparsed); ``origin`` is the feed or list page that linked
    to it, ``signature`` that entry's fingerprint and ``trace`` where each field came from.
    """

    channel: str
    url: str
    native_id: str | None = None
    title: str | None = None
    text: str | None = None
    published_at: str | None = None
    author: str | None = None
    outlet: str | None = None
    origin: str | None = None
    signature: str | None = None
    trace: dict[str, str] | None = field(default=None, compare=False, repr=False)


@dataclass
class FailedPage:
    """Something that could not become an item (a 404, invalid JSON, an unusable export file).

    The dead-letter pipeline sends it to posts.dlq with its reason and drops it, so the crawl goes on.
    """

    channel: str
    url: str
    reason: str
    excerpt: str = ""
