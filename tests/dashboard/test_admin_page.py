"""系统管理's ledger tabs through AppTest: deadline rules, and the holiday table edited by an admin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

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


def _page(home: str, policy_file: str) -> None:
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import admin
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    settings = _Settings(home=_Path(home), ledger_policy_file=_Path(policy_file) if policy_file else None)
    admin.render(services_for(settings), st.session_state.get("user"))


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


def open_page(home: Path, user: User = ADMIN, *, policy_file: Path | None = None) -> AppTest:
    app = AppTest.from_function(_page, args=(str(home), str(policy_file or "")), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
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
    app = open_page(home)
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
    app = open_page(home, policy_file=broken)
    assert [e.value for e in app.error if "办理时限配置有误" in e.value and "fortnight:1" in e.value]
    assert not [d for d in app.dataframe if "办结时限" in d.value.columns]


def test_an_admin_adds_and_removes_a_holiday_and_open_deadlines_follow(home: Path, engine: Engine) -> None:
    ticket_id = _ticket_into_2027(engine)
    before, provisional = _due(engine, ticket_id)
    assert provisional, "2027 has no schedule yet"
    app = open_page(home)
    assert [w for w in app.warning if "2027 年的节假日安排尚未录入" in w.value]
    app.text_input(key="holiday_day").input("2027-01-01")
    app.text_input(key="holiday_name").input("元旦")
    click(app, "保存")
    assert app.success[0].value == "2027-01-01 已保存（放假，元旦），重新计算了 1 个未办结工单的时限。"
    assert _holidays(engine) == [(date(2027, 1, 1), False, "元旦")]
    after, provisional = _due(engine, ticket_id)
    assert not provisional and after is not None and before is not None and after > before
    table = next(d.value for d in app.dataframe if "类型" in d.value.columns)
    assert table.values.tolist() == [["2027-01-01", "星期五", "放假", "元旦"]]
    assert not [w for w in app.warning if "2027 年" in w.value]

    app.selectbox(key="holiday_remove_day").set_value(date(2027, 1, 1))
    click(app, "删除")
    assert app.success[0].value == "2027-01-01 已删除，重新计算了 1 个未办结工单的时限。"
    assert _holidays(engine) == [] and _due(engine, ticket_id) == (before, True)


def test_a_workday_in_lieu_is_stored_as_one(home: Path, engine: Engine) -> None:
    app = open_page(home)
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
    app = open_page(home)
    app.text_input(key="holiday_day").input(typed)
    click(app, "保存")
    assert app.error and reason in app.error[0].value and not app.success
    assert _holidays(engine) == []


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
    app = open_page(home)
    [table] = [d.value for d in app.dataframe if "失败原因" in d.value.columns]
    assert list(table.columns) == ["时间", "渠道", "接收方", "主题", "第几次", "结果", "失败原因"]
    assert table["结果"].tolist() == ["成功", "失败"] and table["渠道"].tolist() == ["企业微信"] * 2
    assert table["时间"].iloc[0] == "2026-09-23 09:00:00" and table["失败原因"].tolist() == ["—", "HTTP 503"]
    assert "SECRET-KEY" not in table.to_string() and "key=***" in table["接收方"].iloc[0]


def test_an_empty_notification_log_says_so(home: Path, engine: Engine) -> None:
    app = open_page(home)
    assert any(info.value == "暂无通知记录。" for info in app.info)
