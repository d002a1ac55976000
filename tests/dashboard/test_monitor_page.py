"""值班监测 through AppTest: alerts that stay until 确认, tickets opened and escalated from a post, the
role checks, untrusted text shown as text, and an empty system."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from archive.embedded import EmbeddedArchive
from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from dashboard.auth import Role, User
from response_ledger import SqlUnitOfWork, engine_from_settings, load_policy
from response_ledger.queries import unit_worklist
from response_ledger.services import new_ticket, ticket_id_for_post
from tests.dashboard.samples import XSS_TITLE, add_account, enriched_post, sample_posts, write_archive
from yuqing.settings import Settings

TIMEOUT_S = 60
DUTY = User("duty1", "值班员甲", Role.DUTY)
LEADER = User("lead1", "领导甲", Role.LEADER)
STAFF = User("staff1", "办理员", Role.STAFF, "区交通运输局")
UNTRUSTED = "<script>alert(1)</script> [点我](http://evil.example) <b>粗体</b>"
LINK = re.compile(r"\]\(|<a\s|https?://|javascript:|<script|<b>|evil\.example", re.IGNORECASE)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home with no YUQING_ variable set (the page gets its settings as an argument)."""
    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    return tmp_path / "home"


def _monitor_page(home: str) -> None:
    from pathlib import Path as _Path

    import streamlit as st

    from dashboard.app_pages import monitor
    from yuqing.dashboard_services import services_for
    from yuqing.settings import Settings as _Settings

    monitor.render(services_for(_Settings(home=_Path(home))), st.session_state.get("user"))


def open_monitor(home: Path, user: User = DUTY) -> AppTest:
    """A new session of ``user`` on the monitor page, run once."""
    add_account(Settings(home=home).ledger_sqlalchemy_url, user)  # checked at each click and refresh
    app = AppTest.from_function(_monitor_page, args=(str(home),), default_timeout=TIMEOUT_S)
    app.session_state["user"] = user
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def texts(app: AppTest) -> list[str]:
    return [str(element.value) for element in app.text]


def posts(app: AppTest) -> pd.DataFrame:
    return next(frame for frame in app.dataframe if frame.key == "monitor_posts").value


def ack_buttons(app: AppTest, prefix: str) -> list[str]:
    return [str(button.key) for button in app.button if str(button.key).startswith(f"ack:{prefix}")]


def select_post(app: AppTest, title: str) -> AppTest:
    """Select the row whose title is ``title``, as a click in the grid would, and rerun."""
    row = posts(app)["标题"].tolist().index(title)
    app.session_state["monitor_posts"] = {"selection": {"rows": [row]}}
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def test_the_monitor_shows_posts_with_badges_volume_and_a_high_risk_alert(home: Path) -> None:
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    app = open_monitor(home)
    assert app.title[0].value == "值班监测"
    table = posts(app)
    assert len(table) == 5 and table["风险"].tolist()[1] == "高 90"
    assert table["链接"].tolist()[2] == "https://example.gov.cn/hotline/h1"
    assert "近24小时各来源发帖量" in [header.value for header in app.subheader]
    assert app.get("vega_lite_chart"), "the hourly volume chart"
    # The sample post with risk 90 is an alert waiting for 确认; the others are below the threshold.
    assert any(text.startswith("【高风险帖子】风险 90：") for text in texts(app))
    assert len(ack_buttons(app, "risk:")) == 1


def test_staff_are_refused(home: Path) -> None:
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    app = open_monitor(home, STAFF)
    assert app.error[0].value == "无权访问此页面。"
    assert not app.dataframe and not app.metric and not app.button


def test_a_leader_sees_the_alerts_but_cannot_acknowledge_or_open_tickets(home: Path) -> None:
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    app = open_monitor(home, LEADER)
    assert any(text.startswith("【高风险帖子】") for text in texts(app))
    assert not ack_buttons(app, "")
    select_post(app, "小区夜间施工噪音扰民")
    assert not [button for button in app.button if button.key in ("monitor_open", "monitor_escalate")]
    assert any("由值班员或管理员操作" in caption.value for caption in app.caption)


def wait_clear_of_the_hour() -> None:
    """A spike alert is one per clock hour: keep a test's sessions inside one hour."""
    now = datetime.now(CHINA_TZ)
    if now.minute == 59 and now.second >= 30:
        time.sleep(61 - now.second)


def test_a_spike_alert_is_explained_and_stays_acknowledged_across_sessions(home: Path) -> None:
    wait_clear_of_the_hour()
    now = datetime.now(CHINA_TZ)
    spike = [
        enriched_post(
            f"gas{i}",
            source="weibo",
            channel="本地生活号",
            title="",
            text="小区燃气泄漏，居民紧急疏散",
            topic="燃气安全",
            risk=30,
            published_at=now - timedelta(minutes=2 * i + 1),
        )
        for i in range(12)
    ]
    background = [
        enriched_post(f"bg{h}", topic="燃气安全", risk=10, published_at=now - timedelta(hours=h, minutes=30))
        for h in range(2, 14, 3)
    ]
    write_archive(home / "archive.db", [*spike, *background])
    app = open_monitor(home)
    [topic_ack] = ack_buttons(app, "spike:topic:燃气安全:")
    shown = texts(app)
    assert "【舆情突增】话题「燃气安全」近1小时突增至 12 条" in shown
    explanation = next(text for text in shown if text.startswith("「燃气安全」近1小时12条"))
    assert "高频词：" in explanation and "燃气" in explanation and "微博12条" in explanation
    assert "代表帖子：《小区燃气泄漏，居民紧急疏散》" in explanation

    app.button(key=topic_ack).click().run()
    assert not app.exception
    assert "话题「燃气安全」近1小时突增至 12 条" not in " ".join(texts(app))
    assert any(success.value.startswith("已确认该提醒") for success in app.success)
    acked = next(frame.value for frame in app.dataframe if "确认人" in frame.value.columns)
    assert acked["确认人"].tolist() == ["值班员甲"]

    again = open_monitor(home, User("duty2", "值班员乙", Role.DUTY))
    assert not ack_buttons(again, "spike:topic:")
    assert "话题「燃气安全」近1小时突增至 12 条" not in " ".join(texts(again))


def test_a_spikes_action_filters_the_posts_to_it_and_the_gravest_alerts_come_first(home: Path) -> None:
    wait_clear_of_the_hour()
    now = datetime.now(CHINA_TZ)
    spike = [
        enriched_post(f"gas{i}", title="", text="小区燃气泄漏，居民紧急疏散", topic="燃气安全", risk=30,
                      published_at=now - timedelta(minutes=2 * i + 1))
        for i in range(8)
    ]  # fmt: skip
    late = enriched_post("late", title="占道经营无人管", published_at=now - timedelta(days=5))
    write_archive(home / "archive.db", [*spike, late, *sample_posts(now)])
    app = open_monitor(home)
    seed_ticket(home, late, started=now - timedelta(days=5))  # its alert is raised after the others
    import streamlit as st

    st.cache_data.clear()
    app.run()
    kinds = [t[: t.index("】") + 1] for t in texts(app) if t.startswith("【")]
    # The spikes (topic and source) and the high-risk post before the overdue ticket raised after them.
    assert kinds == ["【舆情突增】", "【舆情突增】", "【高风险帖子】", "【工单已超期】"], kinds
    [button] = [b for b in app.button if str(b.key).startswith("filter:spike:topic:燃气安全:")]
    assert button.label == "筛选帖子"
    button.click().run()
    assert not app.exception
    assert app.selectbox(key="filter_topic").value == "燃气安全"
    assert set(posts(app)["话题"]) == {"燃气安全"} and len(posts(app)) == 8


def seed_ticket(home: Path, post: EnrichedPost, *, started: datetime) -> str:
    """A 政务舆情 ticket (answer within 48 hours) for ``post`` whose clock started at ``started``."""
    engine = engine_from_settings(Settings(home=home))
    with SqlUnitOfWork(engine) as uow:
        ticket = new_ticket(
            uow, load_policy(), ticket_class="government-opinion", source="board", summary=str(post["title"]),
            unit="区城管执法局", found_at=started, start=started, actor="系统受理", post_id=post["id"],
        )  # fmt: skip
        uow.commit()
    engine.dispose()
    return ticket.id


def test_overdue_and_due_soon_tickets_from_the_ledger_are_alerts(home: Path) -> None:
    now = datetime.now(CHINA_TZ)
    late = enriched_post("late", title="占道经营无人管", published_at=now - timedelta(days=5))
    soon = enriched_post("soon", title="路灯不亮", published_at=now - timedelta(hours=40))
    write_archive(home / "archive.db", [late, soon])
    late_id = seed_ticket(home, late, started=now - timedelta(days=5))
    soon_id = seed_ticket(home, soon, started=now - timedelta(hours=40))
    app = open_monitor(home)
    shown = texts(app)
    assert any(t.startswith(f"【工单已超期】工单 {late_id}（区城管执法局）答复已超期 3 天") for t in shown), (
        shown
    )
    assert any(
        re.match(f"【工单即将到期】工单 {soon_id}（区城管执法局）答复时限还剩 [78] 小时", t) for t in shown
    )
    assert ack_buttons(app, f"ticket:{late_id}:答复:overdue") and ack_buttons(
        app, f"ticket:{soon_id}:答复:due_soon"
    )
    assert posts(app)["台账"].tolist() == [soon_id, late_id]
    assert any("超期工单 1 张、即将到期 1 张" in caption.value for caption in app.caption)


def _in_order(app: AppTest) -> list[str]:
    """The labels and values of the page's elements in drawing order."""
    out: list[str] = []

    def walk(node: object) -> None:
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)
            return
        out.append(str(getattr(node, "label", None) or getattr(node, "value", "")))

    walk(app.main)
    return out


def _links(app: AppTest) -> list[tuple[str, str, str]]:
    """Each page link's (label, page, query)."""
    return [(e.proto.label, e.proto.page, e.proto.query_string) for e in app.get("page_link")]


def test_filing_shows_the_proposal_and_opens_the_ticket_as_the_officer_changed_it(home: Path) -> None:
    posts_ = sample_posts(datetime.now(CHINA_TZ))
    write_archive(home / "archive.db", posts_)
    post = next(p for p in posts_ if p["title"] == "小区夜间施工噪音扰民")
    expected = ticket_id_for_post(post["id"])
    app = open_monitor(home)
    assert not [button for button in app.button if button.key == "monitor_open"]  # nothing selected yet
    select_post(app, "小区夜间施工噪音扰民")
    assert "标题：小区夜间施工噪音扰民" in texts(app)
    # Without a ticket there is nothing to escalate: 立案 only, and its form opens on the click.
    assert not [button for button in app.button if button.key == "monitor_escalate"]
    assert not [box for box in app.selectbox if box.key == f"monitor_unit_{post['id']}"]
    app.button(key="monitor_open").click().run()
    unit = app.selectbox(key=f"monitor_unit_{post['id']}")
    ticket_class = app.selectbox(key=f"monitor_class_{post['id']}")
    # The ledger's proposal: the remit topic's unit (the classifier's), the class of an unanswered
    # board message; the units are the configured ones, the classes the policy's, each with why.
    assert unit.value == "城管执法局" and unit.options[0] == "城管执法局"
    assert {"区交通运输局", "区卫生健康局", "区政府办公室"} <= set(unit.options)
    assert ticket_class.value == "board-message"
    assert "建议依据：按帖子主题“城市管理”对应的责任单位（职责范围）" in texts(app)
    assert "建议依据：未回复的网站留言" in texts(app)

    unit.set_value("区交通运输局")
    ticket_class.set_value("government-opinion")
    app.text_area(key=f"monitor_note_{post['id']}").input("实为公交线路问题，交交通运输局")
    app.button(key="monitor_file_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert app.success[0].value.startswith(f"已立案：工单 {expected}（政务舆情），办理时限 20")
    assert "已进入回应台账，状态“待签收”" in app.success[0].value
    assert "责任单位：区交通运输局" in texts(app)  # a unit name is shown as text
    assert ("在回应台账中打开", "ledger", f"ticket={expected}") in _links(app)
    engine = engine_from_settings(Settings(home=home))
    assert [row["id"] for row in unit_worklist(engine, "区交通运输局")] == [expected]
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.get(expected)
    opening = ticket.events[0]
    engine.dispose()
    assert (ticket.ticket_class, ticket.status.value) == ("government-opinion", "待签收")
    assert opening.actor == "值班员甲（duty1）"
    assert opening.comment == "值班监测人工立案：实为公交线路问题，交交通运输局"
    assert (opening.data["proposed_unit"], opening.data["proposed_class"]) == ("城管执法局", "网站留言")
    assert posts(app)["台账"].tolist()[0] == expected
    # Filed: the post now offers 升级 of its ticket, not another 立案.
    assert not app.info  # the outcome names the ticket; nothing says it twice
    assert not [button for button in app.button if button.key == "monitor_open"]
    assert app.button(key="monitor_escalate")


def test_escalating_asks_for_a_reason_and_refuses_none_beside_the_form(home: Path) -> None:
    posts_ = sample_posts(datetime.now(CHINA_TZ))
    write_archive(home / "archive.db", posts_)
    post = next(p for p in posts_ if p["title"] == "小区夜间施工噪音扰民")
    ticket_id = seed_ticket(home, post, started=datetime.now(CHINA_TZ))
    app = select_post(open_monitor(home), "小区夜间施工噪音扰民")
    app.button(key="monitor_escalate").click().run()
    assert app.text_area(key=f"monitor_reason_{post['id']}").label == "督办理由（必填）"
    app.button(key="monitor_escalate_submit").click().run()
    assert not app.exception and not app.success
    assert [e.value for e in app.error] == [f"升级失败：工单 {ticket_id}：督办须写明理由。"]
    drawn = _in_order(app)
    assert drawn.index(app.error[0].value) > drawn.index("确认升级")  # beside the form, under its buttons
    engine = engine_from_settings(Settings(home=home))
    assert unit_worklist(engine, "区城管执法局")[0]["escalations"] == 0
    # The form stays open with the refusal until the reason is given.
    app.text_area(key=f"monitor_reason_{post['id']}").input("群众反复投诉，请加快办理")
    app.button(key="monitor_escalate_submit").click().run()
    assert not app.error
    assert app.success[0].value.startswith(
        f"已升级（督办）工单 {ticket_id}，累计督办 1 次；工单在回应台账，状态“待签收”"
    )
    assert "责任单位：区城管执法局" in texts(app)
    assert unit_worklist(engine, "区城管执法局")[0]["escalations"] == 1
    with SqlUnitOfWork(engine) as uow:
        last = uow.tickets.get(ticket_id).events[-1]
    engine.dispose()
    assert (last.comment, last.actor) == ("群众反复投诉，请加快办理", "值班员甲（duty1）")
    assert not [box for box in app.text_area if box.key == f"monitor_reason_{post['id']}"]  # closed


def test_a_post_filed_meanwhile_by_someone_else_is_not_filed_twice(home: Path) -> None:
    posts_ = sample_posts(datetime.now(CHINA_TZ))
    write_archive(home / "archive.db", posts_)
    post = next(p for p in posts_ if p["title"] == "小区夜间施工噪音扰民")
    app = select_post(open_monitor(home), "小区夜间施工噪音扰民")
    app.button(key="monitor_open").click().run()
    ticket_id = seed_ticket(home, post, started=datetime.now(CHINA_TZ))  # another officer was quicker
    app.button(key="monitor_file_submit").click().run()
    assert [info.value for info in app.info] == [f"该帖子已有工单 {ticket_id}，未重复立案。"]
    engine = engine_from_settings(Settings(home=home))
    assert len(unit_worklist(engine, "区城管执法局")) == 1
    engine.dispose()


def test_a_high_risk_alert_chooses_its_post_for_filing(home: Path) -> None:
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    app = open_monitor(home)
    [button] = [b for b in app.button if str(b.key).startswith("post:risk:")]
    assert button.label == "查看帖子"
    button.click().run()
    assert not app.exception
    assert f"标题：{XSS_TITLE}" in texts(app)  # the risk-90 post, its title as text
    assert app.button(key="monitor_open")
    assert app.session_state["monitor_posts"]["selection"]["rows"] == [1]  # its row in the table


def test_the_selection_follows_its_post_when_a_new_post_arrives(home: Path) -> None:
    now = datetime.now(CHINA_TZ)
    write_archive(home / "archive.db", sample_posts(now))
    app = select_post(open_monitor(home), "咨询公积金提取流程")
    write_archive(home / "archive.db", [enriched_post("new", title="刚刚发布", published_at=now)])
    import streamlit as st

    st.cache_data.clear()  # as if the cache had expired before the next refresh
    app.run()
    assert posts(app)["标题"].tolist()[0] == "刚刚发布"
    assert "标题：咨询公积金提取流程" in texts(app)
    assert app.session_state["monitor_posts"]["selection"]["rows"] == [3]


def test_untrusted_post_text_is_only_ever_plain_text(home: Path) -> None:
    now = datetime.now(CHINA_TZ)
    hostile = enriched_post("evil", source="weibo", title="", text=UNTRUSTED, published_at=now, risk=95)
    hostile["url"] = "http://evil.example/post"
    write_archive(home / "archive.db", [hostile, *sample_posts(now)])
    app = select_post(open_monitor(home), "—")
    table = posts(app)
    assert table["摘要"].tolist()[0] == UNTRUSTED and table["链接"].tolist()[0] == "http://evil.example/post"
    shown = texts(app)
    assert f"正文：{UNTRUSTED}" in shown and "链接：http://evil.example/post" in shown
    assert any(UNTRUSTED[:40] in text for text in shown)  # the high-risk alert, as text
    markup = [
        *app.markdown, *app.caption, *app.title, *app.header, *app.subheader, *app.info, *app.success,
        *app.warning, *app.error, *app.metric, *app.expander,
    ]  # fmt: skip
    for element in markup:
        value = str(getattr(element, "value", "") or getattr(element, "label", ""))
        assert not LINK.search(value), value
    # The link column is a text column: nothing in the grid is a followable link.
    frame = next(frame for frame in app.dataframe if frame.key == "monitor_posts")
    config = json.loads(frame.proto.columns or "{}")
    assert "link" not in json.dumps(config).lower()


def test_an_empty_archive_shows_the_waiting_message(home: Path) -> None:
    EmbeddedArchive(home / "archive.db").close()
    app = open_monitor(home)
    assert app.info[0].value.startswith("暂无数据")
    assert not app.dataframe and not app.metric and not app.button


def test_a_missing_archive_shows_the_waiting_message_and_creates_nothing(home: Path) -> None:
    app = open_monitor(home)
    assert app.info[0].value.startswith("暂无数据")
    assert not (home / "archive.db").exists()


def test_a_ticket_alert_reads_its_ticket_now_and_leaves_once_its_condition_is_gone(home: Path) -> None:
    from response_ledger import services
    from response_ledger.workflow import Action

    now = datetime.now(CHINA_TZ)
    late = enriched_post("late", title="占道经营无人管", published_at=now - timedelta(days=5))
    write_archive(home / "archive.db", [late])
    late_id = seed_ticket(home, late, started=now - timedelta(days=5))
    alert_id = f"ticket:{late_id}:答复:overdue"
    app = open_monitor(home)
    assert ack_buttons(app, alert_id) and any(str(b.key) == f"open:{alert_id}" for b in app.button)
    assert any("当前状态：待签收" in t for t in texts(app))
    engine = engine_from_settings(Settings(home=home))
    with SqlUnitOfWork(engine) as uow:  # signed elsewhere: the alert says so at the next refresh
        services.act(uow, late_id, Action.SIGN, actor="办理员", now=datetime.now(CHINA_TZ))
    app.run()
    assert any("当前状态：办理中" in t for t in texts(app)), texts(app)
    with SqlUnitOfWork(engine) as uow:  # answered: the 答复 alert has nothing left to say
        services.act(
            uow, late_id, Action.RESPOND, actor="办理员", now=datetime.now(CHINA_TZ), comment="已处理"
        )
    engine.dispose()
    app.run()
    assert not app.exception
    assert not ack_buttons(app, alert_id)
    assert not any(late_id in t for t in texts(app))
    acked = next(frame for frame in app.dataframe if "确认人" in frame.value.columns).value
    assert acked["确认人"].tolist() == ["系统（情况已解除）"]
    # A fresh screen does not raise it again.
    assert not ack_buttons(open_monitor(home), alert_id)


def test_the_ledger_column_comes_before_the_long_text(home: Path) -> None:
    write_archive(home / "archive.db", sample_posts(datetime.now(CHINA_TZ)))
    columns = list(posts(open_monitor(home)).columns)
    assert columns.index("台账") < columns.index("摘要") and columns.index("台账") < 6


def test_a_saved_search_at_its_threshold_is_an_alert_that_opens_its_search(home: Path) -> None:
    from archive.saved import SavedSearch, SavedSearches

    now = datetime.now(CHINA_TZ)
    saved_at = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    SavedSearches(home / "saved_searches.json").save(
        SavedSearch("燃气预警", "燃气", alert_threshold=2, created_at=saved_at)
    )
    gas = [
        enriched_post(f"gas{i}", title="小区燃气泄漏", risk=20, published_at=now - timedelta(minutes=10 + i))
        for i in range(2)
    ]
    write_archive(home / "archive.db", [*gas, *sample_posts(now)])
    app = open_monitor(home)
    assert "【检索预警】保存的查询“燃气预警”新增 2 条命中（预警阈值 2）" in texts(app)
    assert any("检索式：燃气" in text for text in texts(app))
    [ack] = ack_buttons(app, "saved:")
    assert any(str(button.key) == f"search:{ack.removeprefix('ack:')}" for button in app.button)
    assert any("检索预警：设有预警阈值的保存查询" in caption.value for caption in app.caption)
    # A leader watches: no 确认, but the link to the search is there.
    leader = open_monitor(home, LEADER)
    assert not ack_buttons(leader, "") and any(str(b.key).startswith("search:saved:") for b in leader.button)
    app.button(key=ack).click().run()
    assert not app.exception and not ack_buttons(app, "saved:")
    assert not any(str(b.key).startswith("search:") for b in app.button)


def test_a_post_links_only_to_its_own_page(home: Path) -> None:
    from dashboard.tables import own_page

    now = datetime.now(CHINA_TZ)
    api = "https://12345.example.gov.cn/api/orders"
    # Read from the platform's API before orders had their own pages: its url is the API's.
    order = enriched_post("o1", source="hotline", channel="12345", title="路灯不亮", published_at=now)
    order["url"], order["raw"] = api, {"origin": api}
    detailed = enriched_post("o2", source="hotline", channel="12345", title="井盖缺失", published_at=now)
    detailed["url"], detailed["raw"] = "https://12345.example.gov.cn/order/o2", {"origin": api}
    write_archive(home / "archive.db", [order, detailed])
    table = posts(open_monitor(home)).set_index("标题")
    assert table.loc["路灯不亮", "链接"] == "—"
    assert table.loc["井盖缺失", "链接"] == "https://12345.example.gov.cn/order/o2"
    app = select_post(open_monitor(home), "路灯不亮")
    assert "链接：（无原帖页面）" in texts(app)
    assert own_page({"url": "javascript:alert(1)"}) == "" and own_page({"url": ""}) == ""
