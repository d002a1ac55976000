"""回应台账 through AppTest against a real SQLite ledger and embedded archive, plus its pure helpers."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from dashboard.auth import Role, User
from dashboard.ledger_view import (
    OVERDUE,
    allowed_actions,
    countdown,
    highlight_overdue,
    marker,
    may_handle,
    parse_day,
    rule_text,
    scope_unit,
    time_left,
)
from response_ledger import services
from response_ledger.policy import load_policy
from response_ledger.timeliness import Clock
from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings
from response_ledger.workflow import Action, TicketStatus
from tests.dashboard.samples import accounts, add_account, enriched_post, write_archive
from yuqing.settings import Settings

TIMEOUT_S = 60
POLICY = load_policy()
UNIT_A, UNIT_B = "区住房和城乡建设局", "区交通运输局"
STAFF_A = User("staff1", "办理员甲", Role.STAFF, UNIT_A)
DUTY = User("duty1", "值班员甲", Role.DUTY)
UNTRUSTED = "<script>alert(1)</script> [link](http://x) 请联系 13812345678"
PHONE, MASKED_PHONE = "13812345678", "138****5678"


def _page(home: str, ledger_url: str) -> None:
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import ledger
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    services = services_for(_Settings(home=_Path(home), ledger_url=ledger_url))
    ledger.render(services, st.session_state.get("user"))


def open_page(home: Path, user: User = STAFF_A, *, ledger_url: str = "", account: bool = True) -> AppTest:
    if account and not ledger_url:  # the steps check, at each click, that the account is still active
        add_account(Settings(home=home).ledger_sqlalchemy_url, user)
    app = AppTest.from_function(_page, args=(str(home), ledger_url), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _open(engine: Engine, post: EnrichedPost, unit: str, ticket_class: str, start: datetime) -> str:
    with SqlUnitOfWork(engine) as uow:
        ticket = services.new_ticket(
            uow, POLICY, ticket_class=ticket_class, source=post["source"], summary=post["title"], unit=unit,
            found_at=start, start=start, actor="值班员", post_id=post["id"], event_key=post["event_id"],
        )  # fmt: skip
        uow.commit()
    return ticket.id


class Seeded:
    """The ids of the seeded tickets: two of unit A (one overdue), one of unit B."""

    def __init__(self, home: Path) -> None:
        now = datetime.now(CHINA_TZ)
        fresh = enriched_post("a1", title=f"噪音扰民，来电 {PHONE}", text=UNTRUSTED, published_at=now)
        late = enriched_post("a2", title="燃气泄漏隐患", published_at=now - timedelta(days=3))
        other = enriched_post("b1", title="公交站台破损", published_at=now)
        write_archive(home / "archive.db", [fresh, late, other])
        self.engine = engine_from_settings(Settings(home=home))
        self.fresh = _open(self.engine, fresh, UNIT_A, "12345-complaint", now - timedelta(hours=1))
        # 12345 应急: closed within 24 hours; opened three days ago, so it is overdue.
        self.late = _open(self.engine, late, UNIT_A, "12345-emergency", now - timedelta(days=3))
        self.other = _open(self.engine, other, UNIT_B, "12345-complaint", now - timedelta(hours=2))

    def status(self, ticket_id: str) -> tuple[TicketStatus, int, list[tuple[Action, str, str]]]:
        with SqlUnitOfWork(self.engine) as uow:
            ticket = uow.tickets.get(ticket_id)
        return ticket.status, ticket.version, [(e.action, e.actor, e.comment) for e in ticket.events]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def seeded(home: Path) -> Iterator[Seeded]:
    made = Seeded(home)
    yield made
    made.engine.dispose()


def test_staff_see_only_their_own_units_tickets_most_urgent_first(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    table = app.dataframe[0].value
    assert list(table["工单编号"]) == [seeded.late, seeded.fresh]
    assert set(table["责任单位"]) == {UNIT_A}
    options = app.selectbox(key="ledger_ticket").options
    assert not [o for o in options if seeded.other in o]
    assert app.text_input(key="ledger_own_unit").value == UNIT_A
    assert "ledger_unit" not in [box.key for box in app.selectbox]


def test_overdue_tickets_carry_the_red_marker_and_a_countdown(home: Path, seeded: Seeded) -> None:
    table = open_page(home).dataframe[0].value
    rows = {row["工单编号"]: row for _, row in table.iterrows()}
    assert rows[seeded.late]["标记"] == OVERDUE and rows[seeded.late]["剩余时间"].startswith("已超期 ")
    assert rows[seeded.fresh]["标记"] != OVERDUE and rows[seeded.fresh]["剩余时间"].startswith("剩余 ")
    assert rows[seeded.fresh]["当前环节"].startswith("签收：剩余 ")


def test_other_roles_pick_a_unit_or_see_every_unit(home: Path, seeded: Seeded) -> None:
    app = open_page(home, DUTY)
    assert set(app.dataframe[0].value["工单编号"]) == {seeded.fresh, seeded.late, seeded.other}
    app.selectbox(key="ledger_unit").set_value(UNIT_B).run()
    assert list(app.dataframe[0].value["工单编号"]) == [seeded.other]


def test_a_ticket_shows_its_posts_as_plain_text_and_its_history(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    assert not app.exception
    posts = app.dataframe[2].value
    assert list(posts["正文"]) == [UNTRUSTED]  # staff call back: the number is shown in full
    assert list(posts["自动判定主题"]) == ["城市管理"]  # the sample post's classified topic
    history = app.dataframe[3].value
    assert list(history["操作"]) == ["立单"] and list(history["办理人"]) == ["值班员"]
    shown = [*app.markdown, *app.caption, *app.title, *app.subheader, *app.info, *app.success, *app.error]
    for element in shown:
        assert "<script" not in str(element.value) and "](http" not in str(element.value), element.value


def test_roles_without_the_need_see_phone_numbers_masked(home: Path, seeded: Seeded) -> None:
    app = open_page(home, DUTY)
    summaries = " ".join(app.dataframe[0].value["摘要"])
    assert MASKED_PHONE in summaries and PHONE not in summaries
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    assert (
        MASKED_PHONE in app.dataframe[2].value["正文"][0] and PHONE not in app.dataframe[2].value["正文"][0]
    )


def test_signing_a_ticket_changes_its_state_and_history(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    assert app.selectbox(key=f"ledger_action_{seeded.fresh}").options == [
        "签收",
        "退回",
        "更正主题",
        "更正研判",
    ]
    app.text_area(key=f"ledger_comment_{seeded.fresh}").input("已收到，马上处理")
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert not app.exception and not app.error
    assert app.success[0].value == f"已签收工单 {seeded.fresh}，当前状态：办理中。"
    status, version, events = seeded.status(seeded.fresh)
    assert (status, version) == (TicketStatus.IN_PROGRESS, 2)
    assert events[-1] == (Action.SIGN, "办理员甲（staff1）", "已收到，马上处理")
    assert list(app.dataframe[3].value["操作"]) == ["立单", "签收"]
    # The same form now offers the next steps of 办理中.
    assert "答复" in app.selectbox(key=f"ledger_action_{seeded.fresh}").options


def test_a_step_clicked_after_the_account_was_disabled_does_nothing(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    app.text_area(key=f"ledger_comment_{seeded.fresh}").input("已收到")
    accounts(Settings(home=home).ledger_sqlalchemy_url).disable(STAFF_A.username, datetime.now(CHINA_TZ))
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert not app.exception and not app.success
    assert seeded.status(seeded.fresh)[:2] == (TicketStatus.PENDING_SIGN, 1)


def test_a_step_is_taken_as_the_account_stands_at_the_click(tmp_path: Path) -> None:
    from sqlalchemy import update

    from dashboard.accounts import users
    from dashboard.session import as_account_now
    from yuqing.dashboard_services import services_for

    settings = Settings(home=tmp_path)
    store = add_account(settings.ledger_sqlalchemy_url, STAFF_A)
    seen: list[User] = []
    step = as_account_now(lambda _services, user, note: seen.append(user) if note == "n" else None)
    with store.engine.begin() as conn:  # moved to another unit since the page was drawn
        conn.execute(update(users).where(users.c.username == STAFF_A.username).values(unit=UNIT_B))
    step(services_for(settings), STAFF_A, "n")
    store.disable(STAFF_A.username, datetime.now(CHINA_TZ))
    step(services_for(settings), STAFF_A, "n")  # disabled meanwhile: nothing happens
    assert seen == [User(STAFF_A.username, STAFF_A.display_name, Role.STAFF, UNIT_B)]


def test_answering_without_text_is_refused_with_the_ledgers_reason(home: Path, seeded: Seeded) -> None:
    with SqlUnitOfWork(seeded.engine) as uow:
        services.act(uow, seeded.fresh, Action.SIGN, actor="办理员乙", now=datetime.now(CHINA_TZ))
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    app.selectbox(key=f"ledger_action_{seeded.fresh}").set_value(Action.RESPOND).run()
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert app.error and "答复须填写答复内容" in app.error[0].value
    assert seeded.status(seeded.fresh)[0] is TicketStatus.IN_PROGRESS


def test_a_stale_form_is_refused_with_the_conflict_message(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    with SqlUnitOfWork(seeded.engine) as uow:  # a colleague signs it meanwhile
        services.act(
            uow, seeded.fresh, Action.SIGN, actor="办理员乙", now=datetime.now(CHINA_TZ), comment="我来"
        )
    app.selectbox(key=f"ledger_action_{seeded.fresh}").set_value(Action.RETURN)
    app.text_area(key=f"ledger_comment_{seeded.fresh}").input("不属于本单位")
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == ["该工单已被他人修改，请刷新后重试。"]
    status, version, events = seeded.status(seeded.fresh)
    assert (status, version) == (TicketStatus.IN_PROGRESS, 2)
    assert events[-1] == (Action.SIGN, "办理员乙", "我来")
    # The typed text is kept for the retry, and the refreshed page shows the colleague's step.
    assert app.text_area(key=f"ledger_comment_{seeded.fresh}").value == "不属于本单位"
    assert list(app.dataframe[3].value["办理人"]) == ["值班员", "办理员乙"]


def test_a_duty_officer_reassigns_and_the_ticket_moves_unit(home: Path, seeded: Seeded) -> None:
    app = open_page(home, DUTY)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    assert app.selectbox(key=f"ledger_action_{seeded.fresh}").options == [
        "改派",
        "督办",
        "更正主题",
        "更正研判",
    ]
    app.selectbox(key=f"ledger_to_{seeded.fresh}").set_value(UNIT_B)
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert app.success, [e.value for e in app.error]
    with SqlUnitOfWork(seeded.engine) as uow:
        assert uow.tickets.get(seeded.fresh).unit == UNIT_B
    staff = open_page(home)
    assert list(staff.dataframe[0].value["工单编号"]) == [seeded.late]


def test_staff_correct_a_wrong_topic_from_the_remits_topics(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    app.selectbox(key=f"ledger_action_{seeded.fresh}").set_value(Action.CORRECT_TOPIC).run()
    topics = app.selectbox(key=f"ledger_topic_{seeded.fresh}")
    assert topics.options[-1] == "其他" and "交通运输" in topics.options
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()  # nothing chosen: refused
    assert app.error and "更正主题须从职责范围的主题中选择" in app.error[0].value
    assert seeded.status(seeded.fresh)[1] == 1
    app.selectbox(key=f"ledger_topic_{seeded.fresh}").set_value("交通运输")
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert app.success, [e.value for e in app.error]
    status, version, events = seeded.status(seeded.fresh)
    assert (status, version) == (TicketStatus.PENDING_SIGN, 2)  # a recorded step: the status stays
    assert events[-1][:2] == (Action.CORRECT_TOPIC, "办理员甲（staff1）")
    history = app.dataframe[3].value
    assert list(history["操作"])[-1] == "更正主题" and "更正为：交通运输" in list(history.iloc[-1])


def test_staff_correct_the_judgements_that_were_wrong_and_the_history_says_which(
    home: Path, seeded: Seeded
) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    app.selectbox(key=f"ledger_action_{seeded.fresh}").set_value(Action.CORRECT_JUDGEMENT).run()
    boxes = {
        name: app.selectbox(key=f"ledger_{name}_{seeded.fresh}")
        for name in ("sentiment", "appeal", "urgency")
    }
    assert [boxes[name].label for name in boxes] == ["情感", "诉求类型", "是否紧急"]
    assert boxes["sentiment"].options == ["负面", "中性", "正面"]
    assert boxes["appeal"].options == ["投诉", "举报", "求助", "咨询", "建议", "表扬"]
    assert boxes["urgency"].options == ["紧急", "不紧急"]
    assert {box.placeholder for box in boxes.values()} == {"不更正"} and not any(
        b.value for b in boxes.values()
    )
    # What the classifier said of the ticket's post (negative, 投诉, risk 40) is in each box's help.
    assert [boxes[name].help for name in boxes] == [
        "自动判定：负面",
        "自动判定：投诉",
        "自动判定：不紧急（风险 40）",
    ]
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()  # nothing chosen: refused
    assert app.error and "更正研判须至少选择一项" in app.error[0].value
    assert seeded.status(seeded.fresh)[1] == 1
    app.selectbox(key=f"ledger_sentiment_{seeded.fresh}").set_value("negative")  # unchanged, yet chosen
    app.selectbox(key=f"ledger_appeal_{seeded.fresh}").set_value("举报")
    app.selectbox(key=f"ledger_urgency_{seeded.fresh}").set_value("yes")
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert app.success and app.success[0].value.startswith("已更正研判工单"), [e.value for e in app.error]
    with SqlUnitOfWork(seeded.engine) as uow:
        ticket = uow.tickets.get(seeded.fresh)
    assert ticket.status is TicketStatus.PENDING_SIGN and ticket.version == 2
    assert ticket.events[-1].action is Action.CORRECT_JUDGEMENT
    assert dict(ticket.events[-1].data) == {"sentiment": "negative", "appeal": "举报", "urgency": "yes"}
    history = app.dataframe[3].value
    assert list(history["操作"])[-1] == "更正研判"
    assert list(history["附加信息"])[-1] == "情感：负面；诉求类型：举报；紧急：是"
    # The boxes start over, and their help now also says what the ticket was corrected to.
    urgency = app.selectbox(key=f"ledger_urgency_{seeded.fresh}")
    assert urgency.value is None and urgency.help == "自动判定：不紧急（风险 40）；上次更正为：紧急"


def test_the_export_holds_only_what_the_user_may_see(home: Path, seeded: Seeded) -> None:
    from dashboard.ledger_data import workbook

    app = open_page(home)
    assert app.get("download_button"), "the page offers the 台账 export"
    book = load_workbook(io.BytesIO(workbook(seeded.engine, unit=UNIT_A, mask=True)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))[2:]  # below the two title rows
    assert rows[0][:5] == ("序号", "来源", "发现时间", "舆情/诉求摘要", "责任单位")
    assert {row[4] for row in rows[1:]} == {UNIT_A} and len(rows) == 3
    assert not [row for row in rows if PHONE in str(row[3])]
    assert [row for row in rows if MASKED_PHONE in str(row[3])]


def test_an_analyst_may_not_open_the_ledger(home: Path, seeded: Seeded) -> None:
    app = open_page(home, User("analyst1", "分析员甲", Role.ANALYST))
    assert app.error[0].value == "无权访问此页面。" and not app.dataframe


def test_staff_without_a_unit_see_a_message_not_every_unit(home: Path, seeded: Seeded) -> None:
    # Such an account predates the rule that staff have a unit: `Accounts.add` refuses to make one.
    app = open_page(home, User("staff0", "无单位", Role.STAFF), account=False)
    assert "未设置所属单位" in app.error[0].value and not app.dataframe


def test_a_missing_or_empty_ledger_is_a_friendly_message(home: Path) -> None:
    app = open_page(home)
    assert app.info[0].value.startswith("台账里还没有工单") and not app.dataframe
    engine_from_settings(Settings(home=home)).dispose()  # migrated, still empty
    app = open_page(home, DUTY)
    assert app.info[0].value.startswith("台账里还没有工单") and not app.dataframe


def test_an_unreachable_ledger_is_an_error_in_chinese(home: Path) -> None:
    app = open_page(home, ledger_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert app.error[0].value == "台账数据库暂时无法连接，请稍后再试；若持续出现，请联系管理员。"


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("due", "shown"),
    [
        (NOW + timedelta(days=1, hours=3, minutes=20), "剩余 1天3小时"),
        (NOW + timedelta(hours=2, minutes=5), "剩余 2小时5分钟"),
        (NOW + timedelta(seconds=20), "剩余 1分钟"),
        (NOW - timedelta(hours=5), "已超期 5小时"),
        (NOW - timedelta(days=2), "已超期 2天"),
        (None, "暂停计时"),
    ],
)
def test_countdowns_read_as_staff_say_them(due: datetime | None, shown: str) -> None:
    assert countdown(due, NOW) == shown


def _row(**changes: object) -> dict[str, object]:
    """A ledger list row in progress: opened 28 hours ago, signed, answer due in 3 days, 办理时限 in 10.

    Due soon is a share of the stage's time used (the policy's 75 %), so the row says when its
    clocks started.
    """
    row: dict[str, object] = {
        "status": TicketStatus.IN_PROGRESS.value,
        "opened_at": NOW - timedelta(hours=28),
        "sign_started_at": NOW - timedelta(hours=28),
        "closed_at": None,
        "due_at": NOW + timedelta(days=10),
        "signed_at": NOW - timedelta(days=1),
        "sign_due_at": NOW - timedelta(hours=20),
        "answered_at": None,
        "respond_due_at": NOW + timedelta(days=3),
    }
    return row | changes


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        (_row(), ""),
        (_row(respond_due_at=NOW + timedelta(hours=5)), "【即将到期】"),
        (_row(respond_due_at=NOW - timedelta(hours=5)), "【答复超时】"),
        (_row(signed_at=None), "【签收超时】"),  # not signed by its 签收 limit, days before 办理时限
        (_row(signed_at=None, sign_due_at=NOW + timedelta(hours=2)), "【即将到期】"),
        (_row(answered_at=NOW, due_at=NOW + timedelta(hours=3)), "【即将到期】"),
        (_row(due_at=NOW - timedelta(minutes=1), respond_due_at=NOW - timedelta(days=2)), OVERDUE),
        (_row(due_at=None), "【暂停计时】"),
        (_row(status=TicketStatus.CLOSED.value, due_at=NOW - timedelta(days=1)), "【已办结】"),
    ],
)
def test_each_row_is_marked_by_its_most_pressing_limit(row: dict[str, object], shown: str) -> None:
    assert marker(row, NOW) == shown


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        (_row(), "剩余 10天"),
        (_row(due_at=NOW - timedelta(hours=5)), "已超期 5小时"),
        # Answered by the 办理时限: not overdue while it waits to be closed (response_ledger.timeliness).
        (_row(answered_at=NOW - timedelta(days=1), due_at=NOW - timedelta(hours=5)), "已按时答复"),
        (_row(answered_at=NOW - timedelta(hours=2), due_at=NOW - timedelta(hours=5)), "超期答复 3小时"),
        (_row(status=TicketStatus.CLOSED.value, closed_at=NOW), "已办结"),
    ],
)
def test_the_time_left_follows_the_overdue_rule(row: dict[str, object], shown: str) -> None:
    assert time_left(Clock.of_row(row), NOW) == shown
    late = "超期" in shown and "剩余" not in shown
    assert (marker(row, NOW) == OVERDUE) == late


def test_overdue_rows_are_painted_red_and_stage_late_rows_amber() -> None:
    import pandas as pd

    table = pd.DataFrame({"标记": [OVERDUE, "【签收超时】", "【即将到期】"], "工单编号": ["a", "b", "c"]})
    styles = highlight_overdue(table).to_html()
    cells = re.findall(r"#T_\w+_row(\d)_col0[^{]*\{\s*background-color: (#\w+)", styles)
    assert dict(cells) == {"0": "#fde2e1", "1": "#fff3d6"}


def test_each_role_is_offered_only_its_steps_that_the_status_allows() -> None:
    assert allowed_actions(Role.STAFF, TicketStatus.PENDING_SIGN) == [
        Action.SIGN,
        Action.RETURN,
        Action.CORRECT_TOPIC,
        Action.CORRECT_JUDGEMENT,
    ]
    assert allowed_actions(Role.LEADER, TicketStatus.EXTENSION_REQUESTED) == [
        Action.APPROVE_EXTENSION,
        Action.REJECT_EXTENSION,
        Action.ESCALATE,
    ]
    assert allowed_actions(Role.ANALYST, TicketStatus.IN_PROGRESS) == []
    assert allowed_actions(Role.STAFF, TicketStatus.CLOSED) == [
        Action.CORRECT_TOPIC,
        Action.CORRECT_JUDGEMENT,
    ]
    assert Action.MERGE not in allowed_actions(Role.ADMIN, TicketStatus.IN_PROGRESS)


def test_staff_scope_is_their_unit_whatever_they_pick() -> None:
    assert scope_unit(STAFF_A, UNIT_B) == UNIT_A and scope_unit(DUTY, UNIT_B) == UNIT_B
    assert may_handle(STAFF_A, UNIT_A) and not may_handle(STAFF_A, UNIT_B) and may_handle(DUTY, UNIT_B)
    assert not may_handle(User("s0", "无单位", Role.STAFF), UNIT_A)


def test_limits_and_days_read_in_chinese() -> None:
    assert [rule_text(r) for r in ("hours:48", "workdays:20", "days:7", "months:3")] == [
        "48小时",
        "20个工作日",
        "7日",
        "3个月",
    ]
    assert parse_day(" 2027-01-01 ").isoformat() == "2027-01-01"
    with pytest.raises(ValueError, match=re.escape("请按 YYYY-MM-DD 填写")):
        parse_day("2027-02-30")


def test_a_long_list_is_paged_by_the_database(home: Path, seeded: Seeded) -> None:
    now = datetime.now(CHINA_TZ)
    with SqlUnitOfWork(seeded.engine) as uow:
        for n in range(53):
            services.new_ticket(
                uow, POLICY, ticket_class="12345-complaint", source="board", summary=f"留言{n}", unit=UNIT_A,
                found_at=now, start=now, actor="值班员", post_id=f"board:demo:{n}",
            )  # fmt: skip
        uow.commit()
    app = open_page(home)
    assert len(app.dataframe[0].value) == 50 and "共 55 件" in app.caption[0].value
    app.number_input(key="ledger_page").set_value(2).run()
    assert len(app.dataframe[0].value) == 5 and "第 2/2 页" in app.caption[0].value


def _in_order(app: AppTest) -> list[tuple[str, str]]:
    """Every element of the page in drawing order: (type, its value or label)."""
    out: list[tuple[str, str]] = []

    def walk(node: object) -> None:
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)
            return
        value = getattr(node, "value", None) if not hasattr(node, "label") else node.label
        out.append((str(getattr(node, "type", "")), str(value)))

    walk(app.main)
    return out


def _step(app: AppTest, ticket_id: str, action: Action, comment: str = "") -> None:
    app.selectbox(key=f"ledger_action_{ticket_id}").set_value(action).run()
    app.text_area(key=f"ledger_comment_{ticket_id}").input(comment)
    app.button(key=f"ledger_submit_{ticket_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]


def test_staff_sign_answer_and_close_without_losing_the_ticket(home: Path, seeded: Seeded) -> None:
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    for action, comment, status in (
        (Action.SIGN, "已收到", "办理中"),
        (Action.RESPOND, "已联系施工方停工", "已答复"),
        (Action.CLOSE, "群众满意", "已办结"),
    ):
        _step(app, seeded.fresh, action, comment)
        assert f"当前状态：{status}" in app.success[0].value, [e.value for e in app.error]
        # Still open, and the heading and the picker say how it stands now.
        assert app.subheader[0].value == f"工单 {seeded.fresh}（{status}）"
        assert app.selectbox(key="ledger_ticket").value == seeded.fresh
    # Closed, it has left the 未办结 list, but it is still the ticket on screen.
    assert seeded.fresh not in list(app.dataframe[0].value["工单编号"])
    assert seeded.status(seeded.fresh)[0] is TicketStatus.CLOSED


def test_a_refused_step_shows_its_error_beside_the_form_and_keeps_the_ticket(
    home: Path, seeded: Seeded
) -> None:
    with SqlUnitOfWork(seeded.engine) as uow:
        services.act(uow, seeded.fresh, Action.SIGN, actor="办理员乙", now=datetime.now(CHINA_TZ))
    app = open_page(home)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    _step(app, seeded.fresh, Action.RESPOND)
    assert app.error and "答复须填写答复内容" in app.error[0].value
    assert app.subheader[0].value == f"工单 {seeded.fresh}（办理中）"
    drawn = _in_order(app)
    error_at = next(i for i, (_, text) in enumerate(drawn) if "答复须填写答复内容" in text)
    submit_at = next(i for i, (_, label) in enumerate(drawn) if label == "提交")
    assert error_at > submit_at  # under the button, not at the top of the page


def test_a_link_with_a_ticket_opens_it(home: Path, seeded: Seeded) -> None:
    add_account(Settings(home=home).ledger_sqlalchemy_url, DUTY)
    app = AppTest.from_function(_page, args=(str(home), ""), default_timeout=TIMEOUT_S)
    app.session_state["user"] = DUTY
    app.query_params["ticket"] = seeded.late
    app.run()
    assert not app.exception
    assert app.subheader[0].value.startswith(f"工单 {seeded.late}")
    assert app.selectbox(key="ledger_ticket").value == seeded.late


def test_the_list_shows_escalations_and_each_ticket_where_its_clock_started(
    home: Path, seeded: Seeded
) -> None:
    with SqlUnitOfWork(seeded.engine) as uow:
        services.act(
            uow,
            seeded.late,
            Action.ESCALATE,
            actor="值班员",
            now=datetime.now(CHINA_TZ),
            comment="请加快办理",
        )
    app = open_page(home)
    table = app.dataframe[0].value
    assert table.set_index("工单编号").loc[seeded.late, "督办"] == "1 次"
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    facts = dict(app.dataframe[1].value.values.tolist())
    assert facts["计时起点"].endswith("（留言发布时间）") and facts["督办次数"] == "0"


def test_staff_whose_unit_no_ticket_carries_are_told_which_units_exist(home: Path, seeded: Seeded) -> None:
    app = open_page(home, User("staff9", "办理员丙", Role.STAFF, "区住建局"))
    assert "台账中没有任何工单的责任单位是您账号的所属单位" in app.info[0].value
    assert any(UNIT_A in t.value and UNIT_B in t.value for t in app.text)


def _scrolls_to_the_ticket(app: AppTest) -> bool:
    return any("st-key-ledger_ticket_panel" in str(e.proto.body) for e in app.get("html"))


def test_a_ticket_opened_is_brought_into_view_and_a_step_leaves_the_page_where_it_is(
    home: Path, seeded: Seeded
) -> None:
    app = open_page(home)
    assert not _scrolls_to_the_ticket(app)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    assert _scrolls_to_the_ticket(app)  # the panel is below the list: the page scrolls to it once
    _step(app, seeded.fresh, Action.SIGN, "已收到")
    assert app.subheader[0].value == f"工单 {seeded.fresh}（办理中）" and not _scrolls_to_the_ticket(app)


def test_a_link_brings_its_ticket_into_view(home: Path, seeded: Seeded) -> None:
    add_account(Settings(home=home).ledger_sqlalchemy_url, DUTY)
    app = AppTest.from_function(_page, args=(str(home), ""), default_timeout=TIMEOUT_S)
    app.session_state["user"] = DUTY
    app.query_params["ticket"] = seeded.late
    app.run()
    assert app.subheader[0].value.startswith(f"工单 {seeded.late}") and _scrolls_to_the_ticket(app)


def test_escalating_from_the_ledger_needs_a_reason(home: Path, seeded: Seeded) -> None:
    app = open_page(home, DUTY)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    app.selectbox(key=f"ledger_action_{seeded.fresh}").set_value(Action.ESCALATE).run()
    assert app.text_area(key=f"ledger_comment_{seeded.fresh}").label == "督办理由（必填）"
    app.button(key=f"ledger_submit_{seeded.fresh}").click().run()
    assert [e.value for e in app.error] == [f"操作未完成：工单 {seeded.fresh}：督办须写明理由。"]
    assert seeded.status(seeded.fresh)[1] == 1
    _step(app, seeded.fresh, Action.ESCALATE, "群众反复来电")
    assert app.success[0].value == f"已督办工单 {seeded.fresh}，当前状态：待签收。"
    assert seeded.status(seeded.fresh)[2][-1] == (Action.ESCALATE, "值班员甲（duty1）", "群众反复来电")


def test_a_reassignment_offers_the_configured_units(home: Path, seeded: Seeded) -> None:
    app = open_page(home, DUTY)
    app.selectbox(key="ledger_ticket").set_value(seeded.fresh).run()
    options = app.selectbox(key=f"ledger_to_{seeded.fresh}").options
    # The remit's units and the dispatcher, then the units the 台账 holds; never the ticket's own.
    assert options[0] == "区人力资源和社会保障局" and "区政府办公室" in options and UNIT_B in options
    assert UNIT_A not in options
