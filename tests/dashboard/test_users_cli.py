"""``yuqing users …`` end to end through the real entry point, on a SQLite ledger under a temp home."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from yuqing.cli import main


def run(monkeypatch: pytest.MonkeyPatch, home: Path, *argv: str, stdin: str = "") -> int:
    monkeypatch.setenv("YUQING_HOME", str(home))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as caught:
        main(["users", *argv])
    return int(caught.value.code or 0)


def test_accounts_are_added_disabled_enabled_and_the_last_administrator_stays(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = ("add", "boss", "--role", "admin", "--password-stdin")
    staff = ("add", "staff1", "--role", "staff", "--unit", "区交通运输局", "--password-stdin")
    assert run(monkeypatch, tmp_path, *admin, stdin="boss-pass-1\n") == 0
    assert run(monkeypatch, tmp_path, *staff, stdin="staff-pass-1\n") == 0
    assert run(monkeypatch, tmp_path, "disable", "staff1") == 0
    assert run(monkeypatch, tmp_path, "disable", "boss") == 1
    assert "操作失败：不能停用最后一名启用的管理员" in capsys.readouterr().err
    assert run(monkeypatch, tmp_path, "list") == 0
    assert [line.split("\t")[::4] for line in capsys.readouterr().out.splitlines()] == [
        ["boss", "启用"],
        ["staff1", "停用"],
    ]
    assert run(monkeypatch, tmp_path, "enable", "staff1") == 0
    assert run(monkeypatch, tmp_path, "enable", "nobody") == 1
    assert "没有用户 nobody" in capsys.readouterr().err
    assert run(monkeypatch, tmp_path, "list") == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("\t启用")
