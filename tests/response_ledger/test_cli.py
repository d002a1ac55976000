"""``yuqing ledger …`` end to end through the real entry point, on a SQLite ledger under a temp home."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from yuqing.cli import main


def run(monkeypatch: pytest.MonkeyPatch, home: Path, *argv: str) -> int:
    monkeypatch.setenv("YUQING_HOME", str(home))
    with pytest.raises(SystemExit) as caught:
        main(["ledger", *argv])
    return int(caught.value.code or 0)


@pytest.mark.parametrize(
    ("rule", "start", "printed"),
    [
        ("workdays:3", "2026-09-29T10:00:00+08:00", "2026-10-09T23:59:59+08:00"),
        ("hours:48", "2026-09-30T20:00:00+08:00", "2026-10-02T20:00:00+08:00"),
        ("months:1", "2026-01-31T10:00:00+08:00", "2026-02-28T23:59:59+08:00"),
        ("workdays:20", "2026-12-20T09:00:00+08:00", "2027-01-15T23:59:59+08:00 provisional"),
    ],
)
def test_due_prints_the_due_moment_with_its_offset(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rule: str,
    start: str,
    printed: str,
) -> None:
    assert run(monkeypatch, tmp_path, "due", "--rule", rule, "--start", start, "--no-table") == 0
    out, err = capsys.readouterr()
    assert out.strip() == printed
    assert ("暂定" in err) == printed.endswith("provisional")


def test_the_holiday_table_feeds_due_and_a_bad_rule_is_a_chinese_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, tmp_path, "holiday", "add", "2027-01-01", "--name", "元旦") == 0
    due = ("due", "--rule", "workdays:20", "--start", "2026-12-20T09:00:00+08:00")
    assert run(monkeypatch, tmp_path, *due) == 0
    # One date counts, but 2027 is known only once its whole schedule is marked complete.
    assert capsys.readouterr().out.splitlines()[-1] == "2027-01-18T23:59:59+08:00 provisional"
    assert run(monkeypatch, tmp_path, "holiday", "complete", "2027") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "已录入完整的年份：2027"
    assert run(monkeypatch, tmp_path, *due) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2027-01-18T23:59:59+08:00"
    assert run(monkeypatch, tmp_path, "due", "--rule", "weeks:2", "--start", "2026-12-20T09:00:00+08:00") == 2
    assert "台账操作失败" in capsys.readouterr().err


def test_staff_open_sign_and_a_stale_version_is_a_conflict_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(
            monkeypatch,
            tmp_path,
            "open",
            "--class",
            "12345-help",
            "--unit",
            "区教育局",
            "--summary",
            "校车晚点",
            "--actor",
            "值班员",
            "--post-id",
            "board:demo:9",
        )
        == 0
    )
    found = re.search(r"YQ-[0-9a-f]{16}", capsys.readouterr().out)
    assert found is not None
    ticket_id = found.group()
    assert run(monkeypatch, tmp_path, "act", ticket_id, "sign", "--actor", "李四", "--version", "1") == 0
    assert "办理中" in capsys.readouterr().out
    assert run(monkeypatch, tmp_path, "act", ticket_id, "pause", "--actor", "赵六", "--version", "1") == 3
    assert "已被他人修改" in capsys.readouterr().err
    assert run(monkeypatch, tmp_path, "act", ticket_id, "close", "--actor", "李四") == 2
    assert run(monkeypatch, tmp_path, "act", ticket_id, "finish", "--actor", "李四") == 2
    assert "未知的办理动作" in capsys.readouterr().err
    assert run(monkeypatch, tmp_path, "export", str(tmp_path / "台账.xlsx")) == 0
    assert "已导出 1 条" in capsys.readouterr().out


def test_topic_corrections_on_tickets_export_as_training_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from classifiers.corrections import read_corrections
    from classifiers.training import read_labelled
    from tests.dashboard.samples import enriched_post, write_archive

    text = "站台顶棚塌了，请联系 13812345678 处理"
    post = enriched_post("c1", title="公交站台破损", text=text, published_at=datetime.now(UTC))
    write_archive(tmp_path / "archive.db", [post])
    # The second post is not in the archive.
    ids = [_open_on_post(monkeypatch, tmp_path, capsys, post_id) for post_id in (post["id"], "board:gone:1")]
    assert run(monkeypatch, tmp_path, "act", ids[0], "correct_topic", "--actor", "李四") == 2
    assert "更正主题须选择正确的主题" in capsys.readouterr().err
    for ticket_id, topic in ((ids[0], "城乡建设"), (ids[0], "交通运输"), (ids[1], "环境保护")):
        assert (
            run(monkeypatch, tmp_path, "act", ticket_id, "correct_topic", "--actor", "李四", "--topic", topic)
            == 0
        )
    out = tmp_path / "corrections" / "topic.csv"
    assert run(monkeypatch, tmp_path, "corrections", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "已导出 1 条更正（主题 1 条、情感 0 条、诉求类型 0 条、紧急程度 0 条；共 2 件工单）" in printed
    assert "另有 1 条关联帖子不在舆情库中" in printed
    texts, labels = read_labelled(out)  # what classify train --task topic reads
    assert labels == ["交通运输"]  # the latest correction of the ticket
    assert texts == ["公交站台破损 站台顶棚塌了，请联系 138****5678 处理"]  # phone masked
    assert read_corrections(out) == (texts, labels)
    row = out.read_text(encoding="utf-8").splitlines()[1]
    assert post["id"] in row and post["topic"]["label"] in row and "李四" in row


def _open_on_post(
    monkeypatch: pytest.MonkeyPatch, home: Path, capsys: pytest.CaptureFixture[str], post_id: str
) -> str:
    opened = ["open", "--class", "12345-help", "--unit", "区住建局", "--summary", "站台", "--actor", "值班员"]
    assert run(monkeypatch, home, *opened, "--post-id", post_id) == 0
    found = re.search(r"YQ-[0-9a-f]{16}", capsys.readouterr().out)
    assert found is not None
    return found.group()


def test_judgement_corrections_export_beside_topic_ones_one_row_per_post_and_task(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    from classifiers.corrections import read_corrections
    from tests.dashboard.samples import enriched_post, write_archive

    # The classifier said: negative, 投诉, risk 85 (urgent); topic 城市管理.
    post = enriched_post(
        "j1",
        title="举报渣土车",
        text="夜里偷倒渣土，电话 13812345678",
        published_at=datetime.now(UTC),
        risk=85,
    )
    write_archive(tmp_path / "archive.db", [post])
    ticket = _open_on_post(monkeypatch, tmp_path, capsys, post["id"])

    def act(*argv: str) -> int:
        return run(monkeypatch, tmp_path, "act", ticket, "correct_judgement", "--actor", "李四", *argv)

    assert act() == 2
    assert "更正研判须至少选择一项：情感、诉求类型或紧急程度" in capsys.readouterr().err
    assert act("--sentiment", "bad") == 2
    assert "情感须为negative、neutral、positive之一" in capsys.readouterr().err
    assert act("--sentiment", "neutral", "--appeal", "举报") == 0
    assert act("--appeal", "建议", "--urgent", "no") == 0  # leaves the sentiment as corrected
    assert (
        run(monkeypatch, tmp_path, "act", ticket, "correct_topic", "--actor", "王五", "--topic", "城乡建设")
        == 0
    )
    capsys.readouterr()
    out = tmp_path / "corrections.csv"
    assert run(monkeypatch, tmp_path, "corrections", "--out", str(out)) == 0
    assert (
        "已导出 4 条更正（主题 1 条、情感 1 条、诉求类型 1 条、紧急程度 1 条；共 1 件工单）"
        in capsys.readouterr().out
    )
    with out.open(encoding="utf-8", newline="") as handle:
        assert handle.readline().strip() == "text,label,task,previous_label,post_id,corrected_by,corrected_at"
        handle.seek(0)
        rows = list(csv.DictReader(handle))
    assert [(r["task"], r["label"], r["previous_label"], r["corrected_by"]) for r in rows] == [
        ("topic", "城乡建设", "城市管理", "王五"),
        ("sentiment", "neutral", "negative", "李四"),
        ("appeal", "建议", "投诉", "李四"),  # the latest of the ticket's two appeal corrections
        ("urgency", "no", "yes", "李四"),
    ]
    text = "举报渣土车 夜里偷倒渣土，电话 138****5678"
    assert {r["text"] for r in rows} == {text} and {r["post_id"] for r in rows} == {post["id"]}
    assert read_corrections(out, task="appeal") == ([text], ["建议"])
    assert read_corrections(out) == ([text], ["城乡建设"])  # topic unless told


def test_the_exported_ledger_masks_numbers_typed_into_a_summary_unless_asked_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    summary = "家长来电13912345678反映校车晚点"
    argv = ("open", "--class", "12345-help", "--unit", "区教育局", "--summary", summary, "--actor", "值班员")
    assert run(monkeypatch, tmp_path, *argv) == 0
    for flags, expected in (((), "家长来电139****5678反映校车晚点"), (("--unmasked",), summary)):
        path = tmp_path / f"台账{len(flags)}.xlsx"
        assert run(monkeypatch, tmp_path, "export", str(path), *flags) == 0
        cells = [str(c) for row in load_workbook(path).worksheets[0].iter_rows(values_only=True) for c in row]
        assert expected in cells
        assert (summary in cells) == bool(flags)
    capsys.readouterr()
