"""The 修改密码 form in the sidebar (AppTest, every role), and the idle check before every write."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.china_time import CHINA_TZ
from dashboard.accounts import Accounts
from dashboard.auth import Role, User
from dashboard.sessions import Ended, SessionStore
from tests.dashboard.samples import add_account, sample_posts, write_archive
from yuqing.settings import Settings

APP = Path(__file__).resolve().parents[2] / "yuqing" / "dashboard_app.py"
TIMEOUT_S = 60
PASSWORD = "test-pass-1"  # add_account's password for every test account
ROLES = {
    Role.DUTY: User("duty1", "值班员甲", Role.DUTY),
    Role.LEADER: User("leader1", "领导甲", Role.LEADER),
    Role.STAFF: User("staff1", "办理员甲", Role.STAFF, "区交通运输局"),
    Role.ANALYST: User("analyst1", "分析员甲", Role.ANALYST),
    Role.ADMIN: User("admin1", "管理员甲", Role.ADMIN),
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh YUQING_HOME with the sample posts, every other YUQING_ variable unset."""
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    monkeypatch.setenv("YUQING_HOME", str(path))
    write_archive(path / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    return path


def signed_in(home: Path, user: User) -> tuple[AppTest, Accounts]:
    accounts = add_account(Settings(home=home).ledger_sqlalchemy_url, user)
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app, accounts


def submit(app: AppTest, current: str, new: str, again: str) -> AppTest:
    app.text_input(key="password_current").input(current)
    app.text_input(key="password_new").input(new)
    app.text_input(key="password_again").input(again)
    next(button for button in app.button if button.label == "确认修改").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("role", list(Role))
def test_every_role_finds_the_form_in_the_sidebar(home: Path, role: Role) -> None:
    app, _ = signed_in(home, ROLES[role])
    assert "修改密码" in [expander.label for expander in app.sidebar.expander]
    labels = [field.label for field in app.sidebar.text_input]
    assert labels[:3] == ["当前密码", "新密码", "再次输入新密码"]


def test_a_changed_password_signs_the_other_sessions_out(home: Path) -> None:
    user = ROLES[Role.DUTY]
    app, accounts = signed_in(home, user)
    store = SessionStore(accounts.engine, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    elsewhere = store.start(user.username, datetime.now(CHINA_TZ)).session_id
    submit(app, PASSWORD, "new-duty-pass-2", "new-duty-pass-2")
    assert [s.value for s in app.success] == ["密码已修改，您在其他地方的登录已退出。"]
    assert store.check(datetime.now(CHINA_TZ), session_id=elsewhere) is Ended.REVOKED
    assert accounts.sign_in(user.username, "new-duty-pass-2", datetime.now(CHINA_TZ)) == user


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not-my-pass-1", "new-duty-pass-2", "new-duty-pass-2", "当前密码不正确"),
        (PASSWORD, "new-duty-pass-2", "new-duty-pass-3", "两次输入的新密码不一致。"),
        (PASSWORD, "short-2", "short-2", "密码至少需要 10 个字符"),
        ("", "new-duty-pass-2", "new-duty-pass-2", "请填写当前密码和新密码。"),
    ],
)
def test_a_refused_change_says_why_in_chinese_and_keeps_the_password(
    home: Path, current: str, new: str, again: str, message: str
) -> None:
    user = ROLES[Role.DUTY]
    app, accounts = signed_in(home, user)
    submit(app, current, new, again)
    assert [e.value for e in app.error] == [message] and not app.success
    assert accounts.sign_in(user.username, PASSWORD, datetime.now(CHINA_TZ)) == user


def _click_as(home: str, session_id: int) -> None:
    from pathlib import Path

    import streamlit as st

    from dashboard.auth import Role, User
    from dashboard.session import SESSION_KEY, as_account_now
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings

    st.session_state[SESSION_KEY] = session_id
    done: list[User] = []
    step = as_account_now(lambda _services, user: done.append(user))
    step(services_for(Settings(home=Path(home))), User("duty1", "值班员甲", Role.DUTY))
    st.write("已写入" if done else "未写入")


@pytest.mark.parametrize(
    ("idle_for", "shown"), [(timedelta(minutes=5), "已写入"), (timedelta(hours=2), "未写入")]
)
def test_a_write_after_the_idle_limit_does_nothing(home: Path, idle_for: timedelta, shown: str) -> None:
    """The idle limit is checked before every write callback, not only when a page renders."""
    settings = Settings(home=home)
    accounts = add_account(settings.ledger_sqlalchemy_url, ROLES[Role.DUTY])
    store = SessionStore(accounts.engine, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    session_id = store.start("duty1", datetime.now(CHINA_TZ) - idle_for).session_id
    app = AppTest.from_function(_click_as, args=(str(home), session_id), default_timeout=TIMEOUT_S)
    app.run()
    assert not app.exception and [m.value for m in app.markdown] == [shown]
