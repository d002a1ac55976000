"""The dashboard's own words: filter options and reply states; the shared labels come from the core."""

from __future__ import annotations

from core.labels import EMPTY, REPLY_LABELS, SENTIMENT_LABELS, SOURCE_LABELS, TICKET_SOURCE_LABELS, label

# The filter option that selects every value.
ALL = "全部"
# A select box's placeholder, shown while its text is cleared to filter (Streamlit's own is English).
# A filter whose empty value means every value shows ALL instead.
CHOOSE = "请选择"

__all__ = [
    "ALL",
    "CHOOSE",
    "EMPTY",
    "REPLY_LABELS",
    "SENTIMENT_LABELS",
    "SOURCE_LABELS",
    "TICKET_SOURCE_LABELS",
    "label",
]
