"""系统管理's forms through AppTest (issue 24): accounts (kept input after an error, units from the
directory, role/unit/name changes, password resets, a confirmation before 停用, nothing preselected),
every source listed with 试采, and the time limits and the remit taxonomy edited with validation and
an audit line, written where every process reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from classifiers.taxonomy import load_taxonomy
from core.china_time import CHINA_TZ
from dashboard.accounts import AccountError, Accounts
from dashboard.auth import Role
from response_ledger.policy import load_policy
from response_ledger.unit_of_work import engine_from_settings
from tests.dashboard.test_admin_page import ADMIN, click, open_page
from yuqing.settings import Settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    made = engine_from_settings(Settings(home=home))
    yield made
    made.dispose()


def accounts(home: Path) -> Accounts:
    from response_ledger.db import migrated_engine

    return Accounts(migrated_engine(Settings(home=home).ledger_sqlalchemy_url))


def fill_new_user(
    app: AppTest, username: str, *, role: Role | None, unit: str | None, password: str
) -> AppTest:
    app.text_input(key="new_username").input(username)
    app.text_input(key="new_name").input("办理员九")
    if role is not None:
        app.selectbox(key="new_role").set_value(role)
    if unit is not None:
        app.selectbox(key="new_unit").set_value(unit)
    app.text_input(key="new_password").input(password)
    return click(app, "添加")


def test_the_add_form_keeps_what_was_typed_when_refused_and_offers_only_known_units(
    home: Path, engine: Engine
) -> None:
    app = open_page(home)
    assert app.selectbox(key="new_role").value is None and app.selectbox(key="new_unit").value is None
    units = app.selectbox(key="new_unit").options
    assert "区住房和城乡建设局" in units and "区政府办公室" in units and "区住建局" not in units
    app = fill_new_user(app, "staff9", role=Role.STAFF, unit=None, password="staff-pass-9")
    [error] = [e.value for e in app.error]
    assert error == "添加失败：办理人员必须指定所属单位"
    # Everything typed is still there, next to the message.
    assert (app.text_input(key="new_username").value, app.text_input(key="new_name").value) == (
        "staff9",
        "办理员九",
    )
    assert app.selectbox(key="new_role").value is Role.STAFF and app.text_input(key="new_password").value
    app.selectbox(key="new_unit").set_value("区住房和城乡建设局")
    click(app, "添加")
    assert [s.value for s in app.success] == ["已添加用户 staff9。"]
    assert app.text_input(key="new_username").value == "" and app.selectbox(key="new_role").value is None
    user = accounts(home).active("staff9")
    assert user is not None and (user.role, user.unit) == (Role.STAFF, "区住房和城乡建设局")
    app = fill_new_user(app, "x y", role=Role.DUTY, unit=None, password="short")
    assert (
        app.error[0].value.startswith("添加失败：用户名只能包含")
        and app.text_input(key="new_username").value == "x y"
    )


def test_an_admin_changes_a_users_role_unit_and_name_and_resets_the_password(
    home: Path, engine: Engine
) -> None:
    from dashboard.sessions import SessionStore

    store = accounts(home)
    store.add("duty9", "值班员九", Role.DUTY, "duty-pass-99", NOW)
    sessions = SessionStore(store.engine, idle=timedelta(hours=1), lifetime=timedelta(hours=12))
    sessions.start("duty9", NOW)
    app = open_page(home)
    assert app.selectbox(key="edit_target").value is None
    app.selectbox(key="edit_target").set_value("duty9").run()
    assert (
        app.text_input(key="edit_name").value == "值班员九"
        and app.selectbox(key="edit_role").value is Role.DUTY
    )
    app.text_input(key="edit_name").input("办理员九")
    app.selectbox(key="edit_role").set_value(Role.STAFF)
    click(app, "保存修改")
    assert app.error[0].value == "修改失败：办理人员必须指定所属单位"
    assert app.text_input(key="edit_name").value == "办理员九"  # kept
    app.selectbox(key="edit_unit").set_value("区交通运输局")
    click(app, "保存修改")
    assert app.success[0].value == "已修改用户 duty9（立即生效）。"
    changed = store.active("duty9")
    assert changed is not None and (changed.display_name, changed.role, changed.unit) == (
        "办理员九",
        Role.STAFF,
        "区交通运输局",
    )

    app.text_input(key="reset_password").input("new-pass-123")
    app.text_input(key="reset_again").input("new-pass-124")
    click(app, "重置密码")
    assert app.error[0].value == "重置失败：两次输入的新密码不一致。"
    app.text_input(key="reset_password").input("new-pass-123")
    app.text_input(key="reset_again").input("new-pass-123")
    click(app, "重置密码")
    assert app.success[0].value == "已重置用户 duty9 的密码，其 1 个登录会话已退出。"
    assert store.sign_in("duty9", "new-pass-123", NOW).username == "duty9"
    # One's own role cannot be changed here: the box is disabled.
    app.selectbox(key="edit_target").set_value(ADMIN.username).run()
    assert app.selectbox(key="edit_role").disabled


def test_the_last_active_administrator_keeps_the_role(home: Path, engine: Engine) -> None:
    store = accounts(home)
    store.add("admin9", "管理员九", Role.ADMIN, "admin-pass-9", NOW)
    with pytest.raises(AccountError, match="最后一名启用的管理员"):
        store.update("admin9", NOW, role=Role.DUTY)
    store.add("admin8", "管理员八", Role.ADMIN, "admin-pass-8", NOW)
    assert store.update("admin9", NOW, role=Role.DUTY).role is Role.DUTY
    assert store.update("admin8", NOW, unit="区政府办公室").unit == "区政府办公室"
    assert store.update("admin8", NOW, unit=None).unit is None


def test_disabling_a_user_asks_first_and_nothing_is_picked_beforehand(home: Path, engine: Engine) -> None:
    accounts(home).add("duty9", "值班员九", Role.DUTY, "duty-pass-99", NOW)
    app = open_page(home)
    assert app.selectbox(key="disable_target").value is None
    assert app.button(key="disable_ask").disabled  # nothing to disable until someone is picked
    assert ADMIN.username not in app.selectbox(key="disable_target").options  # never oneself
    app.selectbox(key="disable_target").set_value("duty9").run()
    click(app, "停用…")
    assert any("确定停用该账号吗" in w.value for w in app.warning)
    assert "用户：duty9" in [t.value for t in app.text]
    assert accounts(home).active("duty9") is not None  # asked, not done
    click(app, "取消")
    assert not any("确定停用" in w.value for w in app.warning) and accounts(home).active("duty9") is not None
    app.selectbox(key="disable_target").set_value("duty9").run()
    click(app, "停用…")
    click(app, "确认停用")
    assert app.success[0].value == "已停用用户 duty9。" and accounts(home).active("duty9") is None
    app.selectbox(key="enable_target").set_value("duty9").run()
    click(app, "启用")
    assert accounts(home).active("duty9") is not None


def test_every_source_of_every_kind_is_listed_and_tried_without_publishing(
    home: Path, engine: Engine, tmp_path: Path
) -> None:
    from demo_site import write_demo_sources

    sources = write_demo_sources(
        tmp_path / "sources.yaml", "http://127.0.0.1:9", real=True, feeds=True, json_board=True, news=True
    )
    app = open_page(home, tab="采集来源", sources_file=sources)
    table = app.dataframe[0].value
    assert len(table) == len(yaml.safe_load(sources.read_text(encoding="utf-8"))) == 8
    assert set(table["类型"]) == {"网页留言板", "JSON 留言板", "新闻", "12345 接口", "12345 导出文件", "微博"}
    assert list(table.columns[:3]) == ["名称", "类型", "状态"] and set(table["状态"]) == {"从未抓取"}
    assert app.selectbox(key="trial_source").value is None and app.button(key="trial_run").disabled
    app.selectbox(key="trial_source").set_value("demo-liuyan").run()
    app.button(key="trial_run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    [summary] = [w.value for w in app.warning]
    assert (
        summary.startswith("试采 demo-liuyan（网页留言板）：抓取 2 个页面")
        and "1 条可以发布，1 条无法发布" in summary
    )
    rows = app.dataframe[1].value
    assert rows["结果"].tolist() == ["可以发布", "无法发布：缺少发布时间"]
    assert rows["标题"].tolist()[0] == '<script>alert("x")</script>噪音扰民'  # a cell: plain text
    assert rows["发布时间"].tolist()[1] == "（未找到）"


def test_a_time_limit_is_edited_validated_written_for_every_process_and_audited(
    home: Path, engine: Engine
) -> None:
    app = open_page(home, tab="办理时限")
    assert app.selectbox(key="rule_class").value is None
    app.selectbox(key="rule_class").set_value("12345-complaint").run()
    assert (
        app.number_input(key="rule_close_n").value == 15
        and app.selectbox(key="rule_close_kind").value == "workdays"
    )
    assert "none" not in app.selectbox(key="rule_close_kind").options  # a class always has a 办结 limit
    app.selectbox(key="rule_respond_kind").set_value("hours")
    app.number_input(key="rule_respond_n").set_value(None)
    click(app, "保存时限")
    assert app.error[0].value == "保存失败：请填写答复时限的数量（1–9999），或把单位选为“不设”。"
    assert Settings(home=home).ledger_policy_path is None  # nothing written
    app.selectbox(key="rule_respond_kind").set_value("workdays")
    app.number_input(key="rule_respond_n").set_value(5)
    app.number_input(key="rule_close_n").set_value(20)
    app.selectbox(key="rule_max_extension_kind").set_value("none")
    click(app, "保存时限")
    assert (
        app.success[0].value == "已保存工单类别 12345-complaint 的时限（办结时限 15个工作日 → 20个工作日；"
        "最长延期 10个工作日 → 不设）。"
    )
    written = Settings(home=home).ledger_policy_path
    assert written == home / "config" / "ledger-policy.yaml"
    limits = load_policy(written).ticket_class("12345-complaint").limits
    assert (str(limits.close), limits.max_extension) == ("workdays:20", None)
    rules = next(d.value for d in app.dataframe if "办结时限" in d.value.columns)
    assert rules[rules["代码"] == "12345-complaint"].iloc[0]["办结时限"] == "20个工作日"  # shown at once
    audit = open_page(home, tab="修改记录").dataframe[0].value.iloc[0]
    assert (audit["操作人"], audit["对象"]) == ("管理员甲（admin1）", str(written))
    assert (
        audit["修改内容"]
        == "工单类别 12345-complaint：办结时限 15个工作日 → 20个工作日；最长延期 10个工作日 → 不设"
    )


def test_the_remit_is_edited_with_units_from_the_directory_and_a_new_unit_is_added_there(
    home: Path, engine: Engine
) -> None:
    app = open_page(home, tab="职责范围")
    app.text_input(key="unit_new").input("区住房和城乡建设局")
    click(app, "新增单位")
    assert app.error[0].value == "新增失败：单位名录中已有“区住房和城乡建设局”。"
    app.text_input(key="unit_new").input("区城市管理综合执法局")
    click(app, "新增单位")
    assert app.success[0].value == "已新增单位，现在可在账号和话题中选择它。"
    assert load_policy(Settings(home=home).ledger_policy_path).units == ("区城市管理综合执法局",)

    app.selectbox(key="remit_topic").set_value("环境保护").run()
    assert app.text_input(key="remit_label").value == "环境保护"
    assert "区城市管理综合执法局" in app.selectbox(key="remit_unit").options
    app.selectbox(key="remit_unit").set_value("区城市管理综合执法局")
    app.text_area(key="remit_keywords").input(app.text_area(key="remit_keywords").value + "、渣土车")
    click(app, "保存话题")
    assert app.success[0].value == "已保存话题。"
    taxonomy = load_taxonomy(Settings(home=home).taxonomy_path)
    topic = taxonomy.topic("环境保护")
    assert topic is not None and topic.unit == "区城市管理综合执法局" and topic.keywords[-1] == "渣土车"
    assert len(taxonomy.topics) == 7

    app.selectbox(key="remit_topic").set_value("__new__").run()
    app.text_input(key="remit_label").input("其他")
    click(app, "保存话题")
    assert "不能作为话题名称" in app.error[0].value and app.text_input(key="remit_label").value == "其他"
    app.text_input(key="remit_label").input("城市管理")
    app.selectbox(key="remit_unit").set_value("区城市管理综合执法局")
    app.text_area(key="remit_keywords").input("占道经营、违规广告，乱搭乱建")
    click(app, "保存话题")
    added = load_taxonomy(Settings(home=home).taxonomy_path).topic("城市管理")
    assert added is not None and added.keywords == ("占道经营", "违规广告", "乱搭乱建")

    app.selectbox(key="remit_topic").set_value("城市管理").run()
    click(app, "删除该话题…")
    assert load_taxonomy(Settings(home=home).taxonomy_path).topic("城市管理") is not None  # asked first
    click(app, "确认删除")
    assert load_taxonomy(Settings(home=home).taxonomy_path).topic("城市管理") is None
    audit = open_page(home, tab="修改记录").dataframe[0].value["修改内容"].tolist()
    assert audit == [
        "删除话题 城市管理",
        "新增话题 城市管理（责任单位 区城市管理综合执法局，关键词 3 个）",
        "话题 环境保护：责任单位 区生态环境分局 → 区城市管理综合执法局；关键词增加 渣土车",
        "单位名录新增 区城市管理综合执法局",
    ]


def test_a_unit_still_used_by_an_account_is_not_removed(home: Path, engine: Engine) -> None:
    app = open_page(home, tab="职责范围")
    app.text_input(key="unit_new").input("区信访局")
    click(app, "新增单位")
    accounts(home).add("staff7", "办理员七", Role.STAFF, "staff-pass-7", NOW, unit="区信访局")
    app.selectbox(key="unit_drop").set_value("区信访局").run()
    click(app, "移除…")
    click(app, "确认移除")
    assert app.error[0].value.startswith("移除失败：仍有 1 个账号属于该单位（staff7）")
    assert load_policy(Settings(home=home).ledger_policy_path).units == ("区信访局",)
