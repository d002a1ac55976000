"""舆情检索: the analyst's search — the query language with source/sentiment/topic filters, a time
range, hits with highlighted snippets, the trend and shares of what matched, saved searches
(:mod:`dashboard.sections.search_saved`; ``?saved=NAME``, the link of a 检索预警, loads one), and an
export of every hit (:mod:`dashboard.sections.search_export`). Post text only reaches the screen in
dataframe cells (plain text), with matches marked by 【】. A query that cannot run says why right
under the 检索式 box, inside the form, not further down the page. The trend has a bar per hour, day
or week over the whole time range chosen (empty ones as 0), labelled with dates
(:func:`dashboard.charts.time_bars`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import cast

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from archive.errors import ArchiveError, QueryError
from core.china_time import CHINA_TZ
from dashboard import links, monitor_data, search_data
from dashboard.auth import Page, User
from dashboard.charts import Interval, count_bars, time_bars
from dashboard.labels import ALL, CHOOSE, SENTIMENT_LABELS, SOURCE_LABELS
from dashboard.search_data import Search
from dashboard.sections import search_export, search_saved
from dashboard.services import Services
from dashboard.session import require
from dashboard.tables import share_table

SORTS = {"time": "时间（最新在前）", "relevance": "相关度", "risk": "风险（最高在前）"}
INTERVALS = {"hour": "按小时", "day": "按天", "week": "按周"}
HELP = '例：欠薪 AND (工地 OR 农民工) NOT 表扬；"拖欠工资"；source:weibo sentiment:negative risk:>=60'
# A field value needs quotes when it holds a character that ends or splits a bare value.
_NEEDS_QUOTES = frozenset("():")
# The language has no escape inside quotes, and reads full-width brackets, quotes and colons as
# ASCII ones, so a value holding any of these cannot be matched exactly.
_UNQUOTABLE = frozenset('"“”＂（）：')


def field_clause(field_name: str, value: str) -> str:
    """``field:value`` in the query language, quoted when bare it would not read as that exact value.

    A value holding a quote mark or a full-width bracket or colon cannot be written: a QueryError.
    """
    if not value.strip():
        raise QueryError(f"字段“{field_name}”的取值不能为空")
    if any(char in _UNQUOTABLE for char in value):
        raise QueryError(f"字段“{field_name}”的取值“{value}”含有引号、全角括号或全角冒号，无法按原样检索")
    # Bare, a leading < or >, a "..", or a leading // (read as a URL) would not be a plain value.
    if any(char.isspace() or char in _NEEDS_QUOTES for char in value) or (
        value[0] in "<>" or ".." in value or value.startswith("//")
    ):
        return f'{field_name}:"{value}"'
    return f"{field_name}:{value}"


def combined_query(text: str, filters: Mapping[str, str | None]) -> str:
    """The typed query AND a clause per chosen filter (``None``, empty or 全部 = no clause).

    The typed query is bracketed when there are clauses, so ``A OR B`` stays one condition.
    """
    clauses = [field_clause(name, value) for name, value in filters.items() if value and value != ALL]
    typed = text.strip()
    if not clauses:
        return typed
    return " ".join([f"({typed})", *clauses] if typed else clauses)


def render(services: Services, user: User | None) -> None:
    """Draw the page for a permitted user."""
    user = require(user, Page.SEARCH)
    st.title("舆情检索")
    if not services.has_archive():
        st.info("舆情库里还没有帖子。")
        st.stop()
    wanted = links.follow(links.SAVED_PARAM)  # a 检索预警's link opens its saved search, once
    if wanted is not None:
        search_saved.load(services, wanted)
    search, problem = _form(services)
    results: tuple[int, pd.DataFrame] | None = None
    if search is not None:
        try:
            results = search_data.search_page(services, search)
        except QueryError as exc:
            problem.error(f"查询有误：{exc.message}")
        except ArchiveError:
            problem.error("舆情库暂时无法连接，请稍后再试。")
    search_saved.render(services, user, search)  # saving a faulty query says why, too
    if results is None or search is None:
        if search is None and "search_done" not in st.session_state:
            st.caption(HELP)
        return
    total, table = results
    st.subheader(f"共 {total:,} 条结果")
    if total == 0:
        return
    st.dataframe(table, hide_index=True, width="stretch")
    search_export.render(services, search, total)
    _charts(services, search)


def _topics(services: Services) -> list[str]:
    try:
        return monitor_data.topics(services)
    except ArchiveError:
        return []


def china_today(now: datetime | None = None) -> date:
    """The department's date: a server on UTC is still on yesterday until 08:00 China time."""
    return (now or datetime.now(UTC)).astimezone(CHINA_TZ).date()


def _form(services: Services) -> tuple[Search | None, DeltaGenerator]:
    """The search form, and the place under its 检索式 box where a query's fault is shown."""
    today = china_today()
    with st.form("search"):
        text = st.text_input("检索式", key="search_text", help=HELP)
        problem = st.empty()  # under the box: a query that cannot run says why here
        source_box, sentiment_box, topic_box = st.columns(3)
        source = source_box.selectbox(
            "来源",
            [ALL, *SOURCE_LABELS],
            format_func=lambda c: SOURCE_LABELS.get(c, c),
            placeholder=CHOOSE,
            key="search_source",
        )
        sentiment = sentiment_box.selectbox(
            "情感",
            [ALL, *SENTIMENT_LABELS],
            format_func=lambda c: SENTIMENT_LABELS.get(c, c),
            placeholder=CHOOSE,
            key="search_sentiment",
        )
        topic = topic_box.selectbox("话题", [ALL, *_topics(services)], placeholder=CHOOSE, key="search_topic")
        left, middle, right = st.columns(3)
        since = left.date_input("起始日期", value=today - timedelta(days=30), key="search_since")
        until = middle.date_input("截止日期", value=today, key="search_until")
        sort = right.selectbox(
            "排序", list(SORTS), format_func=SORTS.__getitem__, placeholder=CHOOSE, key="search_sort"
        )
        submitted = st.form_submit_button("检索", type="primary")
    if not submitted and "search_done" not in st.session_state:
        return None, problem
    st.session_state["search_done"] = True
    if isinstance(since, date) and isinstance(until, date) and since > until:
        problem.error("起始日期晚于截止日期，请调整时间范围。")
        return None, problem
    try:
        query = combined_query(text, {"source": source, "sentiment": sentiment, "topic": topic})
    except QueryError as exc:
        problem.error(f"查询有误：{exc.message}")
        return None, problem
    return Search(text=query, since=since, until=until, sort=sort, size=200), problem


def _charts(services: Services, search: Search) -> None:
    interval = st.radio(
        "趋势粒度",
        list(INTERVALS),
        format_func=INTERVALS.__getitem__,
        horizontal=True,
        index=1,
        key="search_interval",
    )
    trend = search_data.search_trend(services, search, interval)
    if not trend.empty:
        moments = [moment.astimezone(CHINA_TZ).replace(tzinfo=None) for moment in trend["时间"]]
        trend["时间"] = moments
        spec = time_bars("时间", "帖子数", interval=cast(Interval, interval), moments=moments)
        st.vega_lite_chart(trend, spec, width="stretch", height=260)
        if interval == "week":
            st.caption("每周自星期一起算（北京时间）；首尾两周可能只含时间范围内的几天。")
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
            counts = search_data.search_shares(services, search, field_name)
            if counts:
                table = share_table(counts, labels)
                st.vega_lite_chart(table, count_bars("类别", "帖子数"), width="stretch")
