"""The dashboard served by its launcher and seen in Debian's chromium, as ``yuqing.screenshot`` sees it."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.china_time import CHINA_TZ
from dashboard.accounts import Accounts
from dashboard.auth import Role
from response_ledger.db import migrated_engine
from tests.dashboard.samples import XSS_TITLE, sample_posts, write_archive
from tests.servers import ServerProcess, free_port, http_ok
from yuqing import screenshot
from yuqing.dashboard_launch import streamlit_argv
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
    Accounts(migrated_engine(f"sqlite:///{home / 'ledger.db'}")).add(
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


@contextmanager
def chromium_page(url: str, **options: Any) -> Iterator[Any]:
    """A fresh page of Debian's chromium on ``url`` (``options``: the page's viewport, locale …)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(screenshot.CHROMIUM), args=list(screenshot.CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page(**options)
            page.goto(url)
            yield page
        finally:
            browser.close()


@contextmanager
def staff_ledger(url: str) -> Iterator[Any]:
    """The staff member signed in, on the 回应台账 page (their only page)."""
    with chromium_page(url, viewport={"width": 1440, "height": 1000}, locale="zh-CN") as page:
        screenshot.sign_in(page, STAFF_USER[0], STAFF_USER[1], 60_000)
        page.wait_for_selector("h1:has-text('回应台账')", timeout=60_000)
        yield page


def choose(page: Any, label: str, text: str) -> None:
    """Pick the option holding ``text`` in the selectbox ``label``, typing to filter the list first.

    Typed, as a keyboard user would: a click on the box alone sometimes leaves its list closed, and
    the test then waits for an option that is never drawn. Tried up to three times.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        box = page.get_by_label(label, exact=True)
        box.click()
        box.fill(text)
        try:
            page.get_by_role("option").filter(has_text=text).first.click(timeout=15_000)
            return
        except PlaywrightTimeout:
            # A refresh of the page (值班监测 redraws itself every 10 s) closed the list: again.
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def open_ticket(page: Any, ticket_id: str) -> None:
    """Pick ``ticket_id`` in the 查看工单 list of the 回应台账 page."""
    choose(page, "查看工单", ticket_id)


def submit_step(page: Any) -> str:
    """Click 提交 and return the success message the page then shows."""
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=60_000)
    return str(page.locator("[data-testid='stAlertContentSuccess']").inner_text())


@pytest.fixture
def browser_page(dashboard_url: str) -> Iterator[Any]:
    """A fresh page of Debian's chromium on the served dashboard's sign-in form."""
    with chromium_page(dashboard_url) as page:
        yield page


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


# Every page in menu order, as an administrator sees the sidebar.
PAGE_TITLES = ("值班监测", "领导简报", "回应台账", "舆情检索", "系统管理")
PAGE_NAMES = ("monitor", "briefing", "ledger", "search", "admin")
UNIT = "区住房和城乡建设局"
ADMIN_USER, STAFF_USER = ("admin1", "admin-pass-1"), ("staff1", "staff-pass-1")
DUTY_USER = ("duty1", "duty-pass-1")


@pytest.fixture
def full_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """The dashboard over the sample posts, one open ticket per post of UNIT, an admin and a staff member."""
    from response_ledger import services
    from response_ledger.policy import load_policy
    from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings

    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    now = datetime.now(CHINA_TZ)
    posts = sample_posts(now)
    write_archive(home / "archive.db", posts)
    settings = Settings(home=home, dashboard_port=free_port())
    engine = engine_from_settings(settings)
    with SqlUnitOfWork(engine) as uow:
        for post in posts[:2]:
            services.new_ticket(
                uow, load_policy(), ticket_class="12345-complaint", source=post["source"],
                summary=post["title"], unit=UNIT, found_at=now, start=now, actor="值班员",
                post_id=post["id"], event_key=post["event_id"],
            )  # fmt: skip
        uow.commit()
    engine.dispose()
    accounts = Accounts(migrated_engine(settings.ledger_sqlalchemy_url))
    accounts.add(ADMIN_USER[0], "管理员甲", Role.ADMIN, ADMIN_USER[1], now)
    accounts.add(STAFF_USER[0], "办理员甲", Role.STAFF, STAFF_USER[1], now, unit=UNIT)
    accounts.add(DUTY_USER[0], "值班员甲", Role.DUTY, DUTY_USER[1], now)
    monkeypatch.setenv("YUQING_HOME", str(home))
    url = f"http://127.0.0.1:{settings.dashboard_port}"
    server = ServerProcess(
        "dashboard", streamlit_argv(settings), lambda: http_ok(f"{url}/_stcore/health"), tmp_path / "st.log"
    )
    server.start()
    yield url, home
    server.stop()


@needs_chromium
@pytest.mark.slow
def test_an_administrator_opens_every_page_and_each_is_captured(
    full_dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = full_dashboard
    # SCREENSHOT_DIR=docs/screens keeps the captures as the README's pictures.
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "screens")
    shot = screenshot.Shot(url=url, out=out, username=ADMIN_USER[0], password=ADMIN_USER[1], timeout_s=90)
    shots = screenshot.take_pages(shot, PAGE_TITLES, PAGE_NAMES)
    assert [path.name for path in shots] == [f"{name}.png" for name in PAGE_NAMES]
    for path in shots:
        width, height = png_size(path)
        assert width == 1440 and height >= 900


@needs_chromium
@pytest.mark.slow
def test_a_staff_member_signs_a_ticket_in_the_browser(full_dashboard: tuple[str, Path]) -> None:
    from response_ledger.queries import unit_worklist
    from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
    from response_ledger.workflow import TicketStatus

    url, home = full_dashboard
    engine = engine_from_settings(Settings(home=home))
    ticket_id = unit_worklist(engine, UNIT)[0]["id"]
    with staff_ledger(url) as page:
        # Staff have one page and one unit: no other page is offered.
        assert page.locator("[data-testid='stSidebarNavLink']").count() <= 1
        open_ticket(page, ticket_id)
        page.get_by_label("办理说明").fill("已联系施工方，今晚停工。")
        assert f"工单 {ticket_id}" in submit_step(page)
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.get(ticket_id)
    engine.dispose()
    assert ticket.status is TicketStatus.IN_PROGRESS  # signed: the unit is handling it
    assert (
        ticket.events[-1].actor.startswith("办理员甲")
        and ticket.events[-1].comment == "已联系施工方，今晚停工。"
    )


@needs_chromium
@pytest.mark.slow
def test_a_staff_member_corrects_a_tickets_topic_in_the_browser(
    full_dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    from response_ledger.queries import topic_corrections, unit_worklist
    from response_ledger.unit_of_work import engine_from_settings

    url, home = full_dashboard
    engine = engine_from_settings(Settings(home=home))
    ticket_id = unit_worklist(engine, UNIT)[0]["id"]
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "ledger-correct-topic.png"
    with staff_ledger(url) as page:
        open_ticket(page, ticket_id)
        choose(page, "操作", "更正主题")
        choose(page, "正确的主题", "交通运输")
        assert "已更正主题" in submit_step(page)
        page.screenshot(path=str(out), full_page=True)
    marks = topic_corrections(engine)
    engine.dispose()
    assert [(m.ticket_id, m.topic) for m in marks] == [(ticket_id, "交通运输")]
    assert marks[0].actor.startswith("办理员甲")


@needs_chromium
@pytest.mark.slow
def test_a_staff_member_corrects_a_tickets_judgements_in_the_browser(
    full_dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    from response_ledger.queries import classifier_corrections, unit_worklist
    from response_ledger.unit_of_work import engine_from_settings

    url, home = full_dashboard
    engine = engine_from_settings(Settings(home=home))
    ticket_id = unit_worklist(engine, UNIT)[0]["id"]
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "ledger-correct-judgement.png"
    with staff_ledger(url) as page:
        open_ticket(page, ticket_id)
        choose(page, "操作", "更正研判")
        for label in ("情感", "诉求类型", "是否紧急"):  # drawn once the page reruns with the step
            page.get_by_label(label, exact=True).wait_for(timeout=60_000)
        choose(page, "诉求类型", "举报")
        choose(page, "是否紧急", "紧急")
        page.screenshot(path=str(out), full_page=True)
        assert "已更正研判" in submit_step(page)
    marks = classifier_corrections(engine)
    engine.dispose()
    assert [(m.ticket_id, m.task, m.label) for m in marks] == [
        (ticket_id, "appeal", "举报"),
        (ticket_id, "urgency", "yes"),
    ]
    assert marks[0].actor.startswith("办理员甲")


def submit_until(page: Any, words: str) -> None:
    """Click 提交 and wait for the success message holding ``words`` (not a stale one from before)."""
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector(f"[data-testid='stAlertContentSuccess']:has-text('{words}')", timeout=60_000)


def click_list_row(page: Any, row: int, *, until: str) -> None:
    """Click row ``row`` (0 first) of the 回应台账 list where the grid draws its row markers, until
    ``until`` (a selector) appears: the grid is a canvas, and a click made while the page's script is
    still running can land before the grid is ready (tried up to three times)."""
    from yuqing.screenshot import APP_IDLE

    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=60_000)
    for attempt in range(3):
        page.wait_for_selector(APP_IDLE, timeout=60_000)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17 + 35 * row)
        try:
            page.wait_for_selector(until, timeout=20_000)
            return
        except Exception:  # playwright's timeout: click again
            if attempt == 2:
                raise


@needs_chromium
@pytest.mark.slow
def test_staff_open_a_ticket_from_the_list_and_sign_answer_close_it_in_the_browser(
    full_dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from response_ledger.queries import ticket_page
    from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
    from response_ledger.workflow import TicketStatus

    url, home = full_dashboard
    engine = engine_from_settings(Settings(home=home))
    ticket_id = ticket_page(engine, unit=UNIT)[0]["id"]  # the list's first row
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    with staff_ledger(url) as page:
        click_list_row(page, 0, until=f"h3:has-text('工单 {ticket_id}')")
        # The ticket opened from its row is brought into view, below the list.
        expect(page.locator(f"h3:has-text('工单 {ticket_id}')")).to_be_in_viewport(timeout=10_000)
        page.get_by_label("办理说明").fill("已收到")
        submit_until(page, "当前状态：办理中")
        assert page.locator(f"h3:has-text('工单 {ticket_id}（办理中）')").count() == 1
        # An answer without text is refused beside the form, and the ticket stays open.
        choose(page, "操作", "答复")
        page.get_by_role("button", name="提交").click()
        page.wait_for_selector("[data-testid='stAlertContentError']", timeout=60_000)
        error = page.locator("[data-testid='stAlertContentError']").first.bounding_box()
        button = page.get_by_role("button", name="提交").bounding_box()
        assert error["y"] > button["y"]  # under the button, not at the top of the page
        page.screenshot(path=str(out / "ledger-error-beside-form.png"), full_page=True)
        assert page.locator(f"h3:has-text('工单 {ticket_id}')").count() == 1
        page.get_by_label("答复内容（必填）").fill("已联系施工方停工。")
        submit_until(page, "当前状态：已答复")
        choose(page, "操作", "办结")
        page.get_by_label("办理说明").fill("群众满意。")
        submit_until(page, "当前状态：已办结")
        assert page.locator(f"h3:has-text('工单 {ticket_id}（已办结）')").count() == 1
        page.screenshot(path=str(out / "ledger-closed.png"), full_page=True)
    with SqlUnitOfWork(engine) as uow:
        assert uow.tickets.get(ticket_id).status is TicketStatus.CLOSED
    engine.dispose()


@needs_chromium
@pytest.mark.slow
def test_a_duty_officer_acknowledges_files_with_another_unit_and_escalates_with_a_reason(
    full_dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    import re

    from playwright.sync_api import expect

    from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
    from yuqing.screenshot import APP_IDLE

    url, home = full_dashboard
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    success = "[data-testid='stAlertContentSuccess']"
    with chromium_page(url, viewport={"width": 1440, "height": 900}, locale="zh-CN") as page:

        def click(name: str) -> None:
            # Between runs: while the page's script runs, a part that moved shows twice for a moment.
            page.wait_for_selector(APP_IDLE, timeout=60_000)
            page.get_by_role("button", name=name, exact=True).first.click(timeout=60_000)

        screenshot.sign_in(page, DUTY_USER[0], DUTY_USER[1], 60_000)
        page.wait_for_selector("h1:has-text('值班监测')", timeout=60_000)  # the duty officer's landing page
        # The high-risk post's alert chooses its post below, then is acknowledged.
        click("查看帖子")
        page.wait_for_selector("text=已选帖子", timeout=60_000)
        click("确认")
        page.wait_for_selector(f"{success}:has-text('已确认该提醒')", timeout=60_000)
        # 立案: the proposal is the remit topic's unit; the officer sends it elsewhere, with a note.
        click("立案（建台账）")
        page.get_by_label("责任单位", exact=True).wait_for(timeout=60_000)
        page.wait_for_selector(APP_IDLE, timeout=60_000)
        assert "建议依据：按帖子主题“城市管理”对应的责任单位" in page.inner_text("body")
        choose(page, "责任单位", "区交通运输局")
        page.get_by_label("备注（可选，记入工单的立单记录）").fill("实为公交线路问题")
        click("确认立案")
        page.wait_for_selector(f"{success}:has-text('已立案：工单')", timeout=60_000)
        shown = page.locator(success).filter(has_text="已立案").first.inner_text()
        ticket_id = re.search(r"YQ-[0-9a-f]{16}", shown).group(0)  # type: ignore[union-attr]
        assert "责任单位：区交通运输局" in page.inner_text("body")
        page.screenshot(path=str(out / "monitor-filed.png"), full_page=True)
        # 升级 without a reason is refused beside its form; with one it is recorded.
        click("升级（督办）")
        click("确认升级")
        refused = page.locator("[data-testid='stAlertContentError']").filter(has_text="督办须写明理由")
        refused.wait_for(timeout=60_000)
        submit = page.get_by_role("button", name="确认升级").first
        assert refused.bounding_box()["y"] > submit.bounding_box()["y"]  # under the form's buttons
        page.screenshot(path=str(out / "monitor-escalate-refused.png"), full_page=True)
        page.get_by_label("督办理由（必填）").fill("群众反复投诉")
        click("确认升级")
        page.wait_for_selector(f"{success}:has-text('已升级（督办）工单 {ticket_id}')", timeout=60_000)
        # The link opens the ticket on 回应台账, brought into view; the list by that unit holds it.
        page.wait_for_selector(APP_IDLE, timeout=60_000)
        page.get_by_role("link", name="在回应台账中打开").first.click()
        heading = f"h3:has-text('工单 {ticket_id}')"
        page.wait_for_selector(heading, timeout=60_000)
        expect(page.locator(heading)).to_be_in_viewport(timeout=10_000)
        choose(page, "责任单位", "区交通运输局")
        grid = page.locator("[data-testid='stDataFrame'] table").first
        expect(grid).to_contain_text(ticket_id, timeout=60_000)
        expect(grid).not_to_contain_text(UNIT, timeout=60_000)
    engine = engine_from_settings(Settings(home=home))
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.get(ticket_id)
    engine.dispose()
    assert ticket.unit == "区交通运输局" and ticket.escalations == 1
    assert ticket.events[0].comment == "值班监测人工立案：实为公交线路问题"
    assert ticket.events[0].data["proposed_unit"] == "城管执法局"
    assert (ticket.events[-1].comment, ticket.events[-1].actor) == ("群众反复投诉", "值班员甲（duty1）")


@needs_chromium
@pytest.mark.slow
def test_a_chinese_address_leads_to_its_page_with_its_query(full_dashboard: tuple[str, Path]) -> None:
    from response_ledger.queries import unit_worklist
    from response_ledger.unit_of_work import engine_from_settings

    url, home = full_dashboard
    engine = engine_from_settings(Settings(home=home))
    ticket_id = unit_worklist(engine, UNIT)[0]["id"]
    engine.dispose()
    address = f"{url}/回应台账?ticket={ticket_id}"
    with chromium_page(address, viewport={"width": 1440, "height": 900}, locale="zh-CN") as page:
        screenshot.sign_in(page, DUTY_USER[0], DUTY_USER[1], 60_000)  # a duty officer lands on 值班监测
        page.wait_for_selector(f"h3:has-text('工单 {ticket_id}')", timeout=60_000)
        assert page.evaluate("location.pathname") == "/ledger"
        assert page.locator("h1:has-text('页面不存在')").count() == 0
