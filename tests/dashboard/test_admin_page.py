"""系统管理 through AppTest: deadline rules, the holiday table (a year entered in one go and marked
complete), the sources with 试采, the remit taxonomy and the unit directory, each edit validated and
audited; and the notification log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.china_time import CHINA_TZ
from dashboard.auth import Role, User
from response_ledger import services
from response_ledger.policy import load_policy
from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
from yuqing.settings import Settings

TIMEOUT_S = 60
ADMIN = User("admin1", "管理员甲", Role.ADMIN)
DUTY = User("duty1", "值班员甲", Role.DUTY)


def _page(home: str, policy_file: str, sources_file: str = "") -> None:
    import dataclasses
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import admin
    from tests.dashboard.test_admin_page import fake_trial
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    settings = _Settings(
        home=_Path(home),
        ledger_policy_file=_Path(policy_file) if policy_file else None,
        sources_file=_Path(sources_file) if sources_file else None,
    )
    # 试采 runs a spider in a process of its own: the tests hand in a stand-in with the same answer shape.
    services = dataclasses.replace(services_for(settings), try_source=fake_trial)
    admin.render(services, st.session_state.get("user"))


def fake_trial(name: str) -> Any:
    from crawlers.trial import TrialResult, TriedField, TriedItem

    title = TriedField("title", "标题", '<script>alert("x")</script>噪音扰民', "h1.title")
    missing = TriedField("published_at", "发布时间", None, "span.date")
    items = (
        TriedItem("http://127.0.0.1:9/liuyan/1.html", (title,), post_id=f"board:{name}:1"),
        TriedItem("http://127.0.0.1:9/liuyan/2.html", (missing,), problem="missing published_at"),
    )
    return TrialResult(name, "board", "http://127.0.0.1:9/liuyan/list.html", 2, 0.4, "finished", items)


def _change_as(home: str, username: str) -> None:
    from pathlib import Path as _Path

    from dashboard.auth import Role as _Role
    from dashboard.auth import User as _User
    from dashboard.sections.admin_holidays import change_holiday
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    change_holiday(
        services_for(_Settings(home=_Path(home))), _User(username, username, _Role.DUTY), "2027-01-01"
    )


def open_page(
    home: Path,
    user: User = ADMIN,
    *,
    tab: str = "用户",
    policy_file: Path | None = None,
    sources_file: Path | None = None,
) -> AppTest:
    from tests.dashboard.samples import add_account

    add_account(Settings(home=home).ledger_sqlalchemy_url, user)  # each click reads the account again
    args = (str(home), str(policy_file or ""), str(sources_file or ""))
    app = AppTest.from_function(_page, args=args, default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.session_state["admin_tab"] = tab  # the tab open (only it is drawn)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def click(app: AppTest, label: str) -> AppTest:
    [button] = [b for b in app.button if b.label == label]
    button.click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    made = engine_from_settings(Settings(home=home))
    yield made
    made.dispose()


def _ticket_into_2027(engine: Engine) -> str:
    """A 依申请公开 request received on 2026-12-20: its 20 working days end in 2027 (provisional today)."""
    start = datetime(2026, 12, 20, 9, 0, tzinfo=CHINA_TZ)
    with SqlUnitOfWork(engine) as uow:
        ticket = services.new_ticket(
            uow, load_policy(), ticket_class="disclosure", source="manual", summary="申请公开某项目环评报告",
            unit="区生态环境分局", found_at=start, start=start, actor="值班员",
        )  # fmt: skip
        uow.commit()
    return ticket.id


def _due(engine: Engine, ticket_id: str) -> tuple[datetime | None, bool]:
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.get(ticket_id)
    return ticket.due_at, ticket.provisional


def _holidays(engine: Engine) -> list[tuple[date, bool, str]]:
    with SqlUnitOfWork(engine) as uow:
        return [(e.day, e.is_workday, e.name) for e in uow.holidays.entries()]


def test_the_deadline_rules_are_listed_in_words(home: Path, engine: Engine) -> None:
    app = open_page(home, tab="办理时限")
    rules = next(d.value for d in app.dataframe if "办结时限" in d.value.columns)
    complaint = rules[rules["代码"] == "12345-complaint"].iloc[0]
    assert (complaint["类别"], complaint["签收时限"], complaint["办结时限"], complaint["最长延期"]) == (
        "12345投诉举报类",
        "1个工作日",
        "15个工作日",
        "10个工作日",
    )
    major = rules[rules["代码"] == "major-incident"].iloc[0]
    assert (major["答复时限"], major["最长延期"]) == ("5小时", "不允许延期")
    intake = next(d.value for d in app.dataframe if "工单类别" in d.value.columns)
    assert "12345 应急类工单" in set(intake["来源及条件"])


def test_a_broken_policy_file_is_reported_not_raised(home: Path, engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    broken.write_text("classes:\n  quick:\n    title: 快办\n    close: fortnight:1\n", encoding="utf-8")
    app = open_page(home, tab="办理时限", policy_file=broken)
    assert [e.value for e in app.error if "办理时限配置有误" in e.value and "fortnight:1" in e.value]
    assert not [d for d in app.dataframe if "办结时限" in d.value.columns]


def test_one_date_of_a_new_year_counts_but_never_makes_the_year_known(home: Path, engine: Engine) -> None:
    ticket_id = _ticket_into_2027(engine)
    before, provisional = _due(engine, ticket_id)
    assert provisional, "2027 has no schedule yet"
    app = open_page(home, tab="节假日")
    assert [w for w in app.warning if "2027 年的节假日安排尚未录入完整" in w.value]
    app.text_input(key="holiday_day").input("2027-01-01")
    app.text_input(key="holiday_name").input("元旦")
    click(app, "保存")
    assert app.success[0].value == (
        "2027-01-01 已保存（放假，元旦），重新计算了 1 个未办结工单的时限。"
        "（2027 年尚未标记为已录入完整，该年的时限仍为暂定）"
    )
    assert _holidays(engine) == [(date(2027, 1, 1), False, "元旦")]
    after, provisional = _due(engine, ticket_id)
    assert provisional and after is not None and before is not None and after > before
    table = next(d.value for d in app.dataframe if "名称" in d.value.columns)
    assert table.values.tolist() == [["2027-01-01", "星期五", "放假", "元旦"]]
    # The warning stays: one date is not the year's schedule.
    [warning] = [w.value for w in app.warning if "2027 年" in w.value]
    assert "本表已有该年 1 天" in warning

    assert app.selectbox(key="holiday_remove_day").value is None  # nothing picked until the admin picks
    app.selectbox(key="holiday_remove_day").set_value(date(2027, 1, 1)).run()
    click(app, "删除…")
    assert any("确定从节假日表删除这一天吗" in w.value for w in app.warning) and _holidays(engine)
    click(app, "确认删除")
    assert app.success[0].value == "2027-01-01 已删除，重新计算了 1 个未办结工单的时限。"
    assert _holidays(engine) == [] and _due(engine, ticket_id) == (before, True)


SCHEDULE_2027 = """2027-01-01 休 元旦
2027-02-06..2027-02-13 休 春节
2027-02-14 班 春节调休
2027-02-20 班 春节调休
2027-10-01 至 2027-10-07 休 国庆节
2027-09-26 班 国庆节调休
"""


def test_an_admin_enters_a_years_schedule_in_one_go_and_marks_it_complete(home: Path, engine: Engine) -> None:
    from response_ledger.queries import holiday_years

    ticket_id = _ticket_into_2027(engine)
    app = open_page(home, tab="节假日")
    assert app.number_input(key="holiday_year").value == 2027  # the first year without a schedule
    app.text_area(key="holiday_lines").input(SCHEDULE_2027.replace("2027-02-20 班", "2027-02-19 班"))
    app.checkbox(key="holiday_complete").check()
    click(app, "检查并预览")
    assert app.error[0].value == "有 1 处需要改正，改正后再预览（尚未写入任何日期）："
    assert "第 4 行：2027-02-19 是星期五，本来就上班：调休上班日应为周末" in [t.value for t in app.text]
    assert _holidays(engine) == [] and not [b for b in app.button if b.label == "确认录入"]
    app.text_area(key="holiday_lines").input(SCHEDULE_2027)  # the typed lines stayed to be corrected
    click(app, "检查并预览")
    assert any(info.value.startswith("2027 年：放假 16 天，调休上班 3 天。") for info in app.info)
    preview = next(d.value for d in app.dataframe if "星期" in d.value.columns and len(d.value) == 19)
    assert preview.iloc[0].tolist() == ["2027-01-01", "星期五", "放假", "元旦"]
    assert _holidays(engine) == []  # nothing written before 确认录入
    click(app, "确认录入")
    assert (
        app.success[0].value == "已录入 2027 年的 19 天并标记为已录入完整，重新计算了 1 个未办结工单的时限。"
    )
    assert len(_holidays(engine)) == 19 and list(holiday_years(engine)) == [2027]
    assert _due(engine, ticket_id)[1] is False  # 2027 is known now: no longer provisional
    assert not [w for w in app.warning if "2027 年" in w.value]
    years = next(d.value for d in app.dataframe if "状态" in d.value.columns and "年份" in d.value.columns)
    row = years[years["年份"] == "2027"].iloc[0]
    assert (row["放假"], row["调休上班"]) == (16, 3) and row["状态"].startswith(
        "已录入完整（管理员甲（admin1）"
    )
    assert app.text_area(key="holiday_lines").value == ""

    # Taking the mark back asks first; then 2027 is provisional again.
    app.selectbox(key="holiday_unmark_year").set_value(2027).run()
    click(app, "取消标记…")
    assert list(holiday_years(engine)) == [2027]
    click(app, "确认取消标记")
    assert holiday_years(engine) == {} and _due(engine, ticket_id)[1] is True
    app.selectbox(key="holiday_mark_year").set_value(2027).run()
    click(app, "标记完整")
    assert list(holiday_years(engine)) == [2027] and _due(engine, ticket_id)[1] is False
    audit = open_page(home, tab="修改记录").dataframe[0].value
    assert audit["修改内容"].tolist()[:3] == [
        "2027 年节假日安排标记为已录入完整",
        "2027 年节假日安排取消“已录入完整”标记",
        "录入 2027 年节假日安排：放假 16 天、调休上班 3 天，标记为已录入完整（替换该年原有日期）",
    ]
    assert set(audit["操作人"]) == {"管理员甲（admin1）"}


def test_a_workday_in_lieu_is_stored_as_one(home: Path, engine: Engine) -> None:
    app = open_page(home, tab="节假日")
    app.text_input(key="holiday_day").input("2027-02-20")
    app.radio(key="holiday_kind").set_value(True)
    click(app, "保存")
    assert _holidays(engine) == [(date(2027, 2, 20), True, "")]
    assert "调休上班" in app.success[0].value


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("2027-02-30", "无法识别"), ("明年元旦", "无法识别"), ("", "无法识别"), ("1999-10-01", "超出范围")],
)
def test_an_invalid_date_is_refused_with_a_reason(
    home: Path, engine: Engine, typed: str, reason: str
) -> None:
    app = open_page(home, tab="节假日")
    app.text_input(key="holiday_day").input(typed)
    click(app, "保存")
    assert app.error and reason in app.error[0].value and not app.success
    assert _holidays(engine) == []
    assert app.text_input(key="holiday_day").value == typed  # kept, to be corrected


def test_only_an_admin_may_open_the_page(home: Path, engine: Engine) -> None:
    app = open_page(home, DUTY)
    assert app.error[0].value == "无权访问此页面。" and not app.dataframe and not app.text_input


def test_a_holiday_change_checks_the_role_again(home: Path, engine: Engine) -> None:
    app = AppTest.from_function(_change_as, args=(str(home), "duty1"), default_timeout=TIMEOUT_S)
    app.run()
    assert app.error[0].value == "无权访问此页面。"
    assert _holidays(engine) == []


def test_the_notification_log_lists_each_attempt_with_its_secrets_hidden(home: Path, engine: Engine) -> None:
    from response_ledger.delivery_log import Attempt, JsonlDeliveryLog, delivery_log_path

    log = JsonlDeliveryLog(delivery_log_path(home))
    when = datetime(2026, 9, 23, 9, 0, tzinfo=CHINA_TZ)
    hook = "wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY"
    log.record(Attempt(when, "wecom", hook, "舆情回应台账超期提醒", 1, False, "HTTP 503"))
    log.record(Attempt(when, "wecom", hook, "舆情回应台账超期提醒", 2, True))
    app = open_page(home, tab="通知记录")
    [table] = [d.value for d in app.dataframe if "失败原因" in d.value.columns]
    assert list(table.columns) == ["时间", "渠道", "接收方", "主题", "第几次", "结果", "失败原因"]
    assert table["结果"].tolist() == ["成功", "失败"] and table["渠道"].tolist() == ["企业微信"] * 2
    assert table["时间"].iloc[0] == "2026-09-23 09:00:00" and table["失败原因"].tolist() == ["—", "HTTP 503"]
    assert "SECRET-KEY" not in table.to_string() and "key=***" in table["接收方"].iloc[0]


def test_an_empty_notification_log_says_so(home: Path, engine: Engine) -> None:
    app = open_page(home, tab="通知记录")
    assert any(info.value == "暂无通知记录。" for info in app.info)
