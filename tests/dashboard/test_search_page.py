"""舆情检索 through AppTest: hits with marked snippets, a bad query's message, charts, and the role check."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import Role, User
from stream.messages import CHINA_TZ
from tests.dashboard.samples import XSS_TITLE, sample_posts, write_archive

TIMEOUT_S = 60
ANALYST = User("analyst1", "分析员甲", Role.ANALYST)


def _page(home: str) -> None:
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import search
    from yuqing.settings import Settings

    search.render(Settings(home=_Path(home)), st.session_state.get("user"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    write_archive(path / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    return path


def open_page(home: Path, user: User = ANALYST) -> AppTest:
    app = AppTest.from_function(_page, args=(str(home),), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def search(app: AppTest, text: str) -> AppTest:
    app.text_input(key="search_text").input(text)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_a_search_lists_the_hits_with_the_match_marked(home: Path) -> None:
    app = search(open_page(home), "材料")
    table = app.dataframe[0].value
    assert list(table["标题"]) == ["咨询公积金提取流程"]
    assert "共 1 条结果" in app.subheader[0].value
    assert table["命中片段"][0] == "想了解提取需要哪些【材料】。"


def test_a_bad_query_says_what_is_wrong_instead_of_failing(home: Path) -> None:
    app = search(open_page(home), '"未闭合的引号')
    assert app.error and app.error[0].value.startswith("查询有误：")
    assert not app.dataframe


def test_untrusted_text_in_hits_stays_plain_text(home: Path) -> None:
    app = search(open_page(home), "链接")
    table = app.dataframe[0].value
    assert XSS_TITLE in set(table["标题"])
    assert not [m for m in app.markdown if "javascript:" in m.value or "<img" in m.value]


def test_staff_may_not_search(home: Path) -> None:
    app = open_page(home, User("s1", "办理员", Role.STAFF, "区交通运输局"))
    assert app.error[0].value == "无权访问此页面。" and not app.text_input
