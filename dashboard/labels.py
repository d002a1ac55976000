"""Chinese labels for the codes the archive stores: the one place the dashboard maps them."""

from __future__ import annotations

from collections.abc import Mapping

SOURCE_LABELS: dict[str, str] = {
    "hotline": "12345热线",
    "board": "留言板",
    "weibo": "微博",
    "news": "新闻",
}
SENTIMENT_LABELS: dict[str, str] = {
    "negative": "负面",
    "neutral": "中性",
    "positive": "正面",
}
REPLY_LABELS: dict[str, str] = {
    "replied": "已回复",
    "pending": "未回复",
}
# Shown where a post has no value at all (Weibo and news posts carry no reply, for instance).
EMPTY = "—"
# The filter option that selects every value.
ALL = "全部"
# A select box's placeholder, shown while its text is cleared to filter (Streamlit's own is English).
# A filter whose empty value means every value shows ALL instead.
CHOOSE = "请选择"


def label(mapping: Mapping[str, str], code: str | None) -> str:
    """The Chinese label of ``code``; the code itself when unmapped; ``—`` when there is none."""
    if code is None or code == "":
        return EMPTY
    return mapping.get(code, code)
