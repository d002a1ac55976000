"""Every page for its user, on an empty system and on one with 100,000 posts and 10,000 tickets."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from archive.embedded import EmbeddedArchive
from bench.dashboard import PAGES
from bench.ledger import load_tickets
from core.china_time import CHINA_TZ
from dashboard.auth import Role, User
from response_ledger.db import migrate
from response_ledger.unit_of_work import engine_from_settings
from tests.dashboard.samples import add_account, enriched_post
from yuqing.settings import Settings

TIMEOUT_S = 120
POSTS, TICKETS = 100_000, 10_000
SOURCES = ("board", "hotline", "weibo")
TOPICS = ("城市管理", "住房保障", "交通出行", "生态环境", "教育", "医疗卫生", "其他")
TITLES = ("小区夜间施工噪音扰民", "公交站台破损无人维修", "学校周边交通拥堵", "河道有异味", "物业收费不合理")


def _page(home: str, module: str) -> None:
    import importlib
    from pathlib import Path as _Path

    import streamlit as st

    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    page = importlib.import_module(f"dashboard.app_pages.{module}")
    page.render(services_for(_Settings(home=_Path(home))), st.session_state.get("user"))


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """100,000 posts over the last 30 days (short texts keep tokenising quick) and 10,000 tickets."""
    home = tmp_path_factory.mktemp("big") / "home"
    home.mkdir()
    rng, now = random.Random(8), datetime.now(CHINA_TZ)
    archive = EmbeddedArchive(home / "archive.db")
    batch = []
    for number in range(POSTS):
        batch.append(
            enriched_post(
                f"big{number}",
                source=rng.choice(SOURCES),  # type: ignore[arg-type]
                title=rng.choice(TITLES),
                text=f"{rng.choice(TITLES)}，编号{number}",
                published_at=now - timedelta(minutes=rng.randrange(30 * 24 * 60)),
                sentiment=rng.choice(("negative", "neutral", "positive")),
                topic=rng.choice(TOPICS),
                risk=rng.randrange(101),
            )
        )
        if len(batch) == 5_000:
            archive.index(batch)
            batch = []
    archive.close()
    engine = engine_from_settings(Settings(home=home))
    migrate(engine)
    load_tickets(engine, TICKETS, now)
    engine.dispose()
    yield home


def render(home: Path, module: str, role: str, unit: str | None) -> AppTest:
    user = User(f"t-{role}", Role(role).label, Role(role), unit)
    add_account(Settings(home=home).ledger_sqlalchemy_url, user)  # pages check it as they refresh
    app = AppTest.from_function(_page, args=(str(home), module), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    return app


@pytest.mark.slow
@pytest.mark.parametrize(("module", "role", "unit"), PAGES, ids=[page[0] for page in PAGES])
def test_every_page_renders_for_its_user_with_100k_posts(
    big_home: Path, module: str, role: str, unit: str | None
) -> None:
    app = render(big_home, module, role, unit)
    if module == "search":  # the analyst's page waits for a query
        app.text_input(key="search_text").input("噪音")
        app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not [e.value for e in app.error], "a page with data showed an error"
    assert app.title and app.title[0].value
    shown = [frame.value for frame in app.dataframe] + [metric.value for metric in app.metric]
    assert shown, f"{module} showed neither a table nor a figure over 100,000 posts"


@pytest.mark.parametrize(("module", "role", "unit"), PAGES, ids=[page[0] for page in PAGES])
def test_every_page_renders_for_its_user_on_an_empty_system(
    tmp_path: Path, module: str, role: str, unit: str | None
) -> None:
    app = render(tmp_path / "home", module, role, unit)
    assert not app.exception, [e.value for e in app.exception]
    assert not [e.value for e in app.error], "an empty system is not an error"
