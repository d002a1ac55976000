"""领导简报 through Streamlit's AppTest: the page renders the briefing for 领导 and refuses 办理人员."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from archive.embedded import EmbeddedArchive
from core.china_time import CHINA_TZ
from dashboard.auth import Role, User
from response_ledger.db import make_engine, migrate
from tests.briefing.samples import DAY, XSS, posts, published, tickets, write_tickets

TIMEOUT_S = 60
LEADER = User("leader1", "王局长", Role.LEADER)
STAFF = User("staff1", "办理员乙", Role.STAFF, unit="区住房和城乡建设局")


def _page(home: str) -> None:
    """The AppTest script: the briefing page for the session's user (imports inside: AppTest runs
    this function's source on its own)."""
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import briefing
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    briefing.render(services_for(_Settings(home=_Path(home))), st.session_state.get("user"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home with the briefing samples in its archive and ledger, and one stored briefing file."""
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    archive = EmbeddedArchive(path / "archive.db")
    archive.index(posts())
    archive.close()
    engine: Engine = make_engine(f"sqlite:///{path / 'ledger.db'}")
    migrate(engine)
    write_tickets(engine, tickets())
    engine.dispose()
    (path / "briefings").mkdir()
    (path / "briefings" / "舆情日报-2026-03-04.docx").write_bytes(b"stored")
    yield path


def _run(home: Path, user: User) -> AppTest:
    app = AppTest.from_function(_page, args=(str(home),), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_leader_sees_the_briefing_of_the_chosen_day(home: Path) -> None:
    app = _run(home, LEADER)
    assert app.title[0].value == "领导简报"
    app.date_input(key="briefing_date").set_value(DAY).run()
    assert not app.exception, [e.value for e in app.exception]
    day = [p for p in posts() if published(p).date() == DAY]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["舆情总量"] == str(len(day))
    negative = sum(p["sentiment"]["label"] == "negative" for p in day)
    assert metrics["负面占比"] == f"{negative / len(day) * 100:.1f}%"
    frames = {tuple(frame.value.columns)[:2]: frame.value for frame in app.dataframe}
    assert {
        ("来源", "本期"),
        ("序号", "代表帖子"),
        ("风险分", "发布时间"),
        ("责任单位", "新增"),
        ("工单编号", "责任单位"),
    } <= set(frames)
    assert XSS in frames[("风险分", "发布时间")]["标题"].tolist()  # post text only inside dataframe cells
    ledger = frames[("责任单位", "新增")]
    assert ledger["新增"].tolist()[-1] == str(sum(row["opened_at"].date() == DAY for row in tickets()))
    assert frames[("文件", "大小（KB）")]["文件"].tolist() == ["舆情日报-2026-03-04.docx"]
    assert [s.value for s in app.subheader][:2] == ["舆情日报（2026年03月05日）", "一、总体态势"]
    assert len(app.get("download_button")) == 2
    shown = [*app.markdown, *app.caption, *app.title, *app.subheader, *app.info]
    assert not any("<script" in str(element.value) for element in shown)


def test_an_empty_day_says_so(home: Path) -> None:
    app = _run(home, LEADER)
    app.date_input(key="briefing_date").set_value(datetime(2026, 6, 1).date()).run()
    assert any(info.value == "本期无舆情数据。" for info in app.info)
    assert {m.label: m.value for m in app.metric}["舆情总量"] == "0"


def test_staff_are_refused(home: Path) -> None:
    app = _run(home, STAFF)
    assert [e.value for e in app.error] == ["无权访问此页面。"]
    assert not app.metric and not app.dataframe and not app.title
