"""The dashboard as a user meets it, through Streamlit's AppTest against a real embedded archive."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from archive.elastic import ElasticArchive
from archive.embedded import EmbeddedArchive
from core.china_time import CHINA_TZ
from dashboard.accounts import Accounts
from dashboard.auth import Role, User
from dashboard.monitor_data import MONITOR_COLUMNS
from tests.dashboard.samples import XSS_TITLE, accounts, add_account, sample_posts, write_archive
from tests.servers import ServerProcess

APP = Path(__file__).resolve().parents[2] / "yuqing" / "dashboard_app.py"
# jieba loads its dictionary on the first search of a process, which takes a few seconds.
TIMEOUT_S = 60
LINK = re.compile(r"\]\(|<a\s|https?://|javascript:", re.IGNORECASE)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh YUQING_HOME in the environment the app reads, with every other YUQING_ variable unset."""
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    monkeypatch.setenv("YUQING_HOME", str(path))
    return path


@pytest.fixture
def filled(home: Path) -> Path:
    """A home whose embedded archive holds the five sample posts."""
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    return home


DUTY = User("duty1", "值班员甲", Role.DUTY)


def signed_up(user: User) -> Accounts:
    """The accounts of the app's home (YUQING_HOME), holding an active account of ``user``."""
    from yuqing.settings import Settings

    return add_account(Settings(home=Path(os.environ["YUQING_HOME"])).ledger_sqlalchemy_url, user)


def run_app(user: User | None = DUTY) -> AppTest:
    """Run the app once as a new session of ``user`` (already signed in) would; None: nobody signed in."""
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    if user is not None:
        signed_up(user)  # every run checks that the account is still active
        app.session_state["user"] = user
        app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def metrics(app: AppTest) -> dict[str, str]:
    """The headline metrics, label to shown value."""
    return {metric.label: metric.value for metric in app.metric}


def posts(app: AppTest) -> pd.DataFrame:
    """The monitor's table of newest posts."""
    return next(frame for frame in app.dataframe if frame.key == "monitor_posts").value


def test_missing_archive_shows_no_data_and_creates_nothing(home: Path) -> None:
    app = run_app()
    assert [info.value for info in app.info] and app.info[0].value.startswith("暂无数据")
    assert not app.dataframe
    assert not (home / "archive.db").exists()


def test_empty_archive_shows_no_data(home: Path) -> None:
    EmbeddedArchive(home / "archive.db").close()
    app = run_app()
    assert app.info[0].value.startswith("暂无数据")
    assert not app.dataframe and not app.metric


def test_posts_are_listed_newest_first_with_chinese_labels(filled: Path) -> None:
    app = run_app()
    assert app.title[0].value == "值班监测"
    table = posts(app)
    assert list(table.columns) == list(MONITOR_COLUMNS)
    assert table["标题"].tolist() == [
        "小区夜间施工噪音扰民",
        XSS_TITLE,
        "咨询公积金提取流程",
        "多部门联合整治占道经营",
        "地铁新线开通，点赞！",
    ]
    assert table["发布时间"].tolist() == sorted(table["发布时间"], reverse=True)
    assert table["来源"].tolist() == ["留言板", "留言板", "12345热线", "新闻", "微博"]
    assert table["情感"].tolist() == ["负面", "负面", "中性", "中性", "正面"]
    assert table["回复状态"].tolist() == ["未回复", "未回复", "已回复", "—", "—"]
    assert table["风险"].tolist() == ["低 55", "高 90", "低 10", "低 20", "低 5"]
    assert table["话题"].tolist()[2] == "住房保障"
    assert table["台账"].tolist() == ["—"] * 5
    assert table["链接"].tolist()[0] == "https://example.gov.cn/board/b1"


def test_headline_metrics_count_the_archive(filled: Path) -> None:
    app = run_app()
    # The one high-risk sample post (risk 90, published today) is an alert waiting for 确认.
    assert metrics(app) == {"总量": "5", "负面占比": "40.0%", "今日新增": "2", "待确认提醒": "1"}


def test_untrusted_post_text_is_shown_as_plain_text(filled: Path) -> None:
    app = run_app()
    assert XSS_TITLE in posts(app)["标题"].tolist()
    # The high-risk alert quotes the title's start, as text.
    assert any(XSS_TITLE[:40] in text.value for text in app.text)
    shown = [*app.markdown, *app.caption, *app.title, *app.header, *app.subheader, *app.info, *app.success]
    rendered = [str(element.value) for element in shown]
    assert rendered, "the page shows some text besides the table"
    for text in rendered:
        assert not LINK.search(text), text
        assert "<script" not in text and "evil.example" not in text


def test_filters_narrow_the_table_and_the_metrics(filled: Path) -> None:
    app = run_app()
    app.selectbox(key="filter_source").set_value("hotline").run()
    assert posts(app)["标题"].tolist() == ["咨询公积金提取流程"]
    assert metrics(app) == {"总量": "1", "负面占比": "0.0%", "今日新增": "0", "待确认提醒": "1"}

    app.selectbox(key="filter_source").set_value(None)
    app.selectbox(key="filter_sentiment").set_value("negative").run()
    assert posts(app)["情感"].tolist() == ["负面", "负面"]
    assert metrics(app)["负面占比"] == "100.0%"


def test_keyword_and_topic_filters(filled: Path) -> None:
    app = run_app()
    assert app.selectbox(key="filter_topic").options[0] == "全部"
    app.text_input(key="filter_keyword").input("公积金").run()
    assert posts(app)["标题"].tolist() == ["咨询公积金提取流程"]

    app.text_input(key="filter_keyword").input("").run()
    app.selectbox(key="filter_topic").set_value("交通出行").run()
    assert posts(app)["话题"].tolist() == ["交通出行"]


def test_a_keyword_matching_nothing_says_so(filled: Path) -> None:
    app = run_app()
    app.text_input(key="filter_keyword").input("火星移民").run()
    assert not app.exception
    assert any(info.value == "没有符合筛选条件的帖子。" for info in app.info)
    assert not app.dataframe


def test_bad_configuration_is_an_error_message_not_a_traceback(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUQING_ARCHIVE_URL", "ftp://archive.example")
    app = run_app()
    assert app.error[0].value.startswith("配置有误")


@pytest.fixture
def elastic_alias(home: Path, noida_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's environment pointed at noida-db's Elasticsearch under a fresh alias; yields the alias."""
    es_url = str(noida_server.extra["es_url"])
    alias = f"yq-dash-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("YUQING_ARCHIVE_URL", es_url)
    monkeypatch.setenv("YUQING_ARCHIVE_INDEX", alias)
    yield alias
    with Elasticsearch(es_url, request_timeout=10) as client:
        for index in client.indices.get(index=f"{alias}-*", allow_no_indices=True, ignore_unavailable=True):
            client.indices.delete(index=index)
        if client.indices.exists_index_template(name=alias):
            client.indices.delete_index_template(name=alias)


@pytest.mark.servers
def test_elasticsearch_without_an_index_shows_no_data(elastic_alias: str) -> None:
    app = run_app()
    assert app.info[0].value.startswith("暂无数据")


@pytest.mark.servers
def test_the_same_page_reads_elasticsearch(elastic_alias: str, noida_server: ServerProcess) -> None:
    archive = ElasticArchive(str(noida_server.extra["es_url"]), index=elastic_alias, replicas=0)
    try:
        archive.ensure()
        archive.index(sample_posts(datetime.now(CHINA_TZ)))
        archive.refresh()
    finally:
        archive.close()
    app = run_app()
    assert posts(app)["标题"].tolist()[:2] == ["小区夜间施工噪音扰民", XSS_TITLE]
    assert metrics(app) == {"总量": "5", "负面占比": "40.0%", "今日新增": "2", "待确认提醒": "1"}


def test_the_monitor_shows_the_backlog_of_each_stage_and_the_dead_letters(filled: Path) -> None:
    from core.messages import encode
    from stream.embedded import EmbeddedBroker
    from tests.stream.samples import raw_post

    broker = EmbeddedBroker(filled / "broker.db")
    producer = broker.producer()
    for n in range(3):
        producer.send("posts.raw", raw_post(n)["id"], encode(raw_post(n)))
    producer.send("posts.dlq", None, b"{}")
    producer.close()
    captions = [caption.value for caption in run_app().caption]
    assert any(
        "待分类 3 条" in c and "待入库 0 条" in c and "待建台账 0 条" in c and "死信 1 条" in c
        for c in captions
    ), captions


def test_nobody_signed_in_sees_only_the_sign_in_form(filled: Path) -> None:
    app = run_app(None)
    assert [t.label for t in app.text_input] == ["用户名", "密码"]
    assert not app.dataframe and not app.metric


def test_signing_in_with_the_form_opens_the_monitor_and_a_wrong_password_does_not(filled: Path) -> None:
    accounts(f"sqlite:///{filled / 'ledger.db'}").add(
        "duty2", "值班员乙", Role.DUTY, "right-pass-1", datetime.now(CHINA_TZ)
    )
    app = run_app(None)
    app.text_input[0].input("duty2")
    app.text_input[1].input("wrong-pass-1")
    app.button[0].click().run()
    assert app.error and "用户名或密码错误" in app.error[0].value and not app.dataframe
    app.text_input[1].input("right-pass-1")
    app.button[0].click().run()
    assert not app.exception and app.dataframe
    assert any("值班员乙" in caption.value for caption in app.sidebar.caption)


def test_an_idle_session_expires_and_asks_to_sign_in_again(filled: Path) -> None:
    from datetime import timedelta

    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    app.session_state["user"] = DUTY
    app.session_state["last_seen"] = datetime.now(CHINA_TZ) - timedelta(hours=2)
    app.run()
    assert not app.dataframe and "自动退出" in app.warning[0].value


def test_staff_cannot_open_the_monitor(filled: Path) -> None:
    app = run_app(User("staff1", "办理员", Role.STAFF, "区交通运输局"))
    # Staff land on their ledger page: no monitor, no post table, no headline figures.
    assert "值班监测" not in [title.value for title in app.title]
    assert not any(frame.key == "monitor_posts" for frame in app.dataframe) and not app.metric


def test_a_page_refuses_a_role_that_may_not_open_it() -> None:
    def page() -> None:
        from dashboard.auth import Page, Role, User
        from dashboard.session import require

        require(User("s", "s", Role.STAFF, "u"), Page.MONITOR)
        import streamlit as st

        st.write("never shown")

    app = AppTest.from_function(page, default_timeout=TIMEOUT_S)
    app.run()
    assert app.error[0].value == "无权访问此页面。" and not app.markdown


ADMIN = User("admin1", "管理员甲", Role.ADMIN)


def test_admin_page_manages_users(filled: Path) -> None:
    signed_up(ADMIN)
    app = AppTest.from_function(_admin_page, args=(str(filled),), default_timeout=TIMEOUT_S)
    app.session_state["user"] = ADMIN
    app.session_state["last_seen"] = datetime.now(CHINA_TZ)
    app.run()
    assert not app.exception
    app.text_input(key="new_username").input("staff9")
    app.text_input(key="new_name").input("办理员九")
    app.selectbox(key="new_role").select(Role.STAFF)
    app.text_input(key="new_password").input("staff-pass-9")
    app.button(key="FormSubmitter:add_user-添加").click().run()
    assert app.error and "单位" in app.error[0].value  # staff need a unit: refused with the reason
    assert app.text_input(key="new_username").value == "staff9"  # and what was typed stays
    app.selectbox(key="new_unit").select("区交通运输局")  # a unit of the directory, never typed
    app.button(key="FormSubmitter:add_user-添加").click().run()
    assert not app.error and "已添加用户 staff9" in app.success[0].value
    users = app.dataframe[0].value
    assert list(users["用户名"]) == ["admin1", "staff9"] and users["单位"][1] == "区交通运输局"
    assert app.selectbox(key="disable_target").options == ["staff9"]  # never oneself
    app.selectbox(key="disable_target").select("staff9").run()
    app.button(key="disable_ask").click().run()
    app.button(key="admin_disable_pending_yes").click().run()
    assert list(app.dataframe[0].value["状态"]) == ["启用", "停用"]
    app.selectbox(key="enable_target").select("staff9").run()
    app.button(key="enable_user").click().run()
    assert (
        list(app.dataframe[0].value["状态"]) == ["启用", "启用"]
        and "已启用用户 staff9" in app.success[0].value
    )
    assert "enable_target" not in [box.key for box in app.selectbox]  # nobody left to enable
    app.session_state["admin_tab"] = "采集来源"
    app.run()
    assert "demo-liuyan" in set(app.dataframe[0].value["渠道"])
    app.session_state["admin_tab"] = "职责范围"
    app.run()
    assert "劳动保障" in set(app.dataframe[0].value["话题"])


def test_a_duty_officer_cannot_open_the_admin_page(filled: Path) -> None:
    app = AppTest.from_function(_admin_page, args=(str(filled),), default_timeout=TIMEOUT_S)
    app.session_state["user"] = DUTY
    app.run()
    assert app.error[0].value == "无权访问此页面。" and not app.dataframe and not app.text_input


def _admin_page(home: str) -> None:
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import admin
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    admin.render(services_for(_Settings(home=_Path(home))), st.session_state.get("user"))


def test_every_select_box_has_a_chinese_placeholder() -> None:
    # Streamlit's own placeholder is English ("Choose an option"); it shows whenever a user clears a
    # box's text to filter its options, so every box names ours.
    import ast

    import dashboard

    calls = [
        (path, node)
        for path in sorted(Path(dashboard.__file__).parent.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in {"selectbox", "multiselect"}
    ]
    missing = [
        f"{path.name}:{node.lineno}"
        for path, node in calls
        if "placeholder" not in {keyword.arg for keyword in node.keywords}
    ]
    assert len(calls) > 10 and missing == []


def test_an_empty_monitor_filter_reads_as_every_value(filled: Path) -> None:
    app = run_app()
    assert app.selectbox and {box.placeholder for box in app.selectbox} == {"全部"}  # empty: no filter


def test_an_account_disabled_mid_session_is_signed_out_at_the_next_click(filled: Path) -> None:
    app = run_app()
    assert app.dataframe
    signed_up(DUTY).disable(DUTY.username, datetime.now(CHINA_TZ))
    app.run()
    assert not app.dataframe and not app.metric
    assert "账号已停用" in app.warning[0].value and [t.label for t in app.text_input] == ["用户名", "密码"]


def test_a_changed_role_takes_effect_without_signing_in_again(filled: Path) -> None:
    app = run_app()
    assert "值班监测" in [title.value for title in app.title]
    from sqlalchemy import create_engine, update

    from dashboard.accounts import users
    from yuqing.settings import Settings

    engine = create_engine(Settings(home=filled).ledger_sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.username == DUTY.username).values(role="staff", unit="区交通运输局")
        )
    engine.dispose()
    app.run()
    assert "值班监测" not in [title.value for title in app.title] and not app.metric
    assert app.session_state["user"].role is Role.STAFF


def test_an_alert_acknowledged_after_the_account_was_disabled_stays_open(filled: Path) -> None:
    from dashboard.acks import AlertStore
    from response_ledger.db import make_engine
    from yuqing.settings import Settings

    app = run_app()
    [ack] = [button.key for button in app.button if str(button.key).startswith("ack:")]
    signed_up(DUTY).disable(DUTY.username, datetime.now(CHINA_TZ))
    app.button(key=ack).click().run()
    assert not app.exception and not app.success and [t.label for t in app.text_input] == ["用户名", "密码"]
    engine = make_engine(Settings(home=filled).ledger_sqlalchemy_url)
    assert AlertStore(engine).acknowledged() == []
    engine.dispose()


def test_the_monitor_keeps_showing_posts_while_the_ledger_database_is_down(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The accounts live in the ledger's database: the session signed in before the outage stays.
    app = run_app()
    monkeypatch.setenv("YUQING_LEDGER_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    app.run()
    assert not app.exception and len(posts(app)) == 5 and "值班监测" in [t.value for t in app.title]
