"""舆情检索 through AppTest: hits with marked snippets, a bad query's message, charts, and the role check."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from archive.ast import And, Match, Or
from archive.errors import QueryError
from archive.querylang import parse
from archive.saved import SavedSearch, SavedSearches
from core.china_time import CHINA_TZ
from dashboard.app_pages import search as search_page
from dashboard.auth import Role, User
from tests.dashboard.samples import XSS_TITLE, add_account, sample_posts, write_archive
from yuqing.settings import Settings

TIMEOUT_S = 60
ANALYST = User("analyst1", "分析员甲", Role.ANALYST)


def _page(home: str) -> None:
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import search
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings

    search.render(services_for(Settings(home=_Path(home))), st.session_state.get("user"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    write_archive(path / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    return path


def open_page(home: Path, user: User = ANALYST) -> AppTest:
    add_account(Settings(home=home).ledger_sqlalchemy_url, user)  # checked at each click
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


# Filters, saved searches, the export of every hit and the trend chart.

DUTY = User("duty1", "值班员甲", Role.DUTY)


def saved_file(home: Path) -> Path:
    return home / "saved_searches.json"


def run_filtered(app: AppTest, text: str = "", **filters: str) -> AppTest:
    app.text_input(key="search_text").input(text)
    for name, value in filters.items():
        app.selectbox(key=f"search_{name}").select(value)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def total_shown(app: AppTest) -> int:
    subheader = app.subheader[0].value
    return int(subheader.removeprefix("共 ").removesuffix(" 条结果").replace(",", ""))


def save_current(app: AppTest, name: str, threshold: int | None = None) -> AppTest:
    app.text_input(key="saved_name").input(name)
    if threshold is not None:
        app.number_input(key="saved_threshold").set_value(threshold)
    next(button for button in app.button if button.label == "保存").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize(
    ("text", "filters", "expected"),
    [
        ("欠薪", {}, "欠薪"),
        ("", {"source": "weibo"}, "source:weibo"),
        ("A OR B", {"source": "weibo", "sentiment": "全部", "topic": None}, "(A OR B) source:weibo"),
        (
            "  噪音 ",
            {"sentiment": "negative", "topic": "城市管理"},
            "(噪音) sentiment:negative topic:城市管理",
        ),
        ("", {"topic": "高新 开发区"}, 'topic:"高新 开发区"'),
        ("", {"topic": "住房:保障"}, 'topic:"住房:保障"'),
        ("", {"topic": "住房(公积金)"}, 'topic:"住房(公积金)"'),
        ("", {"topic": ">=60"}, 'topic:">=60"'),
        ("", {"topic": "a..b"}, 'topic:"a..b"'),
        ("", {"source": "", "topic": "全部"}, ""),
    ],
)
def test_the_combined_query_adds_a_clause_per_filter(
    text: str, filters: dict[str, str | None], expected: str
) -> None:
    assert search_page.combined_query(text, filters) == expected


@pytest.mark.parametrize(
    "topic",
    ["高新 开发区", "住房:保障", "住房(公积金)", "a\tb", "城市管理", ">=60", "a..b", "//x", "-x", "AND"],
)
def test_combined_queries_parse_to_the_exact_field_value(topic: str) -> None:
    node = parse(search_page.combined_query("噪音 OR 施工", {"topic": topic}))
    assert isinstance(node, And)
    assert isinstance(node.items[0], Or)
    clause = node.items[1]
    assert isinstance(clause, Match) and (clause.field, clause.value) == ("topic", topic)


@pytest.mark.parametrize("value", ['say "hi"', "“引号”", "住房（公积金）", "住房：保障"])
def test_a_value_the_language_cannot_hold_is_refused(value: str) -> None:
    with pytest.raises(QueryError):
        search_page.field_clause("topic", value)


def test_a_blank_value_is_refused() -> None:
    with pytest.raises(QueryError):
        search_page.field_clause("topic", "  ")


def test_filters_narrow_the_results(home: Path) -> None:
    app = run_filtered(open_page(home))
    assert total_shown(app) == 5
    assert total_shown(run_filtered(app, source="board")) == 2
    assert total_shown(run_filtered(app, source="全部", sentiment="neutral")) == 2
    app = run_filtered(app, sentiment="neutral", topic="住房保障")
    assert total_shown(app) == 1
    assert list(app.dataframe[-1].value["标题"]) == ["咨询公积金提取流程"]
    app = run_filtered(app, "材料 OR 记者", sentiment="neutral", topic="全部")
    assert total_shown(app) == 2


def test_save_list_load_and_delete_a_search(home: Path) -> None:
    app = run_filtered(open_page(home), "材料 OR 记者", sentiment="neutral")
    app = save_current(app, "中性咨询", threshold=5)
    assert not app.error and app.success[0].value == "已保存“中性咨询”。"
    listed = app.dataframe[0].value
    assert list(listed["名称"]) == ["中性咨询"]
    assert list(listed["检索式"]) == ["(材料 OR 记者) sentiment:neutral"]
    assert list(listed["预警阈值"]) == ["5"]
    stored = json.loads(saved_file(home).read_text(encoding="utf-8"))["searches"]
    assert [(s["name"], s["alert_threshold"]) for s in stored] == [("中性咨询", 5)]

    fresh = open_page(home)  # a new session loads the saved search into its form and runs it
    assert fresh.selectbox(key="saved_pick").value is None  # nothing picked until someone picks
    assert fresh.button(key="saved_load").disabled and fresh.button(key="saved_delete").disabled
    fresh.selectbox(key="saved_pick").set_value("中性咨询").run()
    fresh.button(key="saved_load").click().run()
    assert not fresh.exception
    assert fresh.text_input(key="search_text").value == "(材料 OR 记者) sentiment:neutral"
    assert fresh.selectbox(key="search_sentiment").value == "全部"
    assert total_shown(fresh) == 2

    fresh.selectbox(key="saved_pick").set_value("中性咨询").run()
    fresh.button(key="saved_delete").click().run()  # asks first: nothing deleted yet
    assert any("确定删除" in w.value for w in fresh.warning)
    assert len(json.loads(saved_file(home).read_text(encoding="utf-8"))["searches"]) == 1
    fresh.button(key="saved_delete_no").click().run()
    assert not [w for w in fresh.warning if "确定删除" in w.value]
    fresh.selectbox(key="saved_pick").set_value("中性咨询").run()
    fresh.button(key="saved_delete").click().run()
    fresh.button(key="saved_delete_yes").click().run()
    assert fresh.success[0].value == "已删除“中性咨询”。"
    assert json.loads(saved_file(home).read_text(encoding="utf-8"))["searches"] == []
    assert "还没有保存的查询。" in [caption.value for caption in fresh.caption]


def test_an_invalid_save_shows_the_error_and_saves_nothing(home: Path) -> None:
    app = save_current(search(open_page(home), "停车 risk:80..60"), "坏查询")
    assert [e.value for e in app.error][1:] == [
        "保存失败：范围“80..60”写反了：起点“80”在终点“60”之后（第 9 个字符处）；请把小的写在前面"
    ]
    assert not saved_file(home).exists()


def test_a_taken_name_asks_before_replacing_and_replacing_starts_the_count_afresh(home: Path) -> None:
    app = save_current(search(open_page(home), "噪音"), "噪音", threshold=3)
    before = SavedSearches(saved_file(home)).get("噪音")
    app = save_current(search(app, "噪音 OR 扰民"), "噪音")
    assert not app.error  # not refused: asked
    [question] = [w.value for w in app.warning if "已有同名" in w.value]
    assert "预警从替换时起重新计数" in question
    shown = [t.value for t in app.text]
    assert (
        "原检索式：噪音（预警阈值：3 条）" in shown and "新检索式：噪音 OR 扰民（预警阈值：不预警）" in shown
    )
    assert app.text_input(key="saved_name").value == "噪音"  # what was typed stays while asked
    assert SavedSearches(saved_file(home)).get("噪音") == before
    app.button(key="saved_replace_cancel").click().run()
    assert SavedSearches(saved_file(home)).get("噪音") == before and not app.warning

    app = save_current(app, "噪音", threshold=10)
    app.button(key="saved_replace").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.success[0].value == "已替换“噪音”，预警从现在起重新计数。"
    after = SavedSearches(saved_file(home)).get("噪音")
    assert (after.query, after.alert_threshold) == (
        "噪音 OR 扰民",
        10,
    ) and after.created_at >= before.created_at
    assert [s.name for s in SavedSearches(saved_file(home)).all()] == ["噪音"]
    assert app.text_input(key="saved_name").value == ""


def test_a_query_fault_is_shown_under_the_search_box_inside_the_form(home: Path) -> None:
    app = search(open_page(home), "停车 risk:80..60")
    inside = errors_in_form(app, "search")
    assert len(inside) == 1 and inside[0].startswith("查询有误：范围“80..60”写反了")
    assert [e.value for e in app.error] == inside  # nowhere else, and not under the saved searches
    app = search(app, "停车")
    assert not app.error


def errors_in_form(app: AppTest, form: str) -> list[str]:
    """The error messages drawn inside the form ``form``."""
    found: list[str] = []

    def walk(node: Any, inside: bool) -> None:
        inside = inside or (getattr(node, "type", None) == "form" and form in str(getattr(node, "proto", "")))
        if getattr(node, "type", None) == "error" and inside:
            found.append(node.value)
        children = getattr(node, "children", None)
        for child in children.values() if isinstance(children, dict) else children or []:
            walk(child, inside)

    walk(app._tree, False)
    return found


def test_the_alert_threshold_says_exactly_what_fires(home: Path) -> None:
    app = open_page(home)
    [help_text] = [c.value for c in app.caption if c.value.startswith("预警阈值：")]
    for words in (
        "从保存（或替换）该查询时起",
        "按发布时间累计",
        "累计达到 N 条",
        "【检索预警】",
        "确认后从确认时起重新累计",
        "起止日期不随查询保存",
    ):
        assert words in help_text
    assert app.number_input(key="saved_threshold").label == "预警阈值（可选，条）"


def test_the_duty_officer_sees_saved_searches_read_only(home: Path) -> None:
    SavedSearches(saved_file(home)).save(SavedSearch("负面", "sentiment:negative", alert_threshold=3))
    app = open_page(home, DUTY)
    assert list(app.dataframe[0].value["名称"]) == ["负面"]
    assert [button.key for button in app.button if button.key and button.key.startswith("saved_")] == [
        "saved_load"
    ]
    assert not [button for button in app.button if button.label in ("保存", "删除")]
    assert not [box for box in app.text_input if box.key == "saved_name"]
    app.selectbox(key="saved_pick").set_value("负面").run()
    app.button(key="saved_load").click().run()
    assert total_shown(app) == 2


def test_edits_are_refused_in_code_for_other_roles(home: Path) -> None:
    from dashboard.sections import search_saved
    from yuqing.dashboard_services import services_for

    settings = Settings(home=home)
    store = SavedSearches(saved_file(home))
    store.save(SavedSearch("负面", "sentiment:negative"))
    for role in (Role.DUTY, Role.LEADER):
        user = User(f"u-{role}", "某人", role)
        add_account(settings.ledger_sqlalchemy_url, user)  # the callbacks read it at the click
        with patch.object(search_saved.st, "session_state", {}) as state:
            search_saved._delete(services_for(settings), user, "负面")
            assert state["saved_message"][0] == "error"
            search_saved._save(services_for(settings), user, None)
            assert state["saved_message"][0] == "error"
    assert [item.name for item in store.all()] == ["负面"]


def test_the_export_holds_every_hit_and_is_built_only_when_asked(home: Path) -> None:
    app = run_filtered(open_page(home))
    assert not app.get("download_button")
    assert any("最多 100,000 条" in caption.value for caption in app.caption)
    app.button(key="export_make").click().run()
    assert not app.exception, [e.value for e in app.exception]
    downloads = {button.proto.label: button for button in app.get("download_button")}
    assert set(downloads) == {"下载全部结果（XLSX）", "下载全部结果（CSV）"}
    files = app.session_state["export_files"]
    workbook = load_workbook(io.BytesIO(files[1]), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) - 1 == total_shown(app) == 5
    # Values in Chinese, and the time a real date cell (it sorts and filters in Excel).
    header = list(rows[0])
    column = {name: [row[header.index(name)] for row in rows[1:]] for name in ("来源", "情感", "发布时间")}
    assert set(column["来源"]) <= {"12345热线", "留言板", "微博", "新闻"}
    assert set(column["情感"]) <= {"负面", "中性", "正面"}
    assert all(isinstance(moment, datetime) for moment in column["发布时间"])
    lines = files[2].decode("utf-8-sig").splitlines()
    assert len(lines) - 1 == 5 and lines[0].startswith("编号,发布时间,来源")
    assert not any(code in files[2].decode("utf-8-sig") for code in (",weibo,", ",board,", ",negative,"))


def trend_spec(app: AppTest) -> dict[str, Any]:
    specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    trends = [
        spec for spec in specs if spec.get("encoding", {}).get("tooltip", [{}])[0].get("field") == "时间"
    ]
    assert len(trends) == 1, specs
    return trends[0]


def test_the_trend_is_a_vega_lite_chart_with_chinese_axis_labels(home: Path) -> None:
    app = run_filtered(open_page(home))
    day = trend_spec(app)
    assert day["encoding"]["x"]["axis"]["format"] == "%m-%d"
    assert day["encoding"]["y"]["axis"] == {"format": "d", "tickMinStep": 1}  # whole posts
    # The axis spans the range asked for (the last 30 days through today), not only the hits.
    start, end = day["encoding"]["x"]["scale"]["domain"]
    today = search_page.china_today()
    assert (end["year"], end["month"], end["date"]) == (
        (today + timedelta(days=1)).year,
        (today + timedelta(days=1)).month,
        (today + timedelta(days=1)).day,
    )
    first = today - timedelta(days=30)
    assert (start["month"], start["date"]) == (first.month, first.day)
    app.radio(key="search_interval").set_value("hour").run()
    assert not app.exception, [e.value for e in app.exception]
    assert trend_spec(app)["encoding"]["x"]["axis"]["format"] == "%m-%d %H时"
    app.radio(key="search_interval").set_value("week").run()
    week = trend_spec(app)
    assert week["encoding"]["x"]["axis"]["format"] == "%m-%d起"
    labels = [date(v["year"], v["month"], v["date"]) for v in week["encoding"]["x"]["axis"]["values"]]
    assert all(label.weekday() == 0 for label in labels) and len(set(labels)) == len(labels) >= 5
    assert any("每周自星期一起算" in caption.value for caption in app.caption)


def test_the_default_time_range_ends_on_the_departments_date_not_the_servers() -> None:
    from dashboard.app_pages.search import china_today

    late_utc = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 01:00 on 3 December in Beijing
    assert china_today(late_utc).isoformat() == "2026-12-03"
    assert china_today(datetime(2026, 12, 2, 15, 59, tzinfo=UTC)).isoformat() == "2026-12-02"


def test_a_link_with_a_saved_search_loads_and_runs_it(home: Path) -> None:
    SavedSearches(saved_file(home)).save(SavedSearch("中性", "sentiment:neutral", alert_threshold=2))
    add_account(Settings(home=home).ledger_sqlalchemy_url, DUTY)
    app = AppTest.from_function(_page, args=(str(home),), default_timeout=TIMEOUT_S)
    app.session_state["user"] = DUTY
    app.query_params["saved"] = "中性"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.text_input(key="search_text").value == "sentiment:neutral"
    assert total_shown(app) == 2 and app.success[0].value == "已载入“中性”并检索。"
