"""领导简报 through Streamlit's AppTest: the page renders the briefing for 领导 and refuses 办理人员."""

from __future__ import annotations

import io
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


# 待领导决策事项 acted on, the Word template's faults named, tables drawn whole (issue 24).


def _page_with(home: str, docx_template: str, template_file: str) -> None:
    """The briefing page with an office Word template and/or a briefing template file."""
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import briefing
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    settings = _Settings(
        home=_Path(home),
        briefing_docx_template=_Path(docx_template) if docx_template else None,
        briefing_template_file=_Path(template_file) if template_file else None,
    )
    briefing.render(services_for(settings), st.session_state.get("user"))


def _open(
    home: Path, user: User, *, docx_template: Path | None = None, template_file: Path | None = None
) -> AppTest:
    from tests.dashboard.samples import add_account
    from yuqing.settings import Settings

    add_account(Settings(home=home).ledger_sqlalchemy_url, user)  # each click reads the account again
    args = (str(home), str(docx_template or ""), str(template_file or ""))
    app = AppTest.from_function(_page_with, args=args, default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    app.date_input(key="briefing_date").set_value(DAY).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _events(home: Path, ticket_id: str) -> list[tuple[str, str, str]]:
    from response_ledger.unit_of_work import SqlUnitOfWork

    engine = make_engine(f"sqlite:///{home / 'ledger.db'}")
    try:
        with SqlUnitOfWork(engine) as uow:
            return [(e.action.value, e.actor, e.comment) for e in uow.tickets.get(ticket_id).events]
    finally:
        engine.dispose()


def test_a_leader_writes_an_instruction_on_a_ticket_awaiting_a_decision(home: Path) -> None:
    app = _open(home, LEADER)
    box = app.selectbox(key="briefing_decision")
    assert box.value is None  # nothing picked until the leader picks
    assert {option.split("（")[0] for option in box.options} == {"T6", "T4", "T10"}
    box.set_value("T6").run()
    [link] = app.get("page_link")
    assert link.proto.label == "在回应台账中打开（审批延期、督办）" and "ticket=T6" in link.proto.query_string
    app.text_area(key="briefing_instruction").input("请区人社局三日内报送延期理由").run()
    app.button(key="briefing_instruct").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert [s.value for s in app.success] == ["已在工单 T6 记录批示，承办单位可在回应台账中查看。"]
    assert app.text_area(key="briefing_instruction").value == ""
    assert _events(home, "T6") == [("instruct", "王局长（leader1）", "请区人社局三日内报送延期理由")]


def test_a_refused_instruction_says_why_and_keeps_the_note(home: Path) -> None:
    from sqlalchemy import update

    from response_ledger import tables as t

    app = _open(home, LEADER)
    app.selectbox(key="briefing_decision").set_value("T4").run()
    app.button(key="briefing_instruct").click().run()
    assert [e.value for e in app.error] == ["请先填写批示内容。"]
    engine = make_engine(f"sqlite:///{home / 'ledger.db'}")
    with engine.begin() as connection:  # closed meanwhile, by someone else
        connection.execute(update(t.tickets).where(t.tickets.c.id == "T4").values(status="已办结"))
    engine.dispose()
    app.text_area(key="briefing_instruction").input("请加快办理").run()
    app.button(key="briefing_instruct").click().run()
    assert [e.value for e in app.error] == ["批示未能记录：工单 T4 当前状态为“已办结”，不能批示。"]
    assert app.text_area(key="briefing_instruction").value == "请加快办理"
    assert _events(home, "T4") == []


def test_a_duty_officer_opens_the_ticket_but_writes_no_instruction(home: Path) -> None:
    from unittest.mock import patch

    from dashboard.sections import briefing_decisions
    from tests.dashboard.samples import add_account
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings

    duty = User("duty1", "值班员甲", Role.DUTY)
    app = _open(home, duty)
    app.selectbox(key="briefing_decision").set_value("T6").run()
    assert len(app.get("page_link")) == 1
    assert not [area for area in app.text_area if area.key == "briefing_instruction"]
    settings = Settings(home=home)
    add_account(settings.ledger_sqlalchemy_url, duty)
    with patch.object(briefing_decisions.st, "session_state", {"briefing_instruction": "越权批示"}) as state:
        briefing_decisions._instruct(services_for(settings), duty, "T6")
        assert state["briefing_decision_flash"] == ("error", "只有领导可以批示。")
    assert _events(home, "T6") == []


def test_every_briefing_table_is_drawn_whole() -> None:
    import inspect

    from dashboard.app_pages import briefing

    # A month's per-unit table must show its 合计 without scrolling: no table gets a fixed height.
    assert 'height="content"' in inspect.getsource(briefing._briefing)


def test_an_unusable_word_template_is_named_instead_of_an_outage(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "模板" / "简报模板.docx"
    app = _open(home, LEADER, docx_template=missing)
    [error] = [e.value for e in app.error]
    assert error.startswith("Word 模板有误，无法生成 Word 版：Word 模板文件不存在")
    assert str(missing) in error and "YUQING_BRIEFING_DOCX_TEMPLATE" in error
    assert "暂时无法读取" not in error
    assert [b.proto.label for b in app.get("download_button")] == ["下载所选文件"]  # the stored files stay
    assert app.metric  # the briefing itself is still shown
    not_word = tmp_path / "模板.docx"
    not_word.write_text("不是 Word 文件", encoding="utf-8")
    app = _open(home, LEADER, docx_template=not_word)
    assert "不是 Word 文档（.docx）" in app.error[0].value


def test_the_word_download_is_written_into_the_offices_template(home: Path, tmp_path: Path) -> None:
    from docx import Document

    from dashboard.briefing_data import docx_of
    from tests.briefing.office_template import MARGINS_MM, make_office_template
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings

    template = make_office_template(tmp_path / "办公室模板.docx")
    app = _open(home, LEADER, docx_template=template)
    assert not app.error
    assert "下载 Word 版（.docx）" in [b.proto.label for b in app.get("download_button")]
    settings = Settings(home=home, briefing_docx_template=template)
    document = Document(io.BytesIO(docx_of(services_for(settings), DAY, "day")))
    texts = "\n".join(p.text for p in document.paragraphs)
    assert "{{" not in texts and "一、总体态势" in texts
    builtin = Document(io.BytesIO(docx_of(services_for(Settings(home=home)), DAY, "day")))
    # The office's page setup, not the built-in GB/T 9704 one (left margin 28 mm).
    assert (
        round(document.sections[0].left_margin.mm)
        == MARGINS_MM[2]
        != round(builtin.sections[0].left_margin.mm)
    )


def test_a_broken_briefing_template_file_is_named_not_called_an_outage(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text("sections: [headline, nonsense]\n", encoding="utf-8")
    app = _open(home, LEADER, template_file=broken)
    [error] = [e.value for e in app.error]
    assert error.startswith("简报模板配置有误") and str(broken) in error and "暂时无法读取" not in error
