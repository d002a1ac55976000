"""The message contract: what is valid on posts.raw and what is poison."""

from __future__ import annotations

import pytest

from stream.errors import MessageError
from stream.messages import decode, encode, parse_time, post_id, validate_raw
from tests.stream.samples import raw_post


def test_a_valid_post_round_trips_through_encode_and_decode() -> None:
    post = raw_post(1)
    assert validate_raw(decode(encode(post))) == post


def test_post_ids_are_stable_and_namespaced() -> None:
    assert post_id("board", "wz", "123") == "board:wz:123"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"schema": 99}, "unsupported schema version"),
        ({"text": "   "}, "text: missing"),
        ({"source": "telegram"}, "unknown source"),
        ({"published_at": "昨天"}, "not an ISO 8601 time"),
    ],
)
def test_invalid_posts_are_poison_with_a_reason(change: dict[str, object], reason: str) -> None:
    post = {**raw_post(1), **change}
    with pytest.raises(MessageError, match=reason):
        validate_raw(post)


def test_undecodable_values_are_poison() -> None:
    with pytest.raises(MessageError, match="not JSON"):
        decode(b"{broken")
    with pytest.raises(MessageError, match="not a JSON object"):
        decode(b"[1, 2]")


def test_a_naive_time_is_taken_as_china_time() -> None:
    assert parse_time("2026-11-20T09:00:00").utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
