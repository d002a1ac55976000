"""The worker's decode edge: posts.raw records are checked against the whole contract, posts.enriched
records only for what classify adds (the raw part was checked as it came off posts.raw)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import MessageError
from core.messages import encode, validate_raw
from stream.broker import Record
from stream.decode import parse_enriched, parse_raw
from tests.stream.samples import raw_post


def record(value: dict[str, Any] | bytes, key: str | None = None, topic: str = "t") -> Record:
    body = value if isinstance(value, bytes) else encode(value)
    return Record(topic=topic, partition=0, offset=0, key=key, value=body)


def enriched(n: int) -> dict[str, Any]:
    return {
        **raw_post(n),
        "sentiment": {"label": "negative", "score": 0.9},
        "topic": {"label": "交通运输", "score": 0.8, "in_remit": True, "unit": None},
        "appeal_type": None,
        "risk": {"score": 40, "reasons": []},
        "event_id": f"ev-{n}",
        "models": {"test": "x@1"},
    }


def test_a_raw_record_is_checked_against_the_whole_contract() -> None:
    post = raw_post(1)
    assert parse_raw(record(dict(post), key=post["id"])) == post
    bad: dict[str, Any] = {**raw_post(2), "metrics": {"reposts": "1.2万"}}
    with pytest.raises(MessageError, match=r"metrics\.reposts: not a non-negative integer: '1\.2万'"):
        parse_raw(record(bad, key=bad["id"]))


def test_a_record_whose_key_is_not_its_id_is_refused_on_either_topic() -> None:
    with pytest.raises(MessageError, match="differs from id"):
        parse_raw(record(dict(raw_post(1)), key="board:test-board:2"))
    with pytest.raises(MessageError, match="differs from id"):
        parse_enriched(record(enriched(1), key="board:test-board:2"))


def test_an_enriched_record_needs_the_fields_classify_adds_and_the_current_schema() -> None:
    post = enriched(3)
    assert parse_enriched(record(post, key=post["id"])) == post
    partial = {k: v for k, v in post.items() if k not in ("risk", "event_id")}
    with pytest.raises(MessageError, match="not enriched: missing risk, event_id"):
        parse_enriched(record(partial, key=post["id"]))
    with pytest.raises(MessageError, match="schema: unsupported schema version 0"):
        parse_enriched(record({**post, "schema": 0}, key=post["id"]))
    with pytest.raises(MessageError, match="id: missing or not text"):
        parse_enriched(record({**post, "id": ""}))
    with pytest.raises(MessageError, match="not JSON"):
        parse_enriched(record(b"{not json", key=post["id"]))


def test_the_raw_part_of_an_enriched_record_is_not_validated_a_second_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []

    def counting(obj: object) -> Any:
        calls.append(obj)
        return validate_raw(obj)

    monkeypatch.setattr("stream.decode.validate_raw", counting)
    post = enriched(4)
    parse_enriched(record(post, key=post["id"]))
    assert calls == []
    parse_raw(record(dict(raw_post(4)), key=post["id"]))
    assert len(calls) == 1
