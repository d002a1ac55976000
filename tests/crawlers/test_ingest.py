"""Imports from JSONL and CSV: valid posts are published, the rest dead-lettered with line and reason."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from core.china_time import parse_time
from core.messages import decode
from crawlers.ingest import ingest_file
from stream.embedded import EmbeddedBroker
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
    assert post["metrics"] == {"reposts": 12} and post["author"] == {"name": "网**"}  # masked as crawled
    assert "text: missing" in report.errors[0]


def _run(settings: Settings, *argv: str) -> int:
    from yuqing.cli import build_parser

    args = build_parser().parse_args(list(argv))
    return int(args.handler(settings, args))


def _posts(settings: Settings) -> dict[str, dict[str, object]]:
    broker = EmbeddedBroker(settings.broker_path)
    try:
        return {str(r.key): decode(r.value) for r in broker.read(settings.topic_raw, 1000)}
    finally:
        broker.close()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_export_is_ingested_again_on_a_fresh_home(tmp_path: Path, suffix: str) -> None:
    from archive.embedded import EmbeddedArchive
    from tests.archive.samples import dataset

    old = Settings(home=tmp_path / "old")
    archive = EmbeddedArchive(old.archive_path)
    posts = list(dataset().values())
    archive.index(posts)
    archive.close()
    export = tmp_path / f"all{suffix}"
    assert (
        _run(
            old,
            "search",
            "source:board OR source:hotline OR source:weibo OR source:news",
            "--export",
            str(export),
        )
        == 0
    )
    fresh = Settings(home=tmp_path / "fresh")
    assert _run(fresh, "ingest", str(export)) == 0
    ingested = _posts(fresh)
    assert sorted(ingested) == sorted(str(p["id"]) for p in posts)
    for original in posts:
        again = ingested[str(original["id"])]
        for name in ("source", "channel", "title", "text", "url"):
            assert again[name] == original.get(name, ""), name
        assert parse_time(str(again["published_at"])) == parse_time(str(original["published_at"]))
        exported = again["raw"]["exported"]  # type: ignore[index]
        assert exported["sentiment.label"] == original["sentiment"]["label"]


def test_chinese_labels_title_rows_and_a_map_are_read_and_posts_masked(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["市民来信汇总（导出）"])
    sheet.append(["来源", "渠道", "来信内容", "来信时间", "情感", "回复状态", "写信人"])
    sheet.append(
        [
            "留言板",
            "city",
            "电话13812345678，楼下噪音",
            datetime(2026, 11, 20, 8, 0),
            "负面",
            "未回复",
            "王小明",
        ]
    )
    sheet.append(["留言板", "city", "第二封", "不是时间", "中性", "已回复", "李四"])
    sheet.merge_cells("A1:G1")
    path = tmp_path / "letters.xlsx"
    workbook.save(path)
    settings = Settings(home=tmp_path / "home")
    argv = ["ingest", str(path), "--map", "text=来信内容", "published_at=来信时间", "author.name=写信人"]
    assert _run(settings, *argv) == 0
    [post] = _posts(settings).values()
    assert post["source"] == "board" and post["published_at"] == "2026-11-20T08:00:00+08:00"
    assert post["text"] == "电话138****5678，楼下噪音" and post["author"] == {"name": "王**"}
    assert post["reply"] == {"status": "pending"} and post["raw"] == {
        "exported": {"sentiment.label": "negative"}
    }
    assert str(post["id"]).startswith("board:city:")
    broker = EmbeddedBroker(settings.broker_path)
    [letter] = [decode(r.value) for r in broker.read(settings.topic_dlq, 10)]
    broker.close()
    assert "letters.xlsx:4" in letter["error"] and "published_at" in letter["error"]


def test_a_bad_map_and_an_unreadable_file_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home")
    path = tmp_path / "x.csv"
    path.write_bytes("内容\n有\n".encode("gbk"))
    assert _run(settings, "ingest", str(path), "--map", "正文") == 2
    assert "应写成 字段=列名" in capsys.readouterr().err
    assert _run(settings, "ingest", str(path), "--map", "心情=内容") == 2
    assert "未知字段“心情”" in capsys.readouterr().err
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert _run(settings, "ingest", str(broken)) == 1
    assert "unreadable xlsx file" in capsys.readouterr().err
