"""Sign-in in Debian's chromium: the server-side session survives F5 and tabs, ends at sign-out and
when idle; deep links survive the sign-in; each role lands on its page; unknown addresses in Chinese."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.china_time import CHINA_TZ
from dashboard.accounts import Accounts
from dashboard.auth import Role
from dashboard.sessions import COOKIE
from response_ledger.db import migrated_engine
from tests.dashboard.samples import sample_posts, write_archive
from tests.dashboard.test_browser import needs_chromium
from tests.servers import ServerProcess, free_port, http_ok
from yuqing import screenshot
from yuqing.dashboard_launch import streamlit_argv
from yuqing.settings import Settings

UNIT = "区住房和城乡建设局"
USERS = {
    Role.DUTY: ("duty1", "duty-pass-1"),
    Role.LEADER: ("leader1", "leader-pass-1"),
    Role.STAFF: ("staff1", "staff-pass-1"),
    Role.ANALYST: ("analyst1", "analyst-pass-1"),
    Role.ADMIN: ("admin1", "admin-pass-1"),
}
LANDS_ON = {
    Role.DUTY: "值班监测",
    Role.LEADER: "领导简报",
    Role.STAFF: "回应台账",
    Role.ANALYST: "舆情检索",
    Role.ADMIN: "系统管理",
}
TIMEOUT = 60_000
pytestmark = [needs_chromium, pytest.mark.slow]


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Start the dashboard (one account per role) with the given ``YUQING_*`` extras; its URL."""
    servers: list[ServerProcess] = []

    def start(**env: str) -> str:
        for name in list(os.environ):
            if name.startswith("YUQING_"):
                monkeypatch.delenv(name)
        home = tmp_path / "home"
        now = datetime.now(CHINA_TZ)
        write_archive(home / "archive.db", sample_posts(now))
        accounts = Accounts(migrated_engine(f"sqlite:///{home / 'ledger.db'}"))
        for role, (username, password) in USERS.items():
            accounts.add(
                username, role.label + "甲", role, password, now, unit=UNIT if role is Role.STAFF else None
            )
        accounts.engine.dispose()
        monkeypatch.setenv("YUQING_HOME", str(home))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings(home=home, dashboard_port=free_port())
        url = f"http://127.0.0.1:{settings.dashboard_port}"
        server = ServerProcess(
            "dashboard",
            streamlit_argv(settings),
            lambda: http_ok(f"{url}/_stcore/health"),
            tmp_path / "st.log",
        )
        server.start()
        servers.append(server)
        return url

    yield start
    for server in servers:
        server.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, launched as ``yuqing.screenshot`` does."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(screenshot.CHROMIUM), args=list(screenshot.CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    return page


def sign_in(page: Any, role: Role) -> None:
    """Sign in as ``role``'s account and wait until the browser holds the session cookie."""
    username, password = USERS[role]
    screenshot.sign_in(page, username, password, TIMEOUT)
    session_cookie(page.context)


def session_cookie(context: Any, wait_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == COOKIE]
        if found:
            return dict(found[0])
        time.sleep(0.2)
    raise AssertionError("the session cookie was never set")


def title(page: Any, text: str) -> None:
    page.wait_for_selector(f"h1:has-text('{text}')", timeout=TIMEOUT)


def sign_in_form(page: Any) -> None:
    page.get_by_label("用户名").wait_for(timeout=TIMEOUT)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")


def test_a_sign_in_survives_f5_and_a_second_tab_and_ends_at_sign_out(
    serve: Callable[..., str], tmp_path: Path
) -> None:
    url = serve()
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = new_page(context, url)
        sign_in_form(page)
        page.screenshot(path=str(out / "signin.png"))
        sign_in(page, Role.DUTY)
        title(page, "值班监测")
        cookie = session_cookie(context)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert page.evaluate("document.cookie").find(COOKIE) == -1  # the page's script cannot read it

        page.reload()  # F5
        title(page, "值班监测")
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")
        page.wait_for_timeout(1_000)
        assert page.get_by_label("用户名").count() == 0
        page.screenshot(path=str(out / "monitor-after-f5.png"))

        second = new_page(context, url)  # a second tab of the same browser
        title(second, "值班监测")

        stranger = browser.new_context()  # another browser: no cookie, the sign-in form
        sign_in_form(new_page(stranger, url))

        page.get_by_role("button", name="退出登录").click()
        sign_in_form(page)
        deadline = time.monotonic() + 10
        while any(c["name"] == COOKIE for c in context.cookies()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(c["name"] == COOKIE for c in context.cookies())  # deleted by the server

        # The old token, replayed in a fresh browser, is refused: the session was revoked.
        replay = browser.new_context()
        replay.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
        sign_in_form(new_page(replay, url))
        second.reload()
        sign_in_form(second)


def test_a_session_idle_past_the_limit_signs_out(serve: Callable[..., str]) -> None:
    url = serve(YUQING_SESSION_IDLE_MINUTES="0.1")  # six seconds
    with chromium() as browser:
        page = new_page(browser.new_context(locale="zh-CN"), url)
        sign_in(page, Role.DUTY)
        title(page, "值班监测")
        page.wait_for_timeout(8_000)
        page.reload()
        sign_in_form(page)
        assert "长时间未操作" in page.inner_text("body")


def test_a_deep_link_asked_before_sign_in_is_where_the_sign_in_lands(serve: Callable[..., str]) -> None:
    url = serve()
    with chromium() as browser:
        page = new_page(browser.new_context(locale="zh-CN"), f"{url}/ledger")
        sign_in_form(page)
        sign_in(page, Role.DUTY)  # a duty officer lands on 值班监测 otherwise
        title(page, "回应台账")
        assert page.url.endswith("/ledger")


def test_each_role_lands_where_it_works(serve: Callable[..., str]) -> None:
    url = serve()
    with chromium() as browser:
        for role, heading in LANDS_ON.items():
            page = new_page(browser.new_context(locale="zh-CN"), url)
            sign_in(page, role)
            title(page, heading)


def test_an_unknown_address_is_a_chinese_not_found_page(serve: Callable[..., str]) -> None:
    url = serve()
    with chromium() as browser:
        page = new_page(browser.new_context(locale="zh-CN"), f"{url}/nowhere")
        title(page, "页面不存在")
        page.wait_for_timeout(1_000)
        assert "Page not found" not in page.inner_text("body")
        page = new_page(browser.new_context(locale="zh-CN"), url)
        sign_in(page, Role.STAFF)
        title(page, "回应台账")
        page.goto(f"{url}/admin")  # a page this role may not open reads the same
        title(page, "页面不存在")
        assert "Page not found" not in page.inner_text("body")
