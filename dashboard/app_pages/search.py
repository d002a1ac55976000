"""舆情检索: the analyst's search — the query language, a time range, hits with highlighted snippets,
the trend and shares of what matched, and a CSV download. Post text only reaches the screen in
dataframe cells (plain text), with matches marked by 【】."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from archive.errors import ArchiveError, QueryError
from dashboard import queries
from dashboard.auth import Page, User
from dashboard.labels import SENTIMENT_LABELS, SOURCE_LABELS
from dashboard.queries import Search
from dashboard.session import require
from dashboard.tables import share_table
from stream.messages import CHINA_TZ
from yuqing.settings import Settings

SORTS = {"time": "时间（最新在前）", "relevance": "相关度", "risk": "风险（最高在前）"}
INTERVALS = {"hour": "按小时", "day": "按天", "week": "按周"}
HELP = '例：欠薪 AND (工地 OR 农民工) NOT 表扬；"拖欠工资"；source:weibo sentiment:negative risk:>=60'


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for a permitted user."""
    require(user, Page.SEARCH)
    st.title("舆情检索")
    if not queries.archive_exists(settings):
        st.info("舆情库里还没有帖子。")
        st.stop()
    search = _form()
    if search is None:
        st.caption(HELP)
        return
    try:
        total, table = queries.search_page(settings, search)
    except QueryError as exc:
        st.error(f"查询有误：{exc.message}")
        return
    except ArchiveError:
        st.error("舆情库暂时无法连接，请稍后再试。")
        return
    st.subheader(f"共 {total:,} 条结果")
    if total == 0:
        return
    st.dataframe(table, hide_index=True, use_container_width=True)
    st.download_button(
        "下载本页结果（CSV）",
        table.to_csv(index=False).encode("utf-8-sig"),
        file_name="舆情检索结果.csv",
        mime="text/csv",
    )
    _charts(settings, search)


def _form() -> Search | None:
    today = date.today()
    with st.form("search"):
        text = st.text_input("检索式", key="search_text", help=HELP)
        left, middle, right = st.columns(3)
        since = left.date_input("起始日期", value=today - timedelta(days=30), key="search_since")
        until = middle.date_input("截止日期", value=today, key="search_until")
        sort = right.selectbox("排序", list(SORTS), format_func=SORTS.__getitem__, key="search_sort")
        submitted = st.form_submit_button("检索", type="primary")
    if not submitted and "search_done" not in st.session_state:
        return None
    st.session_state["search_done"] = True
    return Search(text=text.strip(), since=since, until=until, sort=sort, size=200)


def _charts(settings: Settings, search: Search) -> None:
    interval = st.radio(
        "趋势粒度",
        list(INTERVALS),
        format_func=INTERVALS.__getitem__,
        horizontal=True,
        index=1,
        key="search_interval",
    )
    trend = queries.search_trend(settings, search, interval)
    if not trend.empty:
        trend["时间"] = trend["时间"].map(lambda moment: moment.astimezone(CHINA_TZ).replace(tzinfo=None))
        st.bar_chart(trend, x="时间", y="帖子数")
    columns = st.columns(3)
    for column, (field_name, title, labels) in zip(
        columns,
        (
            ("topic", "话题分布", None),
            ("source", "来源分布", SOURCE_LABELS),
            ("sentiment", "情感分布", SENTIMENT_LABELS),
        ),
        strict=True,
    ):
        with column:
            st.markdown(f"**{title}**")
            counts = queries.search_shares(settings, search, field_name)
            if counts:
                st.bar_chart(share_table(counts, labels), x="类别", y="帖子数", horizontal=True)
