"""Outside the demo, nothing that writes pseudonyms starts without the deployment's own key."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.cli import main


@pytest.mark.parametrize("argv", [["crawl"], ["crawl", "--every", "60"], ["up"]])
def test_the_crawler_and_the_service_refuse_to_start_without_a_salt(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("YUQING_HOME", str(tmp_path))
    monkeypatch.delenv("YUQING_AUTHOR_SALT", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "YUQING_AUTHOR_SALT" in err and "secrets.token_hex(32)" in err
    assert not (tmp_path / "crawl").exists()  # refused before anything started


def test_the_demo_makes_a_key_of_its_own_once_and_keeps_it(tmp_path: Path) -> None:
    from yuqing.service import _demo_salt

    first = _demo_salt(tmp_path)
    assert len(first) == 64 and _demo_salt(tmp_path) == first
    assert (tmp_path / "demo-author-salt").stat().st_mode & 0o077 == 0
