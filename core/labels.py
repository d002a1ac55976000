"""The words a user sees for the codes every package stores, defined once.

Every page, the briefing, the 台账 and the spike alerts say these words and no others.
"""

from __future__ import annotations

from collections.abc import Mapping

SOURCE_LABELS: Mapping[str, str] = {
    "hotline": "12345热线",
    "board": "留言板",
    "weibo": "微博",
    "news": "新闻",
}
# A ticket may also come from no post at all: registered by hand or imported from a 台账.
TICKET_SOURCE_LABELS: Mapping[str, str] = {**SOURCE_LABELS, "manual": "人工登记", "import": "导入"}
SENTIMENT_LABELS: Mapping[str, str] = {"negative": "负面", "neutral": "中性", "positive": "正面"}
REPLY_LABELS: Mapping[str, str] = {"replied": "已回复", "pending": "未回复"}
# Shown where a post has no value at all (Weibo and news posts carry no reply, for instance).
EMPTY = "—"


def label(labels: Mapping[str, str], code: str | None) -> str:
    """The Chinese word for ``code``: an unknown code stays as it is, a missing one is ``—``."""
    if not code:
        return EMPTY
    return labels.get(code, code)


def source_label(code: str | None) -> str:
    """The Chinese name of a source code (a post's or a ticket's)."""
    return label(TICKET_SOURCE_LABELS, code)
