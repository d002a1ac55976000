"""Raw posts of our own writing for the stream tests."""

from __future__ import annotations

from core.messages import SCHEMA_VERSION, RawPost, post_id


def raw_post(n: int, *, text: str = "小区门口道路积水严重，出行非常不便，希望尽快处理") -> RawPost:
    """A valid board post numbered ``n``."""
    return RawPost(
        schema=SCHEMA_VERSION,
        id=post_id("board", "test-board", str(n)),
        source="board",
        channel="test-board",
        url=f"http://127.0.0.1/detail/{n}",
        title=f"关于第{n}号留言",
        text=text,
        published_at="2026-11-20T09:00:00+08:00",
        fetched_at="2026-11-20T09:05:00+08:00",
    )
