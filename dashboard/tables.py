"""Turns enriched posts into the tables the pages show, with Chinese column names and labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from core.china_time import CHINA_TZ, parse_time
from core.messages import EnrichedPost
from dashboard.labels import EMPTY, REPLY_LABELS, SENTIMENT_LABELS, SOURCE_LABELS, label

POST_COLUMNS = ("发布时间", "来源", "渠道", "标题", "情感", "话题", "风险", "回复状态")
TIME_FORMAT = "%Y-%m-%d %H:%M"


def posts_table(posts: Sequence[EnrichedPost]) -> pd.DataFrame:
    """One row per post in the given order, every value plain text or a number (never markup)."""
    rows = [
        (
            _published(post),
            label(SOURCE_LABELS, post.get("source")),
            post.get("channel") or EMPTY,
            post.get("title") or EMPTY,
            label(SENTIMENT_LABELS, post.get("sentiment", {}).get("label")),
            post.get("topic", {}).get("label") or EMPTY,
            int(post.get("risk", {}).get("score", 0)),
            label(REPLY_LABELS, post.get("reply", {}).get("status")),
        )
        for post in posts
    ]
    return pd.DataFrame(rows, columns=list(POST_COLUMNS))


def own_page(post: Mapping[str, Any]) -> str:
    """The post's own page (its detail page, a hotline order's detail), or "" when it has none.

    A post's ``url`` is shown only when it is an http(s) address other than the page the post was
    found on (``raw.origin``): a hotline order read from its platform's API once carried the API's
    address, the same for every order, which opens nothing of the post. Shown as text, never followed.
    """
    url = str(post.get("url") or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        return ""
    origin = (post.get("raw") or {}).get("origin")
    return "" if isinstance(origin, str) and origin.strip() == url else url


def _published(post: EnrichedPost) -> str:
    # Fixed-width China time text sorts like the moment it names and shows the same in every browser.
    return parse_time(post["published_at"]).astimezone(CHINA_TZ).strftime(TIME_FORMAT)


def share_table(counts: Mapping[str, int], labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Counts per value as a two-column table (类别, 帖子数) for a small bar chart, codes labelled."""
    names = [label(labels, code) if labels is not None else code for code in counts]
    return pd.DataFrame({"类别": names, "帖子数": list(counts.values())})


SNIPPET_CHARS = 80
MARK_OPEN, MARK_CLOSE = "【", "】"


def snippet(text: str, spans: Sequence[tuple[int, int]], width: int = SNIPPET_CHARS) -> str:
    """Plain text around the first match with every match inside it wrapped in 【】 (no markup)."""
    if not text:
        return EMPTY
    start = max(spans[0][0] - width // 4, 0) if spans else 0
    end = min(start + width, len(text))
    pieces: list[str] = ["…" if start else ""]
    cursor = start
    for left, right in spans:
        if right <= start or left >= end:
            continue
        left, right = max(left, start), min(right, end)
        pieces += [text[cursor:left], MARK_OPEN, text[left:right], MARK_CLOSE]
        cursor = right
    pieces += [text[cursor:end], "…" if end < len(text) else ""]
    return "".join(pieces)
