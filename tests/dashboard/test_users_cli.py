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


def test_a_users_role_unit_and_name_change_and_units_come_from_the_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("add", "duty1", "--role", "duty", "--name", "值班员甲", "--password-stdin")
    assert run(monkeypatch, tmp_path, *add, stdin="duty-pass-1\n") == 0
    # 区住建局 is what people type; no ticket, topic or policy names it.
    assert run(monkeypatch, tmp_path, "set", "duty1", "--role", "staff", "--unit", "区住建局") == 1
    err = capsys.readouterr().err
    assert "单位“区住建局”不在单位名录中" in err and "区住房和城乡建设局" in err
    assert run(monkeypatch, tmp_path, "set", "duty1", "--role", "staff") == 1
    assert "办理人员必须指定所属单位" in capsys.readouterr().err
    assert run(monkeypatch, tmp_path, "set", "duty1", "--role", "staff", "--unit", "区住房和城乡建设局") == 0
    assert run(monkeypatch, tmp_path, "set", "duty1", "--name", "办理员甲") == 0
    capsys.readouterr()
    assert run(monkeypatch, tmp_path, "list") == 0
    assert capsys.readouterr().out.splitlines() == ["duty1\t办理员甲\t办理人员\t区住房和城乡建设局\t启用"]
    staff = ("add", "staff2", "--role", "staff", "--unit", "区住建局", "--password-stdin")
    assert run(monkeypatch, tmp_path, *staff, stdin="staff-pass-2\n") == 1
    assert run(monkeypatch, tmp_path, "passwd", "duty1", "--password-stdin", stdin="new-pass-12\n") == 0
    assert "登录会话已退出" in capsys.readouterr().out
