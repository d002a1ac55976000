"""The dashboard served by its launcher and seen in Debian's chromium, as ``yuqing.screenshot`` sees it."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard.accounts import Accounts
from dashboard.auth import Role
from dashboard.launch import streamlit_argv
from stream.messages import CHINA_TZ
from tests.dashboard.samples import XSS_TITLE, sample_posts, write_archive
from tests.servers import ServerProcess, free_port, http_ok
from yuqing import screenshot
from yuqing.settings import Settings

# `make test` installs chromium where it is missing; CI (YUQING_REQUIRE_SERVERS=1) fails rather than skips.
USERNAME, PASSWORD = "viewer", "viewer-pass-1"
needs_chromium = pytest.mark.skipif(
    not screenshot.CHROMIUM.exists() and os.environ.get("YUQING_REQUIRE_SERVERS") != "1",
    reason=f"no {screenshot.CHROMIUM}: {screenshot.INSTALL_HINT}",
)


@pytest.fixture
def dashboard_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The dashboard over the five sample posts, started with the launcher's argv on a free port."""
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    Accounts(f"sqlite:///{home / 'ledger.db'}").add(
        USERNAME, "值班员", Role.DUTY, PASSWORD, datetime.now(CHINA_TZ)
    )
    monkeypatch.setenv("YUQING_HOME", str(home))  # inherited by the server process
    settings = Settings(home=home, dashboard_port=free_port())
    url = f"http://127.0.0.1:{settings.dashboard_port}"
    server = ServerProcess(
        "dashboard",
        streamlit_argv(settings),
        lambda: http_ok(f"{url}/_stcore/health"),
        tmp_path / "streamlit.log",
    )
    server.start()
    yield url
    server.stop()


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def test_missing_browser_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = screenshot.main(
        ["--out", str(tmp_path / "shot.png"), "--chromium", str(tmp_path / "no-chromium")]
    )
    assert status == 1
    assert "apt-get install -y chromium fonts-noto-cjk" in capsys.readouterr().err


@needs_chromium
def test_a_dashboard_that_is_not_running_is_a_clear_error(tmp_path: Path) -> None:
    shot = screenshot.Shot(url=f"http://127.0.0.1:{free_port()}", out=tmp_path / "shot.png", timeout_s=10)
    with pytest.raises(screenshot.ScreenshotError, match="is the dashboard running"):
        screenshot.take(shot)


@needs_chromium
@pytest.mark.slow
def test_screenshot_of_the_served_dashboard_shows_the_table(dashboard_url: str, tmp_path: Path) -> None:
    out = tmp_path / "dashboard.png"
    screenshot.take(screenshot.Shot(url=dashboard_url, out=out, username=USERNAME, password=PASSWORD))
    width, height = png_size(out)
    assert width == 1440 and height >= 900


@pytest.fixture
def browser_page(dashboard_url: str) -> Iterator[Any]:
    """A fresh page of Debian's chromium on the served dashboard's sign-in form."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(screenshot.CHROMIUM), args=list(screenshot.CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page()
            page.goto(dashboard_url)
            yield page
        finally:
            browser.close()


@needs_chromium
@pytest.mark.slow
def test_the_browser_shows_untrusted_titles_as_text_and_runs_none_of_their_script(browser_page: Any) -> None:
    from playwright.sync_api import Dialog

    page = browser_page
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    screenshot.sign_in(page, USERNAME, PASSWORD, 60_000)
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    page.wait_for_timeout(1_000)
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("script:has-text('xss')").count() == 0
    assert "值班监测" in page.inner_text("body")
    # The grid draws on a canvas and mirrors its cells in an accessible table: the title is text.
    assert XSS_TITLE in page.locator("[data-testid='stDataFrame'] table").first.inner_text()
    assert dialogs == []


@needs_chromium
@pytest.mark.slow
def test_a_wrong_password_in_the_browser_shows_the_error_and_no_data(browser_page: Any) -> None:
    page = browser_page
    screenshot.sign_in(page, USERNAME, "not-the-password-1", 60_000)
    page.wait_for_selector("[data-testid='stAlertContentError']", timeout=60_000)
    assert "用户名或密码错误" in page.inner_text("body")
    assert page.locator("[data-testid='stDataFrame']").count() == 0
