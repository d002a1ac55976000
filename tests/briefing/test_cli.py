"""``yuqing briefing`` from the command line, against the sample archive and ledger under YUQING_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from yuqing.cli import main
from yuqing.service import child_specs
from yuqing.settings import Settings


@pytest.fixture
def home(tmp_path: Path, archive: EmbeddedArchive, ledger: Engine, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixtures' home (archive and ledger filled) as YUQING_HOME, other YUQING_ variables unset."""
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("YUQING_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _run(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["briefing", *argv])
    return int(exit_info.value.code or 0)


def test_one_off_writes_the_named_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "日报.html"
    assert _run("--date", "2026-03-05", "--out", str(out)) == 0
    assert "&lt;script&gt;" in out.read_text("utf-8")
    assert "已生成舆情日报（2026年03月05日）" in capsys.readouterr().out


def test_default_output_goes_to_the_briefings_folder(home: Path) -> None:
    assert _run("--date", "2026-03-05", "--period", "week") == 0
    assert (home / "briefings" / "舆情周报-2026-03-02.docx").exists()


def test_bad_input_is_one_chinese_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("--date", "2026-02-30") == 2
    assert "无法识别的日期" in capsys.readouterr().err
    assert _run("--date", "2026-03-05", "--out", str(tmp_path / "x.pdf")) == 2


def test_the_service_runs_the_one_scheduler() -> None:
    (child,) = [c for c in child_specs(Settings(briefing_at="06:45")) if c.name == "scheduler"]
    assert child.argv[-1] == "schedule"
    assert not [c for c in child_specs(Settings()) if "briefing" in c.argv]
