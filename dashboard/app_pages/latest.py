"""最新舆情: the duty officer's live monitor — headline figures, shares and the newest posts.

Everything below the filters sits in one fragment that reruns by itself every ``REFRESH``. Post text
is untrusted: it only ever reaches the screen through ``st.dataframe`` cells, never markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import streamlit as st

from archive.errors import ArchiveError, QueryError
from dashboard import queries
from dashboard.auth import Page, User
from dashboard.labels import ALL, SENTIMENT_LABELS, SOURCE_LABELS
from dashboard.queries import Filters
from dashboard.session import require
from dashboard.tables import share_table
from stream.messages import CHINA_TZ
from yuqing.settings import Settings

REFRESH = timedelta(seconds=10)
ROWS = 200
TABLE_HEIGHT = 600  # about 16 rows: a duty officer reads the newest posts without scrolling the grid
EMPTY_MESSAGE = "暂无数据……舆情库里还没有帖子。采集和分类开始后，本页每 10 秒自动刷新。"
UNAVAILABLE_MESSAGE = "舆情库暂时无法连接，请稍后再试；若持续出现，请联系管理员。"


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for a permitted user; an empty or unreachable archive is a message, never a traceback."""
    require(user, Page.MONITOR)
    st.title("最新舆情")
    try:
        total = queries.total(settings)
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        st.stop()
    if total == 0:
        _wait_for_posts(settings)
        st.stop()
    _monitor(settings, _filters(settings))


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
            key="filter_source",
        )
        sentiment = st.selectbox(
            "情感",
            [None, *SENTIMENT_LABELS],
            format_func=lambda c: ALL if c is None else SENTIMENT_LABELS[c],
            key="filter_sentiment",
        )
        topic = st.selectbox(
            "话题",
            [None, *queries.topics(settings)],
            format_func=lambda t: ALL if t is None else t,
            key="filter_topic",
        )
        keyword = st.text_input(
            "关键词", placeholder="多个词用空格分隔，须同时出现", key="filter_keyword", max_chars=200
        )
    return Filters(source=source, sentiment=sentiment, topic=topic, keyword=keyword)


@st.fragment(run_every=REFRESH)
def _monitor(settings: Settings, filters: Filters) -> None:
    now = datetime.now(CHINA_TZ)
    try:
        overview = queries.overview(settings, filters, now.date())
        by_source = queries.shares(settings, "source", filters)
        by_sentiment = queries.shares(settings, "sentiment", filters)
        table = queries.latest(settings, filters, ROWS)
    except QueryError:
        st.warning("关键词无法检索，请换一种写法后重试。")
        return
    except ArchiveError:
        st.error(UNAVAILABLE_MESSAGE)
        return

    total, negative, today = st.columns(3)
    total.metric("总量", f"{overview.total:,}", border=True)
    negative.metric("负面占比", f"{overview.negative_share:.1%}", border=True)
    today.metric("今日新增", f"{overview.today:,}", border=True)
    st.caption(f"更新于 {now:%H:%M:%S}，每 {REFRESH.seconds} 秒自动刷新")
    backlog = queries.pipeline_backlog(settings)
    if backlog is not None:
        # The duty officer sees at a glance whether classification or indexing is falling behind.
        st.caption(
            f"处理积压：待分类 {backlog['classify']:,} 条，待入库 {backlog['index']:,} 条，"
            f"待建台账 {backlog['ledger']:,} 条；"
            f"死信 {backlog['dead_letters']:,} 条"
        )
    if overview.total == 0:
        st.info("没有符合筛选条件的帖子。")
        return

    left, right = st.columns(2)
    with left:
        _share_chart("来源分布", by_source, SOURCE_LABELS)
    with right:
        _share_chart("情感分布", by_sentiment, SENTIMENT_LABELS)

    st.subheader("最新帖子")
    st.caption(f"按发布时间倒序，显示最新 {min(ROWS, overview.total)} 条，共 {overview.total:,} 条")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=TABLE_HEIGHT,
        column_config={
            # Pixel widths that fit "YYYY-MM-DD HH:MM" and a risk bar; the title takes what is left.
            "发布时间": st.column_config.TextColumn(width=125),
            "风险": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%d", width=100),
        },
    )


def _share_chart(title: str, counts: Mapping[str, int], labels: Mapping[str, str]) -> None:
    st.subheader(title)
    # Horizontal bars swap the axes: x names the categories (drawn upright, unlabelled), y the counts.
    st.bar_chart(
        share_table(counts, labels),
        x="类别",
        y="帖子数",
        horizontal=True,
        sort="-帖子数",
        height=200,
        x_label="",
        y_label="帖子数",
    )
