"""Imports from JSONL and CSV: valid posts are published, the rest dead-lettered with line and reason."""

from __future__ import annotations

import json
from pathlib import Path

from stream.embedded import EmbeddedBroker
from stream.ingest import ingest_file
from stream.messages import decode
from tests.stream.samples import raw_post
from yuqing.settings import Settings


def test_jsonl_lines_are_published_and_bad_lines_dead_lettered(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    s = embedded_settings
    path = tmp_path / "posts.jsonl"
    lines = [
        json.dumps(raw_post(1), ensure_ascii=False),
        "{not json",
        json.dumps(raw_post(2), ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    broker = EmbeddedBroker(s.broker_path)
    report = ingest_file(path, broker.producer(), topic=s.topic_raw, dlq_topic=s.topic_dlq)
    assert (report.published, report.dead_lettered) == (2, 1)
    assert [r.key for r in broker.read(s.topic_raw, 10)] == [raw_post(1)["id"], raw_post(2)["id"]]
    letter = decode(broker.read(s.topic_dlq, 10)[0].value)
    assert (
        letter["stage"] == "ingest"
        and "posts.jsonl:2" in letter["error"]
        and letter["payload"] == "{not json"
    )


def test_csv_columns_with_dots_become_nested_fields(embedded_settings: Settings, tmp_path: Path) -> None:
    s = embedded_settings
    path = tmp_path / "posts.csv"
    path.write_text(
        "id,source,channel,title,text,published_at,metrics.reposts,author.name\n"
        "weibo:acct:1,weibo,acct,,地铁站台积水,2026-11-20T08:00:00+08:00,12,网友甲\n"
        "weibo:acct:2,weibo,acct,,,2026-11-20T08:00:00+08:00,1,网友乙\n",
        encoding="utf-8",
    )
    broker = EmbeddedBroker(s.broker_path)
    report = ingest_file(path, broker.producer(), topic=s.topic_raw, dlq_topic=s.topic_dlq)
    assert (report.published, report.dead_lettered) == (1, 1)
    post = decode(broker.read(s.topic_raw, 10)[0].value)
    assert post["metrics"] == {"reposts": 12} and post["author"] == {"name": "网友甲"}
    assert "text: missing" in report.errors[0]
