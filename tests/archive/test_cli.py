"""``yuqing search`` and ``yuqing archive``: Chinese messages, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.embedded import EmbeddedArchive
from tests.archive.samples import dataset
from yuqing.cli import build_parser
from yuqing.settings import Settings


def run(settings: Settings, *argv: str) -> int:
    """Run one command line with ``settings``, as ``yuqing`` would."""
    args = build_parser().parse_args(list(argv))
    return int(args.handler(settings, args))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose embedded archive holds the sample posts."""
    settings = Settings(home=tmp_path / "home")
    archive = EmbeddedArchive(settings.archive_path)
    archive.index(list(dataset().values()))
    archive.close()
    return settings


def test_a_bad_query_prints_where_it_is_wrong(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "search", "停车 risk:80..60") == 2
    err = capsys.readouterr().err
    assert "查询有误：范围“80..60”写反了" in err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "  " + " " * 10 + "^"  # under the range (停车 is four columns wide)


def test_search_pages_by_cursor_and_marks_highlights(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "search", "停车 OR 噪音", "--size", "2", "--sort", "risk") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["total"] == 5 and len(lines) == 3
    assert lines[1]["_highlight"]["title"] == [[8, 10]]  # 反映工地夜间施工[噪音]扰民
    assert (
        run(
            settings,
            "search",
            "停车 OR 噪音",
            "--size",
            "9",
            "--sort",
            "risk",
            "--after",
            lines[0]["next_after"],
        )
        == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_search_exports_with_a_progress_bar(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "search", "source:board", "--export", str(tmp_path / "board.xlsx")) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"exported": 3, "path": str(tmp_path / "board.xlsx")}
    assert "导出" in captured.err and "3/3" in captured.err


def test_saved_searches_run_by_name(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "archive", "saved", "add", "热线", "source:hotline", "--alert", "5") == 0
    assert run(settings, "archive", "saved", "add", "坏的", '"停车') == 2
    assert "引号不成对" in capsys.readouterr().err
    assert run(settings, "archive", "saved", "list") == 0
    assert json.loads(capsys.readouterr().out)["alert_threshold"] == 5
    assert run(settings, "search", "--saved", "热线") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["total"] == 2
    assert run(settings, "archive", "trend", "--saved", "热线", "--interval", "week") == 0
    assert len(capsys.readouterr().out.splitlines()) == 6  # weeks of 6 May to 10 June
    assert run(settings, "archive", "shares", "topic", "停车") == 0
    assert json.loads(capsys.readouterr().out) == {"交通出行": 3}
    assert run(settings, "archive", "top", "--events", "停车") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["event"] == "ev-parking"
    assert run(settings, "archive", "reindex") == 0
    assert json.loads(capsys.readouterr().out) == {"reindexed": 10}


SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED_DATA / "stream").is_dir(), reason="needs the shared real data beside the repo"
)
def test_the_archive_bench_reuses_the_archive_it_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home")
    argv = ["bench", "archive", "--posts", "300", "--batch", "100", "--workers", "1"]
    argv += ["--data-dir", str(SHARED_DATA), "--dir", str(tmp_path / "bench")]
    assert run(settings, *argv) == 0
    captured = capsys.readouterr()
    first = json.loads(captured.out)
    assert first["loaded"] is True and first["load_posts_per_second"] > 0
    assert "search[time] 欠薪" in captured.err  # each query's timings, slowest first
    assert run(settings, *argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["loaded"] is False and second["load_posts_per_second"] is None
    assert second["posts"] == 300 and second["query_p95_ms"] > 0
    with pytest.raises(SystemExit, match="已有 300 条帖子而不是 200 条"):
        run(settings, *[("200" if arg == "300" else arg) for arg in argv])
