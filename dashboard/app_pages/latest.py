"""值班监测: the duty officer's live monitor — alerts to acknowledge, the last day's volume by source,
the newest posts with their badges, and a ticket opened or escalated from a selected post.

Everything below the filters sits in one fragment that reruns by itself every ``REFRESH``. Post text
is untrusted: it reaches the screen only through ``st.dataframe`` cells and ``st.text``, never
markdown, and links are shown as text, never as something to follow. Only 值班员 and 管理员 act
(acknowledge, open, escalate); the role is checked again inside every action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError, QueryError
from core.china_time import CHINA_TZ
from dashboard import queries
from dashboard.acks import AcknowledgeRefused, StoredAlert
from dashboard.alerts import (
    RISK_LOOKBACK,
    TICKET_PREFIX,
    Alert,
    live_ticket_alert,
    may_act,
    ticket_of_alert,
)
from dashboard.app_pages import ledger
from dashboard.auth import Page, User, may_open
from dashboard.charts import time_bars
from dashboard.labels import ALL, SENTIMENT_LABELS, SOURCE_LABELS
from dashboard.queries import Filters, MonitorPosts
from dashboard.session import account_now, as_account_now, require
from yuqing.settings import Settings

REFRESH = timedelta(seconds=10)
ROWS = 200
TABLE_HEIGHT = 600  # about 16 rows: a duty officer reads the newest posts without scrolling the grid
ALERTS_SHOWN = 30  # alerts drawn with their 确认 button; the rest are counted below them
ALERTS_OPEN = 5  # of those, drawn open above the posts; the others wait in a collapsed list
ACKED_SHOWN = 20
BODY_CHARS = 500  # of the selected post's text: enough to decide on a ticket without opening the source
EMPTY_MESSAGE = "暂无数据……舆情库里还没有帖子。采集和分类开始后，本页每 10 秒自动刷新。"
UNAVAILABLE_MESSAGE = "舆情库暂时无法连接，请稍后再试；若持续出现，请联系管理员。"
LEDGER_UNAVAILABLE = "回应台账暂时无法连接：工单提醒、确认和立案暂不可用，请稍后再试。"
NOT_ALLOWED = "您的角色只能查看；确认提醒、立案和升级由值班员或管理员操作。"
# Stacked hourly bars; axis and tooltip formats in digits and Chinese (the default time labels are English).
VOLUME_CHART = time_bars("时间", "帖子数", hourly=True, colour="来源")
TABLE_KEY = "monitor_posts"
SHOWN_KEY = "monitor_shown_ids"  # the post ids of the table as last drawn, row by row
ALERT_FLASH = "monitor_alert_flash"
ACTION_FLASH = "monitor_action_flash"


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for a permitted user; an empty or unreachable archive is a message, never a traceback."""
    user = require(user, Page.MONITOR)
    st.title("值班监测")
    try:
        total = queries.total(settings)
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        st.stop()
    if total == 0:
        _wait_for_posts(settings)
        st.stop()
    _monitor(settings, user, _filters(settings))


@st.fragment(run_every=REFRESH)
def _wait_for_posts(settings: Settings) -> None:
    # Keeps checking so that a screen opened before the first crawl fills itself in: the whole
    # page reruns (filters included) as soon as there is something to show.
    if queries.total(settings) > 0:
        st.rerun()
    st.info(EMPTY_MESSAGE)


def _filters(settings: Settings) -> Filters:
    with st.sidebar:
        st.header("筛选")
        source = st.selectbox(
            "来源",
            [None, *SOURCE_LABELS],
            format_func=lambda c: ALL if c is None else SOURCE_LABELS[c],
            placeholder=ALL,
            key="filter_source",
        )
        sentiment = st.selectbox(
            "情感",
            [None, *SENTIMENT_LABELS],
            format_func=lambda c: ALL if c is None else SENTIMENT_LABELS[c],
            placeholder=ALL,
            key="filter_sentiment",
        )
        topic = st.selectbox(
            "话题",
            [None, *queries.topics(settings)],
            format_func=lambda t: ALL if t is None else t,
            placeholder=ALL,
            key="filter_topic",
        )
        keyword = st.text_input(
            "关键词", placeholder="多个词用空格分隔，须同时出现", key="filter_keyword", max_chars=200
        )
        st.caption("筛选只作用于帖子列表和统计，提醒总是覆盖全部帖子。")
    return Filters(source=source, sentiment=sentiment, topic=topic, keyword=keyword)


@st.fragment(run_every=REFRESH)
def _monitor(settings: Settings, user: User, filters: Filters) -> None:
    # Disabled since the page was drawn: rerun the whole app, which signs the account out.
    if account_now(settings, user) is None:
        st.rerun()
    now = datetime.now(CHINA_TZ)
    # Alerts and volume are keyed by the minute, so every screen within it shares one computation.
    minute = now.replace(second=0, microsecond=0)
    try:
        overview = queries.overview(settings, filters, now.date())
        posts = queries.monitor_posts(settings, filters, ROWS)
    except QueryError:
        st.warning("关键词无法检索，请换一种写法后重试。")
        return
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        return
    board = _collect_alerts(settings, minute)

    total, negative, today, waiting = st.columns(4)
    total.metric("总量", f"{overview.total:,}", border=True)
    negative.metric("负面占比", f"{overview.negative_share:.1%}", border=True)
    today.metric("今日新增", f"{overview.today:,}", border=True)
    waiting.metric("待确认提醒", "—" if board is None else f"{board.count:,}", border=True)
    st.caption(f"更新于 {now:%H:%M:%S}，每 {REFRESH.seconds} 秒自动刷新")
    backlog = queries.pipeline_backlog(settings)
    if backlog is not None:
        # The duty officer sees at a glance whether classification or indexing is falling behind.
        st.caption(
            f"处理积压：待分类 {backlog['classify']:,} 条，待入库 {backlog['index']:,} 条，"
            f"待建台账 {backlog['ledger']:,} 条；"
            f"死信 {backlog['dead_letters']:,} 条"
        )

    _alerts(user, settings, board)
    _volume(settings, minute)
    if overview.total == 0:
        st.info("没有符合筛选条件的帖子。")
        return
    _posts(settings, user, posts, overview.total)


@dataclass(frozen=True)
class _Board:
    """What the alert section shows: active alerts (the first ones), their count, the acknowledged."""

    count: int
    active: list[StoredAlert]
    acked: list[StoredAlert]
    notes: list[str]


def _collect_alerts(settings: Settings, now: datetime) -> _Board | None:
    """Derive the alerts of ``now``, record the new ones and read what is active; None: no ledger."""
    notes: list[str] = []
    derived: list[Alert] = []
    try:
        derived += queries.spike_alerts(settings, now)
        risky, risk_alerts = queries.risk_alerts(settings, now)
        derived += risk_alerts
        if risky:
            hours = int(RISK_LOOKBACK.total_seconds() // 3600)
            notes.append(f"近 {hours} 小时高风险帖子 {risky:,} 条")
    except ArchiveError:
        notes.append("舆情库暂时无法连接，突增和高风险提醒暂停更新")
    try:
        tickets = queries.ticket_alerts(settings, now)
        derived += tickets.alerts
        if tickets.overdue or tickets.due_soon:
            notes.append(f"超期工单 {tickets.overdue:,} 张、即将到期 {tickets.due_soon:,} 张（详见回应台账）")
        store = queries.alert_store(settings)
        store.record(derived, now)
        # Ticket alerts are read against their tickets now: settled ones leave, the rest say how
        # things stand at this moment (status, how long overdue).
        moment = datetime.now(CHINA_TZ)
        refs = {i: ref for i in store.active_ids(TICKET_PREFIX) if (ref := ticket_of_alert(i)) is not None}
        states = queries.ticket_states(settings, [ticket_id for ticket_id, _ in refs.values()])
        due_soon = queries.ledger_policy(settings).due_soon_fraction
        live = {
            i: live_ticket_alert(i, states.get(ticket_id), moment, due_soon)
            for i, (ticket_id, _) in refs.items()
        }
        store.resolve([i for i, alert in live.items() if alert is None], moment)
        active = [
            replace(item, alert=live.get(item.alert.id) or item.alert) for item in store.active(ALERTS_SHOWN)
        ]
        return _Board(store.active_count(), active, store.acknowledged(ACKED_SHOWN), notes)
    except SQLAlchemyError:
        return None


def _alerts(user: User, settings: Settings, board: _Board | None) -> None:
    st.subheader("待确认提醒")
    _flash(ALERT_FLASH)
    if board is None:
        st.error(LEDGER_UNAVAILABLE)
        return
    acting = may_act(user.role)
    if not board.active:
        st.success("当前没有待确认的提醒。")
    # A long list of alerts would push the posts off the screen: the first few stay open.
    for item in board.active[:ALERTS_OPEN]:
        _alert_card(item, settings, user, acting)
    more = board.active[ALERTS_OPEN:]
    if more:
        with st.expander(f"更多待确认提醒（{len(more)} 条）"):
            for item in more:
                _alert_card(item, settings, user, acting)
    hidden = board.count - len(board.active)
    if hidden > 0:
        st.caption(f"另有 {hidden:,} 条较早的提醒未列出，确认上面的提醒后依次显示。")
    if board.notes:
        st.caption("；".join(board.notes) + "。")
    if not acting:
        st.caption(NOT_ALLOWED)
    with st.expander(f"已确认（最近 {len(board.acked)} 条）"):
        if board.acked:
            st.dataframe(_acked_table(board.acked), hide_index=True, width="stretch")
        else:
            st.text("还没有确认过的提醒。")


def _alert_card(item: StoredAlert, settings: Settings, user: User, acting: bool) -> None:
    alert = item.alert
    with st.container(border=True):
        left, right = st.columns([9, 1], vertical_alignment="center")
        # Titles and details quote posts and ticket summaries: plain text only.
        left.text(f"{alert.kind.label}{alert.title}")
        left.text(alert.detail)
        left.caption(f"提醒于 {item.raised_at.astimezone(CHINA_TZ):%m-%d %H:%M}")
        if acting:
            right.button(
                "确认", key=f"ack:{alert.id}", on_click=_acknowledge, args=(settings, user, alert.id)
            )
        ref = ticket_of_alert(alert.id)
        linked = ref is not None and may_open(user.role, Page.LEDGER)
        if ref is not None and linked and right.button("打开工单", key=f"open:{alert.id}"):
            ledger.open_ticket_link(ref[0])


def _acked_table(acked: Sequence[StoredAlert]) -> pd.DataFrame:
    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone(CHINA_TZ):%m-%d %H:%M}" if moment else "—"

    return pd.DataFrame(
        [
            {
                "类型": a.alert.kind.label,
                "提醒": a.alert.title,
                "确认人": a.acked_by or "—",
                "确认时间": when(a.acked_at),
            }
            for a in acked
        ]
    )


@as_account_now
def _acknowledge(settings: Settings, user: User, alert_id: str) -> None:
    # A callback: it runs before the fragment redraws, so the acknowledged alert is gone at once.
    try:
        done = queries.alert_store(settings).acknowledge(alert_id, user, datetime.now(CHINA_TZ))
    except AcknowledgeRefused:
        st.session_state[ALERT_FLASH] = ("error", NOT_ALLOWED)
        return
    except SQLAlchemyError:
        st.session_state[ALERT_FLASH] = ("error", LEDGER_UNAVAILABLE)
        return
    st.session_state[ALERT_FLASH] = (
        ("success", "已确认该提醒：所有值班员的提醒列表中都不再显示。")
        if done
        else ("info", "该提醒已由他人确认。")
    )


def _volume(settings: Settings, now: datetime) -> None:
    st.subheader("近24小时各来源发帖量")
    try:
        volume = queries.source_volume(settings, now)
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        return
    if volume.empty:
        st.info("近24小时没有新帖子。")
        return
    st.vega_lite_chart(volume, VOLUME_CHART, width="stretch", height=240)


def _posts(settings: Settings, user: User, posts: MonitorPosts, total: int) -> None:
    st.subheader("最新帖子")
    st.caption(
        f"按发布时间倒序，显示最新 {len(posts.ids)} 条，共 {total:,} 条；选中一行可立案（建台账）或升级工单"
    )
    selected = _keep_selection(posts.ids)
    st.dataframe(
        posts.table,
        key=TABLE_KEY,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=TABLE_HEIGHT,
        column_config={
            # Pixel widths that fit "YYYY-MM-DD HH:MM" and the badges; titles take what is left.
            # Links are plain text columns: shown, never followed from here.
            "发布时间": st.column_config.TextColumn(width=125),
            "来源": st.column_config.TextColumn(width=70),
            "标题": st.column_config.TextColumn(width=220),
            "情感": st.column_config.TextColumn(width=50),
            "风险": st.column_config.TextColumn(width=60),
            "台账": st.column_config.TextColumn(width=160),  # fits a ticket id, YQ- and 16 hex digits
            "话题": st.column_config.TextColumn(width=90),
            "链接": st.column_config.TextColumn(),
        },
    )
    st.session_state[SHOWN_KEY] = posts.ids
    _actions(settings, user, posts, selected)


def _keep_selection(ids: tuple[str, ...]) -> str | None:
    """The selected post's id, with the grid's selection moved onto that post's row in ``ids``.

    A selection names a row of the table as it was last drawn; the refresh can shift rows (a new
    post on top), so the selection is carried by post id and re-pointed, and an action always
    applies to the post the officer chose.
    """
    shown: tuple[str, ...] = st.session_state.get(SHOWN_KEY) or ()
    state = st.session_state.get(TABLE_KEY)
    try:
        rows = list(state["selection"]["rows"]) if state else []
    except (KeyError, TypeError):
        rows = []
    selected = shown[rows[0]] if rows and 0 <= rows[0] < len(shown) else None
    wanted = [ids.index(selected)] if selected in ids else []
    if rows != wanted:
        st.session_state[TABLE_KEY] = {"selection": {"rows": wanted}}
    return selected if wanted else None


def _actions(settings: Settings, user: User, posts: MonitorPosts, selected: str | None) -> None:
    _flash(ACTION_FLASH)
    if selected is None:
        st.caption("在上表中选中一条帖子，即可立案（建台账）或升级其工单。")
        return
    row = posts.table.iloc[posts.ids.index(selected)]
    try:
        chosen = queries.post(settings, selected)
    except ArchiveError:
        chosen = None
    body = " ".join((chosen.get("text", "") if chosen else "").split()) or str(row["摘要"])
    with st.container(border=True):
        st.markdown("**已选帖子**")
        # Post fields are untrusted: st.text shows them as they are, never as markdown or HTML.
        st.text(f"标题：{row['标题']}")
        st.text(f"正文：{body[:BODY_CHARS]}{'…' if len(body) > BODY_CHARS else ''}")
        st.text(f"链接：{row['链接']}")
        try:
            ticket = queries.ticket_of_post(settings, selected)
        except SQLAlchemyError:
            st.error(LEDGER_UNAVAILABLE)
            return
        if ticket is not None:
            st.info(f"该帖子已有工单 {ticket}。")
        if not may_act(user.role):
            st.caption(NOT_ALLOWED)
            return
        left, right, _ = st.columns([2, 1, 5])
        left.button(
            "立案（建台账）",
            key="monitor_open",
            type="primary",
            on_click=_open,
            args=(settings, user, selected),
        )
        right.button("升级", key="monitor_escalate", on_click=_escalate, args=(settings, user, selected))


def _actor(user: User) -> str:
    return f"{user.display_name}（{user.username}）"[:100]


@as_account_now
def _open(settings: Settings, user: User, post_id: str) -> None:
    from response_ledger import SqlUnitOfWork, open_by_hand
    from response_ledger.errors import LedgerError, describe

    if not may_act(user.role):
        st.session_state[ACTION_FLASH] = ("error", NOT_ALLOWED)
        return
    try:
        post = queries.archive(settings).get(post_id)
        if post is None:
            st.session_state[ACTION_FLASH] = ("error", "舆情库中找不到该帖子，未立案。")
            return
        with SqlUnitOfWork(queries.ledger_for_writing(settings)) as uow:
            existing = uow.tickets.ticket_id_for_post(post_id)
            if existing is not None:
                st.session_state[ACTION_FLASH] = ("info", f"该帖子已有工单 {existing}，未重复立案。")
                return
            ticket_id = open_by_hand(
                uow,
                post,
                datetime.now(CHINA_TZ),
                actor=_actor(user),
                comment="值班监测人工立案",
                policy=queries.ledger_policy(settings),
            )
    except LedgerError as exc:
        st.session_state[ACTION_FLASH] = ("error", f"立案失败：{describe(exc)}")
        return
    except (SQLAlchemyError, ArchiveError):
        st.session_state[ACTION_FLASH] = ("error", f"立案失败：{LEDGER_UNAVAILABLE}")
        return
    # The 台账 column shows the new ticket now, not when the caches expire (the first ticket of a
    # fresh system has just created the ledger's tables).
    queries.ledger_ready.clear()
    queries.monitor_posts.clear()
    st.session_state[ACTION_FLASH] = ("success", f"已立案，工单编号 {ticket_id}。")


@as_account_now
def _escalate(settings: Settings, user: User, post_id: str) -> None:
    from response_ledger import SqlUnitOfWork, services
    from response_ledger.errors import LedgerError, describe
    from response_ledger.workflow import Action

    if not may_act(user.role):
        st.session_state[ACTION_FLASH] = ("error", NOT_ALLOWED)
        return
    try:
        ticket_id = queries.ticket_of_post(settings, post_id)
        if ticket_id is None:
            st.session_state[ACTION_FLASH] = ("warning", "该帖子尚未立案，请先立案（建台账）再升级。")
            return
        with SqlUnitOfWork(queries.ledger_for_writing(settings)) as uow:
            ticket = services.act(
                uow,
                ticket_id,
                Action.ESCALATE,
                actor=_actor(user),
                now=datetime.now(CHINA_TZ),
                comment="值班监测升级督办",
            )
    except LedgerError as exc:
        st.session_state[ACTION_FLASH] = ("error", f"升级失败：{describe(exc)}")
        return
    except SQLAlchemyError:
        st.session_state[ACTION_FLASH] = ("error", f"升级失败：{LEDGER_UNAVAILABLE}")
        return
    st.session_state[ACTION_FLASH] = (
        "success",
        f"已升级（督办）工单 {ticket.id}，累计督办 {ticket.escalations} 次。",
    )


def _flash(key: str) -> None:
    # Messages are built from our own words and ticket ids only, never from post text.
    flash = st.session_state.pop(key, None)
    if flash is None:
        return
    level, message = flash
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[level](message)
