"""What the briefing quotes of a post: :class:`~briefing.model.PostRef` from an archived post."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from briefing.model import PostRef
from core.china_time import CHINA_TZ, parse_time
from core.masking import mask_text
from core.messages import EnrichedPost

EXCERPT_CHARS = 80


def excerpt(text: str, width: int = EXCERPT_CHARS) -> str:
    """The text on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def post_ref(post: EnrichedPost) -> PostRef:
    """The briefing's copy of a post (text unescaped: renderers escape it for their format)."""
    sentiment: Mapping[str, Any] = post.get("sentiment") or {}
    topic: Mapping[str, Any] = post.get("topic") or {}
    risk: Mapping[str, Any] = post.get("risk") or {}
    # Masked before the cut, so a number at the edge of an excerpt is never half shown.
    text = mask_text(post.get("text") or "")
    title = mask_text(post.get("title") or "").strip()
    return PostRef(
        post_id=post["id"],
        title=excerpt(title, 40) if title else excerpt(text, 40),
        excerpt=excerpt(text),
        source=str(post.get("source") or ""),
        channel=str(post.get("channel") or ""),
        published_at=parse_time(post["published_at"]).astimezone(CHINA_TZ),
        url=str(post.get("url") or ""),
        sentiment=str(sentiment.get("label") or ""),
        topic=str(topic.get("label") or ""),
        risk=int(risk.get("score") or 0),
        reasons=tuple(str(reason) for reason in risk.get("reasons") or ()),
    )
