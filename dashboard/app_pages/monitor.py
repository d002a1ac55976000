"""值班监测: the duty officer's live monitor — alerts to acknowledge (each with its own action), the
last day's volume by source, the newest posts with their badges, and a ticket opened (立案, with the
ledger's proposed unit and class) or escalated (升级, with a reason) from a chosen post.

Everything below the filters sits in one fragment that reruns by itself every ``REFRESH``. Post text
is untrusted: it reaches the screen only through ``st.dataframe`` cells and ``st.text``, never
markdown, and links are shown as text, never as something to follow. Only 值班员 and 管理员 act
(acknowledge, open, escalate); the role is checked again inside every action. The alerts are
:mod:`dashboard.sections.monitor_alerts`, the posts and their actions
:mod:`dashboard.sections.monitor_posts`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from archive.errors import ArchiveError, QueryError
from core.china_time import CHINA_TZ
from dashboard import alert_data, monitor_data
from dashboard.auth import Page, User
from dashboard.charts import time_bars
from dashboard.labels import ALL, SENTIMENT_LABELS, SOURCE_LABELS
from dashboard.monitor_data import Filters
from dashboard.sections import monitor_alerts, monitor_posts
from dashboard.services import Services
from dashboard.session import account_now, require

REFRESH = timedelta(seconds=10)
ROWS = 200
EMPTY_MESSAGE = "暂无数据……舆情库里还没有帖子。采集和分类开始后，本页每 10 秒自动刷新。"
UNAVAILABLE_MESSAGE = "舆情库暂时无法连接，请稍后再试；若持续出现，请联系管理员。"


def render(services: Services, user: User | None) -> None:
    """Draw the page for a permitted user; an empty or unreachable archive is a message, never a traceback."""
    user = require(user, Page.MONITOR)
    st.title("值班监测")
    try:
        total = monitor_data.total(services)
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        st.stop()
    if total == 0:
        _wait_for_posts(services)
        st.stop()
    _monitor(services, user, _filters(services))


@st.fragment(run_every=REFRESH)
def _wait_for_posts(services: Services) -> None:
    # Keeps checking so that a screen opened before the first crawl fills itself in: the whole
    # page reruns (filters included) as soon as there is something to show.
    if monitor_data.total(services) > 0:
        st.rerun()
    st.info(EMPTY_MESSAGE)


def _filters(services: Services) -> Filters:
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
        topics = monitor_data.topics(services)
        wanted = st.session_state.get("filter_topic")  # a spike's 筛选帖子 may name a topic not listed yet
        topic = st.selectbox(
            "话题",
            [None, *topics, *([wanted] if wanted and wanted not in topics else [])],
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
def _monitor(services: Services, user: User, filters: Filters) -> None:
    # Disabled since the page was drawn: rerun the whole app, which signs the account out. A spike's
    # 筛选帖子 changed the filters, which are drawn outside this fragment: the whole page reruns too.
    if account_now(services, user) is None or st.session_state.pop(monitor_alerts.REDRAW_KEY, False):
        st.rerun()
    now = datetime.now(CHINA_TZ)
    # Alerts and volume are keyed by the minute, so every screen within it shares one computation.
    minute = now.replace(second=0, microsecond=0)
    try:
        overview = monitor_data.overview(services, filters, now.date())
        posts = monitor_data.monitor_posts(services, filters, ROWS)
    except QueryError:
        st.warning("关键词无法检索，请换一种写法后重试。")
        return
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        return
    board = alert_data.collect(services, minute, monitor_alerts.ALERTS_SHOWN, monitor_alerts.ACKED_SHOWN)

    total, negative, today, waiting = st.columns(4)
    total.metric("总量", f"{overview.total:,}", border=True)
    negative.metric("负面占比", f"{overview.negative_share:.1%}", border=True)
    today.metric("今日新增", f"{overview.today:,}", border=True)
    waiting.metric("待确认提醒", "—" if board is None else f"{board.count:,}", border=True)
    st.caption(f"更新于 {now:%H:%M:%S}，每 {REFRESH.seconds} 秒自动刷新")
    backlog = monitor_data.pipeline_backlog(services)
    if backlog is not None:
        # The duty officer sees at a glance whether classification or indexing is falling behind.
        st.caption(
            f"处理积压：待分类 {backlog['classify']:,} 条，待入库 {backlog['index']:,} 条，"
            f"待建台账 {backlog['ledger']:,} 条；"
            f"死信 {backlog['dead_letters']:,} 条"
        )

    monitor_alerts.render(services, user, board)
    _volume(services, minute)
    if overview.total == 0:
        st.info("没有符合筛选条件的帖子。")
        return
    monitor_posts.render(services, user, posts, overview.total)


def _volume(services: Services, now: datetime) -> None:
    st.subheader("近24小时各来源发帖量")
    try:
        volume = monitor_data.source_volume(services, now)
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        return
    if volume.empty:
        st.info("近24小时没有新帖子。")
        return
    # Stacked hourly bars, labelled in digits and Chinese (the default time labels are English), at
    # the frame's own hours: the chart draws nothing with an axis told to find hourly ticks itself.
    hours = sorted(volume["时间"].drop_duplicates())
    chart = time_bars("时间", "帖子数", hourly=True, colour="来源", moments=hours)
    st.vega_lite_chart(volume, chart, width="stretch", height=240)
