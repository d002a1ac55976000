"""``python -m crawlers`` hands over to ``python -m yuqing crawl``: the composition root builds the broker."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import crawlers.__main__ as entry


def test_the_options_become_a_yuqing_crawl_command_line_and_environment(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    command, env = entry.yuqing_command(["--sources", str(sources), "--fast"], {"YUQING_HOME": "/h"})
    assert command[0] == sys.executable
    assert command[-4:] == ["-m", "yuqing", "crawl", "--fast"]
    assert env == {"YUQING_HOME": "/h", "YUQING_SOURCES_FILE": str(sources)}

    command, env = entry.yuqing_command([], {})
    assert command[-3:] == ["-m", "yuqing", "crawl"] and env == {}


def test_warning_options_of_the_interpreter_carry_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "warnoptions", ["error"])
    command, _ = entry.yuqing_command([], {})
    assert command == [sys.executable, "-Werror", "-m", "yuqing", "crawl"]


def test_main_replaces_the_process_with_the_yuqing_command(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], dict[str, str]]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append((path, argv, env))

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setattr(os, "environ", {"YUQING_HOME": "/h"})
    entry.main(["--fast"])
    [(path, argv, env)] = calls
    assert path == sys.executable and argv[-4:] == ["-m", "yuqing", "crawl", "--fast"]
    assert env == {"YUQING_HOME": "/h"}
