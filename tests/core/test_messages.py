"""The message contract: what is valid on posts.raw and what is poison."""

from __future__ import annotations

import pytest

from core.china_time import parse_time
from core.errors import MessageError
from core.messages import decode, encode, post_id, validate_raw
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


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"metrics": {"reposts": "1.2万"}}, "metrics.reposts: not a non-negative integer: '1.2万'"),
        ({"metrics": {"likes": -1}}, "metrics.likes: out of range"),
        ({"metrics": {"views": 1.5}}, "metrics.views: not a non-negative integer"),
        ({"metrics": {"comments": True}}, "metrics.comments: not a non-negative integer"),
        ({"metrics": {"shares": 1}}, "metrics.shares: unknown counter"),
        ({"metrics": [1, 2]}, "metrics: not an object"),
        ({"author": {"followers": "3千"}}, "author.followers: not a non-negative integer"),
        ({"author": {"verified": "yes"}}, "author.verified: not true or false"),
        ({"text": "长" * 100_001}, "text: longer than 100000"),
        ({"title": "题" * 1_001}, "title: longer than 1000"),
        ({"url": 5}, "url: not text"),
        ({"reply": {"text": {"a": 1}}}, "reply.text: not text"),
        (
            {"raw": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}},
            "raw.a.b.c.d.e.f.g.h: nested deeper",
        ),
    ],
)
def test_types_sizes_and_nesting_are_checked_and_the_field_is_named(
    change: dict[str, object], reason: str
) -> None:
    post = {**raw_post(1), **change}
    with pytest.raises(MessageError, match=reason.replace(".", r"\.").replace("[", r"\[")):
        validate_raw(post)


def test_counts_as_integers_and_shallow_raw_are_valid() -> None:
    post = {**raw_post(1), "metrics": {"reposts": 12000, "likes": 0}, "raw": {"a": {"b": [1, {"c": 2}]}}}
    assert validate_raw(post)["metrics"]["reposts"] == 12000


def test_json_nested_past_the_interpreter_limit_is_poison_not_a_crash() -> None:
    with pytest.raises(MessageError, match="nested too deeply"):
        decode(b'{"raw":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
