"""Issue 24 walked in Debian's chromium, one role each: the leader lands on the briefing and acts on an
item awaiting a decision, the analyst saves, replaces and exports a search, the administrator enters
a year of holidays in one go. ``SCREENSHOT_DIR=docs/screens`` keeps the captures."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.china_time import CHINA_TZ
from dashboard.accounts import Accounts
from dashboard.auth import Role
from response_ledger.db import migrated_engine
from tests.dashboard.samples import sample_posts, write_archive
from tests.dashboard.test_browser import choose, chromium_page, needs_chromium
from tests.servers import ServerProcess, free_port, http_ok
from yuqing import screenshot
from yuqing.dashboard_launch import streamlit_argv
from yuqing.screenshot import APP_IDLE
from yuqing.settings import Settings

LEADER, ANALYST, ADMIN = (
    ("leader1", "leader-pass-1"),
    ("analyst1", "analyst-pass-1"),
    ("admin1", "admin-pass-1"),
)
# More units than a table shows before it scrolls (ten rows): the per-unit table must show them all.
UNITS = (
    "区人力资源和社会保障局", "区住房和城乡建设局", "区生态环境分局", "区交通运输局", "区教育局",
    "区卫生健康局", "区市场监督管理局", "区政府办公室", "区信访局", "区城市管理综合执法局", "区民政局",
    "区应急管理局",
)  # fmt: skip
TIMEOUT_MS = 90_000


@pytest.fixture
def roles_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path, str]]:
    """The dashboard over the sample posts (yesterday's briefing has posts), a ticket per unit opened
    yesterday, one of them escalated (awaiting a leader), and a leader, an analyst and an admin."""
    from response_ledger import services
    from response_ledger.policy import load_policy
    from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
    from response_ledger.workflow import Action

    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    now = datetime.now(CHINA_TZ)
    yesterday = (now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    write_archive(home / "archive.db", sample_posts(yesterday))
    settings = Settings(home=home, dashboard_port=free_port())
    engine = engine_from_settings(settings)
    with SqlUnitOfWork(engine) as uow:
        opened = [
            services.new_ticket(
                uow, load_policy(), ticket_class="12345-complaint", source="hotline", summary=f"{unit}的诉求",
                unit=unit, found_at=yesterday, start=yesterday - timedelta(hours=2), actor="值班员",
            )
            for unit in UNITS
        ]  # fmt: skip
        uow.commit()
    escalated = opened[1].id
    with SqlUnitOfWork(engine) as uow:
        services.act(uow, escalated, Action.ESCALATE, actor="值班员", now=yesterday, comment="群众多次来电")
    engine.dispose()
    accounts = Accounts(migrated_engine(settings.ledger_sqlalchemy_url))
    accounts.add(LEADER[0], "王局长", Role.LEADER, LEADER[1], now)
    accounts.add(ANALYST[0], "分析员甲", Role.ANALYST, ANALYST[1], now)
    accounts.add(ADMIN[0], "管理员甲", Role.ADMIN, ADMIN[1], now)
    monkeypatch.setenv("YUQING_HOME", str(home))
    url = f"http://127.0.0.1:{settings.dashboard_port}"
    server = ServerProcess(
        "dashboard", streamlit_argv(settings), lambda: http_ok(f"{url}/_stcore/health"), tmp_path / "st.log"
    )
    server.start()
    yield url, home, escalated
    server.stop()


@contextmanager
def signed_in(url: str, user: tuple[str, str], title: str) -> Iterator[Any]:
    """``user`` signed in at ``url``, on the page titled ``title`` (their landing page)."""
    with chromium_page(url, viewport={"width": 1440, "height": 1000}, locale="zh-CN") as page:
        screenshot.sign_in(page, user[0], user[1], TIMEOUT_MS)
        page.wait_for_selector(f"h1:has-text('{title}')", timeout=TIMEOUT_MS)
        idle(page)
        yield page


def idle(page: Any) -> None:
    """Wait for the page's script run to end (a click starts one)."""
    page.wait_for_timeout(300)
    page.wait_for_selector(APP_IDLE, state="attached", timeout=TIMEOUT_MS)


def success(page: Any, words: str) -> str:
    """The success message holding ``words`` (waited for)."""
    found = page.locator(f"[data-testid='stAlertContentSuccess']:has-text('{words}')").first
    found.wait_for(timeout=TIMEOUT_MS)
    return str(found.inner_text())


def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)


def full_shot(page: Any, path: Path) -> None:
    height = int(page.evaluate(screenshot.CONTENT_HEIGHT_JS))
    page.set_viewport_size({"width": 1440, "height": max(height, 1000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})


@needs_chromium
@pytest.mark.slow
def test_the_leader_lands_on_the_briefing_and_acts_on_an_item_awaiting_a_decision(
    roles_dashboard: tuple[str, Path, str], tmp_path: Path
) -> None:
    from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
    from response_ledger.workflow import Action

    url, home, escalated = roles_dashboard
    with signed_in(url, LEADER, "领导简报") as page:
        # The week's per-unit table is drawn whole: its 合计 row shows without scrolling inside it.
        choose(page, "周期", "周报")
        idle(page)
        ledger = page.locator(".st-key-briefing_table_ledger")
        ledger.wait_for(timeout=TIMEOUT_MS)
        assert ledger.bounding_box()["height"] >= 35 * (len(UNITS) + 2)
        assert "合计" in ledger.locator("table").first.inner_text()
        choose(page, "选择工单", escalated)
        idle(page)
        page.get_by_role("textbox", name="批示").fill("请区住建局今日内联系当事人，明天上午报送办理情况。")
        page.get_by_role("button", name="提交批示").click()
        assert escalated in success(page, "记录批示")
        full_shot(page, shots(tmp_path) / "briefing-leader.png")
        page.get_by_role("link", name="在回应台账中打开（审批延期、督办）").click()
        page.wait_for_selector(f"h3:has-text('工单 {escalated}')", timeout=TIMEOUT_MS)
        assert f"ticket={escalated}" in page.url
    engine = engine_from_settings(Settings(home=home))
    with SqlUnitOfWork(engine) as uow:
        last = uow.tickets.get(escalated).events[-1]
    engine.dispose()
    assert (last.action, last.actor) == (Action.INSTRUCT, "王局长（leader1）")


@needs_chromium
@pytest.mark.slow
def test_the_analyst_saves_replaces_and_exports_a_search(
    roles_dashboard: tuple[str, Path, str], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from archive.saved import SavedSearches

    url, home, _ = roles_dashboard
    with signed_in(url, ANALYST, "舆情检索") as page:
        box = page.get_by_role("textbox", name="检索式")
        box.fill("停车 risk:80..60")
        page.get_by_role("button", name="检索", exact=True).click()
        error = page.locator("[data-testid='stAlertContentError']").first
        error.wait_for(timeout=TIMEOUT_MS)
        assert "写反了" in error.inner_text()
        # Right under the box, inside the form: above its 检索 button, not below the saved searches.
        typed, button = box.bounding_box(), page.get_by_role("button", name="检索", exact=True).bounding_box()
        assert typed["y"] < error.bounding_box()["y"] < button["y"]
        box.fill("地铁 OR 材料 OR 记者")
        page.get_by_role("button", name="检索", exact=True).click()
        page.wait_for_selector("h3:has-text('条结果')", timeout=TIMEOUT_MS)
        idle(page)
        page.get_by_role("textbox", name="名称").fill("交通关注")
        page.get_by_role("spinbutton", name="预警阈值（可选，条）").fill("3")
        page.get_by_role("button", name="保存", exact=True).click()
        success(page, "已保存“交通关注”")
        box.fill("地铁")
        page.get_by_role("button", name="检索", exact=True).click()
        idle(page)
        page.get_by_role("textbox", name="名称").fill("交通关注")
        page.get_by_role("button", name="保存", exact=True).click()
        page.get_by_role("button", name="替换", exact=True).wait_for(timeout=TIMEOUT_MS)
        assert "已有同名的保存查询" in page.inner_text("body")
        page.get_by_role("button", name="替换", exact=True).click()
        success(page, "已替换“交通关注”")
        page.get_by_role("button", name="生成导出文件").click()
        download_button = page.get_by_role("button", name="下载全部结果（XLSX）")
        download_button.wait_for(timeout=TIMEOUT_MS)
        with page.expect_download(timeout=TIMEOUT_MS) as info:
            download_button.click()
        exported = tmp_path / "export.xlsx"
        info.value.save_as(exported)
        full_shot(page, shots(tmp_path) / "search-analyst.png")
    assert SavedSearches(home / "saved_searches.json").get("交通关注").query == "地铁"
    rows = list(
        load_workbook(io.BytesIO(exported.read_bytes()), read_only=True).active.iter_rows(values_only=True)
    )
    header = list(rows[0])
    assert header[:3] == ["编号", "发布时间", "来源"] and len(rows) >= 2
    assert all(isinstance(row[header.index("发布时间")], datetime) for row in rows[1:])
    assert {row[header.index("来源")] for row in rows[1:]} <= {"12345热线", "留言板", "微博", "新闻"}


@needs_chromium
@pytest.mark.slow
def test_the_administrator_enters_a_year_of_holidays(
    roles_dashboard: tuple[str, Path, str], tmp_path: Path
) -> None:
    from response_ledger.queries import holiday_entries, holiday_years
    from response_ledger.unit_of_work import engine_from_settings

    url, home, _ = roles_dashboard
    year = datetime.now(CHINA_TZ).year + 1  # the package knows up to 2026; later years come from here
    notice = "\n".join(
        [
            f"{year}-01-01 休 元旦",
            f"{year}-05-01..{year}-05-03 休 劳动节",
            f"{year}-10-01 至 {year}-10-07 休 国庆节",
        ]
    )
    with signed_in(url, ADMIN, "系统管理") as page:
        page.get_by_role("tab", name="节假日").click()
        idle(page)
        assert f"{year} 年的节假日安排尚未录入完整" in page.inner_text("body")
        page.get_by_role("spinbutton", name="年份").fill(str(year))
        page.get_by_role("textbox", name="安排（每行一项）").fill(notice)
        page.get_by_text("以上是该年的全部安排").click()
        page.get_by_role("button", name="检查并预览").click()
        page.get_by_role("button", name="确认录入").wait_for(timeout=TIMEOUT_MS)
        assert f"{year} 年：放假 11 天" in page.inner_text("body")
        page.get_by_role("button", name="确认录入").click()
        success(page, f"已录入 {year} 年的 11 天并标记为已录入完整")
        assert f"{year} 年的节假日安排尚未录入完整" not in page.inner_text("body")
        full_shot(page, shots(tmp_path) / "admin-holidays.png")
    engine = engine_from_settings(Settings(home=home))
    assert list(holiday_years(engine)) == [year] and len(holiday_entries(engine)) == 11
    engine.dispose()
